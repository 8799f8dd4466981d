"""`TemporalPoseMethod`: the one interface every method implements.

A method is a ``torch.nn.Module`` that processes a video online, one frame at a time:
``reset()`` at the start of a video, then ``step(frame)`` for each frame in order. Person
boxes and track ids come in with the frame (from the shared tracker); the method returns
per-person keypoints in image pixels and the heatmaps it produced. Methods never read files.

Training: a method states what clips it learns from (`ClipSpec`); the trainer samples them,
cuts and augments the crops and hands the method a `ClipBatch`. `build_method` makes a
registered method with config overrides.
"""

from __future__ import annotations

import abc
import dataclasses
from collections.abc import Iterable
from typing import Any, ClassVar

import numpy as np
import torch

from .skeleton import Skeleton


@dataclasses.dataclass
class FrameInput:
    """What a method sees of one frame."""

    image: np.ndarray  # (H, W, 3) uint8 RGB
    boxes: np.ndarray  # (P, 4) float xyxy person boxes
    track_ids: np.ndarray  # (P,) int64 from the shared tracker
    index: int = 0  # position of the frame in the video
    #: tracks that ended before this frame; a method frees their state
    ended_tracks: tuple[int, ...] = ()

    @property
    def num_persons(self) -> int:
        return len(self.boxes)


@dataclasses.dataclass
class StepOutput:
    """What a method returns for one frame."""

    keypoints: np.ndarray  # (P, J, 3): x, y, score in image pixels
    heatmaps: torch.Tensor  # (P, J, h, w)


@dataclasses.dataclass(frozen=True)
class ClipSpec:
    """The training samples a method learns from."""

    #: "single" (one frame), "consecutive" (`length` consecutive frames of one track) or
    #: "reference" (a reference frame of the same track, then the current frame)
    mode: str = "single"
    length: int = 1
    #: reference mode: the reference is one of the `window` temporally closest labelled frames
    window: int = 10
    #: reference mode: probability that a sample's temporal input is zeroed
    zero_prob: float = 0.0


@dataclasses.dataclass
class ClipBatch:
    """B clips of K frames of one tracked person each, cut and augmented by the trainer.

    In "reference" clips frame 0 is the reference and frame 1 the current frame.
    """

    images: torch.Tensor  # (B, K, H, W, 3) uint8 RGB crops
    targets: torch.Tensor  # (B, K, J, h, w) float Gaussian targets
    target_weight: torch.Tensor  # (B, K, J) float, 0 for unannotated joints
    crop_matrices: torch.Tensor  # (B, K, 2, 3) float64 image -> crop pixels
    num_persons: torch.Tensor  # (B, K) int64 annotated persons in that frame (crowdedness)
    zero_temporal: torch.Tensor  # (B,) bool: drop this sample's temporal input

    @property
    def batch_size(self) -> int:
        return self.images.shape[0]

    @property
    def length(self) -> int:
        return self.images.shape[1]

    def to(self, device: torch.device | str) -> ClipBatch:
        """The batch on `device` (matrices stay on the CPU: they feed numpy geometry)."""
        moved = {f.name: getattr(self, f.name).to(device, non_blocking=True)
                 for f in dataclasses.fields(self) if f.name != "crop_matrices"}
        return ClipBatch(crop_matrices=self.crop_matrices, **moved)


@dataclasses.dataclass
class MethodDescription:
    """What every method declares about itself (reported with every result)."""

    name: str
    config: dict[str, Any]
    backbone: str
    input_size: tuple[int, int]  # (width, height) of the person crop
    heatmap_size: tuple[int, int]  # (width, height)
    online: bool
    past_frames: int | None  # how many past frames it reads (None: unbounded memory)
    state_per_track: str  # what it keeps per track, in words
    parameters: int
    flops_per_person: int
    state_bytes: int


class TemporalPoseMethod(torch.nn.Module, abc.ABC):
    """Base class of the registered methods (see docs/methods.md)."""

    #: registered name, set by ``@register_method``
    name: ClassVar[str] = ""

    def __init__(self, skeleton: Skeleton) -> None:
        super().__init__()
        self.skeleton = skeleton

    @abc.abstractmethod
    def reset(self) -> None:
        """Start of a video: drop all state."""

    @abc.abstractmethod
    def step(self, frame: FrameInput) -> StepOutput:
        """Process one frame (persons of the frame as one batch), updating per-track state."""

    @abc.abstractmethod
    def loss(self, batch: ClipBatch) -> torch.Tensor:
        """Training loss on a batch of clips of tracked persons."""

    @abc.abstractmethod
    def describe(self) -> MethodDescription:
        """Config, parameter count, FLOPs per person and bytes of state held."""

    def end_tracks(self, track_ids: Iterable[int]) -> None:
        """Free the state kept for tracks that ended (default: nothing is kept)."""

    def state_bytes(self) -> int:
        """Bytes held by the method's own state, computed from tensor sizes."""
        return 0

    def parameter_count(self) -> int:
        return sum(p.numel() for p in self.parameters())

    def clip_spec(self) -> ClipSpec:
        """What training clips this method learns from (default: single frames)."""
        return ClipSpec()


def build_method(name: str, skeleton: Skeleton, **overrides: Any) -> TemporalPoseMethod:
    """The registered method `name` for `skeleton`, its config defaults changed by `overrides`
    (values may be strings, as given on the command line)."""
    from .registry import METHODS

    return METHODS.get(name)(skeleton, **overrides)
