"""`ptm`: the pose temporal memory module (Wang et al., ICASSP 2021) on a top-down network.

Each track has a FIFO memory of feature maps taken at the network's split point (C5 by
default, before the SimpleBaseline deconv head; the C5 lateral for CPN). Per frame: read the
memory into the current map (vanilla attention, CoDA, or CoDA only in crowded frames), predict
heatmaps from the result y, then write: keypoint feature replacement and, if the heatmap
quality is high enough, append y (detached) to the memory.

Training runs clips of consecutive frames of one person online (memory built from the earlier
frames of the clip, loss on every frame); by default it starts from a `baseline` checkpoint of
the same backbone and trains the memory module only (`vposebench train --set
init_checkpoint=...`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from typing import Any

import numpy as np
import torch
from torch import nn

from vposebench.config import choice, positive
from vposebench.errors import UserError
from vposebench.interface import ClipBatch, ClipSpec, FrameInput
from vposebench.registry import register_method
from vposebench.skeleton import Skeleton

from .backbones import SPLITS, PoseNetwork, build_network
from .config import PoseConfig
from .geometry import normalise
from .memory import (
    CODA_NORMALISE,
    VALUE_INIT,
    MemoryAttention,
    MemoryStore,
    QualityScore,
    TrackMemory,
    WriteActivity,
    WriteRule,
    write,
)
from .topdown import TopDownMethod


@dataclasses.dataclass
class PTMConfig(PoseConfig):
    """PoseConfig plus the memory's read and write settings."""

    #: where the memory sits: c5 (paper) or c4 (SimpleBaseline, finer grid for small crops);
    #: None = the backbone's default (c5; CPM: its feature map)
    memory_stage: str | None = None
    #: stored maps per track (the paper sweeps 1, 2, 4, 8, 16)
    capacity: int = 16
    #: attention heads N and embedding width c_bar (None: c / 4, at most 256)
    heads: int = 8
    embed_channels: int | None = None
    #: vanilla | coda | auto (CoDA when a frame has more than `crowd_threshold` persons)
    attention: str = "auto"
    crowd_threshold: int = 8
    #: CoDA's fixed scales of s and d (None: 1 / sqrt(c_bar / N) and 1 / (c_bar / N)), and
    #: whether its weights are summed over the memory as in the paper ("none") or averaged
    #: over the stored cells ("mean")
    coda_sim_scale: float | None = None
    coda_dis_scale: float | None = None
    coda_normalise: str = "none"
    #: W_V's start (the paper is silent): "random" (PyTorch's conv default) or "identity"
    value_init: str = "random"
    #: alpha's start (docs/methods.md: 0.5)
    alpha_init: float = 0.5
    #: keypoint feature replacement and its thresholds (fractions of the quality range)
    kfr: bool = True
    kfr_high: float = 0.9
    kfr_low: float = 0.6
    kfr_cell: str = "saved"
    #: quality blur sigma in heatmap cells (None: the target sigma)
    quality_blur_sigma: float | None = None
    #: append y when the summed joint quality exceeds this times the number of real joints
    write_threshold: float = 0.5
    #: apply the write threshold during training too (off: write every training frame)
    train_quality_gate: bool = True
    #: store W_K m and W_V m instead of m (one projection per write instead of per read)
    cache_projections: bool = False
    #: training clip length (consecutive frames of one track)
    clip_length: int = 4

    def validate(self) -> None:
        super().validate()
        stages = tuple(s for s in SPLITS[self.backbone] if s != "deconv")
        if self.memory_stage is not None:
            choice(self.memory_stage, stages, "memory_stage")
        choice(self.attention, ("vanilla", "coda", "auto"), "attention")
        choice(self.coda_normalise, CODA_NORMALISE, "coda_normalise")
        choice(self.value_init, VALUE_INIT, "value_init")
        if not 0 < self.alpha_init < 1:
            raise UserError(f"must be in (0, 1), got {self.alpha_init}", field="alpha_init")
        choice(self.kfr_cell, ("saved", "predicted"), "kfr_cell")
        for name in ("capacity", "heads"):
            positive(getattr(self, name), name)
        if self.clip_length < 2:
            raise UserError("must be >= 2 (the memory is read from earlier frames of the clip)",
                            field="clip_length")
        if not 0 <= self.kfr_low <= self.kfr_high:
            raise UserError("need 0 <= kfr_low <= kfr_high", field="kfr_low")


