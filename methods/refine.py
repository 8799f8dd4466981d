"""`refine`: inter-frame heatmap refinement (the TFC paper's comparison).

The same network and protocol as `tfc`, but Stage 1 gets the previous frame's heatmaps of the
track (in training: a reference frame's ground-truth or predicted heatmaps, `temporal_source`).
Crops move with the boxes, so by default the previous heatmaps are resampled from the previous
crop into the current one (`align_previous`): each keeps its image position, and the person's
motion since then shows as a displacement. `align_previous=false` feeds them as they are, at
their position in the previous crop.
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
        # no previous crop (a shuffled first frame): the maps are taken as cut in this crop
        previous = np.stack([m if s[1] is None else s[1] for s, m in zip(states, matrices)])
        return self.aligned(heatmaps, previous, matrices)

    def import_track_state(self, track_id: int, state: tuple | None) -> None:
        """Another track's heatmaps, placed by this track's own previous crop (the geometry
        stays the track's; with none yet, in the current crop): the shuffled control swaps
        what the maps say, not where this track's crop was."""
        if state is not None:
            own = self.tracks.get(int(track_id))
            state = (state[0], None if own is None else own[1])
        super().import_track_state(track_id, state)

    def next_state(self, features: torch.Tensor, heatmaps: torch.Tensor, matrices: np.ndarray) -> list[tuple]:
        return [(h, m) for h, m in zip(heatmaps, matrices)]

    def training_maps(self, reference: torch.Tensor, current: torch.Tensor,
                      reference_heatmaps: torch.Tensor, batch: ClipBatch) -> torch.Tensor:
        matrices = batch.crop_matrices.numpy()
        return self.aligned(reference_heatmaps, matrices[:, 0], matrices[:, 1])
