"""A run as a graph of jobs, and the contract of the engines that execute it.

A `Job` is one unit of work (generate data, train a model, predict, evaluate, time, write a
record): a module-level function with picklable arguments, so any engine (in-process, a
process pool, Dask workers on other machines) can run it. Jobs exchange data only through the
on-disk cache, which they write atomically; `deps` only orders them. `resources` says what a
job occupies while it runs, so an engine can keep GPU jobs to GPU workers and run timing jobs
(`{"exclusive": 1}`) with nothing else beside them.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from .pipeline import Progress


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
