"""The core data model: ground truth and predictions of videos, frames and persons.

Conventions used everywhere in the suite:
- coordinates are pixels in the original image, as the annotation gives them;
- boxes are ``x1, y1, x2, y2`` floats (``x2 = x + w``, no +1); formats that store ``x, y, w, h``
  are converted at the file boundary;
- keypoints are ``(J, 3)`` float64 arrays in the dataset's own joint order. For ground truth
  the third column is the dataset's visibility/annotation flag ``v`` exactly as stored
  (consumers decide what counts: the PoseTrack metric treats a joint as annotated unless
  ``(x, y, v) == (0, 0, 0)``, PCK counts ``v > 0``). For predictions the columns are
  ``x, y, score``; a joint that was not predicted has ``x = y = NaN``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from .boxes import box_is_valid, keypoint_box
from .errors import UserError
from .skeleton import Skeleton


def _as_box(box: Any) -> np.ndarray | None:
    return None if box is None else np.asarray(box, dtype=np.float64).reshape(4)


@dataclasses.dataclass
class PersonGT:
    """One annotated person in one frame."""

    keypoints: np.ndarray  # (J, 3) x, y, v
    track_id: int = -1
    box: np.ndarray | None = None  # person box, xyxy
    head_box: np.ndarray | None = None  # head box, xyxy (the PCKh normaliser)
    occluded: np.ndarray | None = None  # (J,) bool, per-joint occlusion (synthetic side file)
    #: kind of the degraded-frame burst the person is in ("occluder", "defocus", "exposure"),
    #: None when the person-frame is clean (synthetic degradation side file)
    degradation: str | None = None
    burst_position: int | None = None  # 0-based position of this frame in that burst

    def __post_init__(self) -> None:
        self.keypoints = np.asarray(self.keypoints, dtype=np.float64)
        if self.keypoints.ndim != 2 or self.keypoints.shape[1] != 3:
            raise ValueError(f"keypoints must be (J, 3), got {self.keypoints.shape}")
        self.box = _as_box(self.box)
        self.head_box = _as_box(self.head_box)
        if self.occluded is not None:
            self.occluded = np.asarray(self.occluded, dtype=bool)

    @property
    def annotated(self) -> np.ndarray:
        """(J,) bool: the joint carries an annotation (not the (0, 0, 0) placeholder)."""
        kp = self.keypoints
        return ~((kp[:, 0] == 0) & (kp[:, 1] == 0) & (kp[:, 2] == 0))

    @property
    def visible(self) -> np.ndarray:
        """(J,) bool: v > 0."""
        return self.keypoints[:, 2] > 0

    def crop_box(self, scale: float = 1.3) -> np.ndarray | None:
        """The person box; without a valid one, the annotated keypoints' extent enlarged
        `scale` times (PoseTrack'18's rule for `bbox`); None when neither is usable."""
        if self.box is not None and box_is_valid(self.box):
            return self.box
        box = keypoint_box(self.keypoints, self.annotated, scale)
        return box if box_is_valid(box) else None


@dataclasses.dataclass
class FrameGT:
    """One frame of a video: where its image is and who is annotated in it."""

    index: int  # 0-based position in the video's frame list
    file_name: str  # as written in the annotation (relative to the dataset root)
    persons: list[PersonGT] = dataclasses.field(default_factory=list)
    is_labeled: bool = True
    ignore_regions: list[np.ndarray] = dataclasses.field(default_factory=list)  # (K, 2) polygons
    frame_id: int | None = None  # PoseTrack'18 packed id (a big int)
    image_path: Path | None = None  # resolved path of the frame image, if known
    size: tuple[int, int] | None = None  # (height, width) when the annotation states it

    def load_image(self) -> np.ndarray:
        """Read the frame as an (H, W, 3) uint8 RGB array (loaded on demand, never cached)."""
        import cv2

        if self.image_path is None:
            raise UserError("no image path is known for this frame", field=self.file_name)
        image = cv2.imread(str(self.image_path), cv2.IMREAD_COLOR)
        if image is None:
            raise UserError("cannot read image", path=self.image_path)
        return cv2.cvtColor(image, cv2.COLOR_BGR2RGB)

    def keypoint_array(self, num_joints: int) -> np.ndarray:
        """(P, J, 3) stack of the persons' keypoints."""
        if not self.persons:
            return np.zeros((0, num_joints, 3))
        return np.stack([p.keypoints for p in self.persons])

    def box_array(self) -> np.ndarray:
        """(P, 4) person boxes (NaN rows where a person has none)."""
        rows = [p.box if p.box is not None else np.full(4, np.nan) for p in self.persons]
        return np.stack(rows) if rows else np.zeros((0, 4))

    def track_id_array(self) -> np.ndarray:
        return np.array([p.track_id for p in self.persons], dtype=np.int64)


@dataclasses.dataclass
class VideoGT:
    """A video with per-frame ground truth in the dataset's own joint order."""

    name: str
    skeleton: Skeleton
    frames: list[FrameGT]
    meta: dict[str, Any] = dataclasses.field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.frames)

    def __iter__(self) -> Iterator[FrameGT]:
        return iter(self.frames)

    @property
    def labeled_frames(self) -> list[FrameGT]:
        return [f for f in self.frames if f.is_labeled]

    @property
    def num_persons(self) -> int:
        return sum(len(f.persons) for f in self.frames)


@dataclasses.dataclass
class PersonPred:
    """One predicted person: x, y, score per joint and a track id."""

    keypoints: np.ndarray  # (J, 3) x, y, score; NaN x/y = not predicted
    track_id: int
    score: float = float("nan")  # person score (unused by the official metric)
    box: np.ndarray | None = None  # xyxy box the pose was estimated in

    def __post_init__(self) -> None:
        self.keypoints = np.asarray(self.keypoints, dtype=np.float64)
        if self.keypoints.ndim != 2 or self.keypoints.shape[1] != 3:
            raise ValueError(f"keypoints must be (J, 3), got {self.keypoints.shape}")
        self.track_id = int(self.track_id)
        self.box = _as_box(self.box)

    @property
    def predicted(self) -> np.ndarray:
        """(J,) bool: the joint has a position."""
        return ~np.isnan(self.keypoints[:, 0])


@dataclasses.dataclass
class FramePred:
    """Predictions for one frame, paired with the GT frame at the same position."""

    index: int
    file_name: str
    persons: list[PersonPred] = dataclasses.field(default_factory=list)
    frame_id: int | None = None


@dataclasses.dataclass
class VideoPred:
    """Predictions for every frame of one video, in the GT's frame order."""

    name: str
    skeleton: Skeleton
    frames: list[FramePred]
    meta: dict[str, Any] = dataclasses.field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.frames)

    def __iter__(self) -> Iterator[FramePred]:
        return iter(self.frames)
