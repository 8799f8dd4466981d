"""`TemporalPoseMethod`: the one interface every method implements.

A method processes a video online, one frame at a time: ``reset()`` at the start of a video,
then ``step(frame)`` for each frame in order; ``describe()`` says what it is. Person boxes
and track ids come in with the frame (from the shared tracker); the method returns
per-person keypoints in image pixels and, if it has them, its heatmaps. The harness reads
nothing else of a method (speed, FLOPs, device and crop size come from ``describe()`` and
the optional ``crop_probe`` hook).

Training is an optional capability (`TrainableMethod`): a trainable method states what clips
it learns from (`ClipSpec`) and its crop geometry; the trainer samples the clips, cuts and
augments the crops and hands the method a `ClipBatch`. `build_method` makes a registered
method with config overrides.

Two more optional capabilities serve the controls (docs/methods.md, "Controls"):
`TrackStateAccess` (per-track temporal state copied out and replaced: the shuffled variants)
and `ControlMethod` (a control fitted from a wrapped per-frame checkpoint without gradient steps).
"""

from __future__ import annotations

import abc
import dataclasses
from collections.abc import Callable, Iterable
from typing import Any, ClassVar

import numpy as np
import torch

from .config import ConfigBase
from .errors import UserError
from .skeleton import Skeleton
from .structures import PersonGT, VideoGT, VideoPred


@dataclasses.dataclass
class FrameInput:
    """What a method sees of one frame."""

    image: np.ndarray  # (H, W, 3) uint8 RGB
    boxes: np.ndarray  # (P, 4) float xyxy person boxes
    track_ids: np.ndarray  # (P,) int64 from the shared tracker
    index: int = 0  # position of the frame in the video
    #: tracks that ended before this frame; a method frees their state
    ended_tracks: tuple[int, ...] = ()
    #: (P,) bool per box: the person is inside a degraded-frame burst (ground truth). Only for
    #: methods that declare `oracle = True`, and only when the boxes come from the ground
    #: truth; None otherwise
    oracle_degraded: np.ndarray | None = None

    @property
    def num_persons(self) -> int:
        return len(self.boxes)


@dataclasses.dataclass
class StepOutput:
    """What a method returns for one frame."""

    keypoints: np.ndarray  # (P, J, 3): x, y, score in image pixels (NaN: not predicted)
    heatmaps: torch.Tensor | None = None  # (P, J, h, w), for methods that make heatmaps


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


@dataclasses.dataclass(frozen=True)
class SampleGeometry:
    """Crop and heatmap geometry of a trainable method's training crops."""

    crop_size: tuple[int, int]
    padding: float
    heatmap_stride: int
    sigma: float
    #: 0: every frame cropped around its own box; > 0: a sample's frames share the crop of an
    #: anchor frame up to window - 1 frames before its earliest frame
    window: int = 0

    @property
    def heatmap_size(self) -> tuple[int, int]:
        return self.crop_size[0] // self.heatmap_stride, self.crop_size[1] // self.heatmap_stride


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
    """What a method declares about itself (reported with every result).

    Figures a method cannot know are None (a model behind another runtime has no FLOP count
    here; a method without heatmaps has no heatmap size); tables print them as "-".
    """

    name: str
    config: dict[str, Any]
    backbone: str | None = None
    input_size: tuple[int, int] | None = None  # (width, height) of the person crop
    heatmap_size: tuple[int, int] | None = None  # (width, height)
    online: bool = True
    past_frames: int | None = 0  # how many past frames it reads (None: unbounded memory)
    state_per_track: str = "nothing"  # what it keeps per track, in words
    parameters: int | None = None
    flops_per_person: int | None = None
    state_bytes: int | None = 0
    #: where it runs, as `torch.device` spells it ("cpu", "cuda", "cuda:1")
    device: str = "cpu"
    #: what runs it, with versions (e.g. "torch 2.13.0", "onnxruntime 1.22.0")
    runtime: str = "torch"
    #: CPU threads its runtime uses (torch's, onnxruntime's intra-op, TFLite's); None: unknown
    threads: int | None = None
    #: it reads ground-truth flags (an upper bound, not a method): tables mark it "(oracle)"
    oracle: bool = False


