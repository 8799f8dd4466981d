"""`TopDownMethod`: what every registered method shares.

Per frame: crop each person box by an affine warp (the crop's aspect, padded), normalise, run
the method's network and temporal parts (`infer`), decode the heatmaps (argmax + quarter-cell
shift) and map them back through the inverse warp. Placeholder joints of the skeleton are
returned as absent (NaN x, y, score). Subclasses add per-track state and their training loss.
"""

from __future__ import annotations

import abc
from collections.abc import Callable, Iterable
from typing import Any, ClassVar

import numpy as np
import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from vposebench.errors import UserError
from vposebench.interface import (
    ClipBatch,
    FrameInput,
    MethodDescription,
    SampleGeometry,
    StepOutput,
    TemporalPoseMethod,
    TrainableMethod,
)
from vposebench.skeleton import Skeleton

from .backbones import PoseNetwork, build_network
from .backbones.resnet import load_imagenet_state, load_strict
from .config import PoseConfig
from .crops import CropWindows
from .decoding import decode_to_image
from .geometry import box_matrices, normalise, warp_crops


class TopDownMethod(TemporalPoseMethod, TrainableMethod):
    """Crop -> network (+ temporal parts) -> heatmaps -> keypoints, for every torch method."""

    config_class: ClassVar[type[PoseConfig]] = PoseConfig
    #: how many past frames a method reads (None: a memory of unbounded age)
    past_frames: ClassVar[int | None] = 0
    #: what it keeps per track, in words
    state_per_track: ClassVar[str] = "nothing"

    def __init__(self, skeleton: Skeleton, config: PoseConfig | None = None, **overrides: Any) -> None:
        super().__init__(skeleton, config, **overrides)
        self.config: PoseConfig
        self.real_joints = np.asarray(skeleton.evaluated)
        self.net: PoseNetwork = self.build_network()
        c = self.config
        #: per-track fixed crops (crop_mode=track_window; unused with per-frame box crops)
        self.windows = CropWindows(c.crop_size, c.crop_padding, c.crop_window)

    # -- construction ---------------------------------------------------------------------
    def build_network(self) -> PoseNetwork:
        """The per-frame network (subclasses choose the split point and extra Stage-1 inputs)."""
        return build_network(self.config, self.skeleton.num_joints,
                             real_joints=int(self.real_joints.sum()))

    def temporal_modules(self) -> list[nn.Module]:
        """The modules a method adds to the per-frame network (trained alone on request)."""
        return []

    def alpha_parameters(self) -> list[nn.Parameter]:
        """Scalar mixing weights among the temporal modules' parameters (ptm's alpha): they
        train at their own rate (`TrainConfig.alpha_lr`)."""
        return []

    def per_frame_network(self) -> nn.Module:
        return self.net

    def sample_geometry(self) -> SampleGeometry:
        c = self.config
        window = c.crop_window if c.crop_mode == "track_window" else 0
        return SampleGeometry(c.crop_size, c.crop_padding, c.heatmap_stride, c.target_sigma, window)

    def load_imagenet_state(self, state: dict[str, torch.Tensor], source: str) -> None:
        """Initialise the ResNet from a torchvision ImageNet state dict."""
        if self.net.resnet is None:
            raise UserError("this network has no ResNet to load ImageNet weights into",
                            field="pretrained")
        load_imagenet_state(self.net.resnet, state, source)

    def load_network_state(self, state: dict[str, torch.Tensor], source: str) -> None:
        """Initialise the network from another checkpoint's network weights.

        Every tensor must match by name and shape, except a Stage-1 conv that this method
        widened for temporal inputs: its original input filters are copied and the added ones
        keep their N(0, 0.01) start (the TFC paper's protocol).
        """
        own = self.net.state_dict()
        merged = {}
        for key, value in state.items():
            mine = own.get(key)
            if (mine is not None and mine.shape != value.shape and mine.dim() == 4
                    and mine.shape[0] == value.shape[0] and mine.shape[2:] == value.shape[2:]
                    and mine.shape[1] > value.shape[1]):
                widened = mine.clone()
                widened[:, : value.shape[1]] = value
                value = widened
            merged[key] = value
        load_strict(self.net, merged, source)

    @property
    def device(self) -> torch.device:
        return next(self.parameters()).device

    # -- inference ------------------------------------------------------------------------
    def reset(self) -> None:
        """Start of a video: drop all per-track state (subclasses extend this)."""
        self.windows.clear()

    def end_tracks(self, track_ids: Iterable[int]) -> None:
        """Free the state of tracks that ended (subclasses extend this)."""
        self.windows.end(track_ids)

    def crop_matrices(self, frame: FrameInput) -> np.ndarray:
        """(P, 2, 3) image -> crop matrices of the frame's persons (`crop_mode`)."""
        boxes = np.asarray(frame.boxes, dtype=np.float64)
        if self.config.crop_mode == "track_window":
            return self.windows.matrices(boxes, frame.track_ids)
        return box_matrices(boxes, self.config.crop_size, self.config.crop_padding)

    def step(self, frame: FrameInput) -> StepOutput:
        """One frame: crop every person, run the network and temporal parts, decode.

        Runs under `torch.no_grad`; call `eval()` first (the runner does) so BatchNorm uses
        its running statistics.
        """
        if frame.ended_tracks:
            self.end_tracks(frame.ended_tracks)
        joints = self.skeleton.num_joints
        if frame.num_persons == 0:
            w, h = self.config.heatmap_size
            return StepOutput(np.zeros((0, joints, 3)), torch.zeros(0, joints, h, w))
        size = self.config.crop_size
        matrices = self.crop_matrices(frame)
        crops = torch.from_numpy(warp_crops(frame.image, matrices, size)).to(self.device)
        with torch.no_grad():
            heatmaps = self.infer(normalise(crops), frame, matrices)
        keypoints = decode_to_image(heatmaps, matrices, self.config.heatmap_stride)
        keypoints[:, ~self.real_joints] = np.nan
        return StepOutput(keypoints, heatmaps)

    @abc.abstractmethod
    def infer(self, x: torch.Tensor, frame: FrameInput, matrices: np.ndarray) -> torch.Tensor:
        """Normalised crops (P, 3, H, W) of the frame's persons -> final heatmaps (P, J, h, w),
        updating per-track state; `matrices` (P, 2, 3) map image pixels to crop pixels."""

    # -- training -------------------------------------------------------------------------
    def network_loss(self, x: torch.Tensor, batch_targets: torch.Tensor, weight: torch.Tensor,
                     extra: torch.Tensor | None = None) -> torch.Tensor:
        """The network's loss on normalised crops (N, 3, H, W) with their targets."""
        main, skips = self.net.encode(x)
        return self.net.loss(self.net.decode(main, skips, extra), batch_targets, weight)

    def check_batch(self, batch: ClipBatch) -> None:
        spec = self.clip_spec()
        if batch.length != spec.length:
            raise ValueError(f"{self.name} trains on clips of {spec.length} frames, got {batch.length}")

    # -- description ----------------------------------------------------------------------
    def state_bytes(self) -> int:
        """Bytes of per-track state (here: the fixed crops; subclasses add their own)."""
        return self.windows.nbytes()

    def flops_probe(self, x: torch.Tensor) -> None:
        """Run what one person costs per frame in steady state (FLOPs are counted around it)."""
        self.net(x)

    def crop_probe(self, batch: int) -> Callable[[], object]:
        """`flops_probe` on `batch` blank normalised crops, without gradients."""
        w, h = self.config.crop_size
        x = torch.zeros(batch, 3, h, w, device=self.device)

        def probe() -> None:
            with torch.no_grad():
                self.flops_probe(x)

        return probe

    def flops_per_person(self) -> int:
        """FLOPs of one person's steady-state frame, counted by torch's FlopCounterMode."""
        probe = self.crop_probe(1)
        was_training = self.training
        self.eval()
        try:
            with FlopCounterMode(display=False) as counter:
                probe()
        finally:
            self.train(was_training)
        return int(counter.get_total_flops())

    def describe(self) -> MethodDescription:
        return MethodDescription(
            name=self.name,
            config=self.config.to_dict(),
            backbone=self.backbone_name(),
            input_size=self.config.crop_size,
            heatmap_size=self.config.heatmap_size,
            online=True,
            past_frames=self.past_frames,
            state_per_track=self.state_per_track,
            parameters=self.parameter_count(),
            flops_per_person=self.flops_per_person(),
            state_bytes=self.state_bytes(),
            oracle=self.oracle,
            device=str(self.device),
            runtime=f"torch {torch.__version__}",
            threads=torch.get_num_threads(),
        )

    def backbone_name(self) -> str:
        c = self.config
        if c.backbone == "cpm":
            trunk = f"ResNet-{c.depth}/w{c.width} stem" if c.cpm_extractor == "resnet" else "VGG-19"
            return f"CPM-{c.cpm_stages} ({trunk})"
        name = {"simplebaseline": "SimpleBaseline", "cpn": "CPN"}[c.backbone]
        return f"{name} ResNet-{c.depth}" + ("" if c.width == 64 else f"/w{c.width}")


def require_backbone(config: PoseConfig, allowed: tuple[str, ...], method: str) -> None:
    """A UserError when a method is asked for a backbone it cannot use."""
    if config.backbone not in allowed:
        raise UserError(f"{method} works with backbone {' or '.join(allowed)}, "
                        f"not {config.backbone!r}", field="backbone")
