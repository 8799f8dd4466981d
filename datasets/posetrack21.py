"""PoseTrack21 in its original layout: one PoseTrack'18-style JSON per video under ``posetrack_data/``.

``posetrack_data/{train,val}/<video>.json`` (the release's pose-tracking / re-ID annotations;
``posetrack_data/annotations/{train,val}/`` is accepted too) and ``images/{train,val}/<video>/``
beside it: frame ``file_name``s (``images/val/...``) are relative to the dataset root. The
files are PoseTrack'18 JSON with PoseTrack21's additions: every annotation carries a
``person_id`` (an identity across videos, for re-identification) next to its ``track_id``,
``bbox`` and ``bbox_head``; ``images`` carry ``is_labeled``, ``has_labeled_person`` and the
ignore polygons ``ignore_regions_x`` / ``ignore_regions_y``; persons with only boxes have all-zero
keypoints. Read with the suite's PoseTrack reader (17 slots, ears never labelled); the
``person_id``s are kept per frame in ``VideoGT.meta["person_ids"]`` (None where absent).
"""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from vposebench.errors import UserError
from vposebench.formats import annotations_from_document, load_json
from vposebench.registry import register_dataset
from vposebench.skeleton import POSETRACK18, Skeleton
from vposebench.structures import VideoGT

from .posetrack_layout import PoseTrackFolderDataset, check_frame_order, check_video

#: where the per-video files of a split may live, relative to the dataset root
ANNOTATION_FOLDERS = ("posetrack_data/{split}", "posetrack_data/annotations/{split}")


def person_ids(document: dict, video: VideoGT, path: Path) -> list[list[int | None]]:
    """Per frame, the ``person_id`` of each person in file order (None where absent)."""
    position = {image["id"]: i for i, image in enumerate(document["images"])}
    out: list[list[int | None]] = [[] for _ in video.frames]
    for a, ann in enumerate(document.get("annotations") or []):
        value = ann.get("person_id")
        if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
            raise UserError(f"expected an integer, got {value!r}", path=path, field=f"annotations[{a}].person_id")
        out[position[ann["image_id"]]].append(value)
    return out


@register_dataset("posetrack21")
class PoseTrack21(PoseTrackFolderDataset):
    """PoseTrack21: posetrack_data/{train,val}/*.json, PoseTrack'18 JSON with person_id."""

    skeleton: ClassVar[Skeleton] = POSETRACK18
    protocol: ClassVar[str] = "posetrack"
    splits: ClassVar[tuple[str, ...]] = ("train", "val")

    def _locate(self) -> tuple[Path, Path]:
        tried = []
        for pattern in ANNOTATION_FOLDERS:
            folder = self.root / pattern.format(split=self.split)
            if folder.is_dir():
                return folder, self.root
            tried.append(f"{pattern.format(split=self.split)}/")
        raise UserError(f"folder not found: expected one of {', '.join(tried)}", path=self.root)

    def load_video(self, name: str) -> VideoGT:
        path = self.video_path(name)
        document = load_json(path)
        video = annotations_from_document(document, path, root=self.image_root, skeleton=POSETRACK18)
        check_video(video, path, "images", "annotations.track_id")
        check_frame_order(video, path)
        video.meta.update(split=self.split, person_ids=person_ids(document, video, path))
        return video
