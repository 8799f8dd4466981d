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

Reading is the hot path of evaluation, so a file is parsed into flat arrays (all persons of
all frames, :class:`PoseTrackFile`) with one numpy conversion per field; only when that fails
does a slow field-by-field pass run, to name the offending field.
"""

from __future__ import annotations

import contextlib
import dataclasses
import gc
import json
import math
import os
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import orjson

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
@contextlib.contextmanager
def _collector_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector: a parsed document is millions of new lists and
    dicts (no cycles), and the collections they trigger would otherwise take ~3/4 of the time."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


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
        with _collector_paused():
            return orjson.loads(raw)
    except orjson.JSONDecodeError:
        pass  # NaN literals or a real error: the standard parser accepts the one, explains the other
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
_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1


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

    def object_(self, value: Any, field: str) -> dict:
        if not isinstance(value, dict):
            raise self.fail(field, f"expected an object, got {type(value).__name__}")
        return value

    def list_(self, value: Any, field: str) -> list:
        if not isinstance(value, list):
            raise self.fail(field, f"expected a list, got {type(value).__name__}")
        return value

    def int_(self, value: Any, field: str) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            if not (isinstance(value, float) and value.is_integer()):
                raise self.fail(field, f"expected an integer, got {value!r}")
            value = int(value)
        if not _INT64_MIN <= value <= _INT64_MAX:
            raise self.fail(field, f"integer {value} is out of the 64-bit range")
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


# ----------------------------------------------------------------------------- parsed file
@dataclasses.dataclass
class FrameInfo:
    """Per-frame fields of a PoseTrack file (everything but the persons)."""

    file_name: str
    is_labeled: bool
    frame_id: int | None = None
    ignore_regions: list[np.ndarray] = dataclasses.field(default_factory=list)
    size: tuple[int, int] | None = None  # (height, width) where the file states it


@dataclasses.dataclass
class PoseTrackFile:
    """One video file as flat arrays over its N persons, sorted by frame (file order within).

    For ground truth, ``keypoints[..., 2]`` is the stored ``v``; for predictions it is the
    joint score (NaN when the file gives none) and absent joints have NaN x, y.
    """

    path: Path
    format: str  # "posetrack18" | "posetrack17"
    kind: str  # "gt" | "pred"
    skeleton: Skeleton
    frames: list[FrameInfo]
    person_frame: np.ndarray  # (N,) frame position of each person, non-decreasing
    keypoints: np.ndarray  # (N, J, 3)
    track_ids: np.ndarray  # (N,) int64; -1 where GT has none
    boxes: np.ndarray  # (N, 4) person box xyxy, NaN rows where absent
    head_boxes: np.ndarray  # (N, 4) head box xyxy, NaN rows where absent
    person_scores: np.ndarray  # (N,) NaN where absent
    meta: dict[str, Any] = dataclasses.field(default_factory=dict)
    #: (N,) index of each person in the file: PT18 `annotations[i]`, PT17 `annorect[i]` of its frame
    source_index: np.ndarray | None = None
    #: (N,) False for a PT17 person with no `annopoints[0].point` list (the official evaluation
    #: drops those; a PT18 person always has one, possibly empty)
    has_points: np.ndarray | None = None

    @property
    def num_persons(self) -> int:
        return len(self.person_frame)

    def person_field(self, row: int) -> str:
        """Where person `row` sits in the file, as a field path for error messages."""
        index = int(self.source_index[row]) if self.source_index is not None else row
        if self.format == "posetrack17":
            return f"annolist[{int(self.person_frame[row])}].annorect[{index}]"
        return f"annotations[{index}]"

    def frame_offsets(self) -> np.ndarray:
        """(F + 1,) offsets: persons of frame f are rows offsets[f]:offsets[f + 1]."""
        return np.searchsorted(self.person_frame, np.arange(len(self.frames) + 1))


def _sorted_by_frame(frame_of: np.ndarray, **arrays: np.ndarray) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    order = np.argsort(frame_of, kind="stable")
    if np.all(order[:-1] < order[1:]):  # already sorted: no copies
        return frame_of, arrays
    return frame_of[order], {k: v[order] for k, v in arrays.items()}


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


def _image_size(image: dict) -> tuple[int, int] | None:
    if isinstance(image.get("height"), int) and isinstance(image.get("width"), int):
        return image["height"], image["width"]
    return None


def _pt18_frames_fast(images: list, f: _Fields, kind: str) -> tuple[list[FrameInfo], dict[int, int]] | None:
    """The common case (plain ints, strings, bools) in a few list passes; None when anything
    is unusual, so that the field-by-field pass can name it."""
    try:
        ids = [image["id"] for image in images]
        names = [image["file_name"] if kind == "gt" else image.get("file_name") for image in images]
        labeled = [image.get("is_labeled") for image in images]
        frame_ids = [image.get("frame_id", image["id"]) for image in images]
    except (KeyError, TypeError, AttributeError):
        return None
    if not (all(type(v) is int for v in ids) and all(type(v) is int for v in frame_ids)  # noqa: E721
            and all(v is None or type(v) is bool for v in labeled)  # noqa: E721
            and all(v is None or type(v) is str for v in names)):  # noqa: E721
        return None
    by_id = {image_id: i for i, image_id in enumerate(ids)}
    if len(by_id) != len(ids):
        return None
    frames = []
    for i, image in enumerate(images):
        regions: list[np.ndarray] = []
        if kind == "gt" and (image.get("ignore_regions_x") or image.get("ignore_regions_y")):
            regions = _pt18_ignore_regions(image, f, f"images[{i}]")
        frames.append(FrameInfo(file_name=names[i] or "", is_labeled=labeled[i] is not False,
                                frame_id=frame_ids[i], ignore_regions=regions, size=_image_size(image)))
    return frames, by_id


def _pt18_frames(data: dict, f: _Fields, kind: str) -> tuple[list[FrameInfo], dict[int, int], dict]:
    """Frame infos in file order, the image id -> position map, and video-level fields."""
    images = f.list_(data["images"], "images")
    meta = {k: images[0][k] for k in ("vid_id", "nframes") if images and isinstance(images[0], dict) and k in images[0]}
    fast = _pt18_frames_fast(images, f, kind)
    if fast is not None:
        return (*fast, meta)
    by_id: dict[int, int] = {}
    frames = []
    for i, image in enumerate(images):
        field = f"images[{i}]"
        image_id = f.int_(f.get(image, "id", field), f"{field}.id")
        if image_id in by_id:
            raise f.fail(f"{field}.id", f"duplicate image id {image_id}")
        by_id[image_id] = i
        file_name = f.get(image, "file_name", field, required=kind == "gt")
        if file_name is None:
            file_name = ""
        elif not isinstance(file_name, str):
            raise f.fail(f"{field}.file_name", f"expected a string, got {file_name!r}")
        labeled = image.get("is_labeled")
        frame_id = image.get("frame_id", image_id)
        frames.append(FrameInfo(
            file_name=file_name,
            is_labeled=True if labeled is None else f.bool_(labeled, f"{field}.is_labeled"),
            frame_id=f.int_(frame_id, f"{field}.frame_id"),
            ignore_regions=_pt18_ignore_regions(image, f, field) if kind == "gt" else [],
            size=_image_size(image),
        ))
    return frames, by_id, meta


def _pt18_persons_slow(anns: list, f: _Fields, by_id: dict[int, int], kind: str, n_joints: int) -> None:
    """Field-by-field validation of every annotation; raises the precise UserError."""
    for a, ann in enumerate(anns):
        field = f"annotations[{a}]"
        image_id = f.int_(f.get(ann, "image_id", field), f"{field}.image_id")
        if image_id not in by_id:
            raise f.fail(f"{field}.image_id", f"no image with id {image_id}")
        f.numbers(f.get(ann, "keypoints", field), f"{field}.keypoints", length=3 * n_joints)
        track = ann.get("track_id")
        if track is not None or kind == "pred":
            f.int_(f.get(ann, "track_id", field), f"{field}.track_id")
        for key in ("bbox", "bbox_head"):
            if ann.get(key) not in (None, []):
                f.numbers(ann[key], f"{field}.{key}", length=4)
        if kind == "pred":
            if ann.get("scores") not in (None, []):
                f.numbers(ann["scores"], f"{field}.scores", length=n_joints)
            if ann.get("score") is not None:
                f.number(_unwrap(ann["score"]), f"{field}.score")


def _numeric(values: list, width: int) -> np.ndarray | None:
    """A (len, width) float64 array if `values` is a clean numeric matrix, else None."""
    if not values:
        return np.zeros((0, width))
    try:
        arr = np.array(values)
    except (ValueError, TypeError):
        return None
    if arr.dtype.kind not in "iuf" or arr.shape != (len(values), width):
        return None
    arr = arr.astype(np.float64, copy=False)
    return arr if np.isfinite(arr).all() else None


def _sparse_rows(column: list, width: int) -> np.ndarray | None:
    """Rows of an optional per-person list field; absent or empty -> NaN row."""
    out = np.full((len(column), width), np.nan)
    present = [i for i, v in enumerate(column) if v is not None and v != []]
    if present:
        values = _numeric([column[i] for i in present], width)
        if values is None:
            return None
        out[present] = values
    return out


def _pt18_persons_fast(anns: list, by_id: dict[int, int], kind: str, n_joints: int) -> dict[str, np.ndarray] | None:
    """All annotations as arrays in one pass, or None when anything is off."""
    try:
        image_ids = [a["image_id"] for a in anns]
        if not all(type(i) is int for i in image_ids):  # noqa: E721
            return None
        frame_of = np.array([by_id[i] for i in image_ids], dtype=np.int64)
        kps = _numeric([a["keypoints"] for a in anns], 3 * n_joints)
        tracks = [a.get("track_id") for a in anns]
        if kind == "gt":
            tracks = [-1 if t is None else t for t in tracks]
        boxes = _sparse_rows([a.get("bbox") for a in anns], 4)
        heads = _sparse_rows([a.get("bbox_head") for a in anns], 4)
        scores = _sparse_rows([a.get("scores") for a in anns], n_joints) if kind == "pred" else None
        person_scores = [_unwrap(a.get("score")) for a in anns]
    except (KeyError, TypeError, AttributeError):
        return None
    if kps is None or boxes is None or heads is None or (kind == "pred" and scores is None):
        return None
    if not all(type(t) is int and _INT64_MIN <= t <= _INT64_MAX for t in tracks):  # noqa: E721 - bools and floats are wrong here
        return None
    try:
        track_arr = np.array(tracks, dtype=np.int64)
    except OverflowError:
        return None
    pscore = np.array([np.nan if s is None else s for s in person_scores], dtype=object)
    try:
        pscore = pscore.astype(np.float64)
    except (TypeError, ValueError):
        return None
    kps = kps.reshape(-1, n_joints, 3)
    if kind == "pred":
        absent = (kps[..., 0] == 0) & (kps[..., 1] == 0) & (kps[..., 2] == 0)
        kps = kps.copy()
        kps[..., 2] = scores
        kps[absent] = np.nan  # not predicted: no position, no score
    return {
        "frame_of": frame_of,
        "source_index": np.arange(len(anns), dtype=np.int64),
        "keypoints": kps,
        "track_ids": track_arr.astype(np.int64),
        "boxes": _xyxy_rows(boxes),
        "head_boxes": _xyxy_rows(heads),
        "person_scores": pscore,
    }


def _xyxy_rows(xywh: np.ndarray) -> np.ndarray:
    return xywh_to_xyxy(xywh) if len(xywh) else xywh


def _read_pt18(data: dict, path: Path, kind: str, expected: Skeleton | None) -> PoseTrackFile:
    f = _Fields(path)
    skeleton = _pt18_skeleton(data, f, expected)
    frames, by_id, meta = _pt18_frames(data, f, kind)
    anns = data.get("annotations") or []
    f.list_(anns, "annotations")
    arrays = _pt18_persons_fast(anns, by_id, kind, skeleton.num_joints)
    if arrays is None:
        _pt18_persons_slow(anns, f, by_id, kind, skeleton.num_joints)
        raise f.fail("annotations", "malformed annotations")  # pragma: no cover - slow pass raises
    frame_of, rest = _sorted_by_frame(arrays.pop("frame_of"), **arrays)
    if kind == "gt":
        has_persons = np.zeros(len(frames), dtype=bool)
        has_persons[frame_of] = True
        for i, frame in enumerate(frames):
            if "is_labeled" not in data["images"][i]:
                frame.is_labeled = bool(has_persons[i])
    meta.update({"format": "posetrack18", "source": str(path)})
    return PoseTrackFile(path=path, format="posetrack18", kind=kind, skeleton=skeleton,
                         frames=frames, person_frame=frame_of, meta=meta,
                         has_points=np.ones(len(frame_of), dtype=bool), **rest)


# ----------------------------------------------------------------------------- PT17
def _pt17_points(rect: dict, f: _Fields, field: str) -> tuple[list[tuple[int, dict, str]], bool]:
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
        joint = f.int_(_unwrap(f.get(point, "id", pfield)), f"{pfield}.id")
        if not 0 <= joint < POSETRACK17.num_joints:
            raise f.fail(f"{pfield}.id", f"joint id {joint} is outside 0..14")
        if joint not in seen:
            seen.add(joint)
            out.append((joint, point, pfield))
    return out, True


def _pt17_list(value: Any, f: _Fields, field: str) -> list:
    if value is None:
        return []
    if isinstance(value, dict):  # a bare struct where a list of one is meant
        return [value]
    return f.list_(value, field)


def _pt17_objects(value: Any, f: _Fields, field: str) -> list[dict]:
    """A list of objects (or one bare object); anything else names the field."""
    items = _pt17_list(value, f, field)
    for k, item in enumerate(items):
        if not isinstance(item, dict):
            raise f.fail(f"{field}[{k}]", f"expected an object, got {type(item).__name__}")
    return items


def _pt17_name(frame: dict, f: _Fields, field: str) -> str:
    image = _unwrap(f.get(frame, "image", field))
    name = _unwrap(f.get(image, "name", f"{field}.image"))
    if not isinstance(name, str):
        raise f.fail(f"{field}.image.name", f"expected a string, got {name!r}")
    return name


def _pt17_ignore_regions(frame: dict, f: _Fields, field: str) -> list[np.ndarray]:
    out = []
    for r, region in enumerate(_pt17_objects(frame.get("ignore_regions"), f, f"{field}.ignore_regions")):
        pfield = f"{field}.ignore_regions[{r}].point"
        points = _pt17_objects(region.get("point"), f, pfield)
        xy = [
            (f.number(_unwrap(p.get("x")), f"{pfield}[{k}].x"),
             f.number(_unwrap(p.get("y")), f"{pfield}[{k}].y"))
            for k, p in enumerate(points)
        ]
        out.append(np.asarray(xy, dtype=np.float64).reshape(-1, 2))
    return out


def _pt17_head_box(rect: dict, f: _Fields, field: str) -> np.ndarray:
    keys = ("x1", "y1", "x2", "y2")
    if not all(k in rect for k in keys):
        return np.full(4, np.nan)
    return np.array([f.number(_unwrap(rect[k]), f"{field}.{k}") for k in keys])


def _read_pt17(data: dict, path: Path, kind: str) -> PoseTrackFile:
    f = _Fields(path)
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
                x = f.number(_unwrap(f.get(point, "x", pfield)), f"{pfield}.x")
                y = f.number(_unwrap(f.get(point, "y", pfield)), f"{pfield}.y")
                if kind == "gt":
                    third = 1.0  # listed = annotated (is_visible is optional and unused)
                else:
                    score = point.get("score")
                    third = np.nan if score is None else f.number(_unwrap(score), f"{pfield}.score")
                kps[joint] = (x, y, third)
            track = rect.get("track_id")
            if track is None and kind == "pred":
                f.get(rect, "track_id", rfield)
            tracks.append(-1 if track is None else f.int_(_unwrap(track), f"{rfield}.track_id"))
            score = rect.get("score")
            pscores.append(np.nan if score is None else f.number(_unwrap(score), f"{rfield}.score"))
            heads.append(_pt17_head_box(rect, f, rfield))
            kps_rows.append(kps)
            frame_of.append(i)
            source.append(k)
            has_points.append(listed)
        labeled = frame.get("is_labeled")
        frames.append(FrameInfo(
            file_name=_pt17_name(frame, f, field),
            is_labeled=bool(rects) if labeled is None else f.bool_(_unwrap(labeled), f"{field}.is_labeled"),
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


# ----------------------------------------------------------------------------- public API
def read_file(path: PathLike, kind: str, *, skeleton: Skeleton | None = None) -> PoseTrackFile:
    """Parse one PT18 or PT17 file into flat arrays; `kind` is "gt" or "pred".

    `skeleton`, when given, is the joint set a PT18 file must declare (files without
    categories are taken to use it). The garbage collector stays paused throughout: the
    document's objects are freed by reference counting when this returns.
    """
    with _collector_paused():
        return parse_document(load_json(path), path, kind, skeleton=skeleton)


def parse_document(data: Any, path: PathLike, kind: str, *, skeleton: Skeleton | None = None) -> PoseTrackFile:
    """Parse an already loaded PT18 or PT17 document (e.g. a normalised PT17 ``.mat``).

    `path` names the source in error messages.
    """
    if kind not in ("gt", "pred"):
        raise ValueError(f"kind must be 'gt' or 'pred', got {kind!r}")
    p = Path(path)
    if detect_format(data, p) == "pt17":
        parsed = _read_pt17(data, p, kind)
        if skeleton is not None and skeleton != POSETRACK17:
            raise UserError(f"a PoseTrack'17 file cannot hold the {skeleton.name!r} joint set", path=p)
        return parsed
    return _read_pt18(data, p, kind, skeleton)


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
