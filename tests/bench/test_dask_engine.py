"""DaskEngine on a real LocalCluster (scheduler and worker processes over loopback): order,
results, exclusive jobs, failures; the `--cluster` spec parser and the Slurm settings file."""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys
import time

import pytest

pytest.importorskip("distributed", reason="the cluster extra (vposebench[cluster]) is not installed")

from helpers.dask_jobs import intervals, run_in_process, toy_graph  # noqa: E402

from vposebench.clusters import ClusterSpec, make_engine, parse_cluster  # noqa: E402
from vposebench.dask_engine import DaskEngine, WorkerShape  # noqa: E402
from vposebench.errors import UserError  # noqa: E402
from vposebench.jobs import Job, in_dependency_order, quiet_exclusive_jobs  # noqa: E402
from vposebench.pipeline import Progress  # noqa: E402
from vposebench.slurm_config import load_slurm_config  # noqa: E402

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
    # both worker processes took squares
    assert len({ran[f"square{i}"]["pid"] for i in range(len(VALUES))}) == 2
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
            results = engine.run(toy_graph(tmp_path / "cache", VALUES, pause=0.2), Recorder())
        assert results == run_in_process(toy_graph(tmp_path / "here", VALUES, pause=0.0))
        ran = dict(intervals(tmp_path / "cache"))
        alone = ran.pop("timing")  # tcp workers may share a machine: timing waits for quiet
        assert not [k for k, other in ran.items() if overlapping(alone, other)]
    finally:
        for process in reversed(started):
            process.terminate()
            process.wait(timeout=60)


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
    ran = intervals(tmp_path)
    assert "total" not in ran  # it depends on the failed job: never started
    assert {"generate", "fail"} <= set(ran)
    # whatever was running when "fail" failed had finished (and logged) before run() raised
    started = [k for k in ran if ran[k]["start"] < ran["fail"]["end"]]
    assert all("end" in ran[k] for k in started)


def test_quiet_edges_put_exclusive_jobs_alone_and_keep_the_graph_acyclic():
    def job(key, *deps, exclusive=False):
        return Job(key, "x", print, deps=deps,
                   resources={"exclusive": 1} if exclusive else {"cpu": 1})

    jobs = [job("a"), job("b", "a"), job("t1", "a", exclusive=True), job("r1", "t1"),
            job("t2", "b", exclusive=True), job("r2", "t2"), job("c", "b")]
    quiet = {j.key: set(j.deps) for j in quiet_exclusive_jobs(jobs)}
    in_dependency_order(quiet_exclusive_jobs(jobs))  # no cycle
    assert quiet["t1"] == {"a", "b", "c"}  # everything not after an exclusive job
    assert quiet["t2"] == {"a", "b", "c", "t1", "r1"}
    assert quiet["r1"] == {"t1"} and quiet["c"] == {"b"}


def test_dependency_errors_are_named():
    def job(key, *deps):
        return Job(key, "x", print, deps=deps)

    with pytest.raises(ValueError, match="cycle: a -> b -> a"):
        in_dependency_order([job("a", "b"), job("b", "a")])
    with pytest.raises(ValueError, match="unknown job"):
        in_dependency_order([job("a", "zz")])
    with pytest.raises(ValueError, match="two jobs"):
        in_dependency_order([job("a"), job("a")])


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


def test_slurm_settings_file(tmp_path):
    path = tmp_path / "slurm.toml"
    path.write_text('partition = "gpu"\ngpus = 2\ncores = 8\nmemory = "32GB"\n'
                    'walltime = "1-00:00:00"\njobs = 4\nextra = ["--constraint=a100"]\n')
    config = load_slurm_config(path)
    options = config.cluster_options()
    assert options["queue"] == "gpu" and options["cores"] == 8 and options["processes"] == 1
    assert options["job_extra_directives"] == ["--gres=gpu:2", "--constraint=a100"]
    assert options["worker_extra_args"] == ["--resources", "cpu=8,exclusive=1,gpu=2"]
    for text, field in [('walltime = "ten hours"', "walltime"), ('memory = "lots"', "memory"),
                        ("gpu = 1", "slurm settings"), ("cores = 0", "cores"), ("cores = [", None)]:
        path.write_text(text + "\n")
        with pytest.raises(UserError) as caught:
            load_slurm_config(path)
        assert str(path) in str(caught.value) and (field is None or field in str(caught.value))
    with pytest.raises(UserError, match="no Slurm settings file"):
        load_slurm_config(tmp_path / "absent.toml")