class TemporalPoseMethod(torch.nn.Module, abc.ABC):
    """Base class of the registered methods (see docs/methods.md, "The method interface").

    A method implements `reset`, `step` and `describe`; everything else has a default. It is
    a `torch.nn.Module` so that torch methods get devices, train/eval modes and state dicts
    for free; a method behind another runtime (mediapipe, onnxruntime) is a module with no
    parameters and an empty state dict. Training is an optional capability
    (`TrainableMethod`).
    """

    #: registered name, set by ``@register_method``
    name: ClassVar[str] = ""
    #: True for an oracle that reads ground-truth flags (`FrameInput.oracle_degraded`); the
    #: runner hands the flags to such methods only
    oracle: ClassVar[bool] = False
    #: the config dataclass of its settings (`--set key=value`); None: it takes none
    config_class: ClassVar[type[ConfigBase] | None] = None

    def __init__(self, skeleton: Skeleton, config: ConfigBase | None = None,
                 **overrides: Any) -> None:
        super().__init__()
        self.skeleton = skeleton
        if config is not None and overrides:
            raise TypeError("give either a config or overrides, not both")
        if self.config_class is None:
            if config is not None or overrides:
                raise UserError(f"method {self.name!r} takes no settings (got "
                                f"{', '.join(sorted(overrides)) or 'a config'})", field="--set")
            self.config = None
        else:
            self.config = config if config is not None else self.config_class.build(overrides)

    @abc.abstractmethod
    def reset(self) -> None:
        """Start of a video: drop all state."""

    @abc.abstractmethod
    def step(self, frame: FrameInput) -> StepOutput:
        """Process one frame (persons of the frame as one batch), updating per-track state."""

    @abc.abstractmethod
    def describe(self) -> MethodDescription:
        """Config, sizes, parameters, FLOPs per person, state, device and runtime."""

    def settings(self) -> dict[str, Any]:
        """The config values that rebuild this method with `build_method` (plain values)."""
        return {} if self.config is None else self.config.to_dict()

    def end_tracks(self, track_ids: Iterable[int]) -> None:
        """Free the state kept for tracks that ended (default: nothing is kept)."""

    def state_bytes(self) -> int:
        """Bytes held by the method's own state, computed from tensor sizes."""
        return 0

    def parameter_count(self) -> int:
        return sum(p.numel() for p in self.parameters())

    def crop_probe(self, batch: int) -> Callable[[], object] | None:
        """A function that runs the steady-state per-person work of `batch` persons once, on
        blank crops (the speed pass's offline crops/s); None when the method has no such path."""
        return None


class TrainableMethod(abc.ABC):
    """Optional capability: a method the suite's trainer can train (`vposebench train`).

    Mix it into a `TemporalPoseMethod`. The trainer samples the clips `clip_spec()` asks for,
    cuts and augments crops with `sample_geometry()`, and optimises `loss()` over the
    module's parameters. The hooks below serve `TrainConfig`'s `pretrained`,
    `init_checkpoint` and `train_scope=temporal`; their defaults refuse with a UserError.
    """

    @abc.abstractmethod
    def loss(self, batch: ClipBatch) -> torch.Tensor:
        """Training loss on a batch of clips of tracked persons."""

    @abc.abstractmethod
    def sample_geometry(self) -> SampleGeometry:
        """Crop size, box padding, heatmap stride and target sigma of its training crops."""

    def clip_spec(self) -> ClipSpec:
        """What training clips this method learns from (default: single frames)."""
        return ClipSpec()

    def temporal_modules(self) -> list[torch.nn.Module]:
        """The modules it adds to a per-frame network (trained alone on request)."""
        return []

    def per_frame_network(self) -> torch.nn.Module | None:
        """The per-frame network that `train_scope=temporal` freezes (None: there is none)."""
        return None

    def load_network_state(self, state: dict[str, torch.Tensor], source: str) -> None:
        """Initialise the network from another checkpoint's network weights."""
        raise UserError(f"{getattr(self, 'name', type(self).__name__)} cannot start from another "
                        "checkpoint's network", field="init_checkpoint")

    def load_imagenet_state(self, state: dict[str, torch.Tensor], source: str) -> None:
        """Initialise its backbone from ImageNet weights."""
        raise UserError(f"{getattr(self, 'name', type(self).__name__)} has no backbone to load "
                        "ImageNet weights into", field="pretrained")


