"""PoseTrack'18 documents (``images`` / ``annotations`` / ``categories``, COCO style) -> flat arrays.

Other datasets converted by ``vposebench convert`` use this layout with their own joints named
in ``categories[0].keypoints``; the reader picks the skeleton from those names (17 unnamed
triplets mean PoseTrack'18).

Reading is the hot path of evaluation, so the common case is parsed with one numpy conversion
per field; only when that fails does a slow field-by-field pass run, to name the offending field.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..boxes import xywh_to_xyxy
from ..skeleton import POSETRACK18, Skeleton, skeleton_by_joints
from .jsonfile import Fields, unwrap
from .parsed import FrameInfo, PoseTrackFile


def _sorted_by_frame(frame_of: np.ndarray, **arrays: np.ndarray) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    order = np.argsort(frame_of, kind="stable")
    if np.all(order[:-1] < order[1:]):  # already sorted: no copies
        return frame_of, arrays
    return frame_of[order], {k: v[order] for k, v in arrays.items()}



def _pt18_skeleton(data: dict, f: Fields, expected: Skeleton | None) -> Skeleton:
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


def _pt18_ignore_regions(image: dict, f: Fields, field: str) -> list[np.ndarray]:
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


_NONE = type(None)


def _types(values: list) -> set[type]:
    """The exact types in a list (one C-level pass; bool is not int here)."""
    return set(map(type, values))


def _image_size(image: dict) -> tuple[int, int] | None:
    if "height" in image and isinstance(image["height"], int) and isinstance(image.get("width"), int):
        return image["height"], image["width"]
    return None


def _pt18_frames_fast(images: list, f: Fields, kind: str) -> tuple[list[FrameInfo], dict[int, int]] | None:
    """The common case (plain ints, strings, bools) in a few list passes; None when anything
    is unusual, so that the field-by-field pass can name it."""
    try:
        ids = [image["id"] for image in images]
        names = [image["file_name"] if kind == "gt" else image.get("file_name") for image in images]
        labeled = [image.get("is_labeled") for image in images]
        frame_ids = [image.get("frame_id", image["id"]) for image in images]
    except (KeyError, TypeError, AttributeError):
        return None
    if not (_types(ids) <= {int} and _types(frame_ids) <= {int} and _types(labeled) <= {_NONE, bool}
            and _types(names) <= {_NONE, str}):
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


def _pt18_frames(data: dict, f: Fields, kind: str) -> tuple[list[FrameInfo], dict[int, int], dict]:
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


def _pt18_persons_slow(anns: list, f: Fields, by_id: dict[int, int], kind: str, n_joints: int) -> None:
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
                f.number(unwrap(ann["score"]), f"{field}.score")


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


def _optional_floats(values: list) -> np.ndarray | None:
    """float64 array of numbers and Nones (NaN); None when anything else is there."""
    kinds = _types(values)
    if kinds <= {_NONE}:
        return np.full(len(values), np.nan)
    if kinds <= {_NONE, float, int}:
        return np.array([np.nan if v is None else v for v in values], dtype=np.float64)
    return None


def _pt18_persons_fast(anns: list, by_id: dict[int, int], kind: str, n_joints: int) -> dict[str, np.ndarray] | None:
    """All annotations as arrays in one pass, or None when anything is off."""
    try:
        image_ids = [a["image_id"] for a in anns]
        if not _types(image_ids) <= {int}:
            return None
        frame_of = np.array([by_id[i] for i in image_ids], dtype=np.int64)
        kps = _numeric([a["keypoints"] for a in anns], 3 * n_joints)
        tracks = [a.get("track_id") for a in anns]
        if kind == "gt":
            tracks = [-1 if t is None else t for t in tracks]
        boxes = _sparse_rows([a.get("bbox") for a in anns], 4)
        heads = _sparse_rows([a.get("bbox_head") for a in anns], 4)
        scores = _sparse_rows([a.get("scores") for a in anns], n_joints) if kind == "pred" else None
        person_scores = [a.get("score") for a in anns]
        if list in _types(person_scores):
            person_scores = [unwrap(v) for v in person_scores]
    except (KeyError, TypeError, AttributeError):
        return None
    if kps is None or boxes is None or heads is None or (kind == "pred" and scores is None):
        return None
    if not _types(tracks) <= {int}:  # bools and floats are wrong here
        return None
    try:
        track_arr = np.array(tracks, dtype=np.int64)  # beyond int64: OverflowError
    except OverflowError:
        return None
    pscore = _optional_floats(person_scores)
    if pscore is None:
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


def read_pt18(data: dict, path: Path, kind: str, expected: Skeleton | None) -> PoseTrackFile:
    """Parse a loaded PT18 document; `expected` is the joint set it must declare, if any."""
    f = Fields(path)
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
