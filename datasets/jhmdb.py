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
is used when it exists. Clip names (``@``, ``!``, brackets) are used exactly as written.

Pixel convention (mmpose's): ``pos_img`` is MATLAB 1-based, so joints are shifted by -1;
the person box is the puppet mask's extent in 0-based pixel indices, ``x1 = xmin``,
``x2 = xmax + 1`` (so ``x2 - x1`` is the inclusive pixel width), i.e. mmpose's box after its
-1 shift. Joints and box share one frame, so PCK is unchanged by the choice.
One person per frame, track id 0, ``v = 1`` for all 15 joints (the puppet is always
complete). T comes from ``pos_img``; the mask and the PNG folder (when ``Rename_Images/``
exists) must have T frames too. A ``degradation/`` folder, which only generated roots have
(the synthetic benchmark), sets each person's burst flags (`attach_degradation`).
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from vposebench.errors import UserError
from vposebench.registry import register_dataset
from vposebench.skeleton import JHMDB, Skeleton
from vposebench.structures import FrameGT, PersonGT, VideoGT

from .base import VideoDataset, numbered_frames, require_dir, resolve_split
from .matlab import float_array, load_mat, text, variable
from .synthetic.degradation import attach_degradation

#: the split file name pattern of each subset
SPLIT_FOLDERS = {"sub": ("sub_splits", re.compile(r"(.+)_test_split_([123])\.txt")),
                 "full": ("splits", re.compile(r"(.+)_test_split([123])\.txt"))}
FLAGS = {"train": 1, "test": 2}
_SPLIT = re.compile(r"(?:(sub|full)-)?(train|test)([123])?")


def _split_names() -> tuple[str, ...]:
    return tuple(f"{prefix}{part}{fold}" for prefix in ("", "sub-", "full-")
                 for part in FLAGS for fold in ("", "1", "2", "3"))


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

    def __init__(self, root: str | os.PathLike[str], split: str | None = None) -> None:
        super().__init__(root, resolve_split(type(self), split, "test"))
        require_dir(self.root, "JHMDB dataset root")
        match = _SPLIT.fullmatch(str(self.split))
        assert match is not None  # resolve_split only lets through names of this form
        subset, self.part, fold = match.groups()
        self.fold = int(fold or 1)
        if subset is None:
            subset = "sub" if (self.root / SPLIT_FOLDERS["sub"][0]).is_dir() else "full"
        self.subset = subset
        self.split = f"{subset}-{self.part}{self.fold}"  # canonical, for records
        self.joint_dir = require_dir(self.root / "joint_positions", "JHMDB joint positions")
        self.mask_dir = require_dir(self.root / "puppet_mask", "JHMDB puppet masks")
        self.split_files, self._clips = self._read_splits()

    def _read_splits(self) -> tuple[list[Path], dict[str, str]]:
        folder_name, pattern = SPLIT_FOLDERS[self.subset]
        folder = require_dir(self.root / folder_name, f"{self.subset}-JHMDB split files")
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

    def details(self) -> dict[str, Any]:
        return {"subset": self.subset, "part": self.part, "fold": self.fold,
                "pixel_convention": "mmpose: pos_img - 1; box = mask extent [xmin, ymin, xmax + 1, ymax + 1]"}

    def _clip_files(self, name: str) -> tuple[str, Path, Path]:
        try:
            action = self._clips[name]
        except KeyError:
            raise UserError(f"no clip {name!r} in split {self.split}", path=self.root) from None
        return (action, self.joint_dir / action / name / "joint_positions.mat",
                self.mask_dir / action / name / "puppet_mask.mat")

    def annotation_files(self) -> list[Path]:
        files = list(self.split_files)
        for name in self._clips:
            files.extend(self._clip_files(name)[1:])
        return files

    def load_video(self, name: str) -> VideoGT:
        action, joints_path, mask_path = self._clip_files(name)
        data = load_mat(joints_path)
        pos = float_array(variable(data, "pos_img", joints_path), joints_path, "pos_img")
        if pos.ndim == 2:  # MATLAB drops the trailing singleton axis of a one-frame clip
            pos = pos[:, :, None]
        if pos.ndim != 3 or pos.shape[:2] != (2, JHMDB.num_joints) or pos.shape[2] == 0:
            raise UserError(f"expected shape (2, 15, T) with T > 0, got {pos.shape}",
                            path=joints_path, field="pos_img")
        count = pos.shape[2]
        mask = np.asarray(variable(load_mat(mask_path), "part_mask", mask_path))
        if mask.ndim == 2:
            mask = mask[:, :, None]
        if mask.ndim != 3 or mask.dtype.kind not in "iufb":
            raise UserError(f"expected a numeric (H, W, T) array, got {mask.dtype} {mask.shape}",
                            path=mask_path, field="part_mask")
        if mask.shape[2] != count:
            raise UserError(f"frame count mismatch: {mask.shape[2]} mask frames, but {joints_path} "
                            f"has T={count} (pos_img)", path=mask_path, field="part_mask")
        boxes = mask_boxes(mask > 0, mask_path)
        names, checked = numbered_frames(self.root, f"Rename_Images/{action}/{name}", count, "%05d.png",
                                         f"pos_img in {joints_path}")
        keypoints = np.concatenate([pos.transpose(2, 1, 0) - 1.0, np.ones((count, JHMDB.num_joints, 1))],
                                   axis=2)
        size = (int(mask.shape[0]), int(mask.shape[1]))
        frames = [
            FrameGT(index=t, file_name=names[t], image_path=self.root / names[t], size=size,
                    persons=[PersonGT(keypoints[t], track_id=0, box=boxes[t])])
            for t in range(count)
        ]
        meta: dict[str, Any] = {"action": action, "split": self.split, "subset": self.subset,
                                "fold": self.fold, "images_checked": checked,
                                "source": str(joints_path)}
        if "scale" in data:
            scale = float_array(data["scale"], joints_path, "scale").reshape(-1)
            if len(scale) != count:
                raise UserError(f"frame count mismatch: {len(scale)} values, pos_img has T={count}",
                                path=joints_path, field="scale")
            meta["scale"] = scale.tolist()
        if "viewpoint" in data:
            meta["viewpoint"] = text(data["viewpoint"], joints_path, "viewpoint")
        return attach_degradation(VideoGT(name=name, skeleton=JHMDB, frames=frames, meta=meta), self.root)
