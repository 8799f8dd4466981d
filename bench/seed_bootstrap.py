"""Intervals that cover training seeds as well as test sampling: a two-level bootstrap.

One method trained with S seeds gives S results on the same test videos. A resample draws S
seeds with replacement *and* the videos with replacement (one draw of videos shared by every
seed, and by both sides of a paired difference), and takes the mean over the drawn seeds of
each seed's number on the drawn videos. The point estimate is the mean over seeds. With one
seed this is exactly :func:`vposebench.bootstrap.bootstrap` (same video draws), so a table can
mix single- and multi-seed rows; the unit says which it is.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from .bootstrap import (
    DEFAULT_LEVEL,
    DEFAULT_RESAMPLES,
    BootstrapReport,
    Interval,
    interval_of,
    resampled,
    video_weights,
)

if TYPE_CHECKING:
    from .metrics.base import MetricResult


@dataclasses.dataclass
class SeedBootstrapReport(BootstrapReport):
    """A bootstrap report whose intervals cover seeds and videos, with each seed's numbers."""

    #: headline key -> the number of each seed, in the order the results were given
    per_seed: dict[str, list[float]] = dataclasses.field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {**super().to_dict(), "seeds": len(next(iter(self.per_seed.values()), [])),
                "per_seed": self.per_seed}


def seed_rng(seed: int | None, stream: int) -> np.random.Generator:
    """The generator of one side's seed draws: reproducible from `seed`, fresh when it is None
    (as the video draws are)."""
    return np.random.default_rng(None if seed is None else [seed, stream])


def _same_videos(results: Sequence[MetricResult]) -> list[str]:
    if not results:
        raise ValueError("a seed bootstrap needs at least one result")
    videos = results[0].videos
    if any(r.videos != videos for r in results[1:]):
        raise ValueError("every seed's result must cover the same videos, in the same order")
    return videos


def seed_draws(seeds: int, resamples: int, rng: np.random.Generator) -> np.ndarray:
    """(B, S) multiplicities of S seeds drawn with replacement, per resample."""
    return rng.multinomial(seeds, np.full(seeds, 1.0 / seeds), size=resamples).astype(np.float64)


def _seed_means(results: Sequence[MetricResult], weights: np.ndarray,
                draws: np.ndarray) -> tuple[dict[str, float], dict[str, np.ndarray], dict[str, list[float]]]:
    """(point, resampled means, per-seed numbers): per resample, the mean over the seeds drawn
    (`draws`) of each seed's value on that resample's videos."""
    seeds = len(results)
    heads = [r.headline() for r in results]
    seed_samples = [resampled(r, weights) for r in results]
    point, samples, per_seed = {}, {}, {}
    for key in heads[0]:
        values = np.array([h[key] for h in heads], dtype=np.float64)
        per_seed[key] = [float(v) for v in values]
        point[key] = float(values.mean())
        by_seed = np.stack([s[key] for s in seed_samples], axis=1)  # (B, S)
        samples[key] = (draws * by_seed).sum(axis=1) / seeds
    return point, samples, per_seed


def seed_bootstrap(results: Sequence[MetricResult], resamples: int = DEFAULT_RESAMPLES, *,
                   seed: int | None = 0, level: float = DEFAULT_LEVEL) -> SeedBootstrapReport:
    """Intervals of the mean over training seeds, resampling seeds and videos."""
    weights = video_weights(len(_same_videos(results)), resamples, seed)
    point, samples, per_seed = _seed_means(results, weights,
                                           seed_draws(len(results), len(weights), seed_rng(seed, 1)))
    intervals = {k: interval_of(v, samples[k], level) for k, v in point.items()}
    return SeedBootstrapReport(intervals, resamples, level, seed, unit="seed+video", per_seed=per_seed)


def paired_seed_bootstrap(results_a: Sequence[MetricResult], results_b: Sequence[MetricResult],
                          resamples: int = DEFAULT_RESAMPLES, *, seed: int | None = 0,
                          level: float = DEFAULT_LEVEL, paired_seeds: bool = False) -> BootstrapReport:
    """Intervals of ``mean_a - mean_b`` over seeds, the same video draws on both sides. The two
    sides' seeds are drawn independently, unless `paired_seeds`: both sides trained with the same
    seeds, training i of one being or starting from training i of the other (a method and its
    temporal-input-off or shuffled row, a temporal model and the baseline it starts from), so
    one draw of seed indices serves both sides, as one draw of videos does."""
    videos = _same_videos(results_a)
    if _same_videos(results_b) != videos:
        raise ValueError("paired seed bootstrap needs both methods on the same videos, in the same order")
    if paired_seeds and len(results_a) != len(results_b):
        raise ValueError("paired seeds need as many results on both sides")
    weights = video_weights(len(videos), resamples, seed)
    draws_a = seed_draws(len(results_a), len(weights), seed_rng(seed, 1))
    draws_b = draws_a if paired_seeds else seed_draws(len(results_b), len(weights), seed_rng(seed, 2))
    point_a, samples_a, _ = _seed_means(results_a, weights, draws_a)
    point_b, samples_b, _ = _seed_means(results_b, weights, draws_b)
    intervals: dict[str, Interval] = {
        k: interval_of(point_a[k] - point_b[k], samples_a[k] - samples_b[k], level, paired=True)
        for k in point_a}
    return BootstrapReport(intervals, resamples, level, seed, unit="seed+video")
