"""The suite against the official code on one generated set: wall time of each, one core.

Both sides run as commands (process start, imports, reading, scoring, output) pinned to the
same core; the suite's time is pytest-benchmark's (3 rounds), the official code's one run, and
``extra_info`` holds both and their ratio (official / suite). Results must agree. The official
code is not part of the suite: each benchmark runs only when environment variables point at a
copy of it with an interpreter that can run it, and is skipped with the reason otherwise:

    VPOSEBENCH_POSEVAL=<folder holding the poseval package (leonid-pishchulin/poseval 4258a157)>
    VPOSEBENCH_POSEVAL_PYTHON=<python with motmetrics 1.4.0, shapely, scipy, click, tqdm>
    VPOSEBENCH_PT21_KIT=<anDoer/PoseTrack21 eval/posetrack21 folder (3e61960)>
    VPOSEBENCH_PT21_PYTHON=<python with numpy < 1.24, scipy, Shapely, tqdm>

The set is PoseTrack'18-val-sized with VPOSEBENCH_BENCH_FULL=1 (170 videos x 150 frames, the
figures in docs/evaluation.md), else 12 videos x 60 frames:

    VPOSEBENCH_BENCH_FULL=1 VPOSEBENCH_POSEVAL=... python -m pytest tests/benchmarks/test_bench_official.py \\
        --benchmark-enable -s
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from helpers.make_hota_cases import run_kit_folder

from vposebench.datasets.posetrack_scale import generate_scale_set

FULL = os.environ.get("VPOSEBENCH_BENCH_FULL") == "1"
SIZE = {"videos": 170, "frames": 150} if FULL else {"videos": 12, "frames": 60}


def _official(variable: str, python_variable: str) -> tuple[Path, str]:
    folder, python = os.environ.get(variable), os.environ.get(python_variable)
    if not folder or not python:
        pytest.skip(f"set {variable} and {python_variable} to time the official code")
    return Path(folder), python


@pytest.fixture(scope="module")
def poseval() -> tuple[Path, str]:
    return _official("VPOSEBENCH_POSEVAL", "VPOSEBENCH_POSEVAL_PYTHON")


@pytest.fixture(scope="module")
def pt21_kit() -> tuple[Path, str]:
    return _official("VPOSEBENCH_PT21_KIT", "VPOSEBENCH_PT21_PYTHON")


def _one_core() -> None:
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})


def _run(command: list[str], **kwargs) -> float:
    """Wall seconds of one command on one core (single-threaded numerics)."""
    env = {**os.environ, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    start = time.perf_counter()
    subprocess.run(command, check=True, env=env, preexec_fn=_one_core, stdout=subprocess.DEVNULL, **kwargs)
    return time.perf_counter() - start


@pytest.fixture(scope="module")
def scale_set(tmp_path_factory):
    root = tmp_path_factory.mktemp("official_scale")
    generate_scale_set(root, seed=0, **SIZE)
    return root


def _suite(benchmark, scale_set: Path, metric: str, out: Path) -> float:
    command = [sys.executable, "-m", "vposebench", "evaluate", "--metric", metric, "--gt", str(scale_set / "gt"),
               "--pred", str(scale_set / "pred"), "--json", str(out)]
    benchmark.pedantic(_run, args=(command,), rounds=3, iterations=1)
    return benchmark.stats.stats.median


def test_bench_posetrack_against_poseval(poseval, benchmark, scale_set, tmp_path):
    folder, python = poseval
    official = _run([python, "-m", "poseval.evaluate", "-g", f"{scale_set / 'gt'}/", "-p",
                     f"{scale_set / 'pred'}/", "-e", "-t", "-o", str(tmp_path / "official")], cwd=folder)
    suite = _suite(benchmark, scale_set, "posetrack", tmp_path / "suite.json")
    benchmark.extra_info.update(official_s=official, suite_median_s=suite, ratio=official / suite, **SIZE)
    print(f"\nposetrack: official {official:.1f} s, suite {suite:.2f} s, {official / suite:.0f}x")
    doc = json.loads((tmp_path / "suite.json").read_text())
    ap = json.loads((tmp_path / "official" / "total_AP_metrics.json").read_text())
    mot = json.loads((tmp_path / "official" / "total_MOT_metrics.json").read_text())
    np.testing.assert_allclose(doc["full"]["ap"]["ap"], ap["ap"], atol=1e-9)
    np.testing.assert_allclose(doc["full"]["mot"]["mota"], mot["mota"], atol=1e-9)


def test_bench_hota_against_the_posetrack21_kit(pt21_kit, benchmark, scale_set, tmp_path):
    kit, python = pt21_kit
    start = time.perf_counter()
    result = run_kit_folder(python, kit, scale_set / "gt", scale_set / "pred", preexec_fn=_one_core)
    official = time.perf_counter() - start
    assert result["returncode"] == 0, result
    suite = _suite(benchmark, scale_set, "hota", tmp_path / "suite.json")
    benchmark.extra_info.update(official_s=official, suite_median_s=suite, ratio=official / suite, **SIZE)
    print(f"\nhota: PoseTrack21 kit {official:.1f} s, suite {suite:.2f} s, {official / suite:.0f}x")
    doc = json.loads((tmp_path / "suite.json").read_text())
    for key in ("HOTA", "DetA", "AssA", "LocA"):
        np.testing.assert_allclose(doc["full"][key], np.mean(result["combined"][key], axis=0)[:15], atol=1e-9)