@register_method("ptm")
class PoseTemporalMemory(TopDownMethod):
    """Pose temporal memory: per-track FIFO of feature maps read by CoDA/vanilla attention."""

    config_class = PTMConfig
    past_frames = None
    config: PTMConfig

    def __init__(self, skeleton: Skeleton, config: PTMConfig | None = None, **overrides: Any) -> None:
        super().__init__(skeleton, config, **overrides)
        c = self.config
        self.memory = MemoryAttention(self.net.feature_channels, c.heads, c.embed_channels,
                                      c.coda_sim_scale, c.coda_dis_scale, c.coda_normalise,
                                      value_init=c.value_init, alpha_init=c.alpha_init)
        self.quality = QualityScore(c.quality_blur_sigma or c.target_sigma, c.target_sigma,
                                    c.heatmap_size)
        self.rule = WriteRule(c.kfr, c.kfr_high, c.kfr_low, c.kfr_cell, c.write_threshold)
        self.store = MemoryStore(c.capacity)
        #: what inference writes did since the method was built (training writes not counted)
        self.activity = WriteActivity()

    def build_network(self) -> PoseNetwork:
        return build_network(self.config, self.skeleton.num_joints, split=self.config.memory_stage,
                             real_joints=int(self.real_joints.sum()))

    def temporal_modules(self) -> list[nn.Module]:
        return [self.memory]

    @property
    def state_per_track(self) -> str:  # type: ignore[override]
        c, net = self.config, self.net
        fw, fh = self.feature_size
        return (f"a FIFO of up to {c.capacity} feature maps ({net.feature_channels}x{fh}x{fw}, "
                f"stride {net.feature_stride}) and a keypoint feature bank")

    @property
    def feature_size(self) -> tuple[int, int]:
        w, h = self.config.crop_size
        s = self.net.feature_stride
        return -(-w // s), -(-h // s)

    # -- state ----------------------------------------------------------------------------
    def reset(self) -> None:
        self.store.clear()

    def end_tracks(self, track_ids: Iterable[int]) -> None:
        self.store.drop(track_ids)

    def state_bytes(self) -> int:
        return self.store.nbytes()

    # -- read / write ---------------------------------------------------------------------
    def use_coda(self, num_persons: torch.Tensor) -> torch.Tensor:
        """(B,) persons in each sample's frame -> (B,) bool: read with CoDA."""
        mode = self.config.attention
        if mode == "auto":
            return num_persons > self.config.crowd_threshold
        return torch.full_like(num_persons, mode == "coda", dtype=torch.bool)

    def gather(self, memories: list[TrackMemory], like: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Projected memories, zero-padded to the longest: keys, values (B, L, ., H, W) and the
        (B, L) mask of stored entries."""
        b, c, h, w = like.shape
        length = max((len(m.entries) for m in memories), default=0)
        valid = torch.zeros(b, max(length, 1), dtype=torch.bool, device=like.device)
        if length == 0:
            return like.new_zeros(b, 1, self.memory.embed, h, w), like.new_zeros(b, 1, c, h, w), valid
        first = next(m.entries[0] for m in memories if m.entries)
        parts = [like.new_zeros(b, length, *t.shape) for t in first]
        for i, mem in enumerate(memories):
            valid[i, : len(mem.entries)] = True
            for j, entry in enumerate(mem.entries):
                for part, t in zip(parts, entry):
                    part[i, j] = t
        if len(parts) == 2:  # cached (key, value) projections
            return parts[0], parts[1], valid
        keys, values = self.memory.project(parts[0])
        return keys, values, valid

    def read(self, x: torch.Tensor, memories: list[TrackMemory], num_persons: torch.Tensor) -> torch.Tensor:
        keys, values, valid = self.gather(memories, x)
        return self.memory(x, keys, values, valid, self.use_coda(num_persons.to(x.device)))

    def write(self, memories: list[TrackMemory], y: torch.Tensor, heatmaps: torch.Tensor,
              crop_matrices: np.ndarray, gate: bool = True) -> WriteActivity:
        project = self.memory.project if self.config.cache_projections else None
        return write(memories, y.detach(), self.quality(heatmaps), heatmaps, crop_matrices,
                     self.net.heatmap_stride, self.net.feature_stride, self.real_joints, self.rule,
                     gate=gate, project=project)

    # -- inference ------------------------------------------------------------------------
    def infer(self, x: torch.Tensor, frame: FrameInput, matrices: np.ndarray) -> torch.Tensor:
        main, skips = self.net.encode(x)
        memories = [self.store.get(int(t)) for t in frame.track_ids]
        crowd = torch.full((len(x),), frame.num_persons, dtype=torch.int64)
        y = self.read(main, memories, crowd)
        heatmaps = self.net.decode(y, skips)[-1]
        self.activity.add(self.write(memories, y, heatmaps, matrices))
        return heatmaps

    # -- training -------------------------------------------------------------------------
    def clip_spec(self) -> ClipSpec:
        return ClipSpec(mode="consecutive", length=self.config.clip_length)

    def loss(self, batch: ClipBatch) -> torch.Tensor:
        """Run each clip online (memory from its earlier frames), loss on every frame."""
        self.check_batch(batch)
        b, k = batch.batch_size, batch.length
        main, skips = self.net.encode(normalise(batch.images.flatten(0, 1)))

        def frame(t: torch.Tensor, i: int) -> torch.Tensor:
            return t.view(b, k, *t.shape[1:])[:, i]

        store = MemoryStore(self.config.capacity)
        memories = [store.get(i) for i in range(b)]
        matrices = batch.crop_matrices.numpy()
        total = main.new_zeros(())
        for i in range(k):
            y = self.read(frame(main, i), memories, batch.num_persons[:, i])
            outputs = self.net.decode(y, tuple(frame(s, i) for s in skips))
            total = total + self.net.loss(outputs, batch.targets[:, i], batch.target_weight[:, i])
            if i < k - 1:
                self.write(memories, y, outputs[-1], matrices[:, i],
                           gate=self.config.train_quality_gate)
        return total / k

    # -- description ----------------------------------------------------------------------
    def flops_probe(self, x: torch.Tensor) -> None:
        """Steady state: read a full memory of `capacity` entries, decode, score the quality
        (and project the written map when projections are cached)."""
        main, skips = self.net.encode(x)
        cached = self.config.cache_projections
        _, _, h, w = main.shape
        entry = ((main.new_zeros(self.memory.embed, h, w), torch.zeros_like(main[0])) if cached
                 else (torch.zeros_like(main[0]),))
        mem = TrackMemory(self.config.capacity)
        for _ in range(self.config.capacity):
            mem.append(entry)
        crowded = int(self.config.attention == "coda")
        y = self.read(main, [mem], torch.tensor([self.config.crowd_threshold + crowded]))
        self.quality(self.net.decode(y, skips)[-1])
        if cached:
            self.memory.project(y)
