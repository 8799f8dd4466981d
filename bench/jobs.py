"""A run as a graph of jobs, and the contract of the engines that execute it.

A `Job` is one unit of work (generate data, train a model, predict, evaluate, time, write a
record): a module-level function with picklable arguments, so any engine (in-process, a
process pool, Dask workers on other machines) can run it. Jobs exchange data only through the
on-disk cache, which they write atomically; `deps` only orders them. `resources` says what a
job occupies while it runs, so an engine can keep GPU jobs to GPU workers and run timing jobs
(`{"exclusive": 1}`) with nothing else beside them. A job whose output is already in the cache
is left out of the graph. `LocalEngine` (here) runs a graph in worker processes on this machine;
`vposebench.dask_engine` on a Dask cluster.
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
import multiprocessing
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol

from .progress import Progress


@dataclasses.dataclass(frozen=True)
class Job:
    """One node of a run's job graph."""

    key: str                         # unique content key within the graph
    kind: str                        # "generate" | "train" | "predict" | "evaluate" | "time" | "record"
    fn: Callable[..., Any]           # a module-level function (picklable by reference)
    args: tuple[Any, ...] = ()       # picklable arguments
    deps: tuple[str, ...] = ()       # keys of jobs that must finish first (their outputs are in the cache)
    resources: Mapping[str, float] = dataclasses.field(default_factory=lambda: {"cpu": 1.0})
    #   {"gpu": 1} for GPU jobs; {"exclusive": 1} = nothing else runs meanwhile (timing jobs)
    estimate_s: float = 1.0          # rough seconds, for progress and time-left
    label: str = ""                  # human text for progress lines


class Engine(Protocol):
    """Something that executes a job graph."""

    def run(self, jobs: Sequence[Job], progress: Progress) -> dict[str, Any]:
        """Run every job after its deps; return key -> fn's return value. On the first failure,
        cancel what has not started, wait for running jobs, and raise."""


def in_dependency_order(jobs: Sequence[Job]) -> list[Job]:
    """The jobs ordered so that each comes after its deps (stable otherwise).

    Raises ValueError for a duplicate key, a dep that names no job, or a cycle: these are
    errors in the code that built the graph, not in user input.
    """
    by_key: dict[str, Job] = {}
    for job in jobs:
        if job.key in by_key:
            raise ValueError(f"two jobs have the key {job.key!r}")
        by_key[job.key] = job
    for job in jobs:
        missing = [d for d in job.deps if d not in by_key]
        if missing:
            raise ValueError(f"job {job.key!r} depends on unknown job(s) {', '.join(missing)}")
    ordered: list[Job] = []
    state: dict[str, str] = {}  # key -> "visiting" | "done"

    def visit(job: Job, path: tuple[str, ...]) -> None:
        mark = state.get(job.key)
        if mark == "done":
            return
        if mark == "visiting":
            raise ValueError(f"the job graph has a cycle: {' -> '.join((*path, job.key))}")
        state[job.key] = "visiting"
        for dep in job.deps:
            visit(by_key[dep], (*path, job.key))
        state[job.key] = "done"
        ordered.append(job)

    for job in jobs:
        visit(job, ())
    return ordered


def descendants(jobs: Sequence[Job]) -> dict[str, set[str]]:
    """key -> keys of every job that (transitively) depends on it."""
    children: dict[str, list[str]] = {job.key: [] for job in jobs}
    for job in jobs:
        for dep in job.deps:
            children[dep].append(job.key)
    out: dict[str, set[str]] = {}
    for job in reversed(in_dependency_order(jobs)):
        found: set[str] = set()
        for child in children[job.key]:
            found.add(child)
            found |= out[child]
        out[job.key] = found
    return out


def quiet_exclusive_jobs(jobs: Sequence[Job]) -> list[Job]:
    """The graph with ordering edges added so that each exclusive job runs with no other job
    running anywhere: it starts after every job that does not come after an exclusive job at
    or behind it in dependency order, and the exclusive jobs run one after another.

    For engines whose workers share one machine (a local cluster), where "alone on its worker"
    would still let the other workers disturb a timing job. The edges cannot form a cycle:
    an added edge always points from a job to an exclusive job later in the order than every
    exclusive job that job comes after.
    """
    ordered = in_dependency_order(jobs)
    exclusive = [j for j in ordered if j.resources.get("exclusive", 0) > 0]
    if not exclusive:
        return list(jobs)
    after = descendants(ordered)
    extra: dict[str, set[str]] = {}
    for i, job in enumerate(exclusive):
        shadow = {job.key}.union(*(after[x.key] | {x.key} for x in exclusive[i:]))
        extra[job.key] = {j.key for j in ordered if j.key not in shadow} - set(job.deps)
    return [dataclasses.replace(j, deps=j.deps + tuple(sorted(extra[j.key])))
            if extra.get(j.key) else j for j in jobs]


def describe_running(running: Sequence[Job], done: int, total: int) -> str:
    """`3/25 jobs done; train: a, b; predict: c` (the stage text engines report)."""
    by_kind: dict[str, list[str]] = {}
    for job in running:
        by_kind.setdefault(job.kind, []).append(job.label or job.key)
    parts = [f"{kind}: {', '.join(labels)}" for kind, labels in by_kind.items()]
    return f"{done}/{total} jobs done" + (f"; {'; '.join(parts)}" if parts else "")


