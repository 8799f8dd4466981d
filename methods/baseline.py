"""`baseline`: the per-frame top-down network (SimpleBaseline, CPN or CPM), no temporal input."""

from __future__ import annotations

import numpy as np
import torch

from vposebench.interface import ClipBatch, FrameInput
from vposebench.registry import register_method

from .config import PoseConfig
from .geometry import normalise
from .topdown import TopDownMethod


@register_method("baseline")
class Baseline(TopDownMethod):
    """Per-frame SimpleBaseline / CPN / CPM (backbone=...): no temporal input."""

    config_class = PoseConfig

    def infer(self, x: torch.Tensor, frame: FrameInput, matrices: np.ndarray) -> torch.Tensor:
        return self.net(x)

    def loss(self, batch: ClipBatch) -> torch.Tensor:
        self.check_batch(batch)
        x = normalise(batch.images.flatten(0, 1))
        return self.network_loss(x, batch.targets.flatten(0, 1), batch.target_weight.flatten(0, 1))
