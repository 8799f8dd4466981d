"""Training augmentation of person crops: random scale, rotation and horizontal flip.

The crop is the person box widened to the network's aspect and padded (as at inference),
scaled by `scale`, rotated by `rotation` degrees and mirrored when `flip`, all in one affine
warp (`vposebench.affine`). Keypoints go through the same matrix; a flip also swaps the
skeleton's left/right joints (its flip pairs), so joint j of the flipped crop is the
mirrored joint `flip_permutation()[j]` of the person.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from vposebench.affine import box_to_center_size, crop_matrix, transform_points, warp_crop
from vposebench.skeleton import Skeleton


@dataclasses.dataclass(frozen=True)
class Augmentation:
    """One draw of the random crop parameters (identity by default)."""

    scale: float = 1.0
    rotation: float = 0.0  # degrees, counter-clockwise in the image
    flip: bool = False


@dataclasses.dataclass(frozen=True)
class AugmentationRanges:
    """Where the parameters are drawn from: scale ~ U[1 - s, 1 + s]; rotation ~ U[-r, r]
    with probability `rotation_prob`, else 0; flip with probability `flip_prob`."""

    scale_factor: float = 0.3
    rotation_factor: float = 40.0
    rotation_prob: float = 0.6
    flip_prob: float = 0.5

    def sample(self, rng: np.random.Generator) -> Augmentation:
        scale = rng.uniform(1 - self.scale_factor, 1 + self.scale_factor)
        rotate = rng.random() < self.rotation_prob
        rotation = rng.uniform(-self.rotation_factor, self.rotation_factor) if rotate else 0.0
        return Augmentation(float(scale), float(rotation), bool(rng.random() < self.flip_prob))


def augmented_matrix(box: np.ndarray, crop_size: tuple[int, int], padding: float,
                     aug: Augmentation) -> np.ndarray:
    """2x3 image -> crop matrix for an xyxy box under `aug`."""
    center, size = box_to_center_size(box, crop_size[0] / crop_size[1], padding)
    return crop_matrix(center, size * aug.scale, crop_size, rotation=aug.rotation, flip=aug.flip)


def crop_image(image: np.ndarray, matrix: np.ndarray, crop_size: tuple[int, int]) -> np.ndarray:
    """The (H, W, 3) uint8 crop of `image` under `matrix`."""
    return warp_crop(image, matrix, crop_size)


def crop_keypoints(keypoints: np.ndarray, valid: np.ndarray, matrix: np.ndarray,
                   skeleton: Skeleton, flip: bool) -> tuple[np.ndarray, np.ndarray]:
    """(J, 2) crop coordinates and (J,) validity of the joints of a crop cut with `matrix`
    (a flipped crop takes each joint from its mirror partner)."""
    points = transform_points(np.asarray(keypoints, dtype=np.float64)[:, :2], matrix)
    valid = np.asarray(valid, dtype=bool)
    if flip:
        perm = skeleton.flip_permutation()
        points, valid = points[perm], valid[perm]
    return points, valid
