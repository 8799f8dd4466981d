"""Faults on a real LocalCluster: a worker process killed in the middle of a training job is
replaced by its nanny, the scheduler runs the job again, and training resumes from its last
partial checkpoint to the weights of an uninterrupted run."""

from __future__ import annotations

import concurrent.futures
import os
import signal
import time

import pytest

pytest.importorskip("distributed", reason="the cluster extra (vposebench[cluster]) is not installed")

import torch  # noqa: E402
from helpers.dask_jobs import train_sticks  # noqa: E402

from vposebench.checkpoint import load_checkpoint, partial_path  # noqa: E402
from vposebench.dask_engine import DaskEngine, WorkerShape  # noqa: E402
from vposebench.jobs import Job  # noqa: E402
from vposebench.progress import Progress  # noqa: E402

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def wait_for(condition, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


@pytest.mark.slow
def test_killed_worker_is_replaced_and_training_resumes_from_its_partial_checkpoint(
        sticks_root, tmp_path):
    from distributed import Client, LocalCluster

    out = tmp_path / "killed.ckpt"
    shape = WorkerShape()
    job = Job("train-sticks", "train", train_sticks, (str(sticks_root), str(out), 0.25))
    with LocalCluster(n_workers=1, threads_per_worker=1, resources=shape.resources(),
                      dashboard_address="127.0.0.1:0") as cluster, Client(cluster) as client:
        engine = DaskEngine(client, shape, retries=0)
        with concurrent.futures.ThreadPoolExecutor(1) as thread:
            running = thread.submit(engine.run, [job], Progress())
            wait_for(lambda: partial_path(out).exists(), 300, "a partial checkpoint")
            (victim,) = client.run(os.getpid).values()
            os.kill(victim, signal.SIGKILL)
            result = running.result(timeout=600)["train-sticks"]
    # a new worker process ran the job again, from the partial checkpoint
    assert result["pid"] != victim and result["resumed_from"] > 0
    assert not partial_path(out).exists()
    assert not [p.name for p in tmp_path.iterdir() if p.name != "killed.ckpt"]  # no temp files
    whole = tmp_path / "whole"
    whole.mkdir()
    train_sticks(str(sticks_root), str(whole / "whole.ckpt"))
    a, b = load_checkpoint(whole / "whole.ckpt"), load_checkpoint(out)
    assert a.complete and b.complete and a.step == b.step
    assert a.losses == b.losses
    for key in a.model:
        assert torch.equal(a.model[key], b.model[key]), key
