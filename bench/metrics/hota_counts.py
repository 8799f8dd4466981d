"""Keypoint-HOTA counts and per-video fields, exactly as the PoseTrack21 kit's ``eval_sequence``.

For each video, alpha (19 thresholds) and joint (15): TP / FN / FP, the summed similarity of
the TPs, and the association sums over (GT track, predicted track) pairs. The kit evaluates one
video at a time with Python loops; here all videos, alphas and joints are reduced at once from
the list of matched (pair, joint) entries. A matched entry with similarity s counts at alpha a
when ``s >= a - eps``, so it counts at the first ``level`` alphas and the counts per alpha are
reverse cumulative sums over levels.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from .hota_data import NUM_KIT_JOINTS, KeypointTrackingSet
from .hota_match import JointMatches

#: the kit's thresholds, np.arange(0.05, 0.99, 0.05) (so alpha_2 = 0.15000000000000002)
ALPHAS = np.arange(0.05, 0.99, 0.05)
NUM_ALPHAS = len(ALPHAS)
_EPS = np.finfo(float).eps


@dataclasses.dataclass
class VideoCounts:
    """(V, 19, 15) per video, alpha and joint."""

    tp: np.ndarray
    fn: np.ndarray
    fp: np.ndarray
    loc_sum: np.ndarray  # summed similarity of the TPs
    ass_a: np.ndarray  # sum over track pairs of M^2 / max(1, gc + pc - M)
    ass_re: np.ndarray  # sum of M^2 / max(1, gc)
    ass_pr: np.ndarray  # sum of M^2 / max(1, pc)
    frag_a: np.ndarray  # sum of (sum of squared fragment lengths) / max(1, gc + pc - M)


def alpha_levels(similarity: np.ndarray) -> np.ndarray:
    """How many alphas each similarity passes (s >= alpha - eps): 0..19."""
    return np.searchsorted(ALPHAS - _EPS, similarity, side="right")


def _per_level(index: np.ndarray, level: np.ndarray, n: int, weights: np.ndarray | None = None) -> np.ndarray:
    """(n, 19) sums of `weights` over entries with level > a, grouped by `index`."""
    hist = np.bincount(index * (NUM_ALPHAS + 1) + level, weights=weights,
                       minlength=n * (NUM_ALPHAS + 1)).reshape(n, NUM_ALPHAS + 1)
    return np.cumsum(hist[:, ::-1], axis=1)[:, ::-1][:, 1:]


def _joint_counts(persons, num_frames: int) -> np.ndarray:
    """(F, 15) joints present per frame."""
    out = np.zeros((num_frames, NUM_KIT_JOINTS), dtype=np.int64)
    np.add.at(out, persons.frame, persons.valid)
    return out


def _track_counts(persons, num_tracks: int) -> np.ndarray:
    """(T, 15) labeled frames in which each identity has the joint."""
    out = np.zeros((num_tracks, NUM_KIT_JOINTS))
    np.add.at(out, persons.track, persons.valid)
    return out


def _fragment_sums(track: np.ndarray, partner: np.ndarray, joint: np.ndarray, frame: np.ndarray,
                   group: np.ndarray, level: np.ndarray, n_groups: int) -> np.ndarray:
    """(n_groups, 19) sum of squared fragment lengths per (GT track, predicted track, joint).

    At each alpha, GT track g's TP matches for joint j, in frame order, start a new fragment
    whenever the partner differs from g's previous partner (unmatched frames end nothing).
    """
    order = np.lexsort((frame, joint, track))
    track, partner, joint, group, level = track[order], partner[order], joint[order], group[order], level[order]
    out = np.zeros((n_groups, NUM_ALPHAS))
    for a in range(NUM_ALPHAS):
        sel = np.flatnonzero(level > a)
        if len(sel) == 0:
            break
        t, p, j = track[sel], partner[sel], joint[sel]
        new = np.ones(len(sel), dtype=bool)
        new[1:] = (t[1:] != t[:-1]) | (j[1:] != j[:-1]) | (p[1:] != p[:-1])
        starts = np.flatnonzero(new)
        lengths = np.diff(np.append(starts, len(sel))).astype(np.float64)
        out[:, a] = np.bincount(group[sel][starts], weights=lengths * lengths, minlength=n_groups)
    return out


def video_counts(data: KeypointTrackingSet, matches: JointMatches, mode: str) -> VideoCounts:
    """Everything the per-video HOTA fields need; `mode` decides the empty-frame rule."""
    n_v, n_f = data.num_videos, data.num_frames
    video = data.frame_video[matches.frame]
    level = alpha_levels(matches.similarity)
    cell = video * NUM_KIT_JOINTS + matches.joint
    tp = _per_level(cell, level, n_v * NUM_KIT_JOINTS).reshape(n_v, NUM_KIT_JOINTS, NUM_ALPHAS)
    loc = _per_level(cell, level, n_v * NUM_KIT_JOINTS, matches.similarity).reshape(tp.shape)
    tp, loc = tp.transpose(0, 2, 1).astype(np.float64), loc.transpose(0, 2, 1)

    # detection errors: matched frames give (joints present - TPs); empty frames follow `mode`
    gt_joints, pred_joints = _joint_counts(data.gt, n_f), _joint_counts(data.pred, n_f)
    n_gt, n_pred = data.frame_counts()
    gt_only = (n_gt > 0) & (n_pred == 0)
    pred_only = n_gt == 0

    def by_video(values: np.ndarray, frames: np.ndarray) -> np.ndarray:
        out = np.zeros((n_v, NUM_KIT_JOINTS))
        np.add.at(out, data.frame_video[frames], values[frames])
        return out

    both = (n_gt > 0) & (n_pred > 0)
    fn = by_video(gt_joints, both)[:, None, :] - tp
    fp = by_video(pred_joints, both)[:, None, :] - tp
    video_gt = by_video(gt_joints, np.ones(n_f, bool))
    if mode == "official":  # the whole video's GT-joint count per such frame (kit issue #10)
        fn += (np.bincount(data.frame_video[gt_only], minlength=n_v)[:, None] * video_gt)[:, None, :]
    else:  # the frame's own joints
        fn += by_video(gt_joints, gt_only)[:, None, :]
    # a frame without a GT person: the kit crashes on it; both modes count its own predicted joints
    fp += by_video(pred_joints, pred_only)[:, None, :]
    no_pred = np.bincount(data.frame_video[data.pred.frame], minlength=n_v) == 0
    fn[no_pred], fp[no_pred] = video_gt[no_pred][:, None, :], 0.0  # the kit's early return: once

    # association: M(g, p) per alpha, over the (GT track, predicted track, joint) groups
    gtrack, ptrack = data.gt.track[matches.gt], data.pred.track[matches.pred]
    n_ptrack = len(data.pred_track_video)
    key = (gtrack * max(n_ptrack, 1) + ptrack) * NUM_KIT_JOINTS + matches.joint
    groups, group = np.unique(key, return_inverse=True)
    group = group.reshape(-1)
    g_of = groups // NUM_KIT_JOINTS // max(n_ptrack, 1)
    p_of = groups // NUM_KIT_JOINTS % max(n_ptrack, 1)
    j_of = groups % NUM_KIT_JOINTS
    m = _per_level(group, level, len(groups)).astype(np.float64)  # (G, 19)
    gc = _track_counts(data.gt, len(data.gt_track_video))[g_of, j_of][:, None]
    pc = _track_counts(data.pred, n_ptrack)[p_of, j_of][:, None]
    union = np.maximum(1, gc + pc - m)
    frag = _fragment_sums(gtrack, ptrack, matches.joint, matches.frame, group, level, len(groups))
    v_of = data.gt_track_video[g_of]

    def per_video(values: np.ndarray) -> np.ndarray:
        out = np.zeros((n_v, NUM_KIT_JOINTS, NUM_ALPHAS))
        np.add.at(out, (v_of, j_of), values)
        return out.transpose(0, 2, 1)

    return VideoCounts(
        tp=tp, fn=fn, fp=fp, loc_sum=loc,
        ass_a=per_video(m * m / union), ass_re=per_video(m * m / np.maximum(1, gc)),
        ass_pr=per_video(m * m / np.maximum(1, pc)), frag_a=per_video(frag / union),
    )

