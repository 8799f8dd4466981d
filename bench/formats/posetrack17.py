"""PoseTrack'17 documents (``annolist``, every scalar wrapped in a one-element list) -> flat arrays."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from ..skeleton import POSETRACK17
from .jsonfile import Fields, unwrap
from .parsed import FrameInfo, PoseTrackFile


def _pt17_points(rect: dict, f: Fields, field: str) -> tuple[list[tuple[int, dict, str]], bool]:
    """The listed points of a person (first listing of a joint id wins, as in the official
    evaluation) and whether the person has an ``annopoints[0].point`` list at all."""
    annopoints = _pt17_objects(rect.get("annopoints"), f, f"{field}.annopoints")
    if not annopoints or annopoints[0].get("point") is None:
        return [], False
    points = _pt17_objects(annopoints[0]["point"], f, f"{field}.annopoints.point")
    out = []
    seen: set[int] = set()
    for k, point in enumerate(points):
        pfield = f"{field}.annopoints.point[{k}]"
        joint = f.int_(unwrap(f.get(point, "id", pfield)), f"{pfield}.id")
        if not 0 <= joint < POSETRACK17.num_joints:
            raise f.fail(f"{pfield}.id", f"joint id {joint} is outside 0..14")
        if joint not in seen:
            seen.add(joint)
            out.append((joint, point, pfield))
    return out, True


def _pt17_list(value: Any, f: Fields, field: str) -> list:
    if value is None:
        return []
    if isinstance(value, dict):  # a bare struct where a list of one is meant
        return [value]
    return f.list_(value, field)


def _pt17_objects(value: Any, f: Fields, field: str) -> list[dict]:
    """A list of objects (or one bare object); anything else names the field."""
    items = _pt17_list(value, f, field)
    for k, item in enumerate(items):
        if not isinstance(item, dict):
            raise f.fail(f"{field}[{k}]", f"expected an object, got {type(item).__name__}")
    return items


def _pt17_name(frame: dict, f: Fields, field: str) -> str:
    image = unwrap(f.get(frame, "image", field))
    name = unwrap(f.get(image, "name", f"{field}.image"))
    if not isinstance(name, str):
        raise f.fail(f"{field}.image.name", f"expected a string, got {name!r}")
    return name


def _pt17_ignore_regions(frame: dict, f: Fields, field: str) -> list[np.ndarray]:
    out = []
    for r, region in enumerate(_pt17_objects(frame.get("ignore_regions"), f, f"{field}.ignore_regions")):
        pfield = f"{field}.ignore_regions[{r}].point"
        points = _pt17_objects(region.get("point"), f, pfield)
        xy = [
            (f.number(unwrap(p.get("x")), f"{pfield}[{k}].x"),
             f.number(unwrap(p.get("y")), f"{pfield}[{k}].y"))
            for k, p in enumerate(points)
        ]
        out.append(np.asarray(xy, dtype=np.float64).reshape(-1, 2))
    return out


def _pt17_head_box(rect: dict, f: Fields, field: str) -> np.ndarray:
    keys = ("x1", "y1", "x2", "y2")
    if not all(k in rect for k in keys):
        return np.full(4, np.nan)
    return np.array([f.number(unwrap(rect[k]), f"{field}.{k}") for k in keys])


def read_pt17(data: dict, path: Path, kind: str) -> PoseTrackFile:
    """Parse a loaded PT17 document (always the 15-joint PoseTrack'17 skeleton)."""
    f = Fields(path)
    n = POSETRACK17.num_joints
    frames: list[FrameInfo] = []
    frame_of, kps_rows, tracks, heads, pscores, source, has_points = [], [], [], [], [], [], []
    for i, frame in enumerate(_pt17_objects(data["annolist"], f, "annolist")):
        field = f"annolist[{i}]"
        rects = _pt17_objects(frame.get("annorect"), f, f"{field}.annorect")
        for k, rect in enumerate(rects):
            rfield = f"{field}.annorect[{k}]"
            kps = np.zeros((n, 3)) if kind == "gt" else np.full((n, 3), np.nan)
            points, listed = _pt17_points(rect, f, rfield)
            for joint, point, pfield in points:
                x = f.number(unwrap(f.get(point, "x", pfield)), f"{pfield}.x")
                y = f.number(unwrap(f.get(point, "y", pfield)), f"{pfield}.y")
                if kind == "gt":
                    third = 1.0  # listed = annotated (is_visible is optional and unused)
                else:
                    score = point.get("score")
                    third = np.nan if score is None else f.number(unwrap(score), f"{pfield}.score")
                kps[joint] = (x, y, third)
            track = rect.get("track_id")
            if track is None and kind == "pred":
                f.get(rect, "track_id", rfield)
            tracks.append(-1 if track is None else f.int_(unwrap(track), f"{rfield}.track_id"))
            score = rect.get("score")
            pscores.append(np.nan if score is None else f.number(unwrap(score), f"{rfield}.score"))
            heads.append(_pt17_head_box(rect, f, rfield))
            kps_rows.append(kps)
            frame_of.append(i)
            source.append(k)
            has_points.append(listed)
        labeled = frame.get("is_labeled")
        frames.append(FrameInfo(
            file_name=_pt17_name(frame, f, field),
            is_labeled=bool(rects) if labeled is None else f.bool_(unwrap(labeled), f"{field}.is_labeled"),
            ignore_regions=_pt17_ignore_regions(frame, f, field) if kind == "gt" else [],
        ))
    count = len(frame_of)
    return PoseTrackFile(
        path=path, format="posetrack17", kind=kind, skeleton=POSETRACK17, frames=frames,
        person_frame=np.array(frame_of, dtype=np.int64),
        keypoints=np.array(kps_rows).reshape(count, n, 3),
        track_ids=np.array(tracks, dtype=np.int64),
        boxes=np.full((count, 4), np.nan),
        head_boxes=np.array(heads).reshape(count, 4),
        person_scores=np.array(pscores, dtype=np.float64),
        meta={"format": "posetrack17", "source": str(path)},
        source_index=np.array(source, dtype=np.int64),
        has_points=np.array(has_points, dtype=bool),
    )
