"""Box helpers. Boxes are float ``x1, y1, x2, y2`` unless a name says ``xywh``."""

from __future__ import annotations

import numpy as np


def xywh_to_xyxy(boxes: np.ndarray) -> np.ndarray:
    """[x, y, w, h] -> [x1, y1, x2, y2] (x2 = x + w, no +1); works on (..., 4)."""
    b = np.asarray(boxes, dtype=np.float64)
    return np.concatenate([b[..., :2], b[..., :2] + b[..., 2:4]], axis=-1)


def xyxy_to_xywh(boxes: np.ndarray) -> np.ndarray:
    """[x1, y1, x2, y2] -> [x, y, w, h]; works on (..., 4)."""
    b = np.asarray(boxes, dtype=np.float64)
    return np.concatenate([b[..., :2], b[..., 2:4] - b[..., :2]], axis=-1)


def box_area(boxes: np.ndarray) -> np.ndarray:
    """Area of xyxy boxes; degenerate boxes (x2 < x1) have area 0."""
    b = np.asarray(boxes, dtype=np.float64)
    return np.maximum(b[..., 2] - b[..., 0], 0) * np.maximum(b[..., 3] - b[..., 1], 0)


def box_iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(N, M) intersection over union of xyxy boxes `a` (N, 4) and `b` (M, 4).

    Runs once per frame in the tracker, on a handful of boxes: kept to few numpy calls.
    """
    a = np.asarray(a, dtype=np.float64).reshape(-1, 4)
    b = np.asarray(b, dtype=np.float64).reshape(-1, 4)
    wh = np.maximum(np.minimum(a[:, None, 2:], b[None, :, 2:]) - np.maximum(a[:, None, :2], b[None, :, :2]), 0)
    inter = wh[..., 0] * wh[..., 1]
    union = box_area(a)[:, None] + box_area(b)[None, :] - inter
    positive = union > 0
    return np.divide(inter, union, out=np.zeros_like(inter), where=positive)


def keypoint_box(keypoints: np.ndarray, valid: np.ndarray | None = None, scale: float = 1.0) -> np.ndarray:
    """The extent of the valid keypoints, enlarged `scale` times about its centre (xyxy).

    ``scale=1.3`` is PoseTrack'18's rule for the `bbox` field. With no valid keypoint the box
    is all NaN.
    """
    kp = np.asarray(keypoints, dtype=np.float64)
    mask = np.ones(len(kp), dtype=bool) if valid is None else np.asarray(valid, dtype=bool)
    if not mask.any():
        return np.full(4, np.nan)
    pts = kp[mask, :2]
    lo, hi = pts.min(axis=0), pts.max(axis=0)
    centre, half = (lo + hi) / 2, (hi - lo) / 2 * scale
    return np.concatenate([centre - half, centre + half])


def clip_box(box: np.ndarray, width: float, height: float) -> np.ndarray:
    """Clip xyxy box(es) to the image [0, width] x [0, height]."""
    b = np.array(box, dtype=np.float64)
    b[..., 0::2] = np.clip(b[..., 0::2], 0, width)
    b[..., 1::2] = np.clip(b[..., 1::2], 0, height)
    return b


def box_is_valid(box: np.ndarray) -> np.ndarray:
    """True where a box is finite and has positive width and height."""
    b = np.asarray(box, dtype=np.float64)
    # NaN compares False, so a NaN corner fails one of the two inequalities
    valid = (b[..., 2] > b[..., 0]) & (b[..., 3] > b[..., 1])
    return valid & (np.abs(b) < np.inf).all(axis=-1)
