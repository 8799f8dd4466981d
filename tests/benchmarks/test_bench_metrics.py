"""Speed of the evaluators (pytest-benchmark; run with --benchmark-enable to time them).

A small PoseTrack'18-format set (the scale-set generator at 8 videos x 40 frames) is scored by
the suite and, for the ratio, by motmetrics' own per-frame accumulator on the same cleaned
data; the two must give the same numbers. Keypoint HOTA, OKS AP and stability are timed on the
same set. The full-size comparisons with the official code are in test_bench_official.py.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from vposebench.bootstrap import bootstrap
from vposebench.datasets.posetrack_scale import generate_scale_set
from vposebench.metrics.hota import HOTAMetric
from vposebench.metrics.oks import OKSMetric
from vposebench.metrics.posetrack import PoseTrackMetric, score_posetrack
from vposebench.metrics.posetrack_data import load_posetrack_set
from vposebench.metrics.stability import StabilityMetric


@pytest.fixture(scope="module")
def small_set(tmp_path_factory):
    root = tmp_path_factory.mktemp("scale")
    generate_scale_set(root, videos=8, frames=40, seed=1)
    return root


def test_bench_posetrack_evaluate(benchmark, small_set):
    """Read + clean + match + accumulate + tables: `poseval.evaluate -e -t` equivalent."""
    def run():
        result = PoseTrackMetric().evaluate(small_set / "gt", small_set / "pred")
        return result.ap_full(), result.mot_full()
    ap, mot = benchmark(run)
    assert np.isfinite(ap["ap"][15]) and np.isfinite(mot["mota"][15])


@pytest.mark.parametrize("engine", ["fast", "motmetrics"])
def test_bench_tracking_engine(benchmark, small_set, engine):
    """The tracking accumulation alone: lockstep engine vs motmetrics frame by frame."""
    data = load_posetrack_set(small_set / "gt", small_set / "pred")
    result = benchmark(score_posetrack, data, engine=engine)
    reference = score_posetrack(data, engine="fast" if engine == "motmetrics" else "motmetrics")
    assert result.event_counts() == reference.event_counts()
    np.testing.assert_allclose(result.mot_full()["motp"], reference.mot_full()["motp"], atol=1e-9)


def test_bench_bootstrap(benchmark, small_set):
    """200 resamples of every headline number; a fresh copy of the result each round (a result
    keeps its resamples per draw matrix, so a second call on it would be a lookup)."""
    result = PoseTrackMetric().evaluate(small_set / "gt", small_set / "pred")
    report = benchmark.pedantic(bootstrap, setup=lambda: ((dataclasses.replace(result), 200), {"seed": 0}),
                                rounds=5)
    assert report.intervals["AP/Total"].lo <= report.intervals["AP/Total"].value <= report.intervals["AP/Total"].hi


@pytest.mark.parametrize("metric", [HOTAMetric(), OKSMetric(), StabilityMetric()], ids=lambda m: m.name)
def test_bench_other_metrics(benchmark, small_set, metric):
    """Read + score + the headline values of keypoint HOTA, OKS AP and stability."""
    cells = benchmark(lambda: metric.evaluate(small_set / "gt", small_set / "pred").headline())
    assert all(np.isfinite(v) for k, v in cells.items() if k.endswith(("Total", "Mean", "/AP")))
