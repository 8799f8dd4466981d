"""Write videos as PoseTrack'18 JSON documents, one file per video, atomically."""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from ..atomic import atomic_write
from ..boxes import xyxy_to_xywh
from ..skeleton import Skeleton
from ..structures import FrameGT, FramePred, VideoGT, VideoPred
from .jsonfile import PathLike


def _box_list(box: np.ndarray | None) -> list[float] | None:
    if box is None or not np.isfinite(box).all():
        return None
    return [float(v) for v in xyxy_to_xywh(box)]


def packed_frame_id(vid_id: int, index: int, source: int = 1) -> int:
    """PT18 frame id ``T SSSSSS FFFF`` (T: 1=mpii, 2=bonn, 3=mpiinew)."""
    return source * 10**10 + vid_id * 10**4 + index


def _image_entries(frames: Sequence[FrameGT | FramePred], vid_id: str | None, nframes: int) -> list[dict]:
    entries = []
    for i, frame in enumerate(frames):
        frame_id = frame.frame_id
        if frame_id is None:
            frame_id = packed_frame_id(int(vid_id), i) if vid_id and vid_id.isdigit() else i
        entry: dict[str, Any] = {
            "id": frame_id,
            "frame_id": frame_id,
            "file_name": frame.file_name,
            "nframes": nframes,
        }
        if vid_id is not None:
            entry["vid_id"] = vid_id
        if isinstance(frame, FrameGT):
            entry["is_labeled"] = bool(frame.is_labeled)
            entry["has_no_densepose"] = True
            entry["ignore_regions_x"] = [[float(v) for v in r[:, 0]] for r in frame.ignore_regions]
            entry["ignore_regions_y"] = [[float(v) for v in r[:, 1]] for r in frame.ignore_regions]
        entries.append(entry)
    return entries


def _categories(skeleton: Skeleton) -> list[dict]:
    return [{
        "supercategory": "person",
        "id": 1,
        "name": "person",
        "keypoints": list(skeleton.joints),
        "skeleton": [[a + 1, b + 1] for a, b in skeleton.limbs],
    }]


def _dump(path: PathLike, doc: dict) -> None:
    with atomic_write(path) as handle:
        json.dump(doc, handle, separators=(",", ":"), allow_nan=False)


def annotations_to_dict(video: VideoGT) -> dict:
    """The PT18 document for a ground-truth video."""
    vid_id = video.meta.get("vid_id")
    nframes = video.meta.get("nframes")  # the file's own count (trimmed files keep it)
    nframes = nframes if isinstance(nframes, int) and not isinstance(nframes, bool) else len(video.frames)
    images = _image_entries(video.frames, None if vid_id is None else str(vid_id), nframes)
    annotations = []
    for frame, image in zip(video.frames, images):
        for k, person in enumerate(frame.persons):
            ann: dict[str, Any] = {
                "id": image["id"] * 100 + k,
                "image_id": image["id"],
                "category_id": 1,
                "track_id": int(person.track_id),
                "keypoints": [float(v) for v in person.keypoints.reshape(-1)],
                "scores": [],
            }
            for key, box in (("bbox", person.box), ("bbox_head", person.head_box)):
                value = _box_list(box)
                if value is not None:
                    ann[key] = value
            annotations.append(ann)
    return {"images": images, "annotations": annotations, "categories": _categories(video.skeleton)}


def write_annotations(video: VideoGT, path: PathLike) -> None:
    """Write a ground-truth video as one PT18 JSON file (atomically)."""
    _dump(path, annotations_to_dict(video))


def predictions_to_dict(video: VideoPred, *, vid_id: str | None = None) -> dict:
    """The PT18 document for predictions: absent joints as (0, 0, 0), scores per joint."""
    images = _image_entries(video.frames, vid_id, len(video.frames))
    annotations = []
    for frame, image in zip(video.frames, images):
        seen: set[int] = set()
        for k, person in enumerate(frame.persons):
            if person.track_id in seen:
                raise ValueError(f"{video.name}: frame {frame.index}: duplicate track id {person.track_id}")
            seen.add(person.track_id)
            kp = person.keypoints
            present = ~np.isnan(kp[:, 0])
            triplets = np.zeros((len(kp), 3))
            triplets[present, :2] = kp[present, :2]
            triplets[present, 2] = 1.0
            scores = np.where(present, np.nan_to_num(kp[:, 2], nan=0.0), 0.0)
            ann: dict[str, Any] = {
                "id": image["id"] * 100 + k,
                "image_id": image["id"],
                "category_id": 1,
                "track_id": int(person.track_id),
                "keypoints": [float(v) for v in triplets.reshape(-1)],
                "scores": [float(v) for v in scores],
            }
            if math.isfinite(person.score):
                ann["score"] = float(person.score)
            box = _box_list(person.box)
            if box is not None:
                ann["bbox"] = box
            annotations.append(ann)
    return {"images": images, "annotations": annotations, "categories": _categories(video.skeleton)}


def write_predictions(video: VideoPred, path: PathLike, *, vid_id: str | None = None) -> None:
    """Write predictions for one video as PT18 JSON (atomically)."""
    _dump(path, predictions_to_dict(video, vid_id=vid_id))
