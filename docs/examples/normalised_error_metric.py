"""Example metric (docs/contributing.md): the mean joint error as a share of the person's size.

For every labelled frame, ground-truth persons are matched one to one with predicted persons
(Hungarian assignment on the error below). A joint's error is the distance from the prediction
to the annotation divided by the larger side of the ground-truth person box, capped at 1; an
annotated joint without a matched or predicted position counts 1. Values are percent, pooled
over the joints of each table group and over the table joints for ``Mean`` (lower is better).
Each video keeps its sums and counts, so the bootstrap can resample videos.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from scipy.optimize import linear_sum_assignment

from vposebench.errors import UserError
from vposebench.formats import pair_files, read_annotations, read_predictions
from vposebench.metrics.base import Metric, MetricResult, video_indices
from vposebench.registry import register_metric
from vposebench.skeleton import Skeleton
from vposebench.structures import FrameGT, FramePred
from vposebench.tables.base import Table


def frame_errors(gt: FrameGT, pred: FramePred, num_joints: int) -> tuple[np.ndarray, np.ndarray]:
    """(J,) sum of the capped errors and (J,) count of the annotated joints of one frame."""
    sums, counts = np.zeros(num_joints), np.zeros(num_joints)
    if not gt.persons:
        return sums, counts
    # errors[g, p, j]: GT person g against predicted person p
    errors = np.ones((len(gt.persons), max(len(pred.persons), 1), num_joints))
    for g, person in enumerate(gt.persons):
        box = person.crop_box()
        size = np.nan if box is None else max(box[2] - box[0], box[3] - box[1])
        for p, guess in enumerate(pred.persons):
            distance = np.linalg.norm(guess.keypoints[:, :2] - person.keypoints[:, :2], axis=1)
            errors[g, p] = np.nan_to_num(np.minimum(distance / size, 1.0), nan=1.0)
    annotated = np.stack([person.annotated for person in gt.persons])  # (G, J)
    cost = (errors * annotated[:, None]).sum(axis=2)
    rows, cols = linear_sum_assignment(cost)
    matched = np.ones((len(gt.persons), num_joints))  # unmatched GT persons count 1 per joint
    matched[rows] = errors[rows, cols]
    return (matched * annotated).sum(axis=0), annotated.sum(axis=0).astype(np.float64)


@dataclasses.dataclass
class NormalisedErrorResult(MetricResult):
    """Per-video sums and counts of the capped joint errors."""

    names: list[str]
    skeleton: Skeleton
    sums: np.ndarray  # (V, J)
    counts: np.ndarray  # (V, J)
    metric: str = "normalised_error"

    @property
    def videos(self) -> list[str]:
        return self.names

    def _columns(self) -> list[tuple[str, tuple[int, ...]]]:
        return [*self.skeleton.groups, ("Mean", self.skeleton.table_joints)]

    def _values(self, sums: np.ndarray, counts: np.ndarray) -> dict[str, np.ndarray]:
        """Column -> pooled percent over the last axis's joints (NaN where nothing counts)."""
        out = {}
        for column, joints in self._columns():
            total, count = sums[..., list(joints)].sum(-1), counts[..., list(joints)].sum(-1)
            with np.errstate(invalid="ignore", divide="ignore"):
                out[f"Error/{column}"] = np.where(count > 0, 100.0 * total / count, np.nan)
        return out

    def headline(self) -> dict[str, float]:
        return {k: float(v) for k, v in self._values(self.sums.sum(0), self.counts.sum(0)).items()}

    def resample(self, weights: np.ndarray) -> dict[str, np.ndarray]:
        return self._values(weights @ self.sums, weights @ self.counts)

    def summary(self) -> dict[str, Any]:
        return {"metric": self.metric, "videos": self.names, "values": self.headline()}

    def tables(self) -> list[Table]:
        cells = self.headline()
        header = ["", *(column for column, _ in self._columns())]
        row = ["Error", *(cells[f"Error/{column}"] for column, _ in self._columns())]
        return [Table.from_rows(self.metric, "Normalised joint error (% of person size, lower is better)",
                                header, [row])]

    def subset(self, videos: Sequence[str]) -> NormalisedErrorResult:
        keep = video_indices(self.names, videos)
        return NormalisedErrorResult([self.names[i] for i in keep], self.skeleton,
                                     self.sums[keep], self.counts[keep])


@register_metric("normalised_error")
class NormalisedError(Metric):
    """Example: mean joint error in percent of the person's size, persons matched per frame."""

    def evaluate(self, gt_dir: str | Path, pred_dir: str | Path, *,
                 videos: Sequence[str] | None = None) -> NormalisedErrorResult:
        names, sums, counts = [], [], []
        skeleton: Skeleton | None = None
        for gt_file, pred_file in pair_files(gt_dir, pred_dir, videos):
            gt = read_annotations(gt_file)
            pred = read_predictions(pred_file, skeleton=gt.skeleton)
            if len(pred.frames) != len(gt.frames):  # frames pair by position
                raise UserError(f"{len(pred.frames)} frames, the GT has {len(gt.frames)}",
                                path=pred_file, field="images")
            skeleton = gt.skeleton
            total, count = np.zeros(skeleton.num_joints), np.zeros(skeleton.num_joints)
            for gt_frame, pred_frame in zip(gt.frames, pred.frames):
                if gt_frame.is_labeled:
                    frame_sum, frame_count = frame_errors(gt_frame, pred_frame, skeleton.num_joints)
                    total += frame_sum
                    count += frame_count
            names.append(gt.name)
            sums.append(total)
            counts.append(count)
        assert skeleton is not None  # pair_files refuses a folder without videos
        return NormalisedErrorResult(names, skeleton, np.array(sums), np.array(counts))
