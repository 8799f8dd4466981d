"""Bootstrap confidence intervals over videos, and the paired bootstrap of a difference.

Videos are the independent units: a resample draws as many videos as there are, with
replacement, and recomputes every headline number on that multiset. Results do not re-read or
re-match anything: they take a (B, V) matrix of multiplicities (how often each video was
drawn) and recompute from their per-video arrays (``MetricResult.resample``). The point
estimate is never changed by the bootstrap; intervals are percentile intervals.
"""

from __future__ import annotations

import dataclasses
import hashlib
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from .metrics.base import MetricResult

DEFAULT_RESAMPLES = 1000
DEFAULT_LEVEL = 0.95


def video_weights(num_videos: int, resamples: int, seed: int | None = 0) -> np.ndarray:
    """(resamples, num_videos) multiplicities of a resample-videos-with-replacement draw."""
    if resamples < 1:
        raise ValueError("resamples must be at least 1")
    if num_videos < 1:
        raise ValueError("cannot resample an empty set of videos")
    rng = np.random.default_rng(seed)
    return rng.multinomial(num_videos, np.full(num_videos, 1.0 / num_videos), size=resamples).astype(np.float64)


def percentile_interval(samples: np.ndarray, level: float = DEFAULT_LEVEL) -> tuple[float, float]:
    """Equal-tailed percentile interval of the finite samples (NaN, NaN if none)."""
    finite = np.asarray(samples, dtype=np.float64)
    finite = finite[np.isfinite(finite)]
    if len(finite) == 0:
        return float("nan"), float("nan")
    alpha = (1.0 - level) / 2
    lo, hi = np.quantile(finite, [alpha, 1.0 - alpha])
    return float(lo), float(hi)


@dataclasses.dataclass
class Interval:
    """A point estimate with its bootstrap interval and standard error."""

    value: float
    lo: float
    hi: float
    se: float
    #: resamples where the statistic was undefined (NaN), excluded from the interval
    undefined: int = 0
    #: paired differences only: two-sided bootstrap p-value for "no difference"
    p_value: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclasses.dataclass
class BootstrapReport:
    """Intervals for every headline key, and how they were made."""

    intervals: dict[str, Interval]
    resamples: int
    level: float
    seed: int | None
    unit: str = "video"

    def to_dict(self) -> dict[str, Any]:
        return {"resamples": self.resamples, "level": self.level, "seed": self.seed,
                "unit": self.unit, "method": "percentile",
                "intervals": {k: v.to_dict() for k, v in self.intervals.items()}}


def interval_of(value: float, samples: np.ndarray, level: float = DEFAULT_LEVEL, *,
                paired: bool = False) -> Interval:
    """One point estimate with the percentile interval and standard error of its resamples
    (NaN resamples are counted as undefined and left out); paired differences get a p-value."""
    s = np.asarray(samples, dtype=np.float64)
    finite = s[np.isfinite(s)]
    lo, hi = percentile_interval(finite, level)
    se = float(np.std(finite, ddof=1)) if len(finite) > 1 else float("nan")
    return Interval(value=float(value), lo=lo, hi=hi, se=se, undefined=int(len(s) - len(finite)),
                    p_value=p_value_two_sided(finite) if paired else None)


def resampled(result: MetricResult, weights: np.ndarray) -> dict[str, np.ndarray]:
    """``result.resample(weights)``, computed once per result and draw matrix: an evaluation
    resamples one result with the same draws for its own intervals and for each paired
    difference it takes part in. (A result class with ``__slots__`` is resampled every time.)
    The arrays returned are shared: read them, do not write to them."""
    memo = getattr(result, "__dict__", None)
    if memo is None:
        return result.resample(weights)
    draws = np.ascontiguousarray(weights, dtype=np.float64)
    key = (draws.shape, hashlib.blake2b(draws.tobytes(), digest_size=16).hexdigest())
    cache = memo.setdefault("_resampled", {})
    if key not in cache:
        cache[key] = result.resample(draws)
    return cache[key]


def _intervals(point: dict[str, float], samples: dict[str, np.ndarray], level: float,
               *, paired: bool = False) -> dict[str, Interval]:
    return {key: interval_of(value, samples[key], level, paired=paired) for key, value in point.items()}


def bootstrap(result: MetricResult, resamples: int = DEFAULT_RESAMPLES, *, seed: int | None = 0,
              level: float = DEFAULT_LEVEL) -> BootstrapReport:
    """Percentile intervals for every headline number of `result`, resampling its videos."""
    weights = video_weights(len(result.videos), resamples, seed)
    return BootstrapReport(_intervals(result.headline(), resampled(result, weights), level),
                           resamples, level, seed)


def paired_bootstrap(result_a: MetricResult, result_b: MetricResult,
                     resamples: int = DEFAULT_RESAMPLES, *, seed: int | None = 0,
                     level: float = DEFAULT_LEVEL) -> BootstrapReport:
    """Intervals for ``a - b`` of every headline number, with the same video draws for both.

    Both results must cover the same videos (two prediction sets on one GT). Each interval
    also reports, as ``undefined``, the resamples where either side was NaN.
    """
    if result_a.videos != result_b.videos:
        raise ValueError("paired bootstrap needs both results on the same videos, in the same order")
    weights = video_weights(len(result_a.videos), resamples, seed)
    sa, sb = resampled(result_a, weights), resampled(result_b, weights)
    pa, pb = result_a.headline(), result_b.headline()
    point = {k: pa[k] - pb[k] for k in pa}
    return BootstrapReport(_intervals(point, {k: sa[k] - sb[k] for k in pa}, level, paired=True),
                           resamples, level, seed)


def p_value_two_sided(samples: np.ndarray) -> float:
    """Two-sided bootstrap p-value that a paired difference is zero (share of the resamples on
    the other side of zero, doubled, capped at 1)."""
    s = np.asarray(samples, dtype=np.float64)
    s = s[np.isfinite(s)]
    if len(s) == 0:
        return float("nan")
    return float(min(1.0, 2 * min((s <= 0).mean(), (s >= 0).mean())))
