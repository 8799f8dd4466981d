"""Methods that feed one temporal input per joint into the first heatmap stage (`tfc`, `refine`).

The network is split at the intermediate feature I (same size as the heatmaps: the CPM
feature extractor output, or SimpleBaseline's last deconv output), and Stage 1 takes P extra
maps (new filters N(0, 0.01)). Online, each track keeps what the next frame needs; a track's
first frame gets zero maps. Training uses (reference, current) pairs of one track: the
reference is one of the `reference_window` temporally closest labelled frames, and a sample's
extra maps are zeroed with probability `zero_prob`. The reference's heatmaps are its ground
truth (`temporal_source=gt`, the TFC paper's protocol) or the model's own prediction on the
reference crop (`pred`: eval mode, no gradient, zero temporal input, as for a track's first
frame at test time).
"""

from __future__ import annotations

import abc
import copy
import dataclasses
from collections.abc import Iterable
from typing import Any

import numpy as np
import torch

from vposebench.config import choice
from vposebench.errors import UserError
from vposebench.interface import ClipBatch, ClipSpec, FrameInput, TrackStateAccess
from vposebench.skeleton import Skeleton

from .backbones import PoseNetwork, build_network
from .config import PoseConfig
from .geometry import normalise
from .topdown import TopDownMethod, require_backbone

#: backbone -> split point whose map has the heatmaps' size
INTERMEDIATE = {"cpm": "features", "simplebaseline": "deconv"}
#: where a training pair's reference heatmaps come from
TEMPORAL_SOURCES = ("gt", "pred")


@dataclasses.dataclass
class StageOneConfig(PoseConfig):
    """PoseConfig (CPM by default, the TFC paper's network) plus the reference-clip protocol."""

    backbone: str = "cpm"
    #: training: the reference is one of this many temporally closest labelled frames
    reference_window: int = 10
    #: training: probability that a sample's temporal maps are zeroed
    zero_prob: float = 0.2
    #: inference: False gives every frame zero maps (the same weights without temporal input:
    #: the ablation that shows what the temporal input itself adds)
    temporal_input: bool = True
    #: training: the reference frame's heatmaps (the weights of tfc's keypoint features,
    #: refine's input) are its ground truth ("gt") or the model's own prediction ("pred")
    temporal_source: str = "gt"

    def validate(self) -> None:
        super().validate()
        choice(self.temporal_source, TEMPORAL_SOURCES, "temporal_source")
        if self.reference_window < 1:
            raise UserError("must be >= 1", field="reference_window")
        if not 0 <= self.zero_prob <= 1:
            raise UserError("must be in [0, 1]", field="zero_prob")


