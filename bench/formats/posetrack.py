"""PoseTrack JSON, the suite's interchange format: read PT18 and PT17 files, write PT18.

One file holds one video. The format is detected per file: PoseTrack'18 (``images`` /
``annotations`` / ``categories``, COCO style) or PoseTrack'17 (``annolist``, every scalar
wrapped in a one-element list). Ground truth and predictions share the format; predictions
carry per-joint ``scores`` and an integer ``track_id``.

Other datasets converted by ``vposebench convert`` are written in the PT18 layout with their
own joints named in ``categories[0].keypoints``; the reader picks the skeleton from those
names (17 unnamed triplets mean PoseTrack'18).

Every malformed input raises :class:`~vposebench.errors.UserError` naming the file and the
field (``annotations[3].keypoints``), never a bare exception.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..atomic import atomic_write
from ..boxes import xywh_to_xyxy, xyxy_to_xywh
from ..errors import UserError
from ..skeleton import (
    POSETRACK17,
    POSETRACK18,
    Skeleton,
    skeleton_by_joints,
)
from ..structures import FrameGT, FramePred, PersonGT, PersonPred, VideoGT, VideoPred

PathLike = str | os.PathLike[str]


# ----------------------------------------------------------------------------- reading JSON
def load_json(path: PathLike) -> Any:
    """Parse a JSON file; a missing or truncated file is a UserError naming it."""
    p = Path(path)
    try:
        with open(p, "rb") as handle:
            raw = handle.read()
    except FileNotFoundError:
        raise UserError("file not found", path=p) from None
    except IsADirectoryError:
        raise UserError("expected a file, found a folder", path=p) from None
    except OSError as exc:
        raise UserError(f"cannot read file ({exc.strerror})", path=p) from None
    if not raw.strip():
        raise UserError("file is empty", path=p)
    try:
        return json.loads(raw)
    except json.JSONDecodeError as exc:
        raise UserError(
            f"invalid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}", path=p
        ) from None
    except UnicodeDecodeError:
        raise UserError("not UTF-8 text", path=p) from None


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


# ----------------------------------------------------------------------------- field checks
class _Fields:
    """Typed access to JSON fields with errors that name the file and the field."""

    def __init__(self, path: PathLike) -> None:
        self.path = str(path)

    def fail(self, field: str, message: str) -> UserError:
        return UserError(message, path=self.path, field=field)

    def get(self, obj: dict, key: str, field: str, *, required: bool = True) -> Any:
        if not isinstance(obj, dict):
            raise self.fail(field, f"expected an object, got {type(obj).__name__}")
        if key not in obj:
            if required:
                raise self.fail(f"{field}.{key}", "missing field")
            return None
        return obj[key]

    def list_(self, value: Any, field: str) -> list:
        if not isinstance(value, list):
            raise self.fail(field, f"expected a list, got {type(value).__name__}")
        return value

    def int_(self, value: Any, field: str) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            if isinstance(value, float) and value.is_integer():
                return int(value)
            raise self.fail(field, f"expected an integer, got {value!r}")
        return value

    def bool_(self, value: Any, field: str) -> bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, int) and value in (0, 1):
            return bool(value)
        raise self.fail(field, f"expected true/false, got {value!r}")

    def number(self, value: Any, field: str, *, finite: bool = True) -> float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise self.fail(field, f"expected a number, got {value!r}")
        if finite and not math.isfinite(value):
            raise self.fail(field, f"expected a finite number, got {value!r}")
        return float(value)

    def numbers(self, value: Any, field: str, *, length: int | None = None, finite: bool = True) -> np.ndarray:
        """A list of numbers as float64 (strings, nulls, bools and NaN are refused)."""
        seq = self.list_(value, field)
        try:
            arr = np.asarray(seq) if seq else np.zeros(0)
        except (ValueError, TypeError):  # ragged nesting
            arr = np.zeros((0, 0))
        if arr.dtype.kind not in "iuf" or arr.ndim != 1:
            bad = next((v for v in seq if isinstance(v, bool) or not isinstance(v, (int, float))), None)
            raise self.fail(field, f"expected a list of numbers, found {bad!r}")
        arr = arr.astype(np.float64)
        if length is not None and len(arr) != length:
            raise self.fail(field, f"expected {length} numbers, got {len(arr)}")
        if finite and not np.isfinite(arr).all():
            raise self.fail(field, "contains NaN or infinite values")
        return arr


def _unwrap(value: Any) -> Any:
    """PT17 wraps scalars in one-element lists: [x] -> x."""
    while isinstance(value, list) and len(value) == 1:
        value = value[0]
    return value


# ----------------------------------------------------------------------------- PT18
def _pt18_skeleton(data: dict, f: _Fields, expected: Skeleton | None) -> Skeleton:
    cats = data.get("categories")
    if cats:
        names = f.get(f.list_(cats, "categories")[0], "keypoints", "categories[0]", required=False)
        if names is not None:
            skeleton = skeleton_by_joints(f.list_(names, "categories[0].keypoints"))
            if skeleton is None:
                raise f.fail("categories[0].keypoints", f"unknown joint set {names!r}")
            if expected is not None and skeleton != expected:
                raise f.fail(
                    "categories[0].keypoints",
                    f"joint set {skeleton.name!r} does not match the expected {expected.name!r}",
                )
            return skeleton
    return expected if expected is not None else POSETRACK18


def _pt18_frames(data: dict, f: _Fields, root: Path | None) -> tuple[list[dict], dict[int, int]]:
    """The `images` list in file order and the image id -> position map."""
    images = f.list_(data["images"], "images")
    by_id: dict[int, int] = {}
    for i, image in enumerate(images):
        image_id = f.int_(f.get(image, "id", f"images[{i}]"), f"images[{i}].id")
        if image_id in by_id:
            raise f.fail(f"images[{i}].id", f"duplicate image id {image_id}")
        by_id[image_id] = i
    return images, by_id


def _pt18_ignore_regions(image: dict, f: _Fields, field: str) -> list[np.ndarray]:
    xs = image.get("ignore_regions_x") or []
    ys = image.get("ignore_regions_y") or []
    f.list_(xs, f"{field}.ignore_regions_x")
    f.list_(ys, f"{field}.ignore_regions_y")
    if len(xs) != len(ys):
        raise f.fail(f"{field}.ignore_regions_x", "ignore_regions_x and _y differ in length")
    regions = []
    for r, (rx, ry) in enumerate(zip(xs, ys)):
        px = f.numbers(rx, f"{field}.ignore_regions_x[{r}]")
        py = f.numbers(ry, f"{field}.ignore_regions_y[{r}]", length=len(px))
        regions.append(np.stack([px, py], axis=1))
    return regions


def _pt18_annotations_by_frame(data: dict, f: _Fields, by_id: dict[int, int]) -> list[list[tuple[int, dict]]]:
    per_frame: list[list[tuple[int, dict]]] = [[] for _ in by_id]
    annotations = data.get("annotations")
    if annotations is None:
        return per_frame
    for a, ann in enumerate(f.list_(annotations, "annotations")):
        image_id = f.int_(f.get(ann, "image_id", f"annotations[{a}]"), f"annotations[{a}].image_id")
        if image_id not in by_id:
            raise f.fail(f"annotations[{a}].image_id", f"no image with id {image_id}")
        per_frame[by_id[image_id]].append((a, ann))
    return per_frame


def _pt18_box(ann: dict, key: str, f: _Fields, field: str) -> np.ndarray | None:
    value = ann.get(key)
    if value is None or (isinstance(value, list) and not value):
        return None
    return xywh_to_xyxy(f.numbers(value, f"{field}.{key}", length=4))


def _read_pt18_gt(data: dict, path: Path, root: Path | None, expected: Skeleton | None) -> VideoGT:
    f = _Fields(path)
    skeleton = _pt18_skeleton(data, f, expected)
    images, by_id = _pt18_frames(data, f, root)
    per_frame = _pt18_annotations_by_frame(data, f, by_id)
    n_values = 3 * skeleton.num_joints
    frames: list[FrameGT] = []
    for i, image in enumerate(images):
        field = f"images[{i}]"
        file_name = f.get(image, "file_name", field)
        if not isinstance(file_name, str):
            raise f.fail(f"{field}.file_name", f"expected a string, got {file_name!r}")
        persons = []
        for a, ann in per_frame[i]:
            afield = f"annotations[{a}]"
            kps = f.numbers(f.get(ann, "keypoints", afield), f"{afield}.keypoints", length=n_values)
            track = ann.get("track_id")
            persons.append(
                PersonGT(
                    keypoints=kps.reshape(-1, 3),
                    track_id=-1 if track is None else f.int_(track, f"{afield}.track_id"),
                    box=_pt18_box(ann, "bbox", f, afield),
                    head_box=_pt18_box(ann, "bbox_head", f, afield),
                )
            )
        labeled = image.get("is_labeled")
        frame_id = image.get("frame_id", image["id"])
        size = None
        if isinstance(image.get("height"), int) and isinstance(image.get("width"), int):
            size = (image["height"], image["width"])
        frames.append(
            FrameGT(
                index=i,
                file_name=file_name,
                persons=persons,
                is_labeled=bool(persons) if labeled is None else f.bool_(labeled, f"{field}.is_labeled"),
                ignore_regions=_pt18_ignore_regions(image, f, field),
                frame_id=f.int_(frame_id, f"{field}.frame_id"),
                image_path=(root / file_name) if root is not None else None,
                size=size,
            )
        )
    meta: dict[str, Any] = {"format": "posetrack18", "source": str(path)}
    if images:
        for key in ("vid_id", "nframes"):
            if key in images[0]:
                meta[key] = images[0][key]
    return VideoGT(name=path.stem, skeleton=skeleton, frames=frames, meta=meta)


def _read_pt18_pred(data: dict, path: Path, expected: Skeleton | None) -> VideoPred:
    f = _Fields(path)
    skeleton = _pt18_skeleton(data, f, expected)
    images, by_id = _pt18_frames(data, f, None)
    per_frame = _pt18_annotations_by_frame(data, f, by_id)
    n = skeleton.num_joints
    frames: list[FramePred] = []
    for i, image in enumerate(images):
        persons = []
        for a, ann in per_frame[i]:
            afield = f"annotations[{a}]"
            kps = f.numbers(f.get(ann, "keypoints", afield), f"{afield}.keypoints", length=3 * n)
            kps = kps.reshape(n, 3)
            track = f.int_(f.get(ann, "track_id", afield), f"{afield}.track_id")
            scores = ann.get("scores")
            if scores is None or (isinstance(scores, list) and not scores):
                joint_scores = np.full(n, np.nan)
            else:
                joint_scores = f.numbers(scores, f"{afield}.scores", length=n, finite=False)
            absent = (kps[:, 0] == 0) & (kps[:, 1] == 0) & (kps[:, 2] == 0)
            xy = np.where(absent[:, None], np.nan, kps[:, :2])
            person_score = ann.get("score")
            persons.append(
                PersonPred(
                    keypoints=np.column_stack([xy, joint_scores]),
                    track_id=track,
                    score=float("nan") if person_score is None
                    else f.number(_unwrap(person_score), f"{afield}.score", finite=False),
                    box=_pt18_box(ann, "bbox", f, afield),
                )
            )
        frame_id = image.get("frame_id", image["id"])
        frames.append(
            FramePred(index=i, file_name=str(image.get("file_name", "")), persons=persons,
                      frame_id=f.int_(frame_id, f"images[{i}].frame_id"))
        )
    return VideoPred(name=path.stem, skeleton=skeleton, frames=frames, meta={"format": "posetrack18"})


# ----------------------------------------------------------------------------- PT17
def _pt17_points(rect: dict, f: _Fields, field: str) -> list[tuple[int, dict, str]]:
    annopoints = rect.get("annopoints")
    if annopoints is None:
        return []
    if isinstance(annopoints, list):
        if not annopoints:
            return []
        annopoints = annopoints[0]
    points = annopoints.get("point") if isinstance(annopoints, dict) else None
    if points is None:
        return []
    if isinstance(points, dict):
        points = [points]
    out = []
    for k, point in enumerate(f.list_(points, f"{field}.annopoints.point")):
        pfield = f"{field}.annopoints.point[{k}]"
        joint = f.int_(_unwrap(f.get(point, "id", pfield)), f"{pfield}.id")
        if not 0 <= joint < POSETRACK17.num_joints:
            raise f.fail(f"{pfield}.id", f"joint id {joint} is outside 0..14")
        out.append((joint, point, pfield))
    return out


def _pt17_frames(data: dict, f: _Fields) -> list[dict]:
    annolist = data["annolist"]
    if isinstance(annolist, dict):
        annolist = [annolist]
    return f.list_(annolist, "annolist")


def _pt17_rects(frame: dict, f: _Fields, field: str) -> list[tuple[dict, str]]:
    rects = frame.get("annorect") or []
    if isinstance(rects, dict):
        rects = [rects]
    return [(r, f"{field}.annorect[{k}]") for k, r in enumerate(f.list_(rects, f"{field}.annorect"))]


def _pt17_name(frame: dict, f: _Fields, field: str) -> str:
    image = _unwrap(f.get(frame, "image", field))
    name = _unwrap(f.get(image, "name", f"{field}.image"))
    if not isinstance(name, str):
        raise f.fail(f"{field}.image.name", f"expected a string, got {name!r}")
    return name


def _pt17_ignore_regions(frame: dict, f: _Fields, field: str) -> list[np.ndarray]:
    regions = frame.get("ignore_regions") or []
    if isinstance(regions, dict):
        regions = [regions]
    out = []
    for r, region in enumerate(f.list_(regions, f"{field}.ignore_regions")):
        points = region.get("point") if isinstance(region, dict) else None
        if not points:
            continue
        if isinstance(points, dict):
            points = [points]
        xy = [
            (f.number(_unwrap(p.get("x")), f"{field}.ignore_regions[{r}].point[{k}].x"),
             f.number(_unwrap(p.get("y")), f"{field}.ignore_regions[{r}].point[{k}].y"))
            for k, p in enumerate(points)
        ]
        out.append(np.asarray(xy, dtype=np.float64))
    return out


def _pt17_head_box(rect: dict, f: _Fields, field: str) -> np.ndarray | None:
    keys = ("x1", "y1", "x2", "y2")
    if not all(k in rect for k in keys):
        return None
    return np.array([f.number(_unwrap(rect[k]), f"{field}.{k}") for k in keys])


def _read_pt17_gt(data: dict, path: Path, root: Path | None) -> VideoGT:
    f = _Fields(path)
    frames = []
    for i, frame in enumerate(_pt17_frames(data, f)):
        field = f"annolist[{i}]"
        name = _pt17_name(frame, f, field)
        persons = []
        for rect, rfield in _pt17_rects(frame, f, field):
            kps = np.zeros((POSETRACK17.num_joints, 3))
            for joint, point, pfield in _pt17_points(rect, f, rfield):
                kps[joint] = (
                    f.number(_unwrap(f.get(point, "x", pfield)), f"{pfield}.x"),
                    f.number(_unwrap(f.get(point, "y", pfield)), f"{pfield}.y"),
                    1.0,  # listed = annotated (is_visible is optional and unused)
                )
            track = rect.get("track_id")
            persons.append(PersonGT(
                keypoints=kps,
                track_id=-1 if track is None else f.int_(_unwrap(track), f"{rfield}.track_id"),
                head_box=_pt17_head_box(rect, f, rfield),
            ))
        labeled = frame.get("is_labeled")
        frames.append(FrameGT(
            index=i,
            file_name=name,
            persons=persons,
            is_labeled=bool(persons) if labeled is None
            else f.bool_(_unwrap(labeled), f"{field}.is_labeled"),
            ignore_regions=_pt17_ignore_regions(frame, f, field),
            image_path=(root / name) if root is not None else None,
        ))
    meta = {"format": "posetrack17", "source": str(path)}
    return VideoGT(name=path.stem, skeleton=POSETRACK17, frames=frames, meta=meta)


def _read_pt17_pred(data: dict, path: Path) -> VideoPred:
    f = _Fields(path)
    frames = []
    n = POSETRACK17.num_joints
    for i, frame in enumerate(_pt17_frames(data, f)):
        field = f"annolist[{i}]"
        persons = []
        for rect, rfield in _pt17_rects(frame, f, field):
            kps = np.full((n, 3), np.nan)
            for joint, point, pfield in _pt17_points(rect, f, rfield):
                score = point.get("score")
                kps[joint] = (
                    f.number(_unwrap(f.get(point, "x", pfield)), f"{pfield}.x"),
                    f.number(_unwrap(f.get(point, "y", pfield)), f"{pfield}.y"),
                    np.nan if score is None else f.number(_unwrap(score), f"{pfield}.score", finite=False),
                )
            track = f.int_(_unwrap(f.get(rect, "track_id", rfield)), f"{rfield}.track_id")
            score = rect.get("score")
            persons.append(PersonPred(
                keypoints=kps,
                track_id=track,
                score=float("nan") if score is None else f.number(_unwrap(score), f"{rfield}.score", finite=False),
            ))
        frames.append(FramePred(index=i, file_name=_pt17_name(frame, f, field), persons=persons))
    return VideoPred(name=path.stem, skeleton=POSETRACK17, frames=frames, meta={"format": "posetrack17"})


# ----------------------------------------------------------------------------- public API
def read_annotations(
    path: PathLike, *, root: PathLike | None = None, skeleton: Skeleton | None = None
) -> VideoGT:
    """Read one ground-truth video file (PT18 or PT17 JSON).

    `root` resolves each frame's `file_name` to an image path. `skeleton`, when given, is the
    joint set the file must declare (PT18 files without categories are taken to use it).
    """
    p = Path(path)
    data = load_json(p)
    root_path = Path(root) if root is not None else None
    if detect_format(data, p) == "pt17":
        return _read_pt17_gt(data, p, root_path)
    return _read_pt18_gt(data, p, root_path, skeleton)


def read_predictions(path: PathLike, *, skeleton: Skeleton | None = None) -> VideoPred:
    """Read one prediction file (PT18 or PT17 JSON)."""
    p = Path(path)
    data = load_json(p)
    if detect_format(data, p) == "pt17":
        return _read_pt17_pred(data, p)
    return _read_pt18_pred(data, p, skeleton)


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
    images = _image_entries(video.frames, None if vid_id is None else str(vid_id), len(video.frames))
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


def list_video_files(folder: PathLike) -> list[Path]:
    """The *.json files of a GT or prediction folder, sorted by name."""
    p = Path(folder)
    if not p.exists():
        raise UserError("folder not found", path=p)
    if not p.is_dir():
        raise UserError("expected a folder of per-video JSON files", path=p)
    files = sorted(x for x in p.iterdir() if x.suffix == ".json" and x.is_file())
    if not files:
        raise UserError("no .json files in folder", path=p)
    return files
