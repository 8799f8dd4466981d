"""`blazepose`: mediapipe's pretrained BlazePose GHUM (33 landmarks) on each person box.

Top-down on the runner's boxes: each box becomes a square crop (its larger side times
`box_padding`, centred on the box) of `crop_size` pixels, which mediapipe's Pose solution
processes as a still image (its person detector, then the landmark model); the landmarks come
back through the inverse crop warp and are mapped to the skeleton's joints
(`blazepose_joints`). No training and no checkpoint; nothing is kept between frames.

Needs the optional extra (``pip install 'vposebench[mediapipe]'``: mediapipe 0.10.21, which
needs numpy < 2 and protobuf < 5). Only the "full" landmark model (model_complexity=1) ships
in the wheel; 0 (lite) and 2 (heavy) need their .tflite files beside it (mediapipe would
download them, which fails offline). TFLite's XNNPACK thread count is pinned (`threads`) and
recorded.
"""

from __future__ import annotations

import dataclasses
import importlib.metadata
from pathlib import Path
from typing import Any

import numpy as np

from vposebench.config import ConfigBase, choice, positive
from vposebench.errors import UserError
from vposebench.interface import FrameInput, MethodDescription, StepOutput, TemporalPoseMethod
from vposebench.registry import register_method
from vposebench.skeleton import Skeleton

from .blazepose_joints import LANDMARKS, joint_weights, landmarks_to_joints
from .geometry import apply_matrices, box_matrices, invert_matrices, warp_crops

#: model_complexity -> landmark model file in mediapipe/modules/pose_landmark/
MODEL_FILES = {0: "pose_landmark_lite.tflite", 1: "pose_landmark_full.tflite",
               2: "pose_landmark_heavy.tflite"}
MEDIAPIPE_PIN = "0.10.21"
INSTALL_HINT = ("install the extra: pip install 'vposebench[mediapipe]' (mediapipe==0.10.21, "
                "numpy<2, protobuf<5; see docs/methods.md)")


@dataclasses.dataclass
class BlazePoseConfig(ConfigBase):
    """BlazePose's settings (defaults: the bundled full model on 2x padded square crops)."""

    #: landmark model: 0 lite, 1 full (bundled), 2 heavy
    model_complexity: int = 1
    #: square crop side = larger box side x box_padding
    box_padding: float = 2.0
    #: crop side in pixels handed to mediapipe
    crop_size: int = 256
    #: mediapipe's person-detector score threshold inside the crop
    min_detection_confidence: float = 0.5
    #: pixels outside the box enlarged by this factor are greyed (keeps neighbours in crowds
    #: from being found instead); 0: the whole crop is kept
    outside_grey: float = 1.3
    #: TFLite XNNPACK threads of both models
    threads: int = 1

    def validate(self) -> None:
        choice(self.model_complexity, tuple(MODEL_FILES), "model_complexity")
        for name in ("box_padding", "crop_size", "threads"):
            positive(getattr(self, name), name)
        if not 0 <= self.min_detection_confidence <= 1:
            raise UserError(f"must be in [0, 1], got {self.min_detection_confidence}",
                            field="min_detection_confidence")


def mediapipe_version() -> str | None:
    """The installed mediapipe's version, None when it is not installed."""
    try:
        return importlib.metadata.version("mediapipe")
    except importlib.metadata.PackageNotFoundError:
        return None


def open_pose(config: BlazePoseConfig) -> Any:
    """mediapipe's Pose solution in still-image mode, its inference threads pinned."""
    version = mediapipe_version()
    if version is None:
        raise UserError(f"blazepose needs mediapipe: {INSTALL_HINT}", field="--method")
    try:
        from mediapipe.calculators.tensor import inference_calculator_pb2
        from mediapipe.python.solutions import pose as mp_pose
    except ImportError as exc:  # e.g. numpy 2 under mediapipe 0.10.21
        raise UserError(f"mediapipe {version} does not import ({exc}); {INSTALL_HINT}",
                        field="--method") from None
    model = Path(mp_pose.__file__).parents[2] / "modules/pose_landmark" / MODEL_FILES[config.model_complexity]
    if not model.is_file():
        raise UserError(f"model_complexity={config.model_complexity} needs {model.name} beside "
                        f"the bundled full model in {model.parent} (mediapipe would download it; "
                        "the npm package @mediapipe/pose ships it)", field="model_complexity")
    options = inference_calculator_pb2.InferenceCalculatorOptions.ext

    class PinnedPose(mp_pose.Pose):
        """Pose whose two TFLite inference nodes use `config.threads` XNNPACK threads."""

        def _modify_calculator_options(self, graph, params):  # mediapipe's graph hook
            super()._modify_calculator_options(graph, params)
            for node in graph.node:
                if node.calculator.startswith("InferenceCalculator"):
                    node.options.Extensions[options].delegate.xnnpack.num_threads = config.threads

    return PinnedPose(static_image_mode=True, model_complexity=config.model_complexity,
                      smooth_landmarks=False, enable_segmentation=False,
                      min_detection_confidence=config.min_detection_confidence)


