"""DaskEngine on a real LocalCluster (scheduler and worker processes over loopback): order,
results, exclusive jobs, failures, resource demands, one GPU per local worker."""

from __future__ import annotations

import itertools
import os
import time

import pytest

pytest.importorskip("distributed", reason="the cluster extra (vposebench[cluster]) is not installed")

from helpers.dask_jobs import intervals, run_in_process, toy_graph  # noqa: E402

from vposebench.clusters import make_engine  # noqa: E402
from vposebench.dask_engine import DaskEngine, WorkerShape  # noqa: E402
from vposebench.errors import UserError  # noqa: E402
from vposebench.jobs import Job  # noqa: E402
from vposebench.progress import Progress  # noqa: E402

VALUES = [3, 1, 4, 5]


class Recorder(Progress):
    def __init__(self) -> None:
        self.total, self.done, self.stages = 0.0, 0.0, []

    def begin(self, total: float) -> None:
        self.total = total

    def advance(self, amount: float) -> None:
        self.done += amount

    def stage(self, text: str) -> None:
        self.stages.append(text)


@pytest.fixture(scope="module")
def local2():
    """`--cluster local:2`: two single-thread worker processes."""
    with make_engine("local:2") as engine:
        yield engine


def overlapping(a: dict, b: dict) -> bool:
    return a["start"] < b["end"] and b["start"] < a["end"]


@pytest.fixture(scope="module")
def toy_run(local2, tmp_path_factory):
    """The toy graph run once on `local:2`: (results, what ran when, progress, reference)."""
    folder = tmp_path_factory.mktemp("toy")
    progress = Recorder()
    # 1 s jobs: Dask first places a job beside its deps' results and moves (steals) it to an
    # idle worker after a fraction of a second
    results = local2.run(toy_graph(folder / "dask", VALUES, pause=1.0), progress)
    reference = run_in_process(toy_graph(folder / "here", VALUES, pause=0.0))
    return results, intervals(folder / "dask"), progress, reference


def test_toy_graph_runs_in_dependency_order_with_in_process_results(toy_run, tmp_path):
    results, ran, progress, reference = toy_run
    assert results == reference and results["total"] == sum(v * v for v in VALUES)
    jobs = toy_graph(tmp_path, VALUES)
    assert set(ran) == {j.key for j in jobs}
    for job in jobs:
        for dep in job.deps:
            assert ran[dep]["end"] <= ran[job.key]["start"], (dep, job.key)
    # the squares ran in the cluster's worker processes, not in this one (how Dask spreads four
    # 1 s jobs over two workers depends on its work stealing and the machine's load, so which
    # worker took which square is not asserted: a CI run saw one worker take all four)
    assert os.getpid() not in {ran[f"square{i}"]["pid"] for i in range(len(VALUES))}
    assert progress.done == progress.total == len(jobs) and len(progress.stages) == len(jobs)


def test_exclusive_job_runs_alone_on_a_shared_machine(toy_run):
    ran = dict(toy_run[1])
    alone = ran.pop("timing")
    assert not [k for k, other in ran.items() if overlapping(alone, other)]


def test_workers_pinned_to_one_gpu_each(local2):
    """`local:N` with --device cuda: worker i sees GPU i % count (checked here on the CPU
    through the variable the plugin sets)."""
    from vposebench.gpu_pinning import PinGPU

    local2.client.register_plugin(PinGPU(2), name="test-pin-gpu")
    seen = local2.client.run(lambda dask_worker: (dask_worker.name,
                                                  os.environ["CUDA_VISIBLE_DEVICES"]))
    local2.client.unregister_worker_plugin("test-pin-gpu")
    assert sorted(seen.values()) == [(0, "0"), (1, "1")]


def test_exclusive_job_takes_its_whole_worker(tmp_path):
    """Without the machine-wide ordering, resources alone keep a timing job to itself on a
    worker with two task slots."""
    from distributed import Client, LocalCluster

    shape = WorkerShape(cpu=2.0)
    with LocalCluster(n_workers=1, threads_per_worker=2, resources=shape.resources(),
                      dashboard_address="127.0.0.1:0") as cluster, Client(cluster) as client:
        engine = DaskEngine(client, shape, quiet=False)
        engine.run(toy_graph(tmp_path, VALUES, pause=1.0), Recorder())
    ran = intervals(tmp_path)
    alone = ran.pop("timing")
    assert not [k for k, other in ran.items() if overlapping(alone, other)]
    squares = [ran[f"square{i}"] for i in range(len(VALUES))]
    assert any(overlapping(a, b) for a, b in itertools.combinations(squares, 2))  # 2 slots used


def test_first_failure_cancels_the_rest_and_waits_for_running_jobs(local2, tmp_path):
    with pytest.raises(ValueError, match="fails on purpose"):
        local2.run(toy_graph(tmp_path, VALUES, pause=1.0, failing=True), Recorder())
    raised = time.time()
    time.sleep(3.0)  # a job left running would log its end now, after run() raised
    ran = intervals(tmp_path)
    assert "total" not in ran  # it depends on the failed job: never started
    assert {"generate", "fail"} <= set(ran)
    assert all(entry["end"] <= raised for entry in ran.values())  # waited for the running ones


def test_resource_demands_and_impossible_jobs():
    shape = WorkerShape(cpu=4.0, gpu=1.0)
    timing = Job("t", "time", print, resources={"exclusive": 1})
    assert shape.demand(timing) == {"exclusive": 1.0, "cpu": 4.0, "gpu": 1.0}
    assert shape.demand(Job("g", "train", print, resources={"gpu": 1})) == {"gpu": 1.0, "cpu": 1.0}
    with pytest.raises(UserError, match="needs gpu=1 but each worker offers gpu=0"):
        WorkerShape(cpu=2.0).check(Job("g", "train", print, resources={"gpu": 1}))
    with pytest.raises(UserError, match="declare no cpu/exclusive"):
        WorkerShape.of_workers({"w": {"resources": {}}})
    assert WorkerShape.of_workers({"a": {"resources": {"cpu": 4, "exclusive": 1, "gpu": 2}},
                                   "b": {"resources": {"cpu": 2, "exclusive": 1}}}) == WorkerShape(2.0, 0.0)

