"""Heatmaps -> keypoints: argmax, a quarter-cell shift towards the higher neighbour, and the
inverse crop warp back to image pixels.

The shift is applied per axis wherever both neighbours exist (SimpleBaseline's rule; its code
also skips the second column/row, which is not reproduced). The score is the heatmap maximum.
"""

from __future__ import annotations

import numpy as np
import torch

from .geometry import apply_matrices, grid_matrices, invert_matrices


def argmax_cells(heatmaps: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(N, J, h, w) -> integer cells (N, J, 2) as (x, y) and the maxima (N, J)."""
    n, j, _, w = heatmaps.shape
    scores, flat = heatmaps.reshape(n, j, -1).max(dim=2)
    return torch.stack([flat % w, torch.div(flat, w, rounding_mode="floor")], dim=2), scores


def decode_heatmaps(heatmaps: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(N, J, h, w) -> sub-cell coordinates (N, J, 2) in heatmap cells and scores (N, J)."""
    n, j, h, w = heatmaps.shape
    cells, scores = argmax_cells(heatmaps)
    x, y = cells[..., 0], cells[..., 1]
    flat = heatmaps.reshape(n, j, -1)

    def at(xx: torch.Tensor, yy: torch.Tensor) -> torch.Tensor:
        index = (yy.clamp(0, h - 1) * w + xx.clamp(0, w - 1)).unsqueeze(-1)
        return flat.gather(2, index).squeeze(-1)

    dx = torch.sign(at(x + 1, y) - at(x - 1, y)) * ((x > 0) & (x < w - 1))
    dy = torch.sign(at(x, y + 1) - at(x, y - 1)) * ((y > 0) & (y < h - 1))
    coords = cells.to(heatmaps.dtype) + 0.25 * torch.stack([dx, dy], dim=2).to(heatmaps.dtype)
    return coords, scores


def heatmap_to_image(coords: np.ndarray, crop_matrices: np.ndarray, stride: float) -> np.ndarray:
    """(N, J, 2) heatmap-cell coordinates -> image pixels, through each crop's inverse warp."""
    return apply_matrices(coords, invert_matrices(grid_matrices(crop_matrices, stride)))


def decode_to_image(heatmaps: torch.Tensor, crop_matrices: np.ndarray, stride: float) -> np.ndarray:
    """(N, J, 3) x, y, score in image pixels for heatmaps of crops cut with `crop_matrices`."""
    coords, scores = decode_heatmaps(heatmaps.detach().float())
    xy = heatmap_to_image(coords.cpu().numpy().astype(np.float64), crop_matrices, stride)
    return np.concatenate([xy, scores.cpu().numpy().astype(np.float64)[..., None]], axis=2)
