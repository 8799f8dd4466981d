"""Format parity: one data set written as PoseTrack'17 and as PoseTrack'18 scores identically.

A user reported 92.3 vs 40.0 AP for one data set in the two formats with the official code
(poseval issue #23, 2018; on these sets poseval 4258a157 agrees across formats). The suite reads
both formats into the same arrays, so every metric that takes PoseTrack files gives the same
numbers; these tests prove it on sets with swaps, misses, ignore regions and unlabeled frames.
"""

from __future__ import annotations

import numpy as np
import pytest
from helpers.format_parity import write_both_formats

from vposebench.metrics.hota import HOTAMetric
from vposebench.metrics.oks import OKSMetric
from vposebench.metrics.posetrack import PoseTrackMetric
from vposebench.metrics.stability import StabilityMetric


@pytest.fixture(scope="module", params=[1, 2])
def both(request, tmp_path_factory):
    return write_both_formats(request.param, tmp_path_factory.mktemp(f"parity{request.param}"))


@pytest.mark.parametrize("mode", ["official", "corrected"])
def test_posetrack_ap_and_mota_are_identical(both, mode):
    pt18, pt17 = (PoseTrackMetric(mode).evaluate(root / "gt", root / "pred") for root in both)
    assert pt18.data.formats != pt17.data.formats  # really two formats
    assert set(pt17.data.formats.values()) == {"posetrack17"}
    for key, value in pt18.ap_full().items():
        np.testing.assert_array_equal(pt17.ap_full()[key], value, err_msg=key)
    for key, value in pt18.mot_full().items():
        np.testing.assert_array_equal(pt17.mot_full()[key], value, err_msg=key)
    assert pt18.event_counts() == pt17.event_counts()
    assert pt18.headline()["AP/Total"] > 0 and pt18.event_counts()["num_switches"] != [0] * 15


def test_hota_oks_and_stability_are_identical(both):
    for mode in ("official", "corrected"):
        pt18, pt17 = (HOTAMetric(mode).evaluate(root / "gt", root / "pred").values() for root in both)
        for key, value in pt18.items():
            np.testing.assert_array_equal(pt17[key], value, err_msg=f"{mode} {key}")
    # OKS and stability sum over joints in each skeleton's own order: equal to rounding
    for metric in (OKSMetric(), StabilityMetric()):
        pt18, pt17 = (metric.evaluate(root / "gt", root / "pred").headline() for root in both)
        assert pt18.keys() == pt17.keys()
        for key, value in pt18.items():
            np.testing.assert_allclose(pt17[key], value, rtol=1e-12, atol=1e-12, err_msg=f"{metric.name} {key}")
