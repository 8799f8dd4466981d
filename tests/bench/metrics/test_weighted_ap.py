"""The bootstrap's weighted per-joint AP equals the official AP of the label set with each
video repeated as often as the resample drew it, in any chunking of the resamples."""

from __future__ import annotations

import numpy as np
import pytest

from vposebench.metrics.posetrack_ap import SortedLabels, voc_ap, weighted_ap


def _repeated_ap(sl: SortedLabels, draw: np.ndarray) -> float:
    """AP of the explicitly repeated labels (copies stay in place: they tie in score)."""
    copies = draw[sl.video].astype(int)
    tp = np.repeat(sl.tp, copies)
    n_gt = float(draw @ sl.n_gt)
    if len(tp) == 0:
        return 0.0
    if n_gt == 0:
        return float("nan")
    hits = np.cumsum(tp)
    return voc_ap(hits / n_gt, hits / np.arange(1, len(tp) + 1)) * 100


@pytest.mark.parametrize("videos, labels, tp_share", [(4, 60, 0.5), (12, 400, 0.2), (3, 9, 0.9), (5, 30, 0.0)])
def test_weighted_ap_equals_ap_of_repeated_videos(videos, labels, tp_share):
    rng = np.random.default_rng(videos * 1000 + labels)
    sl = SortedLabels(video=rng.integers(0, videos, labels), tp=rng.random(labels) < tp_share,
                      n_gt=rng.integers(0, 15, videos))
    draws = rng.multinomial(videos, np.full(videos, 1 / videos), size=40).astype(np.float64)
    draws[0] = 0.0  # nothing drawn: AP 0
    draws[1] = 0.0
    draws[1, sl.video[0]] = 2.0  # one video twice
    expected = np.array([_repeated_ap(sl, d) for d in draws])
    whole = weighted_ap(sl, draws)
    np.testing.assert_allclose(whole, expected, rtol=1e-5, atol=1e-4, equal_nan=True)
    # chunks of one or a few resamples give the same numbers to the bit
    for chunk in (1, 3 * max(int(sl.tp.sum()), 1)):
        np.testing.assert_array_equal(weighted_ap(sl, draws, chunk_elements=chunk), whole)


def test_weighted_ap_without_labels_is_zero():
    sl = SortedLabels(video=np.zeros(0, int), tp=np.zeros(0, bool), n_gt=np.array([3, 4]))
    assert weighted_ap(sl, np.ones((5, 2))).tolist() == [0.0] * 5
