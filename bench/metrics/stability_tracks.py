"""Which predicted track follows which GT track, for the ``stability`` metric.

Per video, every (GT person, predicted person) pair of a labeled frame scores the number of
joints the prediction has within the dataset's standard threshold of the GT joint (0.5 head
sizes with the head normaliser, PCKh@0.5; 0.2 box lengths with the box normaliser, PCK@0.2).
Summed over frames this gives M(G, P) for GT track G and predicted track P; one Hungarian
assignment per video (``scipy.optimize.linear_sum_assignment``) maximises the total, and
pairs with M > 0 are matched. It is IDF1's global track association with a per-frame PCK
match instead of a box overlap.
"""

from __future__ import annotations

import numpy as np

#: the standard correctness threshold per normaliser, in normaliser lengths
THRESHOLDS = {"head": 0.5, "box": 0.2}


def match_tracks(gt_frame: np.ndarray, gt_track: np.ndarray, gt_xy: np.ndarray, length: np.ndarray,
                 pred_frame: np.ndarray, pred_track: np.ndarray, pred_xy: np.ndarray,
                 threshold: float) -> dict[int, int]:
    """GT track -> predicted track for one video.

    ``*_frame`` (N,) frame of each person (persons sorted by frame), ``*_track`` (N,) track
    ids, ``*_xy`` (N, J, 2) with NaN where a joint is absent, ``length`` (N,) GT normaliser.
    """
    from scipy.optimize import linear_sum_assignment  # imported on first use: costly to load

    if len(gt_frame) == 0 or len(pred_frame) == 0:
        return {}
    gt_ids, g_index = np.unique(gt_track, return_inverse=True)
    pred_ids, p_index = np.unique(pred_track, return_inverse=True)
    frames = np.union1d(gt_frame, pred_frame)
    g_off = np.searchsorted(gt_frame, np.append(frames, frames[-1] + 1))
    p_off = np.searchsorted(pred_frame, np.append(frames, frames[-1] + 1))
    n_g, n_p = np.diff(g_off), np.diff(p_off)
    per = (n_g * n_p)
    frame_of_pair = np.repeat(np.arange(len(frames)), per)
    within = np.arange(per.sum()) - np.repeat(np.cumsum(per) - per, per)
    g = g_off[frame_of_pair] + within // np.maximum(n_p[frame_of_pair], 1)
    p = p_off[frame_of_pair] + within % np.maximum(n_p[frame_of_pair], 1)
    d = gt_xy[g] - pred_xy[p]
    with np.errstate(invalid="ignore"):
        correct = (np.sqrt((d * d).sum(axis=2)) <= threshold * length[g][:, None]).sum(axis=1)
    score = np.zeros((len(gt_ids), len(pred_ids)))
    np.add.at(score, (g_index.reshape(-1)[g], p_index.reshape(-1)[p]), correct)
    rows, cols = linear_sum_assignment(-score)
    keep = score[rows, cols] > 0
    return {int(gt_ids[r]): int(pred_ids[c]) for r, c in zip(rows[keep], cols[keep])}
