"""Example dataset adapter (docs/contributing.md): videos annotated in CSV files.

The format: ``ROOT/<split>/<video>.csv``, one row per annotated joint, with the header
``frame,image,track,joint,x,y,visible``; `image` is the frame's image path relative to ROOT,
`joint` a PoseTrack'18 joint name. Every frame appears at least once (a frame without persons
has one row with empty person fields). Person boxes come from the joints (PoseTrack'18's rule:
the annotated joints' extent, enlarged 1.3 times).
"""

from __future__ import annotations

import csv
import os
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from vposebench.datasets.base import VideoDataset
from vposebench.errors import UserError
from vposebench.registry import register_dataset
from vposebench.skeleton import POSETRACK18, Skeleton
from vposebench.structures import FrameGT, PersonGT, VideoGT

COLUMNS = ("frame", "image", "track", "joint", "x", "y", "visible")


@register_dataset("csv_keypoints")
class CSVKeypoints(VideoDataset):
    """Example: videos annotated in CSV files, ROOT/<split>/<video>.csv (PoseTrack'18 joints)."""

    skeleton: ClassVar[Skeleton] = POSETRACK18
    protocol: ClassVar[str] = "posetrack"
    splits: ClassVar[tuple[str, ...]] = ("train", "val")

    def __init__(self, root: str | os.PathLike[str], split: str | None = None,
                 **options: Any) -> None:
        super().__init__(root, split or "val", **options)
        if self.split not in self.splits:
            raise UserError(f"unknown split {self.split!r} (known: {', '.join(self.splits)})",
                            field="--split")
        self.folder = self.root / self.split
        if not self.folder.is_dir():
            raise UserError("no such split folder", path=self.folder)

    def video_names(self) -> list[str]:
        return sorted(path.stem for path in self.folder.glob("*.csv"))

    def annotation_files(self) -> list[Path]:
        return sorted(self.folder.glob("*.csv"))

    def load_video(self, name: str) -> VideoGT:
        path = self.folder / f"{name}.csv"
        frames: dict[int, FrameGT] = {}
        joints: dict[tuple[int, int], np.ndarray] = {}  # (frame, track) -> (J, 3)
        with path.open(newline="") as handle:
            reader = csv.DictReader(handle)
            if tuple(reader.fieldnames or ()) != COLUMNS:
                raise UserError(f"expected the header {','.join(COLUMNS)}", path=path, field="header")
            for line, row in enumerate(reader, start=2):
                try:
                    t = int(row["frame"])
                    if t not in frames:
                        frames[t] = FrameGT(index=t, file_name=row["image"],
                                            image_path=self.root / row["image"])
                    if row["track"]:
                        if row["joint"] not in self.skeleton.joints:
                            raise ValueError(f"unknown joint {row['joint']!r}")
                        person = joints.setdefault(
                            (t, int(row["track"])), np.zeros((self.skeleton.num_joints, 3)))
                        person[self.skeleton.index(row["joint"])] = (
                            float(row["x"]), float(row["y"]), float(row["visible"]))
                except (ValueError, TypeError) as exc:  # a bad number or name, an empty cell
                    raise UserError(f"line {line}: {exc}", path=path) from None
        if sorted(frames) != list(range(len(frames))):
            raise UserError("frames must be numbered 0, 1, 2, ... without gaps", path=path, field="frame")
        for (t, track), keypoints in sorted(joints.items()):
            person = PersonGT(keypoints, track_id=track)
            person.box = person.crop_box()
            frames[t].persons.append(person)
        return VideoGT(name=name, skeleton=self.skeleton, frames=[frames[t] for t in sorted(frames)],
                       meta={"source": str(path)})
