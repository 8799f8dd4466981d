"""(sub-)JHMDB in its original layout: puppet joints, puppet masks, PNG frames, split files.

::

    joint_positions/<action>/<clip>/joint_positions.mat   pos_img (2, 15, T); scale, viewpoint optional
    puppet_mask/<action>/<clip>/puppet_mask.mat           part_mask (H, W, T), {0, 1}
    Rename_Images/<action>/<clip>/00001.png ...           T frames, 1-based
    sub_splits/<action>_test_split_<k>.txt                sub-JHMDB (316 clips), k = 1, 2, 3
    splits/<action>_test_split<k>.txt                     full JHMDB (928 clips)

Split names: ``[sub-|full-]{train|test}[1|2|3]``: the partition ``k`` (default 1) of the
split files, whose lines are ``<clip>.avi <flag>`` with 1 = train, 2 = test (0 = unused).
``sub-`` reads ``sub_splits/``, ``full-`` reads ``splits/``; without a prefix ``sub_splits/``
is used when it exists. ``all`` is every clip under ``joint_positions/`` (no split file is
read). Clip names (``@``, ``!``, brackets) are used exactly as written.

Pixel convention (mmpose's): ``pos_img`` is MATLAB 1-based, so joints are shifted by -1;
the person box is the puppet mask's extent in 0-based pixel indices, ``x1 = xmin``,
``x2 = xmax + 1`` (so ``x2 - x1`` is the inclusive pixel width), i.e. mmpose's box after its
-1 shift. Joints and box share one frame, so PCK is unchanged by the choice.
One person per frame, track id 0, ``v = 1`` for all 15 joints (the puppet is always
complete). T comes from ``pos_img``; the mask and the PNG folder (when ``Rename_Images/``
exists) must have T frames too. A ``degradation/`` folder, which only generated roots have
(the synthetic benchmark), sets each person's burst flags (`attach_degradation`).

Options (`JHMDBOptions`, ``--dataset-option key=value``) read clip folders that lack parts of
the layout: ``box_from_joints`` takes the box from the joints instead of ``puppet_mask/``
(each side pushed out by ``box_margin`` x the larger side of the joints' extent; recorded in
each video's meta), ``trim_to_frames`` reads a clip whose frame folder holds only its first
n < T frames as those n frames.
"""

from __future__ import annotations

import dataclasses
import os
import re
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from vposebench.config import ConfigBase, positive
from vposebench.errors import UserError
from vposebench.registry import register_dataset
from vposebench.skeleton import JHMDB, Skeleton
from vposebench.structures import FrameGT, PersonGT, VideoGT

from .base import (
    Breakdown,
    VideoDataset,
    frame_group_breakdowns,
    numbered_frames,
    require_dir,
    resolve_split,
)
from .matlab import float_array, load_mat, text, variable
from .synthetic.degradation import attach_degradation, has_degradation

#: the split file name pattern of each subset
SPLIT_FOLDERS = {"sub": ("sub_splits", re.compile(r"(.+)_test_split_([123])\.txt")),
                 "full": ("splits", re.compile(r"(.+)_test_split([123])\.txt"))}
FLAGS = {"train": 1, "test": 2}
_SPLIT = re.compile(r"(?:(sub|full)-)?(train|test)([123])?")
#: the split of every clip under joint_positions/, without split files
ALL = "all"
#: box_from_joints: each side of the joints' extent is pushed out by this share of its larger
#: side (on the three real frames with mask boxes in the samples, the mask box's larger side
#: is 1.183-1.198 x the joints'; this gives 1.2 x)
BOX_MARGIN = 0.1


def _split_names() -> tuple[str, ...]:
    return (*(f"{prefix}{part}{fold}" for prefix in ("", "sub-", "full-")
              for part in FLAGS for fold in ("", "1", "2", "3")), ALL)


