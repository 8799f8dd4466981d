"""What the PoseTrack'17 and '18 adapters share: the folder layout and the per-video checks.

Both releases keep one annotation file per video under ``annotations/{train,val,test}/``,
either directly below the dataset root (mmpose's copy) or below ``posetrack_data/`` (the
official archive). Frame ``file_name``s are relative to the folder that holds ``annotations/``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, ClassVar

from vposebench.errors import UserError
from vposebench.formats.jsonfile import check_input_file
from vposebench.structures import VideoGT

from .base import VideoDataset, require_dir, resolve_split

#: where the per-video files may live, relative to the root given by the user
ANNOTATION_PARENTS = (".", "posetrack_data")


class PoseTrackFolderDataset(VideoDataset):
    """One annotation file per video in ``annotations/<split>/``; subclasses read the files."""

    splits: ClassVar[tuple[str, ...]] = ("train", "val", "test")
    #: file suffixes this release uses, in order of preference for a shared stem
    suffixes: ClassVar[tuple[str, ...]] = (".json",)

    def __init__(self, root: str | os.PathLike[str], split: str | None = None,
                 **options: Any) -> None:
        super().__init__(root, resolve_split(type(self), split, "val"), **options)
        require_dir(self.root, f"{self.name} dataset root")
        self.annotation_dir, self.image_root = self._locate()
        self._files = self._index_files()

    def _locate(self) -> tuple[Path, Path]:
        tried = []
        for parent in ANNOTATION_PARENTS:
            base = (self.root / parent) if parent != "." else self.root
            folder = base / "annotations" / str(self.split)
            if folder.is_dir():
                return folder, base
            tried.append(folder.relative_to(self.root).as_posix() + "/")
        raise UserError(f"folder not found: expected one of {', '.join(tried)}", path=self.root)

    def _index_files(self) -> dict[str, Path]:
        files: dict[str, Path] = {}
        for suffix in reversed(self.suffixes):  # preferred suffix overwrites
            for path in self.annotation_dir.glob(f"*{suffix}"):
                check_input_file(path)  # a folder or broken link named like a video is an error, not skipped
                files[path.stem] = path
        if not files:
            raise UserError(f"no {' or '.join(self.suffixes)} annotation files in the folder",
                            path=self.annotation_dir)
        return dict(sorted(files.items()))

    def video_names(self) -> list[str]:
        return list(self._files)

    def annotation_files(self) -> list[Path]:
        return list(self._files.values())

    def details(self) -> dict[str, str]:
        return {"annotation_dir": str(self.annotation_dir), "image_root": str(self.image_root)}

    def video_path(self, name: str) -> Path:
        """The annotation file of video `name`."""
        try:
            return self._files[name]
        except KeyError:
            raise UserError(f"no video {name!r} in this split", path=self.annotation_dir) from None


def check_video(video: VideoGT, path: Path, frames_field: str, track_field: str) -> None:
    """Refuse a video without frames and frames that list one track id twice.

    `track_field` names the track ids in messages; ``{frame}`` in it becomes the frame index.
    """
    if not video.frames:
        raise UserError("the video has no frames", path=path, field=frames_field)
    for frame in video.frames:
        seen: set[int] = set()
        for person in frame.persons:
            if person.track_id >= 0 and person.track_id in seen:
                raise UserError(
                    f"track id {person.track_id} appears twice in frame {frame.index} "
                    f"({frame.file_name})", path=path, field=track_field.format(frame=frame.index),
                )
            seen.add(person.track_id)


def check_frame_order(video: VideoGT, path: Path) -> None:
    """Refuse frames out of temporal order (``frame_id`` must increase where it is given)."""
    previous = None
    for frame in video.frames:
        if previous is not None and frame.frame_id is not None and frame.frame_id <= previous:
            raise UserError(
                f"frames are not in temporal order: frame_id {frame.frame_id} follows {previous}",
                path=path, field=f"images[{frame.index}].frame_id",
            )
        previous = frame.frame_id
