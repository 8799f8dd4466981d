"""`DaskEngine`: a job graph run as Dask distributed futures (local, remote or Slurm workers).

Each job becomes one task whose arguments include the futures of its deps, so Dask starts it
once what it needs exists, on a worker that has the resources it asks for. Workers declare
`cpu` (task slots), `gpu` and `exclusive` (one token) resources; a timing job
(`{"exclusive": 1}`) asks for the token and every cpu and gpu of its worker, so nothing runs
beside it there, and with `quiet=True` (workers sharing one machine) the graph also gets edges
that keep every other job from running meanwhile (`jobs.quiet_exclusive_jobs`).

A worker that dies is replaced by its nanny and the scheduler re-runs the tasks it held
(training resumes from its partial checkpoint); a task that raises is retried `retries` times.
Dask cannot stop a task that is running, so on a failure the engine cancels what has not
started, waits for the tasks that are executing, and raises.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from .errors import UserError
from .jobs import Job, in_dependency_order, quiet_exclusive_jobs

if TYPE_CHECKING:
    from distributed import Client

    from .progress import Progress


@dataclasses.dataclass(frozen=True)
class WorkerShape:
    """The resources every worker of a cluster declares (Dask worker `resources=`)."""

    cpu: float = 1.0
    gpu: float = 0.0

    def resources(self) -> dict[str, float]:
        """The worker's `resources=` mapping."""
        return {"cpu": self.cpu, "exclusive": 1.0, **({"gpu": self.gpu} if self.gpu else {})}

    def demand(self, job: Job) -> dict[str, float]:
        """What `job` takes from a worker while it runs: a cpu slot at least; an exclusive job
        takes the token and all of the worker's cpus and gpus."""
        wanted = {k: float(v) for k, v in job.resources.items() if v}
        if wanted.get("exclusive"):
            return {**wanted, "exclusive": 1.0, "cpu": self.cpu,
                    **({"gpu": max(self.gpu, wanted.get("gpu", 0.0))} if self.gpu else {})}
        wanted.setdefault("cpu", 1.0)
        return wanted

    def check(self, job: Job) -> None:
        """UserError when no worker of this shape could ever run `job`."""
        for name, amount in self.demand(job).items():
            offered = self.resources().get(name, 0.0)
            if amount > offered:
                raise UserError(f"job {job.label or job.key!r} needs {name}={amount:g} but each "
                                f"worker offers {name}={offered:g}", field="--cluster")

    @classmethod
    def of_workers(cls, workers: dict[str, dict[str, Any]]) -> WorkerShape:
        """The smallest shape among running workers (`Client.scheduler_info()["workers"]`)."""
        if not workers:
            raise UserError("the scheduler has no workers", field="--cluster")
        offered = [w.get("resources") or {} for w in workers.values()]
        if not all("cpu" in r and "exclusive" in r for r in offered):
            raise UserError("the scheduler's workers declare no cpu/exclusive resources; start "
                            "them with `dask worker ADDRESS --nthreads N --resources "
                            "\"cpu=N,exclusive=1\"` (add gpu=G on GPU machines)", field="--cluster")
        return cls(cpu=min(float(r["cpu"]) for r in offered),
                   gpu=min(float(r.get("gpu", 0.0)) for r in offered))


def call_job(fn: Callable[..., Any], args: tuple[Any, ...], *_deps: Any) -> Any:
    """The task Dask runs for a job: `fn(*args)`; the deps' results are arguments only so that
    Dask starts it after them."""
    return fn(*args)


def executing_keys(dask_worker: Any) -> list[str]:
    """Keys of the tasks a worker is executing now (run on every worker by `Client.run`)."""
    return [ts.key for ts in dask_worker.state.executing]


class DaskEngine:
    """Runs a job graph on a Dask cluster; see the module docstring.

    Owns `closers` (e.g. the client and the cluster it started): `close()` or leaving a `with`
    block closes them.
    """

    def __init__(self, client: Client, shape: WorkerShape, *, retries: int = 1,
                 quiet: bool = False, closers: Sequence[Any] = ()) -> None:
        self.client = client
        self.shape = shape
        self.retries = retries
        self.quiet = quiet
        self.closers = list(closers)

    def __enter__(self) -> DaskEngine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        for thing in reversed(self.closers):
            thing.close()
        self.closers.clear()

    def run(self, jobs: Sequence[Job], progress: Progress) -> dict[str, Any]:
        """Run every job after its deps; return key -> fn's return value. On the first failure,
        cancel what has not started, wait for running jobs, and raise."""
        from distributed import as_completed

        graph = quiet_exclusive_jobs(jobs) if self.quiet else list(jobs)
        ordered = in_dependency_order(graph)
        for job in ordered:
            self.shape.check(job)
        progress.begin(sum(j.estimate_s for j in jobs))
        run_id = uuid.uuid4().hex[:8]
        futures: dict[str, Any] = {}
        for job in ordered:
            futures[job.key] = self.client.submit(
                call_job, job.fn, job.args, *(futures[d] for d in job.deps),
                key=f"{job.kind}-{job.key}-{run_id}", resources=self.shape.demand(job),
                retries=self.retries, pure=False)
        by_task = {future.key: job for job, future in zip(ordered, futures.values())}
        results: dict[str, Any] = {}
        try:
            for future in as_completed(list(futures.values())):
                job = by_task[future.key]
                if future.status != "finished":
                    self._stop(futures)
                    future.result()  # raises the job's exception with its traceback
                    raise RuntimeError(f"job {job.key} ended as {future.status}")
                results[job.key] = future.result()
                progress.advance(job.estimate_s)
                progress.stage(f"{len(results)}/{len(ordered)} jobs done; last: "
                               f"{job.label or job.key}")
        finally:
            self.client.cancel([f for f in futures.values() if not f.done()])
        return {job.key: results[job.key] for job in jobs}

    def _stop(self, futures: dict[str, Any]) -> None:
        """Cancel the tasks that have not started and wait for those executing."""
        from distributed import wait

        running = {key for keys in self.client.run(executing_keys).values() for key in keys}
        waiting = [f for f in futures.values() if not f.done() and f.key not in running]
        self.client.cancel(waiting)
        wait([f for f in futures.values() if f.key in running])
