"""What every metric provides: evaluate folders into a result that can summarise, slice and
resample itself over videos (the bootstrap in ``vposebench.bootstrap`` needs nothing else)."""

from __future__ import annotations

import abc
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from ..tables.base import Table
    from .frame_groups import FrameGroups


class MetricResult(abc.ABC):
    """Scores of one prediction set against one GT folder, with the arrays behind them."""

    metric: str

    @property
    @abc.abstractmethod
    def videos(self) -> list[str]:
        """The evaluated videos, in the order resampling weights refer to."""

    @abc.abstractmethod
    def headline(self) -> dict[str, float]:
        """Every table cell, flat: ``"<row>/<column>" -> value`` (percent)."""

    @abc.abstractmethod
    def resample(self, weights: np.ndarray) -> dict[str, np.ndarray]:
        """The headline values when video v counts ``weights[b, v]`` times: key -> (B,)."""

    @abc.abstractmethod
    def summary(self) -> dict[str, Any]:
        """The JSON document of ``vposebench evaluate --json`` (docs/evaluation.md)."""

    @abc.abstractmethod
    def tables(self) -> list[Table]:
        """The printed tables: one row of headline cells each, labelled in the first column."""

    @abc.abstractmethod
    def subset(self, videos: Sequence[str]) -> MetricResult:
        """The same result restricted to some videos (equal to evaluating only those)."""

    def group(self, groups: FrameGroups, name: str) -> MetricResult:
        """The same result on one frame group (``frame_groups``: degraded, recovery, clean),
        over the same videos; metrics without per-frame arrays have none."""
        raise NotImplementedError(f"the {self.metric} metric has no frame groups")


class Metric(abc.ABC):
    """A registered evaluator: GT folder + prediction folder -> MetricResult."""

    #: registered name, set by ``@register_metric``
    name: str

    @abc.abstractmethod
    def evaluate(self, gt_dir: str | Path, pred_dir: str | Path, *,
                 videos: Sequence[str] | None = None) -> MetricResult:
        """Score the prediction folder against the GT folder (one JSON file per video)."""


def nanmean(values: np.ndarray, axis: int = -1) -> np.ndarray:
    """Mean of the non-NaN entries (NaN when there are none), as the official totals do."""
    values = np.asarray(values, dtype=np.float64)
    finite = ~np.isnan(values)
    if values.ndim == 1:  # the official arithmetic exactly: mean of the kept values
        kept = values[finite]
        return np.float64(kept.mean()) if len(kept) else np.float64(np.nan)
    count = finite.sum(axis=axis)
    total = np.where(finite, values, 0.0).sum(axis=axis)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(count > 0, total / np.maximum(count, 1), np.nan)


def video_indices(all_videos: Sequence[str], wanted: Sequence[str]) -> np.ndarray:
    """Indices of `wanted` among `all_videos`; an unknown name is a ValueError."""
    index = {v: i for i, v in enumerate(all_videos)}
    missing = [v for v in wanted if v not in index]
    if missing:
        raise ValueError(f"unknown video(s): {missing}")
    return np.array([index[v] for v in wanted], dtype=np.int64)


def group_values(per_joint: np.ndarray, groups: Sequence[tuple[str, Sequence[int]]]) -> dict[str, np.ndarray]:
    """Group key -> mean over its joints (last axis = joints; NaN propagates, as in the tables)."""
    return {key: np.mean(per_joint[..., list(idx)], axis=-1) for key, idx in groups}
