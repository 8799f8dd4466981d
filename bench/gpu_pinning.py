"""One GPU per local Dask worker: worker i of a LocalCluster sees only GPU i % count."""

from __future__ import annotations

import os

from distributed.diagnostics.plugin import WorkerPlugin


def cuda_device_count() -> int:
    """GPUs torch sees here (at least 1, so that the modulo below is defined)."""
    import torch

    return max(1, torch.cuda.device_count())


class PinGPU(WorkerPlugin):
    """Sets `CUDA_VISIBLE_DEVICES` when a worker starts (and when its nanny restarts it),
    before any job in it touches CUDA. Worker names of a LocalCluster are 0, 1, ..."""

    def __init__(self, count: int) -> None:
        self.count = count

    def setup(self, worker) -> None:  # noqa: ANN001 - a distributed.Worker
        name = str(worker.name)
        index = int(name) if name.isdigit() else 0
        os.environ["CUDA_VISIBLE_DEVICES"] = str(index % self.count)