def grey_outside(crops: np.ndarray, boxes: np.ndarray, matrices: np.ndarray, factor: float) -> None:
    """Fill each crop with grey outside its box (scaled by `factor` about its centre), in place."""
    corners = np.stack([boxes[:, [0, 1]], boxes[:, [2, 3]]], axis=1)  # (P, 2, 2)
    lo, hi = apply_matrices(corners, matrices).transpose(1, 0, 2)
    centre, half = (lo + hi) / 2, (hi - lo) / 2 * factor
    h, w = crops.shape[1:3]
    ys, xs = np.arange(h)[:, None], np.arange(w)[None, :]
    for crop, (cx, cy), (hx, hy) in zip(crops, centre, half):
        outside = (np.abs(xs - cx) > hx) | (np.abs(ys - cy) > hy)
        crop[outside] = 128


@register_method("blazepose")
class BlazePose(TemporalPoseMethod):
    """BlazePose GHUM full (mediapipe, pretrained) on each person box; needs the [mediapipe] extra."""

    config_class = BlazePoseConfig

    def __init__(self, skeleton: Skeleton, config: BlazePoseConfig | None = None,
                 **overrides: Any) -> None:
        super().__init__(skeleton, config, **overrides)
        self.config: BlazePoseConfig
        self.weights = joint_weights(skeleton)
        self.pose = open_pose(self.config)

    def reset(self) -> None:
        """Nothing is kept between frames."""

    def landmarks(self, frame: FrameInput) -> np.ndarray:
        """(P, 33, 3) landmarks in image pixels with their visibility (NaN: no pose found)."""
        size = (self.config.crop_size, self.config.crop_size)
        boxes = np.asarray(frame.boxes, dtype=np.float64).reshape(-1, 4)
        matrices = box_matrices(boxes, size, self.config.box_padding)
        crops = warp_crops(np.ascontiguousarray(frame.image), matrices, size)
        if self.config.outside_grey > 0:
            grey_outside(crops, boxes, matrices, self.config.outside_grey)
        out = np.full((len(boxes), len(LANDMARKS), 3), np.nan)
        for i, crop in enumerate(crops):
            found = self.pose.process(crop).pose_landmarks
            if found is not None:
                # normalised image coordinates (0 and 1 are the crop's edges) -> pixel centres
                out[i] = [(p.x * size[0] - 0.5, p.y * size[1] - 0.5, p.visibility)
                          for p in found.landmark]
        if len(boxes):
            out[:, :, :2] = apply_matrices(out[:, :, :2], invert_matrices(matrices))
        return out

    def step(self, frame: FrameInput) -> StepOutput:
        """Landmarks of every person box, mapped to the skeleton's joints."""
        return StepOutput(landmarks_to_joints(self.landmarks(frame), self.weights))

    def describe(self) -> MethodDescription:
        version = mediapipe_version()
        model = MODEL_FILES[self.config.model_complexity].removesuffix(".tflite")
        return MethodDescription(
            name=self.name, config=self.settings(),
            backbone=f"BlazePose GHUM ({model}) + pose detector",
            input_size=(256, 256),  # the landmark model's input; crops are resized to it
            heatmap_size=None, online=True, past_frames=0, state_per_track="nothing",
            parameters=None, flops_per_person=None, state_bytes=0, device="cpu",
            runtime=f"mediapipe {version} (TFLite, XNNPACK)", threads=self.config.threads,
        )
