"""The job graph: dependency order, its errors, the edges that keep timing jobs alone; and
`LocalEngine` with real spawned worker processes."""

import pytest
from helpers.toy_jobs import append, events, fail

from vposebench.jobs import Job, LocalEngine, in_dependency_order, quiet_exclusive_jobs
from vposebench.progress import Progress


class Recorder(Progress):
    def __init__(self):
        self.stages, self.total, self.done = [], None, 0.0

    def begin(self, total):
        self.total = total

    def advance(self, amount):
        self.done += amount

    def stage(self, text):
        self.stages.append(text)


def _graph(log, seconds=0.3):
    return [
        Job("data", "generate", append, (log, "data", seconds)),
        Job("a", "train", append, (log, "a", seconds), deps=("data",), estimate_s=2),
        Job("b", "train", append, (log, "b", seconds), deps=("data",)),
        Job("time-a", "time", append, (log, "time-a", seconds), deps=("a",),
            resources={"exclusive": 1}),
        Job("rec", "record", append, (log, "rec", 0.0), deps=("time-a", "b")),
    ]


def _span(log, name):
    found = {e["event"]: e["t"] for e in events(log) if e["job"] == name}
    return found["start"], found["end"]


def test_jobs_run_after_their_deps_exclusive_ones_alone(tmp_path):
    log = str(tmp_path / "log")
    progress = Recorder()
    results = LocalEngine(2).run(_graph(log), progress)
    assert results == {k: k for k in ("data", "a", "b", "time-a", "rec")}
    for job in _graph(log):
        start, _ = _span(log, job.key)
        assert all(_span(log, dep)[1] <= start for dep in job.deps)
    a, b = _span(log, "a"), _span(log, "b")
    assert a[0] < b[1] and b[0] < a[1]  # the two training jobs overlapped
    timed = _span(log, "time-a")
    for other in ("data", "a", "b", "rec"):
        s, e = _span(log, other)
        assert e <= timed[0] or s >= timed[1]  # nothing ran while timing
    assert len({e["pid"] for e in events(log) if e["event"] == "start"} - {None}) >= 2
    assert progress.done == pytest.approx(progress.total)
    assert progress.stages[-1] == "5/5 jobs done" and any("train: " in s for s in progress.stages)


def test_in_process_engine_gives_the_same_results(tmp_path):
    log = str(tmp_path / "log")
    assert LocalEngine(0).run(_graph(log, 0.0), Progress()) == LocalEngine(2).run(_graph(log, 0.0), Progress())


def test_first_failure_stops_new_jobs_and_is_raised(tmp_path):
    log = str(tmp_path / "log")
    jobs = [Job("bad", "train", fail, ("boom",)), Job("slow", "train", append, (log, "slow", 0.5)),
            Job("after", "record", append, (log, "after"), deps=("bad",))]
    with pytest.raises(ValueError, match="boom"):
        LocalEngine(2).run(jobs, Progress())
    names = [e["job"] for e in events(log)]
    assert names == ["slow", "slow"]  # the running job finished, the dependent never started


def test_an_engine_without_a_gpu_refuses_gpu_jobs():
    with pytest.raises(ValueError, match="needs a GPU"):
        LocalEngine(1).run([Job("a", "train", fail, resources={"gpu": 1})], Progress())


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