def is_trainable(method: object) -> bool:
    """Whether a method (class or instance) declares the training capability."""
    cls = method if isinstance(method, type) else type(method)
    return issubclass(cls, TrainableMethod)


def method_class(name: str) -> type[TemporalPoseMethod]:
    """The registered method class `name`; a registered object that is not one is a UserError."""
    from .registry import METHODS

    cls = METHODS.get(name)
    if not (isinstance(cls, type) and issubclass(cls, TemporalPoseMethod)):
        raise UserError(f"method {name!r} is registered to {cls!r}, which is not a "
                        "TemporalPoseMethod subclass", field="--method")
    return cls


class TrackStateAccess(abc.ABC):
    """Optional capability of a temporal method: its per-track temporal state can be copied
    out and replaced (the shuffled control, `vposebench.shuffle`, feeds a track the state of
    another video's track).

    The state is whatever the method carries from one frame of a track to the next (a memory,
    previous keypoint features, previous heatmaps, a previous output); its type is the
    method's own business, the harness only passes it from one instance to another of the
    same method and config.
    """

    @abc.abstractmethod
    def export_track_state(self, track_id: int) -> Any | None:
        """An independent copy of the state kept for `track_id` (None: the track has none)."""

    @abc.abstractmethod
    def import_track_state(self, track_id: int, state: Any | None) -> None:
        """Make `state` (from `export_track_state` of an instance with the same config) the
        state of `track_id`, as if this instance had produced it; None drops the track's
        state (its next frame is a first frame)."""


def has_track_state(method: object) -> bool:
    """Whether a method (class or instance) lets its per-track state be exported/imported."""
    cls = method if isinstance(method, type) else type(method)
    return issubclass(cls, TrackStateAccess)


class ControlMethod(abc.ABC):
    """Optional capability: a control that needs no training of its own (hold, oracle-hold,
    prior). It wraps a trained per-frame `baseline` checkpoint and changes only its output
    (`adjust`): `vposebench train --set init_checkpoint=BASE.ckpt` copies that network into
    it (0 gradient steps) and runs `fit`, a statistics pass over the training split
    (`vposebench.fitting`)."""

    @abc.abstractmethod
    def adjust(self, frame: FrameInput, keypoints: np.ndarray) -> np.ndarray:
        """(P, J, 3) output of the control for the frame's persons, given the wrapped
        network's `keypoints` for them (updating per-track state, if it keeps any)."""

    @abc.abstractmethod
    def fit(self, videos: list[VideoGT], predictions: list[VideoPred],
            trains_on: Callable[[PersonGT], np.ndarray]) -> None:
        """Statistics from the training split's ground truth (`videos`, no images) and the
        wrapped model's predictions on `score_videos()` of them; `trains_on` says which joints
        of a person count (the training joint rule)."""

    def score_videos(self) -> int:
        """Training videos whose predictions by the wrapped model `fit` needs (0: none)."""
        return 0


def is_control(method: object) -> bool:
    """Whether a method (class or instance) is a control fitted from a wrapped checkpoint."""
    cls = method if isinstance(method, type) else type(method)
    return issubclass(cls, ControlMethod)


def build_method(name: str, skeleton: Skeleton, **overrides: Any) -> TemporalPoseMethod:
    """The registered method `name` for `skeleton`, its config defaults changed by `overrides`
    (values may be strings, as given on the command line)."""
    return method_class(name)(skeleton, **overrides)
