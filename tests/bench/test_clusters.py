"""`--cluster` specs and `make_engine` against an existing scheduler (real `dask scheduler`
and `dask worker` processes over loopback)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import pytest

pytest.importorskip("distributed", reason="the cluster extra (vposebench[cluster]) is not installed")

from helpers.dask_jobs import intervals, run_in_process, toy_graph  # noqa: E402

from vposebench.clusters import ClusterSpec, make_engine, parse_cluster  # noqa: E402
from vposebench.errors import UserError  # noqa: E402
from vposebench.progress import Progress  # noqa: E402

VALUES = [3, 1, 4, 5]


def overlapping(a: dict, b: dict) -> bool:
    return a["start"] < b["end"] and b["start"] < a["end"]


@pytest.mark.parametrize("text, spec", [
    ("local", ClusterSpec("local")),
    ("local:3", ClusterSpec("local", workers=3)),
    ("tcp://10.0.0.5:8786", ClusterSpec("tcp", address="tcp://10.0.0.5:8786")),
])
def test_cluster_specs(text, spec):
    assert parse_cluster(text) == spec


def test_slurm_spec_names_its_settings_file():
    assert parse_cluster("slurm").config.name == "vposebench-slurm.toml"
    assert str(parse_cluster("slurm:conf/gpu.toml").config) == "conf/gpu.toml"


@pytest.mark.parametrize("text", ["local:0", "local:x", "tcp://nohost", "tcp://h:p", "ray", ""])
def test_bad_cluster_specs(text):
    with pytest.raises(UserError, match="--cluster"):
        parse_cluster(text)


def test_unreachable_scheduler_is_a_user_error():
    with pytest.raises(UserError, match="cannot reach the scheduler"):
        make_engine("tcp://127.0.0.1:9", connect_timeout_s=1.0)


def test_existing_scheduler_over_tcp(tmp_path):
    """The documented `tcp://` setup: `dask scheduler` and `dask worker --resources ...`
    processes, then the engine connects to the scheduler's address."""
    file = tmp_path / "scheduler.json"
    # the scheduler unpickles the jobs and the workers run them: both import the toy jobs
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
    started = [subprocess.Popen([sys.executable, "-m", "distributed.cli.dask_scheduler",
                                 "--host", "127.0.0.1", "--port", "0", "--dashboard-address",
                                 "127.0.0.1:0", "--scheduler-file", str(file)],
                                env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)]
    try:
        deadline = time.monotonic() + 120
        while not file.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        address = json.loads(file.read_text())["address"]
        started.append(subprocess.Popen(
            [sys.executable, "-m", "distributed.cli.dask_worker", address, "--nworkers", "2",
             "--nthreads", "1", "--resources", "cpu=1,exclusive=1"],
            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        with make_engine(address) as engine:
            engine.client.wait_for_workers(2, timeout=120)
            results = engine.run(toy_graph(tmp_path / "cache", VALUES, pause=0.2), Progress())
        assert results == run_in_process(toy_graph(tmp_path / "here", VALUES, pause=0.0))
        ran = dict(intervals(tmp_path / "cache"))
        alone = ran.pop("timing")  # tcp workers may share a machine: timing waits for quiet
        assert not [k for k, other in ran.items() if overlapping(alone, other)]
    finally:
        for process in reversed(started):
            process.terminate()
            process.wait(timeout=60)
