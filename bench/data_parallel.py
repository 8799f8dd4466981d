"""Data-parallel training: one model over N processes with torch.distributed.

The ranks come from torchrun's environment variables (RANK, WORLD_SIZE, LOCAL_RANK; the
process group reads MASTER_ADDR and MASTER_PORT), so `torchrun --nproc_per_node N -m
vposebench train ...` works as is; `launch` starts N local processes the way torchrun does
(torch's elastic launcher, the library behind torchrun) for `vposebench train --nproc N`.
Backends: nccl on CUDA (rank r uses GPU LOCAL_RANK), gloo on the CPU.

Each rank trains on its share of the global batch (`shard`), `bench.training` wraps the
method's loss in DistributedDataParallel, which averages the gradients, and BatchNorm
layers become synchronised ones (`sync_batchnorm`), so N processes compute the same step as
one process on the whole batch, up to the order of float sums.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import signal
import tempfile
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import torch
import torch.distributed as dist

from .errors import UserError

#: torchrun's variables (MASTER_ADDR and MASTER_PORT are read by torch.distributed itself)
RANK_VARIABLES = ("RANK", "WORLD_SIZE", "LOCAL_RANK")


@dataclasses.dataclass(frozen=True)
class Ranks:
    """Where this process sits among the training processes."""

    rank: int
    world_size: int
    local_rank: int

    @property
    def is_main(self) -> bool:
        """Rank 0 writes checkpoints and reports progress."""
        return self.rank == 0


def environment_ranks() -> Ranks | None:
    """The ranks torchrun (or `launch`) set, or None when this process runs alone."""
    if "WORLD_SIZE" not in os.environ:
        return None
    values = {}
    for name in RANK_VARIABLES:
        text = os.environ.get(name, "0" if name == "LOCAL_RANK" else "")
        if not text.isdigit():
            raise UserError(f"expected a number >= 0, got {text!r}", field=name)
        values[name] = int(text)
    ranks = Ranks(values["RANK"], values["WORLD_SIZE"], values["LOCAL_RANK"])
    if ranks.world_size < 1 or ranks.rank >= ranks.world_size:
        raise UserError(f"RANK {ranks.rank} is not below WORLD_SIZE {ranks.world_size}",
                        field="RANK")
    if ranks.world_size > 1:
        missing = [v for v in ("MASTER_ADDR", "MASTER_PORT") if v not in os.environ]
        if missing:
            raise UserError("torch.distributed needs it set (torchrun sets it)", field=missing[0])
    return ranks if ranks.world_size > 1 else None


def current_ranks() -> Ranks | None:
    """The ranks of the initialised process group, or None outside one (or with one rank)."""
    if not (dist.is_available() and dist.is_initialized()) or dist.get_world_size() == 1:
        return None
    local = int(os.environ.get("LOCAL_RANK", "0"))
    return Ranks(dist.get_rank(), dist.get_world_size(), local)


def rank_device(device: str, ranks: Ranks) -> str:
    """The device a rank trains on: its own GPU (LOCAL_RANK) on CUDA."""
    return f"cuda:{ranks.local_rank}" if device == "cuda" else device


@contextlib.contextmanager
def process_group(ranks: Ranks | None, device: str) -> Iterator[str]:
    """Join the process group for `ranks` (nothing without ranks); yield this rank's device."""
    if ranks is None:
        yield device
        return
    backend = "nccl" if device == "cuda" else "gloo"
    if device == "cuda":
        if torch.cuda.device_count() <= ranks.local_rank:
            raise UserError(f"LOCAL_RANK {ranks.local_rank} has no GPU (torch sees "
                            f"{torch.cuda.device_count()})", field="--nproc")
        torch.cuda.set_device(ranks.local_rank)
    dist.init_process_group(backend, rank=ranks.rank, world_size=ranks.world_size)
    try:
        yield rank_device(device, ranks)
    finally:
        dist.destroy_process_group()


def shard(batch_size: int, ranks: Ranks | None) -> range:
    """The slots of the global batch this rank draws (all of them without ranks)."""
    if ranks is None:
        return range(batch_size)
    if batch_size % ranks.world_size:
        raise UserError(f"the batch of {batch_size} does not split into {ranks.world_size} "
                        "equal shares", field="batch_size")
    share = batch_size // ranks.world_size
    return range(ranks.rank * share, (ranks.rank + 1) * share)


def all_reduce_sum(values: list[float], device: str | torch.device) -> list[float]:
    """Elementwise sum of `values` over the ranks (the values themselves without a group)."""
    if current_ranks() is None:
        return list(values)
    tensor = torch.tensor(values, dtype=torch.float64, device=device)
    dist.all_reduce(tensor)
    return tensor.tolist()


def barrier() -> None:
    """Wait for every rank (nothing outside a process group)."""
    if current_ranks() is not None:
        dist.barrier()


def launch(nproc: int, fn: Callable[..., Any], *args: Any) -> dict[int, Any]:
    """Run `fn(*args)` in `nproc` local processes with torchrun's environment; return rank ->
    what it returned. One failing process stops the others (torch's elastic launcher). `fn`
    must return, not raise KeyboardInterrupt: the launcher would wait for its value forever."""
    from torch.distributed.elastic.multiprocessing import DefaultLogsSpecs
    from torch.distributed.elastic.multiprocessing.api import SignalException
    from torch.distributed.launcher.api import LaunchConfig, elastic_launch

    with tempfile.TemporaryDirectory(prefix="vposebench-launch-") as logs:  # its error files
        config = LaunchConfig(min_nodes=1, max_nodes=1, nproc_per_node=nproc,
                              rdzv_backend="c10d", rdzv_endpoint="localhost:0",
                              run_id=uuid.uuid4().hex, max_restarts=0, monitor_interval=0.1,
                              start_method="spawn", logs_specs=DefaultLogsSpecs(log_dir=logs))
        try:
            return elastic_launch(config, fn)(*args)
        except SignalException as exc:  # Ctrl-C (or a kill) reached the launcher itself
            if exc.sigval == signal.SIGINT:
                raise KeyboardInterrupt from None
            raise
