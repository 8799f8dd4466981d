"""`--cluster SPEC`: which Dask cluster runs a job graph, and `make_engine` that starts it.

- `local[:N]`: a `distributed.LocalCluster` of N worker processes (default: `workers`), one
  thread each, on this machine; timing jobs wait until nothing else runs.
- `tcp://HOST:PORT`: an existing scheduler, whose workers declare cpu/exclusive (and gpu)
  resources; timing jobs wait until nothing else runs (the workers may share a machine).
- `slurm[:FILE]`: dask-jobqueue's `SLURMCluster`, one Slurm job per worker, resources from
  FILE (default `vposebench-slurm.toml`; see `slurm_config`).
"""

from __future__ import annotations

import dataclasses
import logging
from pathlib import Path

from .dask_engine import DaskEngine, WorkerShape
from .errors import UserError
from .slurm_config import DEFAULT_SLURM_CONFIG, load_slurm_config

#: seconds to wait for the first worker of a remote scheduler
WORKER_TIMEOUT_S = 600.0
#: the scheduler's HTTP (dashboard, metrics) address: any free port, so runs side by side work
LOCAL_HTTP = "127.0.0.1:0"


@dataclasses.dataclass(frozen=True)
class ClusterSpec:
    """A parsed `--cluster` value."""

    mode: str  # "local" | "tcp" | "slurm"
    workers: int | None = None  # local: worker processes (None: the caller's default)
    address: str | None = None  # tcp: the scheduler
    config: Path | None = None  # slurm: the settings file


def parse_cluster(text: str) -> ClusterSpec:
    """`local`, `local:4`, `tcp://10.0.0.5:8786`, `slurm` or `slurm:FILE` -> ClusterSpec."""
    text = text.strip()
    mode, sep, rest = text.partition(":")
    if mode == "local":
        if not sep:
            return ClusterSpec("local")
        if not rest.isdigit() or int(rest) < 1:
            raise UserError(f"expected local:N with N >= 1, got {text!r}", field="--cluster")
        return ClusterSpec("local", workers=int(rest))
    if mode == "tcp" and rest.startswith("//"):
        host, colon, port = rest[2:].rpartition(":")
        if not host or not colon or not port.isdigit():
            raise UserError(f"expected tcp://HOST:PORT, got {text!r}", field="--cluster")
        return ClusterSpec("tcp", address=text)
    if mode == "slurm":
        return ClusterSpec("slurm", config=Path(rest if sep and rest else DEFAULT_SLURM_CONFIG))
    raise UserError(f"expected local[:N], tcp://HOST:PORT or slurm[:FILE], got {text!r}",
                    field="--cluster")


def local_shape(device: str) -> WorkerShape:
    """One cpu slot per local worker, and one GPU each when the jobs run on CUDA."""
    return WorkerShape(cpu=1.0, gpu=1.0 if device == "cuda" else 0.0)


def make_engine(spec: str | ClusterSpec, *, workers: int = 2, device: str = "cpu",
                retries: int = 1, connect_timeout_s: float = 30.0) -> DaskEngine:
    """Start (or connect to) the cluster `spec` names and return an engine on it; close the
    engine (or use it in a `with` block) to stop what it started."""
    spec = parse_cluster(spec) if isinstance(spec, str) else spec
    try:
        from distributed import Client, LocalCluster
    except ImportError:
        raise UserError("--cluster needs Dask distributed: pip install 'vposebench[cluster]'",
                        field="--cluster") from None
    if spec.mode == "local":
        from .gpu_pinning import PinGPU, cuda_device_count

        count = spec.workers or workers
        shape = local_shape(device)
        cluster = LocalCluster(n_workers=count, threads_per_worker=1, processes=True,
                               resources=shape.resources(), dashboard_address=LOCAL_HTTP,
                               silence_logs=logging.ERROR)
        client = Client(cluster)
        if shape.gpu:
            client.register_plugin(PinGPU(cuda_device_count()), name="vposebench-pin-gpu")
        return DaskEngine(client, shape, retries=retries, quiet=True, closers=[cluster, client])
    if spec.mode == "tcp":
        try:
            client = Client(spec.address, timeout=connect_timeout_s)
        except OSError as exc:
            raise UserError(f"cannot reach the scheduler at {spec.address} ({exc})",
                            field="--cluster") from None
        try:
            client.wait_for_workers(1, timeout=WORKER_TIMEOUT_S)
            shape = WorkerShape.of_workers(client.scheduler_info()["workers"])
        except BaseException:
            client.close()
            raise
        return DaskEngine(client, shape, retries=retries, quiet=True, closers=[client])
    try:
        from dask_jobqueue import SLURMCluster
    except ImportError:
        raise UserError("--cluster slurm needs dask-jobqueue: pip install 'vposebench[cluster]'",
                        field="--cluster") from None
    settings = load_slurm_config(spec.config)
    cluster = SLURMCluster(**settings.cluster_options(),
                           scheduler_options={"dashboard_address": ":0"})
    cluster.scale(jobs=settings.jobs)
    client = Client(cluster)
    return DaskEngine(client, WorkerShape(cpu=float(settings.cores), gpu=float(settings.gpus)),
                      retries=retries, quiet=settings.quiet_timing, closers=[cluster, client])
