"""Which engine runs the job graph of `vposebench run` / `check`: worker processes on this
machine (`jobs.LocalEngine`, the default) or the Dask cluster `--cluster` names
(`vposebench.clusters`, docs/cluster.md).

Some jobs start processes of their own (a timing job measures in a fresh process, the data
job generates with a pool), which Python refuses in a daemonic process, and Dask starts its
workers as daemons unless `distributed.worker.daemon` is False. So the clusters started here
get non-daemonic workers (local workers through the Dask config, Slurm workers through the
environment their jobs inherit), and an engine whose workers are daemons anyway (those of an
existing scheduler) is refused before anything runs, with the setting that fixes it.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import multiprocessing
import os
from collections.abc import Iterator

from .errors import UserError
from .jobs import Engine

#: the Dask setting, and its environment variable, that lets workers start processes
WORKER_DAEMON = "distributed.worker.daemon"
WORKER_DAEMON_ENV = "DASK_DISTRIBUTED__WORKER__DAEMON"


def add_engine_arguments(parser: argparse.ArgumentParser) -> None:
    """--cluster, shared by run and check."""
    parser.add_argument("--cluster", help="run the jobs on a Dask cluster: local[:N], "
                        "tcp://HOST:PORT or slurm[:FILE] (docs/cluster.md; needs the [cluster] "
                        "extra); default: --workers processes on this machine")


def validate_cluster(spec: str | None) -> None:
    """A UserError for a malformed --cluster value, before anything is removed or started."""
    if spec:
        from .clusters import parse_cluster

        parse_cluster(spec)


def may_start_processes() -> bool:
    """Whether this process may start child processes (run on every Dask worker)."""
    return not multiprocessing.current_process().daemon


@contextlib.contextmanager
def non_daemonic_workers() -> Iterator[None]:
    """Dask workers started meanwhile (here or by Slurm jobs submitted from here) are not daemons."""
    try:
        import dask
    except ImportError:  # make_engine says what to install
        yield
        return
    before = os.environ.get(WORKER_DAEMON_ENV)
    os.environ[WORKER_DAEMON_ENV] = "False"
    try:
        with dask.config.set({WORKER_DAEMON: False}):
            yield
    finally:
        if before is None:
            os.environ.pop(WORKER_DAEMON_ENV, None)
        else:
            os.environ[WORKER_DAEMON_ENV] = before


def refuse_daemonic_workers(engine: Engine, spec: str) -> None:
    """UserError when a worker of the cluster could not start the processes jobs need."""
    client = getattr(engine, "client", None)
    if client is None:
        return
    daemons = sorted(address for address, ok in client.run(may_start_processes).items() if not ok)
    if daemons:
        raise UserError(f"the workers of {spec} ({', '.join(daemons)}) are daemonic processes, "
                        f"which cannot start the timing and data processes; start them with "
                        f"{WORKER_DAEMON_ENV}=False in their environment", field="--cluster")


@contextlib.contextmanager
def quiet_dask_logs() -> Iterator[None]:
    """Only Dask's errors on the console while the cluster lives (not its INFO lines about
    schedulers, workers and clients starting and closing, which would bury the progress)."""
    logger = logging.getLogger("distributed")
    before = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(before)


@contextlib.contextmanager
def engine_for(cluster: str | None, workers: int, device: str) -> Iterator[Engine | None]:
    """The engine on the cluster `cluster` names (stopped afterwards), or None: the pipeline's
    default `LocalEngine` of `workers` processes."""
    if not cluster:
        yield None
        return
    from .clusters import make_engine

    with quiet_dask_logs(), non_daemonic_workers(), make_engine(cluster, workers=workers, device=device) as engine:
        refuse_daemonic_workers(engine, cluster)
        yield engine