@dataclasses.dataclass
class JHMDBOptions(ConfigBase):
    """How to read clip folders without masks or with fewer frames than annotated."""

    #: person boxes from the joints (enlarged by box_margin) instead of puppet_mask/
    box_from_joints: bool = False
    #: share of the joints' larger extent added on each side of their box
    box_margin: float = BOX_MARGIN
    #: a frame folder holding only frames 1..n of T: read the clip as those n frames
    trim_to_frames: bool = False

    def validate(self) -> None:
        positive(self.box_margin, "box_margin", zero=True)


def joint_boxes(keypoints: np.ndarray, margin: float) -> np.ndarray:
    """(T, 4) xyxy boxes around (T, J, 2+) joints, each side pushed out by `margin` x the
    larger side of the joints' extent."""
    lo, hi = keypoints[:, :, :2].min(axis=1), keypoints[:, :, :2].max(axis=1)
    pad = margin * (hi - lo).max(axis=1, keepdims=True)
    return np.concatenate([lo - pad, hi + pad], axis=1)


def parse_split_file(path: Path) -> dict[str, int]:
    """clip -> flag of one split file (``<clip>.avi <flag>`` per line; blank lines skipped)."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise UserError(f"cannot read split file ({exc})", path=path) from None
    flags: dict[str, int] = {}
    for number, line in enumerate(lines, start=1):
        parts = line.split()
        if not parts:
            continue
        if len(parts) != 2 or parts[1] not in ("0", "1", "2"):
            raise UserError(f"expected '<clip>.avi <0|1|2>', got {line.strip()!r}",
                            path=path, field=f"line {number}")
        clip = parts[0][:-4] if parts[0].endswith(".avi") else parts[0]
        if clip in flags:
            raise UserError(f"clip {clip!r} is listed twice", path=path, field=f"line {number}")
        flags[clip] = int(parts[1])
    return flags


def mask_boxes(mask: np.ndarray, path: Path) -> np.ndarray:
    """(T, 4) xyxy boxes of a (H, W, T) mask: 0-based min index, max index + 1."""
    cols = mask.any(axis=0)  # (W, T)
    rows = mask.any(axis=1)  # (H, T)
    empty = ~cols.any(axis=0)
    if empty.any():
        raise UserError(f"the puppet mask is empty in frame {int(np.argmax(empty))} (0-based)",
                        path=path, field="part_mask")
    x1 = cols.argmax(axis=0)
    x2 = cols.shape[0] - cols[::-1].argmax(axis=0)
    y1 = rows.argmax(axis=0)
    y2 = rows.shape[0] - rows[::-1].argmax(axis=0)
    return np.stack([x1, y1, x2, y2], axis=1).astype(np.float64)


@register_dataset("jhmdb")
class JHMDBDataset(VideoDataset):
    """sub-JHMDB / JHMDB: joint_positions/, puppet_mask/, Rename_Images/, (sub_)splits/."""

    skeleton: ClassVar[Skeleton] = JHMDB
    protocol: ClassVar[str] = "pck"
    splits: ClassVar[tuple[str, ...]] = _split_names()
    options_class: ClassVar[type[ConfigBase]] = JHMDBOptions

    def __init__(self, root: str | os.PathLike[str], split: str | None = None,
                 **options: Any) -> None:
        super().__init__(root, resolve_split(type(self), split, "test"), **options)
        self.options: JHMDBOptions
        require_dir(self.root, "JHMDB dataset root")
        if self.split == ALL:
            self.subset, self.part, self.fold = ALL, ALL, None
        else:
            match = _SPLIT.fullmatch(str(self.split))
            assert match is not None  # resolve_split only lets through names of this form
            subset, self.part, fold = match.groups()
            self.fold = int(fold or 1)
            if subset is None:
                subset = "sub" if (self.root / SPLIT_FOLDERS["sub"][0]).is_dir() else "full"
            self.subset = subset
            self.split = f"{subset}-{self.part}{self.fold}"  # canonical, for records
        self.joint_dir = require_dir(self.root / "joint_positions", "JHMDB joint positions")
        self.mask_dir = None
        if not self.options.box_from_joints:
            self.mask_dir = require_dir(self.root / "puppet_mask", "JHMDB puppet masks; without "
                                        "them read boxes from the joints with --dataset-option "
                                        "box_from_joints=true")
        if self.split == ALL:
            self.split_files, self._clips = [], self._all_clips()
        else:
            self.split_files, self._clips = self._read_splits()

    def _all_clips(self) -> dict[str, str]:
        """clip -> action of every joint_positions/<action>/<clip>/joint_positions.mat."""
        clips: dict[str, str] = {}
        for path in sorted(self.joint_dir.glob("*/*/joint_positions.mat")):
            action, clip = path.parent.parent.name, path.parent.name
            if clip in clips:
                raise UserError(f"clip {clip!r} is under two actions ({clips[clip]}, {action})",
                                path=path)
            clips[clip] = action
        return dict(sorted(clips.items(), key=lambda kv: (kv[1], kv[0])))

    def _read_splits(self) -> tuple[list[Path], dict[str, str]]:
        folder_name, pattern = SPLIT_FOLDERS[self.subset]
        folder = require_dir(self.root / folder_name, f"{self.subset}-JHMDB split files; "
                             f"without them read every clip with --split {ALL}")
        files = sorted(p for p in folder.iterdir()
                       if (m := pattern.fullmatch(p.name)) and int(m.group(2)) == self.fold)
        if not files:
            raise UserError(f"no split files for partition {self.fold} "
                            f"(expected names like <action>_test_split"
                            f"{'_' if self.subset == 'sub' else ''}{self.fold}.txt)", path=folder)
        clips: dict[str, str] = {}
        origin: dict[str, Path] = {}
        for path in files:
            action = pattern.fullmatch(path.name).group(1)
            for clip, flag in parse_split_file(path).items():
                if flag != FLAGS[self.part]:
                    continue
                if clip in clips:
                    raise UserError(f"clip {clip!r} is also listed in {origin[clip].name}", path=path)
                clips[clip], origin[clip] = action, path
        return files, dict(sorted(clips.items(), key=lambda kv: (kv[1], kv[0])))

    def video_names(self) -> list[str]:
        return list(self._clips)

    def box_rule(self) -> str:
        """How person boxes are made, in words (details and every video's meta)."""
        if self.options.box_from_joints:
            return (f"joints' extent, each side pushed out by {self.options.box_margin:g} x its "
                    "larger side")
        return "puppet mask extent [xmin, ymin, xmax + 1, ymax + 1]"

    def details(self) -> dict[str, Any]:
        return {"subset": self.subset, "part": self.part, "fold": self.fold,
                "pixel_convention": "mmpose: pos_img - 1", "box": self.box_rule(),
                "options": self.options.to_dict()}

    def _clip_files(self, name: str) -> tuple[str, Path, Path | None]:
        try:
            action = self._clips[name]
        except KeyError:
            raise UserError(f"no clip {name!r} in split {self.split}", path=self.root) from None
        mask = None if self.mask_dir is None else self.mask_dir / action / name / "puppet_mask.mat"
        return action, self.joint_dir / action / name / "joint_positions.mat", mask

    def breakdowns(self) -> list[Breakdown]:
        """The frame groups (degraded, recovery, clean) in a generated root with burst flags;
        none in a real one."""
        return frame_group_breakdowns() if has_degradation(self.root) else []

    def annotation_files(self) -> list[Path]:
        files = list(self.split_files)
        for name in self._clips:
            files.extend(f for f in self._clip_files(name)[1:] if f is not None)
        return files

    def _present_frames(self, folder: str, count: int) -> int:
        """With trim_to_frames: n when the frame folder holds exactly frames 1..n, n < count."""
        clip = self.root / folder
        if not self.options.trim_to_frames or not clip.is_dir():
            return count
        present = sorted(p.name for p in clip.glob("*.png"))
        n = len(present)
        return n if 0 < n < count and present == [f"{t:05d}.png" for t in range(1, n + 1)] else count

    def load_video(self, name: str) -> VideoGT:
        action, joints_path, mask_path = self._clip_files(name)
        data = load_mat(joints_path)
        pos = float_array(variable(data, "pos_img", joints_path), joints_path, "pos_img")
        if pos.ndim == 2:  # MATLAB drops the trailing singleton axis of a one-frame clip
            pos = pos[:, :, None]
        if pos.ndim != 3 or pos.shape[:2] != (2, JHMDB.num_joints) or pos.shape[2] == 0:
            raise UserError(f"expected shape (2, 15, T) with T > 0, got {pos.shape}",
                            path=joints_path, field="pos_img")
        annotated = pos.shape[2]
        count = self._present_frames(f"Rename_Images/{action}/{name}", annotated)
        keypoints = np.concatenate([pos[:, :, :count].transpose(2, 1, 0) - 1.0,
                                    np.ones((count, JHMDB.num_joints, 1))], axis=2)
        if mask_path is None:
            boxes, size = joint_boxes(keypoints, self.options.box_margin), None
        else:
            mask = self._mask(mask_path, joints_path, annotated)[:, :, :count]
            boxes, size = mask_boxes(mask > 0, mask_path), (int(mask.shape[0]), int(mask.shape[1]))
        try:
            names, checked = numbered_frames(self.root, f"Rename_Images/{action}/{name}", count,
                                             "%05d.png", f"pos_img in {joints_path}")
        except UserError as exc:
            if self.options.trim_to_frames:
                raise
            raise UserError(f"{exc.message}; to read only the frames 1..n present use "
                            "--dataset-option trim_to_frames=true", path=exc.path,
                            field=exc.field) from None
        frames = [
            FrameGT(index=t, file_name=names[t], image_path=self.root / names[t], size=size,
                    persons=[PersonGT(keypoints[t], track_id=0, box=boxes[t])])
            for t in range(count)
        ]
        meta: dict[str, Any] = {"action": action, "split": self.split, "subset": self.subset,
                                "fold": self.fold, "images_checked": checked,
                                "source": str(joints_path), "box": self.box_rule()}
        if count < annotated:
            meta["trimmed_from"] = annotated  # frames annotated; only `count` have images
        if "scale" in data:
            scale = float_array(data["scale"], joints_path, "scale").reshape(-1)
            if len(scale) != annotated:
                raise UserError(f"frame count mismatch: {len(scale)} values, pos_img has "
                                f"T={annotated}", path=joints_path, field="scale")
            meta["scale"] = scale[:count].tolist()
        if "viewpoint" in data:
            meta["viewpoint"] = text(data["viewpoint"], joints_path, "viewpoint")
        return attach_degradation(VideoGT(name=name, skeleton=JHMDB, frames=frames, meta=meta), self.root)

    @staticmethod
    def _mask(mask_path: Path, joints_path: Path, count: int) -> np.ndarray:
        """The (H, W, T) puppet mask, checked against the T frames of `joints_path`."""
        mask = np.asarray(variable(load_mat(mask_path), "part_mask", mask_path))
        if mask.ndim == 2:
            mask = mask[:, :, None]
        if mask.ndim != 3 or mask.dtype.kind not in "iufb":
            raise UserError(f"expected a numeric (H, W, T) array, got {mask.dtype} {mask.shape}",
                            path=mask_path, field="part_mask")
        if mask.shape[2] != count:
            raise UserError(f"frame count mismatch: {mask.shape[2]} mask frames, but {joints_path} "
                            f"has T={count} (pos_img)", path=mask_path, field="part_mask")
        return mask
