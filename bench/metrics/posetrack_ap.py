"""Per-joint AP of the official PoseTrack evaluation (``docs/evaluation.md``, `posetrack`).

evaluate: per frame, every (prediction, GT) pair's normalised joint distances, the greedy pose
matching (each prediction picks its best GT by PCKh, each GT keeps its best prediction) and one
label per predicted joint. accumulate: labels pooled per joint in the official order and
sorted by score exactly as the official code sorts them. summarize: VOC AP with the monotone
precision envelope, computed with the same array operations so that results agree to the bit
on the same inputs.

Every label keeps its video, prediction row and matched GT row, so per-video tables, GT-joint
selections and bootstrap resamples are slices or weights of the same arrays.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from .posetrack_data import NUM_JOINTS, PoseTrackSet

#: a joint matches when its distance, in head sizes, is at most this (inclusive)
DIST_THRESHOLD = 0.5
#: pairs per block when computing distances
_PAIR_BLOCK = 8192


@dataclasses.dataclass
class FramePairs:
    """Every (prediction, GT) pair of persons sharing a frame, ordered by prediction then GT."""

    pred: np.ndarray  # (K,) prediction row
    gt: np.ndarray  # (K,) GT row
    dist: np.ndarray  # (K, 15) distance in head sizes; inf where either joint is absent
    start: np.ndarray  # (Np,) first pair of each prediction

    def index(self, pred_rows: np.ndarray, gt_rows: np.ndarray, gt_offsets: np.ndarray,
              pred_frame: np.ndarray) -> np.ndarray:
        """Pair index of (pred_rows[i], gt_rows[i]) (both in the same frame)."""
        return self.start[pred_rows] + gt_rows - gt_offsets[pred_frame[pred_rows]]


def frame_pairs(data: PoseTrackSet) -> FramePairs:
    """All within-frame pairs and their distances (d = ||pred - gt|| / head size).

    Computed in blocks of pairs, in place, so that the temporaries stay in cache (a val-sized
    set has about half a million pairs); every element is the same arithmetic as in one go:
    sqrt(dx * dx + dy * dy) / head size."""
    n_gt = np.diff(data.gt_offsets)
    per_pred = n_gt[data.pred.frame]
    start = np.cumsum(per_pred) - per_pred
    pred = np.repeat(np.arange(len(data.pred)), per_pred)
    gt = data.gt_offsets[data.pred.frame][pred] + (np.arange(len(pred)) - start[pred])
    gx, gy = (np.ascontiguousarray(data.gt.xy[..., c]) for c in (0, 1))
    px, py = (np.ascontiguousarray(data.pred.xy[..., c]) for c in (0, 1))
    dist = np.empty((len(pred), NUM_JOINTS))
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):  # inf/NaN never match
        for lo in range(0, len(pred), _PAIR_BLOCK):
            g, p = gt[lo:lo + _PAIR_BLOCK], pred[lo:lo + _PAIR_BLOCK]
            out = dist[lo:lo + _PAIR_BLOCK]
            dx, dy = gx[g] - px[p], gy[g] - py[p]
            np.multiply(dx, dx, out=out)
            out += np.multiply(dy, dy, out=dy)
            np.sqrt(out, out=out)
            out /= data.gt.head_size[g][:, None]
            out[~(data.gt.has[g] & data.pred.has[p])] = np.inf
    return FramePairs(pred=pred, gt=gt, dist=dist, start=start)


def match_poses(data: PoseTrackSet, pairs: FramePairs) -> np.ndarray:
    """(Np,) the GT row each prediction is matched to, -1 where none (official greedy rule)."""
    matched = np.full(len(data.pred), -1, dtype=np.int64)
    if len(pairs.pred) == 0:
        return matched
    hits = (pairs.dist <= DIST_THRESHOLD).sum(axis=1).astype(np.float64)
    n_annotated = data.gt.has.sum(axis=1)[pairs.gt]
    pck = np.where(n_annotated > 0, hits / np.maximum(n_annotated, 1), hits)
    # each prediction keeps its best GT (first on ties)
    has_pairs = np.flatnonzero(np.diff(data.gt_offsets)[data.pred.frame] > 0)
    best = np.maximum.reduceat(pck, pairs.start[has_pairs])
    best_of_pair = np.zeros(len(data.pred))
    best_of_pair[has_pairs] = best
    is_best = pck == best_of_pair[pairs.pred]
    cand_pred, first = np.unique(pairs.pred[is_best], return_index=True)
    cand_gt = pairs.gt[is_best][first]
    cand_val = best_of_pair[cand_pred]
    keep = cand_val > 0
    cand_pred, cand_gt, cand_val = cand_pred[keep], cand_gt[keep], cand_val[keep]
    # each GT keeps, among the predictions that picked it, the best (first prediction on ties)
    order = np.lexsort((cand_pred, -cand_val, cand_gt))
    gts, first = np.unique(cand_gt[order], return_index=True)
    matched[cand_pred[order][first]] = gts
    return matched


@dataclasses.dataclass
class APLabels:
    """One label per predicted joint, grouped by joint, in the official pooling order
    (video, frame, prediction)."""

    joint: np.ndarray  # (L,) joint id
    pred: np.ndarray  # (L,) prediction row
    gt: np.ndarray  # (L,) matched GT row, -1 if the pose is unmatched
    video: np.ndarray  # (L,) video index
    score: np.ndarray  # (L,)
    tp: np.ndarray  # (L,) bool
    joint_offsets: np.ndarray  # (16,) labels of joint j: joint_offsets[j]:joint_offsets[j + 1]

    def take(self, keep: np.ndarray) -> APLabels:
        """The labels where `keep` is True (order preserved)."""
        joint = self.joint[keep]
        return APLabels(joint=joint, pred=self.pred[keep], gt=self.gt[keep], video=self.video[keep],
                        score=self.score[keep], tp=self.tp[keep],
                        joint_offsets=np.searchsorted(joint, np.arange(NUM_JOINTS + 1)))


def ap_labels(data: PoseTrackSet, pairs: FramePairs, matched: np.ndarray) -> APLabels:
    """TP/FP label and score of every predicted joint."""
    joint, pred = np.nonzero(data.pred.has.T)  # joint-major, predictions in order
    gt = matched[pred]
    tp = np.zeros(len(pred), dtype=bool)
    sel = np.flatnonzero(gt >= 0)
    if len(sel):
        k = pairs.index(pred[sel], gt[sel], data.gt_offsets, data.pred.frame)
        tp[sel] = pairs.dist[k, joint[sel]] <= DIST_THRESHOLD
    return APLabels(joint=joint, pred=pred, gt=gt, video=data.frame_video[data.pred.frame[pred]],
                    score=data.pred.score[pred, joint], tp=tp,
                    joint_offsets=np.searchsorted(joint, np.arange(NUM_JOINTS + 1)))


def official_order(scores: np.ndarray) -> np.ndarray:
    """Descending score order exactly as the official code sorts (reversed default argsort)."""
    return np.asarray(scores).argsort()[::-1]


def voc_ap(recall: np.ndarray, precision: np.ndarray) -> float:
    """All-point VOC AP under the monotone precision envelope (the official arithmetic)."""
    mpre = np.concatenate([[0.0], precision, [0.0]])
    mrec = np.concatenate([[0.0], recall, [1.0]])
    mpre = np.maximum.accumulate(mpre[::-1])[::-1]
    i = np.flatnonzero(mrec[1:] != mrec[:-1]) + 1
    return float(np.sum((mrec[i] - mrec[i - 1]) * mpre[i]))


def ap_per_joint(labels: APLabels, n_gt: np.ndarray) -> dict[str, np.ndarray]:
    """AP, final precision and final recall (percent) per joint, NaN-free totals excluded.

    `n_gt` (15,) is the number of annotated GT joints. A joint without predictions scores 0;
    one with predictions but no GT scores NaN, as in the official code.
    """
    out = {k: np.zeros(NUM_JOINTS) for k in ("ap", "pre", "rec")}
    for j in range(NUM_JOINTS):
        lo, hi = labels.joint_offsets[j], labels.joint_offsets[j + 1]
        if hi == lo:
            continue
        order = official_order(labels.score[lo:hi])
        npos = np.cumsum(labels.tp[lo:hi][order])
        with np.errstate(divide="ignore", invalid="ignore"):
            recall = npos / np.float64(n_gt[j])
            precision = npos / np.arange(1, hi - lo + 1, dtype=np.float64)
            out["ap"][j] = voc_ap(recall, precision) * 100
        out["pre"][j] = precision[-1] * 100
        out["rec"][j] = recall[-1] * 100
    return out


@dataclasses.dataclass
class SortedLabels:
    """Labels of one joint in score order, for fast resampled AP (bootstrap)."""

    video: np.ndarray  # (L,) video of each label, in descending score order
    tp: np.ndarray  # (L,) bool
    n_gt: np.ndarray  # (V,) annotated GT joints per video


def sorted_labels(labels: APLabels, n_gt_per_video: np.ndarray) -> list[SortedLabels]:
    """Per joint: labels sorted once (official order) with their video, for weighted AP."""
    out = []
    for j in range(NUM_JOINTS):
        lo, hi = labels.joint_offsets[j], labels.joint_offsets[j + 1]
        order = official_order(labels.score[lo:hi])
        out.append(SortedLabels(video=labels.video[lo:hi][order], tp=labels.tp[lo:hi][order],
                                n_gt=n_gt_per_video[:, j]))
    return out


#: resamples x true positives held at once by :func:`weighted_ap`
CHUNK_ELEMENTS = 4_000_000


def _counts_at_true_positives(sl: SortedLabels, num_videos: int) -> tuple[np.ndarray, np.ndarray]:
    """(T, V) float32: per true positive (in score order) and video, how many labels and how
    many true positives of that video rank at or above it."""
    tp_at = np.flatnonzero(sl.tp)
    by_video = np.argsort(sl.video, kind="stable")  # label positions grouped by video, ascending
    bounds = np.searchsorted(sl.video[by_video], np.arange(num_videos + 1))
    tp_by_video = by_video[sl.tp[by_video]]
    tp_bounds = np.searchsorted(sl.video[tp_by_video], np.arange(num_videos + 1))
    seen = np.zeros((len(tp_at), num_videos), dtype=np.float32)
    hits = np.zeros_like(seen)
    for v in range(num_videos):
        if bounds[v + 1] > bounds[v]:
            seen[:, v] = np.searchsorted(by_video[bounds[v]:bounds[v + 1]], tp_at, side="right")
            hits[:, v] = np.searchsorted(tp_by_video[tp_bounds[v]:tp_bounds[v + 1]], tp_at, side="right")
    return seen, hits


def weighted_ap(sl: SortedLabels, weights: np.ndarray, chunk_elements: int = CHUNK_ELEMENTS) -> np.ndarray:
    """(B,) AP (percent) of one joint when video v counts weights[b, v] times.

    Equal to the AP of the set with each video repeated that many times: copies of a label tie
    in score and sit together, and a run of equal labels moves along the curve in one step.
    Only true positives move recall, and the precision envelope is attained at a true
    positive, so the curve is evaluated there only: the weighted label and hit counts at each
    true positive are the per-video counts above it times the weights (one matrix product per
    chunk of resamples, not a running sum over every label). Counts are float32 (exact integers
    below 2**24); precision carries float32 rounding (~1e-7 relative), plenty for an interval.
    """
    weights = np.asarray(weights, dtype=np.float64)
    n_gt = weights @ sl.n_gt
    out = np.zeros(len(weights))
    if len(sl.video) == 0:
        return out
    total = weights @ np.bincount(sl.video, minlength=weights.shape[1])
    seen, hits = _counts_at_true_positives(sl, weights.shape[1])
    tp_video = sl.video[sl.tp]
    step = max(1, chunk_elements // max(len(tp_video), 1))
    for b in range(0, len(weights), step):
        w = weights[b:b + step].T.astype(np.float32)  # (V, b)
        count, tp = seen @ w, hits @ w  # (T, b) weighted labels / true positives at or above
        with np.errstate(divide="ignore", invalid="ignore"):
            precision = tp / count
        precision[count == 0] = 0.0  # every label above drawn zero times
        for i in range(len(precision) - 2, -1, -1):  # the envelope, in place
            np.maximum(precision[i], precision[i + 1], out=precision[i])
        out[b:b + step] = np.einsum("ij,ij->j", w[tp_video], precision, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = out / n_gt * 100
    out[total == 0] = 0.0  # no predictions in the resample
    out[(n_gt == 0) & (total > 0)] = np.nan
    return out
