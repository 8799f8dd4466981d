"""The PTM memory's write (PTM paper, Sec. 2.2): the quality gate and keypoint feature
replacement, and what they did (a diagnostic)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import numpy as np
import torch

from .decoding import argmax_cells
from .geometry import apply_matrices, grid_matrices, invert_matrices
from .memory_store import MemoryStore, index_rows


@dataclasses.dataclass(frozen=True)
class WriteRule:
    """The write's thresholds (fractions of the quality range, see QualityScore)."""

    kfr: bool = True
    kfr_high: float = 0.9
    kfr_low: float = 0.6
    #: where a saved vector is written back: "saved" (the joint's image position when it was
    #: saved, mapped through the current crop) or "predicted" (the current argmax cell)
    kfr_cell: str = "saved"
    #: store y when the sum of joint qualities exceeds this times the number of real joints
    write_threshold: float = 0.5


@dataclasses.dataclass
class WriteActivity:
    """What writes did, summed over persons and frames: whether the quality gate and keypoint
    feature replacement ever fire on a model (a diagnostic; it changes nothing)."""

    person_frames: int = 0
    #: maps appended to a memory (the quality gate passed)
    appended: int = 0
    #: joints whose feature vector was saved in the keypoint bank (quality above kfr_high)
    saved_joints: int = 0
    #: joints whose cell of y was overwritten with a saved vector (quality below kfr_low)
    replaced_joints: int = 0
    #: replaced joints in maps that were then appended (the only ones that reach a later read)
    replaced_stored: int = 0

    def add(self, other: WriteActivity) -> None:
        for f in dataclasses.fields(self):
            setattr(self, f.name, getattr(self, f.name) + getattr(other, f.name))

    def per_person_frame(self) -> dict[str, float]:
        n = max(self.person_frames, 1)
        return {f.name: getattr(self, f.name) / n for f in dataclasses.fields(self)
                if f.name != "person_frames"}


def inside_grid(cells: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """(..., 2) integer cells -> whether they lie on a (w, h) grid."""
    w, h = size
    return (cells[..., 0] >= 0) & (cells[..., 0] < w) & (cells[..., 1] >= 0) & (cells[..., 1] < h)


def feature_cells(points: np.ndarray, image_to_feature: np.ndarray, size: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """Image points (P, J, 2) -> nearest feature cells (P, J, 2) int and whether inside."""
    cells = np.rint(apply_matrices(points, image_to_feature)).astype(np.int64)
    return cells, inside_grid(cells, size)


def write(store: MemoryStore, slots: np.ndarray, y: torch.Tensor, quality: torch.Tensor,
          heatmaps: torch.Tensor, crop_matrices: np.ndarray, heatmap_stride: int,
          feature_stride: int, real: np.ndarray, rule: WriteRule, gate: bool = True,
          project: Callable[[torch.Tensor], tuple[torch.Tensor, torch.Tensor]] | None = None) -> WriteActivity:
    """The write for a batch of persons (PTM paper, Sec. 2.2, "Write operation") into their
    tracks' slots of `store`; returns what it did.

    For each person: keypoint feature replacement (joints above `kfr_high` save their cell's
    vector of y and their image position in the track's bank; joints below `kfr_low` get
    their cell of y overwritten with the vector saved earlier), then y is appended to the
    memory if the heatmap score passes `write_threshold` (or always when `gate` is off).
    `project` maps the stored maps to (key, value) entries when projections are cached. The
    persons are handled as one batch.
    """
    n, c, fh, fw = y.shape
    q = quality.detach().cpu().numpy()
    num_joints = q.shape[1]
    stored = y
    high = np.zeros((n, num_joints), dtype=bool)
    low = np.zeros((n, num_joints), dtype=bool)
    if rule.kfr:
        cells_hm = argmax_cells(heatmaps.detach())[0].cpu().numpy()
        # a joint's feature cell: both grids are cut from the same crop, so a heatmap cell
        # maps to the feature grid by the ratio of the strides (pixel centres aligned)
        pred_cells = np.rint((cells_hm + 0.5) * (heatmap_stride / feature_stride) - 0.5).astype(np.int64)
        pred_inside = inside_grid(pred_cells, (fw, fh))
        high = real & (q > rule.kfr_high) & pred_inside
        if store.bank is not None:
            banked = slots < store.bank.shape[0]
            has_vector = np.zeros((n, num_joints), dtype=bool)
            has_vector[banked] = store.bank_valid[slots[banked]]
            if rule.kfr_cell == "saved":  # the saved image position, through this frame's crop
                saved_xy = np.zeros((n, num_joints, 2))
                saved_xy[banked] = store.bank_xy[slots[banked]]
                low_cells, low_inside = feature_cells(saved_xy, grid_matrices(crop_matrices, feature_stride),
                                                      (fw, fh))
            else:
                low_cells, low_inside = pred_cells, pred_inside
            low = real & (q < rule.kfr_low) & has_vector & low_inside
        if low.any():  # overwrite the low joints' cells with their saved vectors
            lp, lj = np.nonzero(low)
            at = index_rows(y, lp, low_cells[lp, lj, 1], low_cells[lp, lj, 0], slots[lp], lj)
            stored = y.clone()
            stored[at[0], :, at[1], at[2]] = store.bank[at[3], at[4]].to(y.dtype)
        if high.any():  # save the high joints' vectors (of y before replacement)
            hp, hj = np.nonzero(high)
            at = index_rows(y, hp, pred_cells[hp, hj, 1], pred_cells[hp, hj, 0])
            to_image = invert_matrices(grid_matrices(crop_matrices, heatmap_stride))
            joint_xy = apply_matrices(cells_hm.astype(np.float64), to_image)
            store.save_keypoints(slots[hp], hj, y[at[0], :, at[1], at[2]], joint_xy[hp, hj], num_joints)
    passes = np.ones(n, dtype=bool) if not gate else \
        q[:, real].sum(axis=1) > rule.write_threshold * real.sum()
    kept = np.flatnonzero(passes)
    if len(kept):
        chosen = stored if len(kept) == n else stored[index_rows(y, kept)[0]]
        store.append(slots[kept], project(chosen) if project else (chosen,))
    return WriteActivity(person_frames=n, appended=len(kept), saved_joints=int(high.sum()),
                         replaced_joints=int(low.sum()), replaced_stored=int(low[passes].sum()))
