"""`ptm`: the pose temporal memory module (Wang et al., ICASSP 2021) on a top-down network.

Each track has a FIFO memory of feature maps taken at the network's split point (C5 by
default, before the SimpleBaseline deconv head; the C5 lateral for CPN). Per frame: read the
memory into the current map (vanilla attention, CoDA, or CoDA only in crowded frames), predict
heatmaps from the result y, then write: keypoint feature replacement and, if the heatmap
quality is high enough, append y (detached) to the memory.

Training runs clips of consecutive frames of one person online (memory built from the earlier
frames of the clip, loss on every frame or on the last `loss_frames`); a clip has capacity + 1
frames by default, so training fills the memory the model is tested with. It usually starts
from a `baseline` checkpoint of the same backbone (`vposebench train --set
init_checkpoint=...`) and trains the memory module only (`train_scope=temporal`, what `auto`
picks) or everything (`train_scope=all`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from typing import Any

import numpy as np
import torch
from torch import nn

from vposebench.config import SIGNED, choice, positive
from vposebench.errors import UserError
from vposebench.interface import ClipBatch, ClipSpec, FrameInput, TrackStateAccess
from vposebench.registry import register_method
from vposebench.skeleton import Skeleton

from .backbones import SPLITS, PoseNetwork, build_network
from .config import PoseConfig
from .geometry import normalise
from .memory import CODA_NORMALISE, VALUE_INIT, MemoryAttention, QualityScore, memory_width
from .memory_store import MemoryStore, TrackState
from .memory_write import WriteActivity, WriteRule, write
from .topdown import TopDownMethod


@dataclasses.dataclass
class PTMConfig(PoseConfig):
    """PoseConfig plus the memory's read and write settings."""

    #: where the memory sits: c5 (paper) or c4 (SimpleBaseline, finer grid for small crops);
    #: None = the backbone's default (c5; CPM: its feature map)
    memory_stage: str | None = None
    #: stored maps per track (the paper sweeps 1, 2, 4, 8, 16)
    capacity: int = 16
    #: attention heads N and embedding width c_bar; None: c_bar = c / 4 (at most 256, at
    #: least 8) and N = 8 or fewer, so that every head has at least 8 dimensions
    #: (`memory.memory_width`); the built method's config holds the values used
    heads: int | None = None
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
    write_threshold: float = dataclasses.field(default=0.5, metadata=SIGNED)  # < 0: write always
    #: apply the write threshold during training too (off: write every training frame)
    train_quality_gate: bool = True
    #: store W_K m and W_V m instead of m (one projection per write instead of `capacity`
    #: per read)
    cache_projections: bool = True
    #: training clip length (consecutive frames of one track); None: capacity + 1, so the
    #: last frame reads a full memory when every earlier frame was written
    clip_length: int | None = None
    #: training: the loss is taken on the last `loss_frames` frames of a clip; the frames
    #: before only fill the memory and run without gradient (None: the loss on every frame)
    loss_frames: int | None = None
    #: False: the memory is never read nor written, so every frame runs as a track's first
    #: frame does (the same weights without temporal input: a fair row beside the memory)
    temporal_input: bool = True

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
        positive(self.capacity, "capacity")
        for name in ("heads", "embed_channels", "loss_frames"):
            if getattr(self, name) is not None:
                positive(getattr(self, name), name)
        if self.clip_length is not None and self.clip_length < 2:
            raise UserError("must be >= 2 (the memory is read from earlier frames of the clip)",
                            field="clip_length")
        if self.loss_frames is not None and self.loss_frames > self.training_clip_length:
            raise UserError(f"must be at most the clip length ({self.training_clip_length})",
                            field="loss_frames")
        if not 0 <= self.kfr_low <= self.kfr_high:
            raise UserError("need 0 <= kfr_low <= kfr_high", field="kfr_low")

    @property
    def training_clip_length(self) -> int:
        """Frames per training clip (`clip_length`, or capacity + 1)."""
        return self.clip_length or self.capacity + 1


