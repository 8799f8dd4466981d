"""`--cluster slurm` for real: dask-jobqueue submits Dask workers as Slurm jobs to the
single-node Slurm that `.ci/slurm.sh start` runs (CI does, around the test run); the toy
graph runs on them. Skipped where no Slurm answers."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

pytest.importorskip("dask_jobqueue", reason="the cluster extra (vposebench[cluster]) is not installed")

from helpers.dask_jobs import intervals, run_in_process, toy_graph  # noqa: E402

from vposebench.clusters import make_engine  # noqa: E402
from vposebench.progress import Progress  # noqa: E402

TESTS = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def slurm():
    """SLURM_CONF of a running Slurm (the one .ci/slurm.sh starts, or the environment's)."""
    conf = os.environ.get("SLURM_CONF") or str(
        Path(os.environ.get("VPOSEBENCH_SLURM_DIR", "/tmp/vposebench-slurm")) / "slurm.conf")
    if shutil.which("sbatch") is None or not Path(conf).is_file():
        pytest.skip("no Slurm here (start one with `.ci/slurm.sh start`)")
    env = {**os.environ, "SLURM_CONF": conf}
    state = subprocess.run(["sinfo", "-h", "-o", "%T"], env=env, capture_output=True, text=True)
    if state.returncode != 0 or not ({"idle", "mixed", "allocated"} & set(state.stdout.split())):
        pytest.skip(f"Slurm does not answer with a usable node ({state.stdout.strip() or state.stderr.strip()})")
    previous = os.environ.get("SLURM_CONF")
    os.environ["SLURM_CONF"] = conf
    yield conf
    if previous is None:
        del os.environ["SLURM_CONF"]
    else:
        os.environ["SLURM_CONF"] = previous


def test_toy_graph_on_slurm_workers(slurm, tmp_path):
    settings = tmp_path / "vposebench-slurm.toml"
    settings.write_text("\n".join([
        'partition = "debug"', "cores = 1", 'memory = "1GB"', 'walltime = "00:10:00"', "jobs = 2",
        f'prologue = ["export PYTHONPATH={TESTS}"]', f'log_directory = "{tmp_path / "logs"}"',
    ]) + "\n")
    values = [2, 7, 1, 8]
    with make_engine(f"slurm:{settings}") as engine:
        results = engine.run(toy_graph(tmp_path / "cache", values, pause=1.0), Progress())
        jobs = engine.client.run(lambda: os.environ.get("SLURM_JOB_ID"))
    assert results == run_in_process(toy_graph(tmp_path / "here", values, pause=0.0))
    assert len(jobs) == 2 and all(j and j.isdigit() for j in jobs.values())  # workers are Slurm jobs
    ran = intervals(tmp_path / "cache")
    for job in toy_graph(tmp_path, values):
        for dep in job.deps:
            assert ran[dep]["end"] <= ran[job.key]["start"], (dep, job.key)