class StageOneMethod(TopDownMethod, TrackStateAccess):
    """Shared machinery of `tfc` and `refine`; subclasses say what the extra maps are."""

    config_class = StageOneConfig
    past_frames = 1
    config: StageOneConfig

    def __init__(self, skeleton: Skeleton, config: StageOneConfig | None = None, **overrides: Any) -> None:
        super().__init__(skeleton, config, **overrides)
        #: track id -> what the next frame of that track needs (a tuple of tensors/arrays)
        self.tracks: dict[int, tuple] = {}

    def build_network(self) -> PoseNetwork:
        require_backbone(self.config, tuple(INTERMEDIATE), self.name)
        joints = self.skeleton.num_joints
        return build_network(self.config, joints, split=INTERMEDIATE[self.config.backbone],
                             extra_channels=joints, real_joints=int(self.real_joints.sum()))

    # -- state ----------------------------------------------------------------------------
    def reset(self) -> None:
        super().reset()
        self.tracks.clear()

    def end_tracks(self, track_ids: Iterable[int]) -> None:
        super().end_tracks(track_ids)
        for t in track_ids:
            self.tracks.pop(int(t), None)

    def state_bytes(self) -> int:
        return super().state_bytes() + sum(
            t.numel() * t.element_size() if isinstance(t, torch.Tensor) else t.nbytes
            for state in self.tracks.values() for t in state if t is not None)

    def export_track_state(self, track_id: int) -> tuple | None:
        """A copy of what the track's next frame needs."""
        state = self.tracks.get(int(track_id))
        if state is None:
            return None
        return tuple(t.clone() if isinstance(t, torch.Tensor) else copy.deepcopy(t) for t in state)

    def import_track_state(self, track_id: int, state: tuple | None) -> None:
        if state is None:
            self.tracks.pop(int(track_id), None)
        else:
            self.tracks[int(track_id)] = state

    # -- what subclasses define -------------------------------------------------------------
    @abc.abstractmethod
    def temporal_maps(self, features: torch.Tensor, states: list[tuple], matrices: np.ndarray) -> torch.Tensor:
        """(P, J, h, w) extra maps for the current frame from each track's state (tracks with
        a previous frame only: the caller gives first frames zeros)."""

    @abc.abstractmethod
    def next_state(self, features: torch.Tensor, heatmaps: torch.Tensor, matrices: np.ndarray) -> list[tuple]:
        """What each person's track keeps for its next frame (a tuple of tensors/arrays)."""

    @abc.abstractmethod
    def training_maps(self, reference: torch.Tensor, current: torch.Tensor,
                      reference_heatmaps: torch.Tensor, batch: ClipBatch) -> torch.Tensor:
        """(B, J, h, w) extra maps of a training pair, from the reference frame's features and
        heatmaps (batch frame 0: ground truth or predicted) and the current frame's features."""

    # -- inference ------------------------------------------------------------------------
    def infer(self, x: torch.Tensor, frame: FrameInput, matrices: np.ndarray) -> torch.Tensor:
        features, skips = self.net.encode(x)
        ids = [int(t) for t in frame.track_ids]
        known = [i for i, t in enumerate(ids) if t in self.tracks] if self.config.temporal_input else []
        n, _, h, w = features.shape
        extra = features.new_zeros(n, self.skeleton.num_joints, h, w)  # first frames: zeros
        if known:
            extra[known] = self.temporal_maps(features[known], [self.tracks[ids[i]] for i in known],
                                              matrices[known])
        heatmaps = self.net.decode(features, skips, extra)[-1]
        for t, state in zip(ids, self.next_state(features, heatmaps, matrices)):
            self.tracks[t] = state
        return heatmaps

    # -- training -------------------------------------------------------------------------
    def clip_spec(self) -> ClipSpec:
        return ClipSpec(mode="reference", length=2, window=self.config.reference_window,
                        zero_prob=self.config.zero_prob)

    def predicted_heatmaps(self, crops: torch.Tensor) -> torch.Tensor:
        """The network's heatmaps for normalised crops as at test time on a track's first frame:
        eval mode (BatchNorm statistics untouched), zero temporal input, no gradient."""
        was_training = self.net.training
        self.net.eval()
        try:
            with torch.no_grad():
                return self.net(crops)
        finally:
            self.net.train(was_training)

    def reference_heatmaps(self, crops: torch.Tensor, batch: ClipBatch) -> torch.Tensor:
        """(B, J, h, w) heatmaps of the pairs' reference frames (`temporal_source`)."""
        if self.config.temporal_source == "pred":
            return self.predicted_heatmaps(crops)
        return batch.targets[:, 0]

    def loss(self, batch: ClipBatch) -> torch.Tensor:
        """Loss on the current frame (1) with extra maps from the reference frame (0)."""
        self.check_batch(batch)
        b = batch.batch_size
        crops = normalise(batch.images.flatten(0, 1))
        features, skips = self.net.encode(crops)
        pairs = features.view(b, 2, *features.shape[1:])
        reference = self.reference_heatmaps(crops.view(b, 2, *crops.shape[1:])[:, 0], batch)
        extra = self.training_maps(pairs[:, 0], pairs[:, 1], reference, batch)
        extra = extra * (~batch.zero_temporal).view(-1, 1, 1, 1).to(extra.dtype)
        current = tuple(s.view(b, 2, *s.shape[1:])[:, 1] for s in skips)
        outputs = self.net.decode(pairs[:, 1], current, extra)
        return self.net.loss(outputs, batch.targets[:, 1], batch.target_weight[:, 1])

    def flops_probe(self, x: torch.Tensor) -> None:
        """Steady state: a track that has a previous frame."""
        features, skips = self.net.encode(x)
        w, h = self.config.heatmap_size
        identity = np.repeat(np.eye(2, 3)[None], len(x), axis=0)
        states = self.next_state(features, features.new_zeros(len(x), self.skeleton.num_joints, h, w),
                                 identity)
        extra = self.temporal_maps(features, states, identity)
        heatmaps = self.net.decode(features, skips, extra)[-1]
        self.next_state(features, heatmaps, identity)
