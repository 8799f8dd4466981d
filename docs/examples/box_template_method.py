"""Example method (docs/contributing.md): joints at fixed places in each track's smoothed box.

No network and no training, so the whole method interface fits on one screen: `reset`, `step`
and `describe`, per-track state freed by `end_tracks` and counted by `state_bytes`, and a
settings dataclass (`--set smoothing=0.8`). Each track keeps its box averaged over the frames
so far; the pose is a standing person's template stretched over that box.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable

import numpy as np

from vposebench.config import ConfigBase
from vposebench.errors import UserError
from vposebench.interface import FrameInput, MethodDescription, StepOutput, TemporalPoseMethod
from vposebench.registry import register_method
from vposebench.skeleton import Skeleton

#: (part of a joint name, height of that joint as a fraction of the box), first match wins
HEIGHTS = (("head", 0.05), ("eye", 0.07), ("nose", 0.08), ("ear", 0.08), ("neck", 0.17),
           ("shoulder", 0.2), ("elbow", 0.35), ("belly", 0.4), ("wrist", 0.48), ("hip", 0.52),
           ("knee", 0.72), ("ankle", 0.92))


def template(skeleton: Skeleton) -> np.ndarray:
    """(J, 2) place of each joint in a unit box, from its name: a person facing the camera (their
    left on the image's right); a joint whose name matches no part is NaN (not predicted)."""
    places = np.full((skeleton.num_joints, 2), np.nan)
    for j, joint in enumerate(skeleton.joints):
        height = next((h for part, h in HEIGHTS if part in joint), None)
        if height is not None:
            side = 0.65 if joint.startswith("left") else 0.35 if joint.startswith("right") else 0.5
            places[j] = side, height
    return places


@dataclasses.dataclass
class BoxTemplateConfig(ConfigBase):
    """The method's settings; `vposebench predict --set smoothing=0.8` parses and checks them."""

    #: weight of a track's past boxes in its smoothed box (0: this frame's box alone)
    smoothing: float = 0.5

    def validate(self) -> None:
        if not 0 <= self.smoothing < 1:
            raise UserError(f"must be >= 0 and < 1, got {self.smoothing!r}", field="smoothing")


@register_method("box_template")
class BoxTemplate(TemporalPoseMethod):
    """Example: a standing pose in each track's box, smoothed over time (no model, no training)."""

    config_class = BoxTemplateConfig
    config: BoxTemplateConfig

    def __init__(self, skeleton: Skeleton, config: BoxTemplateConfig | None = None,
                 **overrides: object) -> None:
        super().__init__(skeleton, config, **overrides)
        self.places = template(skeleton)
        self.boxes: dict[int, np.ndarray] = {}  # track id -> smoothed box (x1, y1, x2, y2)

    def reset(self) -> None:
        self.boxes.clear()

    def end_tracks(self, track_ids: Iterable[int]) -> None:
        for track_id in track_ids:
            self.boxes.pop(int(track_id), None)

    def step(self, frame: FrameInput) -> StepOutput:
        self.end_tracks(frame.ended_tracks)
        keypoints = np.full((frame.num_persons, self.skeleton.num_joints, 3), np.nan)
        w = self.config.smoothing
        for p, (box, track_id) in enumerate(zip(frame.boxes, frame.track_ids)):
            past = self.boxes.get(int(track_id))
            smoothed = box if past is None else w * past + (1 - w) * box
            self.boxes[int(track_id)] = smoothed
            size = smoothed[2:] - smoothed[:2]
            keypoints[p, :, :2] = smoothed[:2] + self.places * size
            keypoints[p, :, 2] = np.where(np.isnan(self.places[:, 0]), np.nan, 0.5)
        return StepOutput(keypoints)

    def state_bytes(self) -> int:
        return sum(box.nbytes for box in self.boxes.values())

    def describe(self) -> MethodDescription:
        return MethodDescription(name=self.name, config=self.settings(), online=True,
                                 past_frames=None, state_per_track="smoothed box (4 floats)",
                                 parameters=0, flops_per_person=None,
                                 state_bytes=self.state_bytes(), runtime="numpy")
