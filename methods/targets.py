"""Training targets: a Gaussian per joint on the heatmap grid and a weight per joint.

Unlike SimpleBaseline, the Gaussian is centred at the exact sub-cell position (not rounded).
A joint's weight is 0 when it is not annotated or when its Gaussian's 3-sigma square lies
entirely outside the heatmap (SimpleBaseline's rule), 1 otherwise.
"""

from __future__ import annotations

import numpy as np


def gaussian_targets(points: np.ndarray, valid: np.ndarray, size: tuple[int, int],
                     sigma: float) -> tuple[np.ndarray, np.ndarray]:
    """(..., J, 2) points in heatmap cells and (..., J) validity -> (..., J, h, w) float32 maps
    and (..., J) float32 weights; maps of weight-0 joints are all zero."""
    w, h = size
    pts = np.asarray(points, dtype=np.float64)
    reach = 3.0 * sigma
    inside = ((pts[..., 0] + reach >= 0) & (pts[..., 0] - reach <= w - 1)
              & (pts[..., 1] + reach >= 0) & (pts[..., 1] - reach <= h - 1))
    weight = (np.asarray(valid, dtype=bool) & inside & np.isfinite(pts).all(axis=-1))
    safe = np.where(weight[..., None], pts, 0.0)
    gx = np.exp(-((np.arange(w) - safe[..., 0:1]) ** 2) / (2 * sigma**2))
    gy = np.exp(-((np.arange(h) - safe[..., 1:2]) ** 2) / (2 * sigma**2))
    maps = gy[..., :, None] * gx[..., None, :]
    maps *= weight[..., None, None]
    return maps.astype(np.float32), weight.astype(np.float32)
