"""A PoseTrack file parsed into flat arrays: what the readers produce and the metrics consume."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import numpy as np

from ..skeleton import Skeleton


@dataclasses.dataclass
class FrameInfo:
    """Per-frame fields of a PoseTrack file (everything but the persons)."""

    file_name: str
    is_labeled: bool
    frame_id: int | None = None
    ignore_regions: list[np.ndarray] = dataclasses.field(default_factory=list)
    size: tuple[int, int] | None = None  # (height, width) where the file states it


@dataclasses.dataclass
class PoseTrackFile:
    """One video file as flat arrays over its N persons, sorted by frame (file order within).

    For ground truth, ``keypoints[..., 2]`` is the stored ``v``; for predictions it is the
    joint score (NaN when the file gives none) and absent joints have NaN x, y.
    """

    path: Path
    format: str  # "posetrack18" | "posetrack17"
    kind: str  # "gt" | "pred"
    skeleton: Skeleton
    frames: list[FrameInfo]
    person_frame: np.ndarray  # (N,) frame position of each person, non-decreasing
    keypoints: np.ndarray  # (N, J, 3)
    track_ids: np.ndarray  # (N,) int64; -1 where GT has none
    boxes: np.ndarray  # (N, 4) person box xyxy, NaN rows where absent
    head_boxes: np.ndarray  # (N, 4) head box xyxy, NaN rows where absent
    person_scores: np.ndarray  # (N,) NaN where absent
    meta: dict[str, Any] = dataclasses.field(default_factory=dict)
    #: (N,) index of each person in the file: PT18 `annotations[i]`, PT17 `annorect[i]` of its frame
    source_index: np.ndarray | None = None
    #: (N,) False for a PT17 person with no `annopoints[0].point` list (the official evaluation
    #: drops those; a PT18 person always has one, possibly empty)
    has_points: np.ndarray | None = None

    @property
    def num_persons(self) -> int:
        return len(self.person_frame)

    def person_field(self, row: int) -> str:
        """Where person `row` sits in the file, as a field path for error messages."""
        index = int(self.source_index[row]) if self.source_index is not None else row
        if self.format == "posetrack17":
            return f"annolist[{int(self.person_frame[row])}].annorect[{index}]"
        return f"annotations[{index}]"

    def frame_offsets(self) -> np.ndarray:
        """(F + 1,) offsets: persons of frame f are rows offsets[f]:offsets[f + 1]."""
        return np.searchsorted(self.person_frame, np.arange(len(self.frames) + 1))
