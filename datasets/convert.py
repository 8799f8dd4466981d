"""Any adapter's ground truth as PoseTrack'18 JSON, one file per video (``vposebench convert``).

The interchange format carries every dataset: PoseTrack'18 videos are written back as read
(a round trip keeps every field the evaluator reads); PoseTrack'17 videos are mapped to the
17 PT18 slots with the official converter's joint mapping and get PT18's ``bbox`` rule (the
annotated keypoints' extent enlarged 1.3 times); JHMDB and Penn Action keep their own joints
(named in ``categories[0].keypoints``), their own person box in ``bbox`` and their
visibility in ``v``.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable
from pathlib import Path

import numpy as np

from vposebench.boxes import keypoint_box
from vposebench.errors import UserError
from vposebench.formats import read_annotations, write_annotations
from vposebench.skeleton import POSETRACK17, POSETRACK18, PT17_ID_FOR_PT18_SLOT
from vposebench.structures import FrameGT, PersonGT, VideoGT

from .base import DatasetDescription, VideoDataset, summarize_repairs

#: the enlargement of the keypoint extent that gives PoseTrack'18's `bbox`
PT18_BOX_SCALE = 1.3


def pt17_person_to_pt18(person: PersonGT) -> PersonGT:
    """A PT17 person in PT18 slot order (ears left (0, 0, 0)) with the 1.3x keypoint box."""
    keypoints = np.zeros((POSETRACK18.num_joints, 3))
    slots = PT17_ID_FOR_PT18_SLOT >= 0
    keypoints[slots] = person.keypoints[PT17_ID_FOR_PT18_SLOT[slots]]
    annotated = person.annotated
    box = keypoint_box(person.keypoints, annotated, scale=PT18_BOX_SCALE) if annotated.any() else None
    return PersonGT(keypoints, track_id=person.track_id, box=box, head_box=person.head_box)


def to_posetrack18(video: VideoGT) -> VideoGT:
    """The video as the interchange format holds it: PT17 is remapped, other sets are kept."""
    if video.skeleton != POSETRACK17:
        return video
    frames = [
        dataclasses.replace(frame, persons=[pt17_person_to_pt18(p) for p in frame.persons])
        for frame in video.frames
    ]
    meta = {k: video.meta[k] for k in ("vid_id",) if k in video.meta}
    meta.update(format="posetrack18", converted_from="posetrack17", nframes=len(frames))
    return VideoGT(name=video.name, skeleton=POSETRACK18, frames=frames, meta=meta)


@dataclasses.dataclass
class ConversionSummary:
    """What `convert_dataset` wrote."""

    out: Path
    description: DatasetDescription
    files: list[Path]
    #: video name -> one line per kind of box repair the adapter made
    repairs: dict[str, list[str]]


def _check_output_folder(out: Path, names: list[str]) -> None:
    if out.exists() and not out.is_dir():
        raise UserError("expected an output folder, found a file", path=out)
    if not out.exists():
        return
    ours = {f"{name}.json" for name in names}
    others = sorted(p.name for p in out.glob("*.json") if p.name not in ours)
    if others:
        raise UserError(f"the output folder holds {len(others)} other .json file(s) (e.g. "
                        f"{others[0]}) that would mix with this conversion; use an empty folder",
                        path=out)


def _check_names(videos: list[VideoGT], dataset: VideoDataset) -> None:
    seen: set[str] = set()
    for video in videos:
        if not video.name or video.name in seen or os.sep in video.name or video.name.startswith("."):
            raise UserError(f"video name {video.name!r} cannot be a unique file name",
                            path=dataset.root)
        seen.add(video.name)


def convert_dataset(dataset: VideoDataset, out: str | os.PathLike[str], *,
                    verify: bool = True,
                    transform: Callable[[VideoGT], VideoGT] | None = None) -> ConversionSummary:
    """Write every video of the dataset's split to ``out/<video>.json``.

    All videos are read and checked before the first file is written, so a bad input leaves
    nothing behind; each file is written atomically and, with `verify`, read back and compared
    with what was meant to be written. `transform` (e.g. temporal subsampling) is applied to
    each video first.
    """
    out_path = Path(out)
    videos = [to_posetrack18(transform(video) if transform else video) for video in dataset]
    if not videos:
        raise UserError(f"split {dataset.split!r} has no videos", path=dataset.root)
    _check_names(videos, dataset)
    _check_output_folder(out_path, [v.name for v in videos])
    files = []
    for video in videos:
        path = out_path / f"{video.name}.json"
        write_annotations(video, path)
        if verify:
            verify_written(video, path)
        files.append(path)
    repairs = {v.name: summarize_repairs(v.meta["box_repairs"])
               for v in videos if v.meta.get("box_repairs")}
    return ConversionSummary(out=out_path, description=dataset.describe(videos), files=files,
                             repairs=repairs)


def _boxes_differ(u: np.ndarray | None, v: np.ndarray | None) -> bool:
    if u is None or v is None:
        return (u is None) != (v is None)
    return not np.allclose(u, v, rtol=0, atol=1e-9)  # xywh <-> xyxy may move the last bit


def frame_difference(a: FrameGT, b: FrameGT) -> str | None:
    """The first field the evaluators read on which two GT frames disagree, or None."""
    if a.file_name != b.file_name or a.is_labeled != b.is_labeled:
        return "file_name / is_labeled"
    if a.frame_id is not None and a.frame_id != b.frame_id:
        return "frame_id"
    if len(a.ignore_regions) != len(b.ignore_regions) or not all(
            np.array_equal(r, s) for r, s in zip(a.ignore_regions, b.ignore_regions)):
        return "ignore_regions"
    if len(a.persons) != len(b.persons):
        return "number of persons"
    for k, (p, q) in enumerate(zip(a.persons, b.persons)):
        if p.track_id != q.track_id or not np.array_equal(p.keypoints, q.keypoints):
            return f"person {k}: track_id / keypoints"
        if _boxes_differ(p.box, q.box) or _boxes_differ(p.head_box, q.head_box):
            return f"person {k}: bbox / bbox_head"
    return None


def verify_written(video: VideoGT, path: Path) -> None:
    """Read a written file back and check it holds `video` (a failure is a bug, not bad input)."""
    back = read_annotations(path, skeleton=video.skeleton)
    if len(back.frames) != len(video.frames):
        raise RuntimeError(f"{path}: wrote {len(video.frames)} frames, read {len(back.frames)}")
    for a, b in zip(video.frames, back.frames):
        diff = frame_difference(a, b)
        if diff is not None:
            raise RuntimeError(f"{path}: frame {a.index} does not round-trip ({diff})")
