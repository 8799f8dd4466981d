"""Person crops and the maps between image, crop, heatmap and feature grids.

Matrices are 2x3 affine maps built with `vposebench.affine` (pixel centres at integers). A
grid `stride` times coarser than the crop is reached with `grid_matrices` (`affine.scale_matrix`
for a batch).
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from vposebench.affine import box_to_center_size, crop_matrix, warp_crop

#: ImageNet RGB mean and std (inputs are normalised with them)
MEAN = (0.485, 0.456, 0.406)
STD = (0.229, 0.224, 0.225)


def box_matrices(boxes: np.ndarray, crop_size: tuple[int, int], padding: float) -> np.ndarray:
    """(P, 2, 3) image -> crop matrices for xyxy boxes (aspect of the crop, padded)."""
    aspect = crop_size[0] / crop_size[1]
    out = np.empty((len(boxes), 2, 3))
    for i, box in enumerate(boxes):
        center, size = box_to_center_size(box, aspect, padding)
        out[i] = crop_matrix(center, size, crop_size)
    return out


def warp_crops(image: np.ndarray, matrices: np.ndarray, crop_size: tuple[int, int]) -> np.ndarray:
    """(P, H, W, 3) uint8 crops cut out of an (H, W, 3) image."""
    w, h = crop_size
    out = np.empty((len(matrices), h, w, image.shape[2]), dtype=image.dtype)
    for i, m in enumerate(matrices):
        out[i] = warp_crop(image, m, crop_size)
    return out


def normalise(crops: torch.Tensor) -> torch.Tensor:
    """uint8 (..., H, W, 3) or (..., 3, H, W) crops -> float (N..., 3, H, W) ImageNet-normalised."""
    if crops.shape[-1] == 3 and crops.shape[-3] != 3:
        crops = crops.movedim(-1, -3)
    x = crops.float().div_(255.0)
    mean = x.new_tensor(MEAN).view(3, 1, 1)
    std = x.new_tensor(STD).view(3, 1, 1)
    return x.sub_(mean).div_(std)


def grid_matrices(matrices: np.ndarray, stride: float) -> np.ndarray:
    """Image -> grid matrices for a grid `stride` crop pixels per cell (`scale_matrix` for a
    (P, 2, 3) batch: crop pixel u maps to cell (u + 0.5) / stride - 0.5)."""
    s = 1.0 / stride
    out = np.asarray(matrices, dtype=np.float64) * s
    out[..., 2] += 0.5 * s - 0.5
    return out


def invert_matrices(matrices: np.ndarray) -> np.ndarray:
    """Inverses of a (P, 2, 3) batch of affine matrices (`invert_matrix` for each row)."""
    m = np.asarray(matrices, dtype=np.float64)
    a, b, c, d = m[:, 0, 0], m[:, 0, 1], m[:, 1, 0], m[:, 1, 1]
    det = a * d - b * c
    linear = np.stack([np.stack([d, -b], axis=1), np.stack([-c, a], axis=1)], axis=1) / det[:, None, None]
    offset = -(linear @ m[:, :, 2:])
    return np.concatenate([linear, offset], axis=2)


def apply_matrices(points: np.ndarray, matrices: np.ndarray) -> np.ndarray:
    """(P, J, 2) points through (P, 2, 3) matrices, one per row."""
    return points @ matrices[:, :, :2].transpose(0, 2, 1) + matrices[:, None, :, 2]


def _homogeneous(matrices: np.ndarray) -> np.ndarray:
    bottom = np.broadcast_to([0.0, 0.0, 1.0], (len(matrices), 1, 3))
    return np.concatenate([matrices, bottom], axis=1)


def compose(outer: np.ndarray, inner: np.ndarray) -> np.ndarray:
    """(P, 2, 3) matrices applying `inner`, then `outer`."""
    return (_homogeneous(outer) @ _homogeneous(inner))[:, :2]


def warp_maps(maps: torch.Tensor, src_to_dst: np.ndarray) -> torch.Tensor:
    """Resample (N, C, h, w) maps into another grid of the same size (bilinear, zeros outside).

    `src_to_dst` (N, 2, 3) maps source-grid cells to destination-grid cells.
    """
    n, _, h, w = maps.shape
    dst_to_src = torch.as_tensor(invert_matrices(src_to_dst), dtype=maps.dtype, device=maps.device)
    ys, xs = torch.meshgrid(torch.arange(h, dtype=maps.dtype, device=maps.device),
                            torch.arange(w, dtype=maps.dtype, device=maps.device), indexing="ij")
    dst = torch.stack([xs, ys, torch.ones_like(xs)], dim=-1).view(1, h * w, 3)
    src = dst @ dst_to_src.transpose(1, 2)  # (N, h*w, 2) source cells
    scale = maps.new_tensor([2.0 / max(w - 1, 1), 2.0 / max(h - 1, 1)])
    grid = (src * scale - 1.0).view(n, h, w, 2)
    return F.grid_sample(maps, grid, mode="bilinear", padding_mode="zeros", align_corners=True)
