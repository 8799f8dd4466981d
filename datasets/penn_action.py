"""Penn Action in its original layout: ``labels/<clip>.mat`` and ``frames/<clip>/%06d.jpg``.

Every numeric field is cast to float64 before use (the files mix float64, uint16 and uint8).
``train`` 1 / -1 selects the train / test split. Joints keep Penn's own order and pixel
coordinates as stored; ``v`` is the file's ``visibility`` (invisible joints keep their guessed
x, y with v = 0). The person box is the file's ``bbox`` (``x1, y1, x2, y2`` corners).

Known defects are repaired and reported in ``meta["box_repairs"]`` (never crashed on):
a missing trailing bbox row (1154.mat, 1865.mat) copies the previous row; a degenerate box
(x2 <= x1 or y2 <= y1: 2173.mat frame 87 is inverted, 0623.mat has 153 zero-area boxes where at
most one joint is visible) takes the nearest valid frame's box, the earlier one on a tie.
Frames are checked against ``nframes`` when ``frames/<clip>/`` exists; without a ``frames/``
folder the labels are read alone. A ``degradation/`` folder, which only generated roots have
(the synthetic benchmark), sets each person's burst flags (`attach_degradation`).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from vposebench.boxes import box_is_valid
from vposebench.errors import UserError
from vposebench.formats.jsonfile import check_input_file
from vposebench.registry import register_dataset
from vposebench.skeleton import PENN_ACTION, Skeleton
from vposebench.structures import FrameGT, PersonGT, VideoGT

from .base import (
    BoxRepair,
    Breakdown,
    VideoDataset,
    frame_group_breakdowns,
    numbered_frames,
    require_dir,
    resolve_split,
)
from .matlab import float_array, load_mat, scalar, text, variable
from .synthetic.degradation import attach_degradation, has_degradation

SPLIT_FLAGS = {1: "train", -1: "test"}


def repair_boxes(boxes: np.ndarray, count: int, path: Path) -> tuple[np.ndarray, list[BoxRepair]]:
    """(count, 4) valid boxes from the file's rows, and the repairs made.

    A frame without a row or with a degenerate one takes the box of the nearest frame whose
    own row is valid (the earlier one on a tie), so a missing last row copies the previous row.
    """
    if len(boxes) > count:
        raise UserError(f"frame count mismatch: {len(boxes)} bbox rows for nframes={count}",
                        path=path, field="bbox")
    valid = np.zeros(count, dtype=bool)
    valid[:len(boxes)] = box_is_valid(boxes)
    good = np.flatnonzero(valid)
    if len(good) == 0:
        raise UserError("no frame has a valid bbox (x2 > x1, y2 > y1)", path=path, field="bbox")
    out = np.zeros((count, 4))
    out[good] = boxes[good]
    repairs = []
    for t in np.flatnonzero(~valid):
        source = int(good[np.argmin(np.abs(good - t) * 2 + (good > t))])  # nearest, earlier on ties
        missing = t >= len(boxes)
        original = None if missing else tuple(float(v) for v in boxes[t])
        repairs.append(BoxRepair(int(t), "missing" if missing else "degenerate", source, original))
        out[t] = boxes[source]
    return out, repairs


@register_dataset("penn_action")
class PennAction(VideoDataset):
    """Penn Action: labels/*.mat (13 joints, bbox, visibility) and frames/<clip>/*.jpg."""

    skeleton: ClassVar[Skeleton] = PENN_ACTION
    protocol: ClassVar[str] = "pck"
    splits: ClassVar[tuple[str, ...]] = ("train", "test")

    def __init__(self, root: str | os.PathLike[str], split: str | None = None,
                 **options: Any) -> None:
        super().__init__(root, resolve_split(type(self), split, "test"), **options)
        require_dir(self.root, "Penn Action dataset root")
        self.label_dir = require_dir(self.root / "labels", "Penn Action labels")
        labels = sorted(self.label_dir.glob("*.mat"))
        for path in labels:
            check_input_file(path)  # a folder or broken link named like a label file is an error
        if not labels:
            raise UserError("no .mat label files in the folder", path=self.label_dir)
        self._labels = {p.stem: p for p in labels if self._split_of(p) == self.split}

    @staticmethod
    def _split_of(path: Path) -> str:
        flag = scalar(variable(load_mat(path, variables=["train"]), "train", path), path, "train")
        if flag not in SPLIT_FLAGS:
            raise UserError(f"expected 1 (train) or -1 (test), got {flag:g}", path=path, field="train")
        return SPLIT_FLAGS[int(flag)]

    def video_names(self) -> list[str]:
        return list(self._labels)

    def breakdowns(self) -> list[Breakdown]:
        """The frame groups (degraded, recovery, clean) in a generated root with burst flags;
        none in a real one."""
        return frame_group_breakdowns() if has_degradation(self.root) else []

    def annotation_files(self) -> list[Path]:
        return list(self._labels.values())

    def load_video(self, name: str) -> VideoGT:
        try:
            path = self._labels[name]
        except KeyError:
            raise UserError(f"no clip {name!r} in split {self.split}", path=self.label_dir) from None
        data = load_mat(path)
        stated = scalar(variable(data, "nframes", path), path, "nframes")
        if stated < 1 or not stated.is_integer():
            raise UserError(f"the video has no frames (nframes = {stated:g})", path=path, field="nframes")
        count = int(stated)
        fields = {}
        for key in ("x", "y", "visibility"):
            fields[key] = float_array(variable(data, key, path), path, key, ndim=2)
            if fields[key].shape != (count, PENN_ACTION.num_joints):
                raise UserError(f"frame count mismatch: expected shape ({count}, 13) for "
                                f"nframes={count}, got {fields[key].shape}", path=path, field=key)
        if not np.isin(fields["visibility"], (0, 1)).all():
            raise UserError("expected only 0 and 1", path=path, field="visibility")
        raw_boxes = float_array(variable(data, "bbox", path), path, "bbox", ndim=2)
        if raw_boxes.shape[1] != 4:
            raise UserError(f"expected 4 columns, got shape {raw_boxes.shape}", path=path, field="bbox")
        boxes, repairs = repair_boxes(raw_boxes, count, path)
        dims = float_array(variable(data, "dimensions", path), path, "dimensions").reshape(-1)
        if len(dims) != 3 or int(dims[2]) != count:
            raise UserError(f"expected [H, W, nframes={count}], got {dims.tolist()}",
                            path=path, field="dimensions")
        names, checked = numbered_frames(self.root, f"frames/{name}", count, "%06d.jpg", f"nframes in {path}")
        keypoints = np.stack([fields["x"], fields["y"], fields["visibility"]], axis=2)
        size = (int(dims[0]), int(dims[1]))
        frames = [
            FrameGT(index=t, file_name=names[t], image_path=self.root / names[t], size=size,
                    persons=[PersonGT(keypoints[t], track_id=0, box=boxes[t])])
            for t in range(count)
        ]
        meta: dict[str, Any] = {
            "action": text(variable(data, "action", path), path, "action"),
            "pose": text(data["pose"], path, "pose") if "pose" in data else None,
            "split": self.split, "images_checked": checked, "box_repairs": repairs,
            "source": str(path),
        }
        return attach_degradation(VideoGT(name=name, skeleton=PENN_ACTION, frames=frames, meta=meta), self.root)
