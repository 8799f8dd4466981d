"""Read PoseTrack JSON (PT18 or PT17, detected per file) into flat arrays or the object model.

One file holds one video. Ground truth and predictions share the format; predictions carry
per-joint ``scores`` and an integer ``track_id``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from ..errors import UserError
from ..skeleton import POSETRACK17, Skeleton
from ..structures import FrameGT, FramePred, PersonGT, PersonPred, VideoGT, VideoPred
from .jsonfile import PathLike, collector_paused, load_json
from .parsed import PoseTrackFile
from .posetrack17 import read_pt17
from .posetrack18 import read_pt18


def detect_format(data: Any, path: PathLike) -> str:
    """'pt18' or 'pt17'."""
    if isinstance(data, dict) and "annolist" in data:
        return "pt17"
    if isinstance(data, dict) and "images" in data:
        return "pt18"
    raise UserError(
        "not a PoseTrack file: expected an object with 'images' (PoseTrack'18) or "
        "'annolist' (PoseTrack'17)",
        path=path,
    )


def read_file(path: PathLike, kind: str, *, skeleton: Skeleton | None = None) -> PoseTrackFile:
    """Parse one PT18 or PT17 file into flat arrays; `kind` is "gt" or "pred".

    `skeleton`, when given, is the joint set a PT18 file must declare (files without
    categories are taken to use it). The garbage collector stays paused throughout: the
    document's objects are freed by reference counting when this returns.
    """
    with collector_paused():
        return parse_document(load_json(path), path, kind, skeleton=skeleton)


def parse_document(data: Any, path: PathLike, kind: str, *, skeleton: Skeleton | None = None) -> PoseTrackFile:
    """Parse an already loaded PT18 or PT17 document (e.g. a normalised PT17 ``.mat``).

    `path` names the source in error messages.
    """
    if kind not in ("gt", "pred"):
        raise ValueError(f"kind must be 'gt' or 'pred', got {kind!r}")
    p = Path(path)
    if detect_format(data, p) == "pt17":
        parsed = read_pt17(data, p, kind)
        if skeleton is not None and skeleton != POSETRACK17:
            raise UserError(f"a PoseTrack'17 file cannot hold the {skeleton.name!r} joint set", path=p)
        return parsed
    return read_pt18(data, p, kind, skeleton)


def _row_box(row: np.ndarray) -> np.ndarray | None:
    return None if np.isnan(row).all() else row


def read_annotations(
    path: PathLike, *, root: PathLike | None = None, skeleton: Skeleton | None = None
) -> VideoGT:
    """Read one ground-truth video file (PT18 or PT17 JSON) into the object model.

    `root` resolves each frame's `file_name` to an image path.
    """
    return _video_gt(read_file(path, "gt", skeleton=skeleton), root)


def annotations_from_document(
    data: Any, path: PathLike, *, root: PathLike | None = None, skeleton: Skeleton | None = None
) -> VideoGT:
    """Like :func:`read_annotations` for a document already in memory (`path` names it)."""
    return _video_gt(parse_document(data, path, "gt", skeleton=skeleton), root)


def _video_gt(parsed: PoseTrackFile, root: PathLike | None) -> VideoGT:
    root_path = Path(root) if root is not None else None
    offsets = parsed.frame_offsets()
    frames = []
    for i, info in enumerate(parsed.frames):
        persons = [
            PersonGT(parsed.keypoints[r], track_id=int(parsed.track_ids[r]),
                     box=_row_box(parsed.boxes[r]), head_box=_row_box(parsed.head_boxes[r]))
            for r in range(offsets[i], offsets[i + 1])
        ]
        frames.append(FrameGT(
            index=i, file_name=info.file_name, persons=persons, is_labeled=info.is_labeled,
            ignore_regions=info.ignore_regions, frame_id=info.frame_id,
            image_path=(root_path / info.file_name) if root_path is not None else None,
            size=info.size,
        ))
    return VideoGT(name=parsed.path.stem, skeleton=parsed.skeleton, frames=frames, meta=parsed.meta)


def read_predictions(path: PathLike, *, skeleton: Skeleton | None = None) -> VideoPred:
    """Read one prediction file (PT18 or PT17 JSON) into the object model."""
    parsed = read_file(path, "pred", skeleton=skeleton)
    offsets = parsed.frame_offsets()
    frames = []
    for i, info in enumerate(parsed.frames):
        persons = [
            PersonPred(parsed.keypoints[r], track_id=int(parsed.track_ids[r]),
                       score=float(parsed.person_scores[r]), box=_row_box(parsed.boxes[r]))
            for r in range(offsets[i], offsets[i + 1])
        ]
        frames.append(FramePred(index=i, file_name=info.file_name, persons=persons,
                                frame_id=info.frame_id))
    return VideoPred(name=parsed.path.stem, skeleton=parsed.skeleton, frames=frames, meta=parsed.meta)
