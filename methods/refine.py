"""`refine`: inter-frame heatmap refinement (the TFC paper's comparison).

The same network and protocol as `tfc`, but Stage 1 gets the previous frame's heatmaps of the
track (in training: a reference frame's ground-truth heatmaps). Crops move with the boxes, so
by default the previous heatmaps are resampled from the previous crop into the current one
(`align_previous`).
"""

from __future__ import annotations

import dataclasses

import numpy as np
import torch

from vposebench.interface import ClipBatch
from vposebench.registry import register_method

from .geometry import compose, grid_matrices, invert_matrices, warp_maps
from .stage1 import StageOneConfig, StageOneMethod


@dataclasses.dataclass
class RefineConfig(StageOneConfig):
    """StageOneConfig plus how previous heatmaps are placed in the current crop."""

    #: resample the previous heatmaps into the current crop's grid (False: use them as they are)
    align_previous: bool = True


@register_method("refine")
class HeatmapRefinement(StageOneMethod):
    """Inter-frame heatmap refinement: the previous frame's heatmaps fed to Stage 1."""

    config_class = RefineConfig
    state_per_track = "the previous frame's heatmaps (J x h x w) and its crop matrix"
    config: RefineConfig

    def aligned(self, heatmaps: torch.Tensor, previous: np.ndarray, current: np.ndarray) -> torch.Tensor:
        """Heatmaps of crops cut with `previous` matrices, resampled into `current` crops."""
        if not self.config.align_previous:
            return heatmaps
        stride = self.config.heatmap_stride
        src_to_dst = compose(grid_matrices(current, stride), invert_matrices(grid_matrices(previous, stride)))
        return warp_maps(heatmaps, src_to_dst)

    def temporal_maps(self, features: torch.Tensor, states: list[tuple], matrices: np.ndarray) -> torch.Tensor:
        heatmaps = torch.stack([s[0] for s in states])
        previous = np.stack([s[1] for s in states])
        return self.aligned(heatmaps, previous, matrices)

    def next_state(self, features: torch.Tensor, heatmaps: torch.Tensor, matrices: np.ndarray) -> list[tuple]:
        return [(h, m) for h, m in zip(heatmaps, matrices)]

    def training_maps(self, reference: torch.Tensor, current: torch.Tensor, batch: ClipBatch) -> torch.Tensor:
        matrices = batch.crop_matrices.numpy()
        return self.aligned(batch.targets[:, 0], matrices[:, 0], matrices[:, 1])