class LocalEngine:
    """Runs a graph on this machine: `workers` spawned processes (fork is unsafe with torch),
    or in this process, one job at a time, with ``workers=0``.

    Among the jobs whose deps are done, the longest estimate starts first; an exclusive job
    waits until nothing else runs and holds every slot, and ready non-exclusive work goes
    first, so timing happens on an otherwise idle machine.
    """

    def __init__(self, workers: int = 2, *, gpus: int = 0, poll_s: float = 0.5) -> None:
        if workers < 0:
            raise ValueError("workers must be >= 0")
        self.workers = workers
        self.gpus = gpus
        self.poll_s = poll_s

    @property
    def slots(self) -> int:
        return max(1, self.workers)

    def _share(self, job: Job) -> float:
        """Wall seconds a job adds to the run: all of it when it runs alone."""
        if job.resources.get("exclusive") or self.workers == 0:
            return job.estimate_s
        return job.estimate_s * min(self._cpus(job), self.slots) / self.slots

    def _cpus(self, job: Job) -> int:
        return self.slots if job.resources.get("exclusive") else max(1, min(
            self.slots, round(job.resources.get("cpu", 1.0))))

    def run(self, jobs: Sequence[Job], progress: Progress) -> dict[str, Any]:
        order = in_dependency_order(jobs)
        for job in order:
            if job.resources.get("gpu", 0) > self.gpus:
                raise ValueError(f"job {job.key!r} needs a GPU; this engine has {self.gpus}")
        progress.begin(sum(self._share(j) for j in order))
        if not order:
            return {}
        if self.workers == 0:
            return self._run_here(order, progress)
        context = multiprocessing.get_context("spawn")
        with concurrent.futures.ProcessPoolExecutor(self.slots, mp_context=context) as pool:
            return self._run_pool(order, pool, progress)

    def _run_here(self, order: list[Job], progress: Progress) -> dict[str, Any]:
        results = {}
        for done, job in enumerate(order):
            progress.stage(describe_running([job], done, len(order)))
            results[job.key] = job.fn(*job.args)
            progress.advance(self._share(job))
        progress.stage(describe_running([], len(order), len(order)))
        return results

    def _run_pool(self, order: list[Job], pool: concurrent.futures.Executor,
                  progress: Progress) -> dict[str, Any]:
        pending = list(order)
        running: dict[concurrent.futures.Future, tuple[Job, float]] = {}
        credited: dict[str, float] = {}
        results: dict[str, Any] = {}
        failure: BaseException | None = None
        shown = ""
        while pending or running:
            if failure is None:
                for job in self._startable(pending, [j for j, _ in running.values()], results):
                    running[pool.submit(job.fn, *job.args)] = (job, time.monotonic())
                    pending.remove(job)
            elif not running:
                break
            text = describe_running([j for j, _ in running.values()], len(results), len(order))
            if text != shown:
                progress.stage(text)
                shown = text
            finished, _ = concurrent.futures.wait(running, timeout=self.poll_s,
                                                  return_when=concurrent.futures.FIRST_COMPLETED)
            now = time.monotonic()
            for future, (job, started) in running.items():  # credit running jobs, up to 90 %
                share = self._share(job)
                due = share * min(0.9, (now - started) / max(job.estimate_s, 1e-6))
                if future not in finished and due > credited.get(job.key, 0.0):
                    progress.advance(due - credited.get(job.key, 0.0))
                    credited[job.key] = due
            for future in finished:
                job, _ = running.pop(future)
                try:
                    results[job.key] = future.result()
                except BaseException as exc:  # noqa: BLE001 - re-raised once running jobs end
                    if failure is None:
                        failure = exc
                    continue
                progress.advance(self._share(job) - credited.pop(job.key, 0.0))
        if failure is not None:
            raise failure
        progress.stage(describe_running([], len(results), len(order)))
        return results

    def _startable(self, pending: list[Job], running: list[Job], done: Mapping[str, Any]) -> list[Job]:
        """Ready jobs that fit in the free slots now, best first."""
        ready = [j for j in pending if all(d in done for d in j.deps)]
        ready.sort(key=lambda j: (bool(j.resources.get("exclusive")), -j.estimate_s))
        if any(j.resources.get("exclusive") for j in running):
            return []
        free = self.slots - sum(self._cpus(j) for j in running)
        gpus = self.gpus - sum(j.resources.get("gpu", 0) for j in running)
        chosen = []
        for job in ready:
            exclusive = bool(job.resources.get("exclusive"))
            if exclusive and (running or chosen or any(not j.resources.get("exclusive") for j in ready)):
                break  # exclusive jobs wait until everything else is done and nothing runs
            need, gpu = self._cpus(job), job.resources.get("gpu", 0)
            if need <= free and gpu <= gpus:
                chosen.append(job)
                free -= need
                gpus -= gpu
                if exclusive:
                    break
        return chosen