@register_method("ptm")
class PoseTemporalMemory(TopDownMethod, TrackStateAccess):
    """Pose temporal memory: per-track FIFO of feature maps read by CoDA/vanilla attention."""

    config_class = PTMConfig
    past_frames = None
    config: PTMConfig

    def __init__(self, skeleton: Skeleton, config: PTMConfig | None = None, **overrides: Any) -> None:
        super().__init__(skeleton, config, **overrides)
        c = self.config
        heads, embed = memory_width(self.net.feature_channels, c.heads, c.embed_channels)
        # the config records what was built: resolved widths and clip length
        self.config = c = dataclasses.replace(c, heads=heads, embed_channels=embed,
                                              clip_length=c.training_clip_length)
        self.memory = MemoryAttention(self.net.feature_channels, heads, embed,
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

    def alpha_parameters(self) -> list[nn.Parameter]:
        return [self.memory.alpha_logit]

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
        super().reset()
        self.store.clear()

    def end_tracks(self, track_ids: Iterable[int]) -> None:
        super().end_tracks(track_ids)
        self.store.drop(track_ids)

    def state_bytes(self) -> int:
        return super().state_bytes() + self.store.nbytes()

    def export_track_state(self, track_id: int) -> TrackState | None:
        """A copy of the track's memory (stored maps and keypoint bank)."""
        return self.store.export_track(track_id)

    def import_track_state(self, track_id: int, state: TrackState | None) -> None:
        self.store.import_track(track_id, state)

    # -- read / write ---------------------------------------------------------------------
    def use_coda(self, num_persons: torch.Tensor) -> torch.Tensor:
        """(B,) persons in each sample's frame -> (B,) bool: read with CoDA."""
        mode = self.config.attention
        if mode == "auto":
            return num_persons > self.config.crowd_threshold
        return torch.full_like(num_persons, mode == "coda", dtype=torch.bool)

    def read(self, x: torch.Tensor, store: MemoryStore, slots: np.ndarray,
             num_persons: torch.Tensor) -> torch.Tensor:
        """y for maps x (B, C, H, W) from the memories in `slots` of `store`."""
        keys, values, valid = self.memory.gather(store, slots, x)
        return self.memory(x, keys, values, valid, self.use_coda(num_persons.to(x.device)))

    def write(self, store: MemoryStore, slots: np.ndarray, y: torch.Tensor, heatmaps: torch.Tensor,
              crop_matrices: np.ndarray, gate: bool = True) -> WriteActivity:
        project = self.memory.project if self.config.cache_projections else None
        return write(store, slots, y.detach(), self.quality(heatmaps), heatmaps, crop_matrices,
                     self.net.heatmap_stride, self.net.feature_stride, self.real_joints, self.rule,
                     gate=gate, project=project)

    # -- inference ------------------------------------------------------------------------
    def infer(self, x: torch.Tensor, frame: FrameInput, matrices: np.ndarray) -> torch.Tensor:
        main, skips = self.net.encode(x)
        if not self.config.temporal_input:  # an empty memory reads as x: nothing to store
            return self.net.decode(main, skips)[-1]
        slots = self.store.slots_for(frame.track_ids)
        crowd = torch.full((len(x),), frame.num_persons, dtype=torch.int64)
        y = self.read(main, self.store, slots, crowd)
        heatmaps = self.net.decode(y, skips)[-1]
        self.activity.add(self.write(self.store, slots, y, heatmaps, matrices))
        return heatmaps

    # -- training -------------------------------------------------------------------------
    def clip_spec(self) -> ClipSpec:
        return ClipSpec(mode="consecutive", length=self.config.training_clip_length)

    def loss(self, batch: ClipBatch) -> torch.Tensor:
        """Run each clip online (memory from its earlier frames); the loss on its last
        `loss_frames` frames (all by default). Earlier frames only fill the memory: they run
        without gradient, as every write is detached anyway."""
        self.check_batch(batch)
        b, k = batch.batch_size, batch.length
        warm = k - (self.config.loss_frames or k)
        images = normalise(batch.images.flatten(0, 1)).view(b, k, 3, *batch.images.shape[2:4])
        store = MemoryStore(self.config.capacity)
        matrices = batch.crop_matrices.numpy()
        if warm:
            with torch.no_grad():
                self._run_frames(images[:, :warm], batch, store, matrices, 0)
        total = self._run_frames(images[:, warm:], batch, store, matrices, warm)
        return total / (k - warm)

    def _run_frames(self, images: torch.Tensor, batch: ClipBatch, store: MemoryStore,
                    matrices: np.ndarray, start: int) -> torch.Tensor:
        """Frames start.. of the clips in order (read, decode, write); the summed loss."""
        b, k = images.shape[:2]
        slots = store.slots_for(range(b))
        main, skips = self.net.encode(images.flatten(0, 1))

        def frame(t: torch.Tensor, i: int) -> torch.Tensor:
            return t.view(b, k, *t.shape[1:])[:, i]

        total = main.new_zeros(())
        for i in range(k):
            t = start + i
            y = self.read(frame(main, i), store, slots, batch.num_persons[:, t]) \
                if self.config.temporal_input else frame(main, i)
            outputs = self.net.decode(y, tuple(frame(s, i) for s in skips))
            total = total + self.net.loss(outputs, batch.targets[:, t], batch.target_weight[:, t])
            if t < batch.length - 1:
                self.write(store, slots, y, outputs[-1], matrices[:, t],
                           gate=self.config.train_quality_gate)
        return total

    # -- description ----------------------------------------------------------------------
    def flops_probe(self, x: torch.Tensor) -> None:
        """Steady state: read a full memory of `capacity` entries, decode, score the quality
        (and project the written map when projections are cached)."""
        main, skips = self.net.encode(x)
        _, c, h, w = main.shape
        heads = self.memory.heads
        entry = ((main.new_zeros(1, heads, h * w, self.memory.embed // heads),
                  main.new_zeros(1, heads, h * w, c // heads))
                 if self.config.cache_projections else (torch.zeros_like(main),))
        store = MemoryStore(self.config.capacity)
        slots = store.slots_for([0])
        for _ in range(self.config.capacity):
            store.append(slots, entry)
        crowded = int(self.config.attention == "coda")
        y = self.read(main, store, slots, torch.tensor([self.config.crowd_threshold + crowded]))
        self.quality(self.net.decode(y, skips)[-1])
        if self.config.cache_projections:
            self.memory.project(y)
