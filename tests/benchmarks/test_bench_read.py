"""Read speed of the posetrack18 adapter on a PoseTrack'18-val-sized annotation set.

The full-size set (170 videos x 150 frames, about 10k labeled frames and 60k persons, from
`generate_scale_set`) is used when VPOSEBENCH_BENCH_FULL=1; otherwise a small set keeps the
test suite fast (pytest runs benchmarks once, with --benchmark-disable, by default). Measure
by hand with:

    VPOSEBENCH_BENCH_FULL=1 python -m pytest tests/benchmarks/test_bench_read.py --benchmark-enable
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from vposebench.datasets.posetrack18 import PoseTrack18
from vposebench.datasets.posetrack_scale import generate_scale_set

FULL = os.environ.get("VPOSEBENCH_BENCH_FULL") == "1"
SIZE = {"videos": 170, "frames": 150} if FULL else {"videos": 6, "frames": 40}


@pytest.fixture(scope="module")
def scale_root(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, object]:
    """The scale set laid out as a PoseTrack'18 root: gt/ becomes annotations/val/."""
    base = tmp_path_factory.mktemp("pt18_scale")
    stats = generate_scale_set(base / "generated", seed=0, **SIZE)
    root = base / "root"
    (root / "annotations").mkdir(parents=True)
    (base / "generated/gt").rename(root / "annotations/val")
    return root, stats


def read_all(root: Path) -> tuple[int, int, int]:
    """Read every video of the split; return (videos, labeled frames, persons)."""
    videos = list(PoseTrack18(root, "val"))
    return len(videos), sum(len(v.labeled_frames) for v in videos), sum(v.num_persons for v in videos)


def test_read_posetrack18_val_sized_set(benchmark, scale_root):
    root, stats = scale_root
    counts = benchmark.pedantic(read_all, args=(root,), rounds=3 if FULL else 1, iterations=1)
    assert counts == (stats.videos, stats.labeled_frames, stats.gt_persons)
    benchmark.extra_info.update(videos=counts[0], labeled_frames=counts[1], persons=counts[2])
