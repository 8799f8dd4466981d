"""Affine person crops and their inverse.

A person box becomes a centre and a size with the network's aspect ratio (padded by 1.25 by
default, the SimpleBaseline convention); a 2x3 matrix maps image pixels to crop pixels, and its
inverse maps heatmap-decoded coordinates back to the image. Pixel centres are at integer
coordinates in both spaces.
"""

from __future__ import annotations

import math

import numpy as np


def box_to_center_size(box: np.ndarray, aspect: float, padding: float = 1.25) -> tuple[np.ndarray, np.ndarray]:
    """Centre and (w, h) of the crop for an xyxy box, widened to `aspect` = w / h, then padded."""
    x1, y1, x2, y2 = np.asarray(box, dtype=np.float64)
    center = np.array([(x1 + x2) / 2, (y1 + y2) / 2])
    w, h = max(x2 - x1, 1e-6), max(y2 - y1, 1e-6)
    if w > aspect * h:
        h = w / aspect
    else:
        w = h * aspect
    return center, np.array([w, h]) * padding


def crop_matrix(
    center: np.ndarray,
    size: np.ndarray,
    output_size: tuple[int, int],
    rotation: float = 0.0,
    flip: bool = False,
) -> np.ndarray:
    """2x3 matrix mapping image points to crop points.

    The region of `size` (w, h) around `center`, rotated by `rotation` degrees (counter-
    clockwise in the image), fills an `output_size` (width, height) crop. `flip` mirrors the
    crop horizontally.
    """
    out_w, out_h = output_size
    sx, sy = out_w / size[0], out_h / size[1]
    theta = math.radians(rotation)
    cos, sin = math.cos(theta), math.sin(theta)
    # image -> centred, rotated, scaled, then shifted to the crop centre
    rot = np.array([[cos, sin], [-sin, cos]])
    lin = np.diag([sx, sy]) @ rot
    if flip:
        lin = np.diag([-1.0, 1.0]) @ lin
    offset = np.array([(out_w - 1) / 2, (out_h - 1) / 2]) - lin @ np.asarray(center, dtype=np.float64)
    return np.hstack([lin, offset[:, None]])


def invert_matrix(matrix: np.ndarray) -> np.ndarray:
    """Inverse of a 2x3 affine matrix."""
    full = np.vstack([matrix, [0.0, 0.0, 1.0]])
    return np.linalg.inv(full)[:2]


def transform_points(points: np.ndarray, matrix: np.ndarray) -> np.ndarray:
    """Apply a 2x3 matrix to (..., 2) points."""
    pts = np.asarray(points, dtype=np.float64)
    return pts @ matrix[:, :2].T + matrix[:, 2]


def scale_matrix(matrix: np.ndarray, factor: float) -> np.ndarray:
    """The same map onto a grid `factor` times coarser (e.g. crop -> heatmap with factor 4).

    Pixel centres stay aligned: crop pixel u maps to grid cell (u + 0.5) / factor - 0.5.
    """
    s = 1.0 / factor
    post = np.array([[s, 0.0, 0.5 * s - 0.5], [0.0, s, 0.5 * s - 0.5], [0.0, 0.0, 1.0]])
    return (post @ np.vstack([matrix, [0.0, 0.0, 1.0]]))[:2]


def warp_crop(image: np.ndarray, matrix: np.ndarray, output_size: tuple[int, int]) -> np.ndarray:
    """Cut the crop out of an (H, W, C) image with bilinear sampling (zeros outside)."""
    import cv2

    return cv2.warpAffine(
        image, matrix, output_size, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT
    )
