"""Per-frame, per-joint matching of keypoint HOTA (the PoseTrack21 kit's ``HOTAeypoints``).

Every GT person of a frame is compared with every predicted person of that frame: for joint j
present on both, d = ||pred - gt|| / head size (0.6 x the GT head box diagonal) and the
similarity is ``max(0, 1 - d / 0.5001)`` (the kit, ``official``) or ``max(0, 1 - d)``
(``corrected``: no clipping at half a head size, so alpha = 0.5 is PCKh@0.5); a missing joint on
either side gives 0. For each frame and joint the kit solves a Hungarian assignment maximising
the summed similarity (``scipy.optimize.linear_sum_assignment`` on the negated GT x prediction
matrix) and keeps the assigned pairs with similarity >= alpha - eps.

Only pairs with positive similarity can ever count, and when no GT or predicted person of a
(frame, joint) has two positive pairs, every optimal assignment contains all of them; the
solver therefore runs only where some person has a real choice, on exactly the matrix the kit
builds, so the matches are the kit's (ties included).
"""

from __future__ import annotations

import dataclasses

import numpy as np

from .hota_data import NUM_KIT_JOINTS, KeypointTrackingSet

MODES = ("official", "corrected")
#: the kit's distance (in head sizes) at which the similarity reaches 0
KIT_SIMILARITY_RANGE = 0.5001


@dataclasses.dataclass
class FramePairs:
    """Every (GT, prediction) pair of persons sharing a frame, GT-major, so that frame f's
    pairs form the row-major (n_gt x n_pred) block pairs[start[f]:start[f + 1]]."""

    gt: np.ndarray  # (K,) GT row
    pred: np.ndarray  # (K,) prediction row
    start: np.ndarray  # (F + 1,)
    similarity: np.ndarray  # (K, 15)

    def block(self, frame: int, joint: int, n_gt: int, n_pred: int) -> np.ndarray:
        """The kit's (n_gt, n_pred) similarity matrix of one frame and joint."""
        return self.similarity[self.start[frame]:self.start[frame + 1], joint].reshape(n_gt, n_pred)


def similarity(distance: np.ndarray, mode: str) -> np.ndarray:
    """Similarity from head-normalised distance (inf where a joint is missing)."""
    if mode == "official":
        return np.maximum((-1 / KIT_SIMILARITY_RANGE) * distance + 1, 0)
    if mode == "corrected":
        return np.maximum(1 - distance, 0)
    raise ValueError(f"mode must be one of {MODES}, got {mode!r}")


def frame_pairs(data: KeypointTrackingSet, mode: str) -> FramePairs:
    """All within-frame pairs and their per-joint similarities."""
    n_gt, n_pred = data.frame_counts()
    per_gt = n_pred[data.gt.frame]
    first = np.cumsum(per_gt) - per_gt
    gt = np.repeat(np.arange(len(data.gt)), per_gt)
    pred = data.pred_offsets[data.gt.frame][gt] + (np.arange(len(gt)) - first[gt])
    d = data.gt.xy[gt] - data.pred.xy[pred]
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        dist = np.sqrt(d[..., 0] * d[..., 0] + d[..., 1] * d[..., 1]) / data.gt.head_size[gt][:, None]
    dist[~(data.gt.valid[gt] & data.pred.valid[pred]) | ~np.isfinite(dist)] = np.inf
    start = np.concatenate([[0], np.cumsum(n_gt * n_pred)])
    return FramePairs(gt=gt, pred=pred, start=start, similarity=similarity(dist, mode))


@dataclasses.dataclass
class JointMatches:
    """The assigned pairs with positive similarity, one entry per (pair, joint)."""

    frame: np.ndarray  # (E,)
    joint: np.ndarray  # (E,)
    gt: np.ndarray  # (E,) GT row
    pred: np.ndarray  # (E,) prediction row
    similarity: np.ndarray  # (E,)
    solved: int  # (frame, joint) assignments that needed the solver


def match_joints(data: KeypointTrackingSet, pairs: FramePairs) -> JointMatches:
    """The kit's per-frame, per-joint Hungarian matches (positive similarity only)."""
    from scipy.optimize import linear_sum_assignment  # imported on first use: costly to load

    k, j = np.nonzero(pairs.similarity > 0)
    g, p = pairs.gt[k], pairs.pred[k]
    g_count = np.bincount(g * NUM_KIT_JOINTS + j, minlength=len(data.gt) * NUM_KIT_JOINTS)
    p_count = np.bincount(p * NUM_KIT_JOINTS + j, minlength=len(data.pred) * NUM_KIT_JOINTS)
    contested = (g_count[g * NUM_KIT_JOINTS + j] > 1) | (p_count[p * NUM_KIT_JOINTS + j] > 1)
    chosen = ~contested
    frame = data.gt.frame[g]
    updates = np.unique(frame[contested] * NUM_KIT_JOINTS + j[contested])
    if len(updates):
        n_gt, n_pred = data.frame_counts()
        edge_update = frame * NUM_KIT_JOINTS + j
        order = np.argsort(edge_update, kind="stable")
        bounds = np.searchsorted(edge_update[order], np.stack([updates, updates + 1]))
        for u, lo, hi in zip(updates.tolist(), bounds[0].tolist(), bounds[1].tolist()):
            f, joint = divmod(u, NUM_KIT_JOINTS)
            rows, cols = linear_sum_assignment(-pairs.block(f, joint, int(n_gt[f]), int(n_pred[f])))
            assigned = np.zeros((n_gt[f], n_pred[f]), dtype=bool)
            assigned[rows, cols] = True
            edges = order[lo:hi]
            chosen[edges] = assigned[g[edges] - data.gt_offsets[f], p[edges] - data.pred_offsets[f]]
    return JointMatches(frame=frame[chosen], joint=j[chosen], gt=g[chosen], pred=p[chosen],
                        similarity=pairs.similarity[k[chosen], j[chosen]], solved=len(updates))
