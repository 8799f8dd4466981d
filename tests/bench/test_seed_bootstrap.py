"""The two-level (seeds x videos) bootstrap: one seed reduces to the video bootstrap, seed
spread widens the interval, paired differences share the video draws."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import numpy as np
import pytest

from vposebench.bootstrap import bootstrap, paired_bootstrap
from vposebench.metrics.base import MetricResult, video_indices
from vposebench.seed_bootstrap import paired_seed_bootstrap, seed_bootstrap

VIDEOS = [f"v{i}" for i in range(12)]


@dataclasses.dataclass
class VideoMean(MetricResult):
    """A score per video; the headline is their mean (what PCK is when every video has one
    person-frame): the smallest complete MetricResult."""

    scores: np.ndarray
    selected: np.ndarray = dataclasses.field(default_factory=lambda: np.arange(len(VIDEOS)))
    metric = "video-mean"

    @property
    def videos(self) -> list[str]:
        return [VIDEOS[i] for i in self.selected]

    def headline(self) -> dict[str, float]:
        return {"Total/Mean": float(self.scores[self.selected].mean())}

    def resample(self, weights: np.ndarray) -> dict[str, np.ndarray]:
        return {"Total/Mean": weights @ self.scores[self.selected] / weights.sum(axis=1)}

    def summary(self):
        return self.headline()

    def tables(self):
        return []

    def subset(self, videos: Sequence[str]) -> VideoMean:
        return dataclasses.replace(self, selected=video_indices(VIDEOS, videos))


def scores(offset: float, seed: int = 0) -> VideoMean:
    return VideoMean(np.random.default_rng(seed).uniform(40, 60, len(VIDEOS)) + offset)


def test_one_seed_is_the_video_bootstrap():
    result = scores(0.0)
    plain, seeded = bootstrap(result, 300, seed=3), seed_bootstrap([result], 300, seed=3)
    assert seeded.intervals["Total/Mean"] == plain.intervals["Total/Mean"]
    assert seeded.unit == "seed+video" and seeded.per_seed == {"Total/Mean": [result.headline()["Total/Mean"]]}


def test_seed_spread_widens_the_interval_and_the_point_is_the_seed_mean():
    same = [scores(0.0)] * 3
    spread = [scores(-6.0), scores(0.0), scores(6.0)]
    narrow = seed_bootstrap(same, 500).intervals["Total/Mean"]
    wide = seed_bootstrap(spread, 500).intervals["Total/Mean"]
    assert wide.value == pytest.approx(narrow.value)
    assert (wide.hi - wide.lo) > 1.5 * (narrow.hi - narrow.lo)
    # seed draws add the variance of a mean of 3 draws from {-6, 0, 6} (population variance 24)
    assert wide.se == pytest.approx(np.sqrt(narrow.se ** 2 + 24 / 3), rel=0.15)
    report = seed_bootstrap(spread, 500)
    assert report.to_dict()["seeds"] == 3
    assert report.per_seed["Total/Mean"] == pytest.approx([narrow.value - 6, narrow.value, narrow.value + 6])


def test_paired_difference_shares_the_video_draws():
    a, b = scores(2.0), scores(0.0)
    one = paired_seed_bootstrap([a], [b], 400).intervals["Total/Mean"]
    assert (one.value, one.lo, one.hi) == pytest.approx((2.0, 2.0, 2.0))  # same videos, constant gap
    assert one.value == paired_bootstrap(a, b, 400).intervals["Total/Mean"].value
    spread = paired_seed_bootstrap([scores(-1.0), scores(5.0)], [b, b], 400).intervals["Total/Mean"]
    assert spread.value == pytest.approx(2.0) and spread.lo < 2.0 < spread.hi
    assert spread.p_value is not None


def test_results_on_different_videos_are_refused():
    with pytest.raises(ValueError, match="same videos"):
        seed_bootstrap([scores(0.0), scores(0.0).subset(VIDEOS[:5])])
    with pytest.raises(ValueError, match="at least one"):
        seed_bootstrap([])


def test_paired_seeds_draw_one_seed_index_for_both_sides():
    """Models trained with the same seeds (a method and its temporal-input-off row, a model and
    its start model) are paired by seed: a constant gap between training i of each gives a
    zero-width interval, where independent seed draws mix unrelated trainings."""
    a = [scores(-1.0), scores(5.0), scores(2.0)]
    b = [scores(-2.0), scores(4.0), scores(1.0)]  # training i of b is training i of a minus 1
    paired = paired_seed_bootstrap(a, b, 400, paired_seeds=True).intervals["Total/Mean"]
    assert (paired.value, paired.lo, paired.hi) == pytest.approx((1.0, 1.0, 1.0))
    independent = paired_seed_bootstrap(a, b, 400).intervals["Total/Mean"]
    assert independent.value == pytest.approx(1.0) and independent.hi - independent.lo > 3.0
    with pytest.raises(ValueError, match="as many results"):
        paired_seed_bootstrap(a, b[:2], 400, paired_seeds=True)


@dataclasses.dataclass
class CountedVideoMean(VideoMean):
    """VideoMean that counts its resample calls."""

    calls: list = dataclasses.field(default_factory=list)

    def resample(self, weights: np.ndarray) -> dict[str, np.ndarray]:
        self.calls.append(weights.shape)
        return super().resample(weights)


def test_a_result_is_resampled_once_per_draw_matrix():
    """Its own intervals and every paired difference with the same draws reuse one resample;
    other draws (another seed) resample again, and the numbers are those of a fresh result."""
    mine = CountedVideoMean(scores(0.0).scores)
    others = [scores(1.0, seed=s) for s in (1, 2, 3)]
    first = bootstrap(mine, 200, seed=5)
    diffs = [paired_bootstrap(mine, other, 200, seed=5) for other in others]
    pooled = paired_seed_bootstrap([mine], [others[0]], 200, seed=5)
    assert len(mine.calls) == 1
    bootstrap(mine, 200, seed=6)
    assert len(mine.calls) == 2
    fresh = scores(0.0)
    assert first.to_dict() == bootstrap(fresh, 200, seed=5).to_dict()
    assert [d.to_dict() for d in diffs] == [paired_bootstrap(fresh, o, 200, seed=5).to_dict() for o in others]
    assert pooled.to_dict() == paired_seed_bootstrap([fresh], [others[0]], 200, seed=5).to_dict()
