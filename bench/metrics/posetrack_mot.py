"""Per-joint CLEAR-MOT events of the official PoseTrack tracking evaluation (``docs/evaluation.md``, `posetrack`).

For every joint and video, the frames are fed to an accumulator: objects are the GT persons
with that joint annotated, hypotheses the predictions with it predicted, and a pair is a
candidate when its distance is at most 0.5 head sizes. In the default ``official`` mode the
official code's quirks are reproduced: the last evaluated frame of each video is not fed, and a
frame where GT or predictions are empty adds one miss and one false positive per joint. The
``corrected`` mode feeds every frame with its real objects and hypotheses.

The result is a set of (frame, joint) arrays of event counts, so per-video sums, video subsets
and bootstrap weights are plain reductions.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from ..errors import UserError
from .clear_mot import MATCH, SWITCH, MOTUpdates, accumulate, dense_ids
from .posetrack_ap import DIST_THRESHOLD, FramePairs
from .posetrack_data import NUM_JOINTS, PoseTrackSet

MODES = ("official", "corrected")
#: per-(frame, joint) event arrays kept by FrameEvents
COUNT_FIELDS = ("objects", "hypotheses", "matches", "switches", "sum_matched", "sum_extra",
                "sum_raw", "transfers", "ascends", "migrates")
#: GT joint tracking status
NOT_FED, MISSED, MATCHED, SWITCHED = -1, 0, MATCH, SWITCH


@dataclasses.dataclass
class FrameEvents:
    """CLEAR-MOT event counts per evaluated frame and joint, and per GT joint its event."""

    counts: dict[str, np.ndarray]  # name -> (F, 15)
    gt_status: np.ndarray  # (N_gt, 15) NOT_FED / MISSED / MATCHED / SWITCHED
    fed: np.ndarray  # (F,) frame was fed to the accumulators
    substituted: np.ndarray  # (F,) fed as the official one-miss-one-false-positive stand-in
    motmetrics_videos: list[int]  # videos scored by motmetrics itself
    repeated_gt_id_videos: list[int]  # videos that repeat a GT track id within a frame

    def per_video(self, frame_video: np.ndarray, num_videos: int) -> dict[str, np.ndarray]:
        """name -> (V, 15) sums over each video's frames."""
        return {k: sum_by_group(frame_video, v, num_videos) for k, v in self.counts.items()}


def sum_by_group(groups: np.ndarray, values: np.ndarray, n: int) -> np.ndarray:
    """(n, K) sums of the (N, K) `values` rows by their group index (`groups`, (N,))."""
    out = np.zeros((n, values.shape[1]), dtype=values.dtype)
    np.add.at(out, groups, values)
    return out


def fed_frames(data: PoseTrackSet, mode: str) -> tuple[np.ndarray, np.ndarray]:
    """(fed, substituted) masks over evaluated frames for `mode`."""
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
    fed = np.ones(data.num_frames, dtype=bool)
    if mode == "official":
        offsets = data.video_frame_offsets()
        last = offsets[1:][np.diff(offsets) > 0] - 1
        fed[last] = False
        n_gt, n_pred = data.frame_counts()
        substituted = fed & ((n_gt == 0) | (n_pred == 0))
    else:
        substituted = np.zeros(data.num_frames, dtype=bool)
    return fed, substituted


def _repeated_gt_ids(data: PoseTrackSet) -> dict[int, int]:
    """Video -> first evaluated frame where a GT track id repeats (motmetrics-only input)."""
    if len(data.gt) == 0:
        return {}
    order = np.lexsort((data.gt.track_id, data.gt.frame))
    same = (np.diff(data.gt.frame[order]) == 0) & (np.diff(data.gt.track_id[order]) == 0)
    out: dict[int, int] = {}
    for row in order[1:][same]:
        frame = int(data.gt.frame[row])
        out.setdefault(int(data.frame_video[frame]), frame)
    return out


def _build_updates(data: PoseTrackSet, pairs: FramePairs, normal: np.ndarray):
    """MOTUpdates for the (frame, joint) accumulator updates of the `normal` frames."""
    compact = np.full(data.num_frames, -1)
    frames = np.flatnonzero(normal)
    compact[frames] = np.arange(len(frames))
    n_frames = len(frames)
    # step: rank of the frame among its video's normal frames
    video = data.frame_video[frames]
    first = np.searchsorted(video, video)
    frame_step = np.arange(n_frames) - first

    gt_mask = data.gt.has & (compact[data.gt.frame] >= 0)[:, None]
    obj_j, obj_g = np.nonzero(gt_mask.T)
    pred_mask = data.pred.has & (compact[data.pred.frame] >= 0)[:, None]
    hyp_j, hyp_p = np.nonzero(pred_mask.T)
    obj_u = obj_j * n_frames + compact[data.gt.frame[obj_g]]
    hyp_u = hyp_j * n_frames + compact[data.pred.frame[hyp_p]]
    n_upd = NUM_JOINTS * n_frames

    # state ids: (joint, video, track id) -> one integer
    gt_key = _compress(data.frame_video[data.gt.frame], data.gt.track_id)
    pred_key = _compress(data.frame_video[data.pred.frame], data.pred.track_id)
    obj_ids = obj_j * (gt_key.max(initial=0) + 1) + gt_key[obj_g]
    hyp_ids = hyp_j * (pred_key.max(initial=0) + 1) + pred_key[hyp_p]

    obj_pos = np.full(gt_mask.shape, -1)
    obj_pos[obj_g, obj_j] = np.arange(len(obj_g))
    hyp_pos = np.full(pred_mask.shape, -1)
    hyp_pos[hyp_p, hyp_j] = np.arange(len(hyp_p))
    in_normal = normal[data.pred.frame[pairs.pred]]
    k, j = np.nonzero((pairs.dist <= DIST_THRESHOLD) & in_normal[:, None])
    upd = MOTUpdates(
        step=np.tile(frame_step, NUM_JOINTS),
        obj_offsets=np.searchsorted(obj_u, np.arange(n_upd + 1)),
        obj_ids=obj_ids,
        hyp_offsets=np.searchsorted(hyp_u, np.arange(n_upd + 1)),
        hyp_ids=hyp_ids,
        edge_obj=obj_pos[pairs.gt[k], j],
        edge_hyp=hyp_pos[pairs.pred[k], j],
        edge_dist=pairs.dist[k, j],
    )
    return upd, frames, (obj_g, obj_j)


def _compress(video: np.ndarray, track: np.ndarray) -> np.ndarray:
    """Dense ids for (video, track id) pairs, numbered in (video, track id) order."""
    if len(video) == 0:
        return np.zeros(0, dtype=np.int64)
    low, span = int(track.min()), int(track.max()) - int(track.min()) + 1
    if span * (int(video.max()) + 1) >= 2**62:  # absurd track ids: compare the pairs as rows
        return np.unique(np.stack([video, track], axis=1), axis=0, return_inverse=True)[1].reshape(-1)
    return dense_ids(video.astype(np.int64) * span + (track - low))[1]


def frame_events(data: PoseTrackSet, pairs: FramePairs, mode: str = "official", *,
                 engine: str = "fast") -> FrameEvents:
    """Run the per-joint accumulators of every video; see the module docstring.

    ``engine="motmetrics"`` feeds motmetrics' own accumulator frame by frame instead (the
    reference the fast engine is tested against; per-GT-joint events are then unavailable).
    Videos that repeat a GT track id within a frame always take that path.
    """
    if engine not in ("fast", "motmetrics"):
        raise ValueError(f"engine must be 'fast' or 'motmetrics', got {engine!r}")
    fed, substituted = fed_frames(data, mode)
    counts = {k: np.zeros((data.num_frames, NUM_JOINTS)) for k in COUNT_FIELDS}
    gt_status = np.full((len(data.gt), NUM_JOINTS), NOT_FED, dtype=np.int8)
    counts["objects"][substituted] = 1
    counts["hypotheses"][substituted] = 1

    normal = fed & ~substituted
    repeated = _repeated_gt_ids(data)
    fallback = np.array(sorted(repeated), dtype=np.int64)
    if engine == "motmetrics":
        fallback = np.arange(data.num_videos)
        normal[:] = False
    else:  # the result's notes name these videos
        normal &= ~np.isin(data.frame_video, fallback)
    upd, frames, (obj_g, obj_j) = _build_updates(data, pairs, normal)
    events = accumulate(upd)
    n = len(frames)
    for name in COUNT_FIELDS:
        counts[name][frames] = getattr(events, name).reshape(NUM_JOINTS, n).T
    status = np.where(events.obj_event > 0, events.obj_event, MISSED)
    gt_status[obj_g, obj_j] = status
    for v in fallback:
        try:
            _motmetrics_video(data, pairs, int(v), fed, substituted, counts)
        except (KeyError, ValueError, IndexError) as exc:  # motmetrics fails as the official code does
            frame = repeated[int(v)]
            raise UserError(
                f"GT track id repeats within frame {data.frame_names[frame]}; the tracking "
                f"accumulator (motmetrics, as in the official evaluation) fails on it: "
                f"{type(exc).__name__}: {exc}",
                path=data.gt_paths[int(v)],
                field=f"{'annolist' if data.formats[data.videos[int(v)]] == 'posetrack17' else 'images'}"
                      f"[{int(data.frame_position[frame])}]",
            ) from None
    return FrameEvents(counts=counts, gt_status=gt_status, fed=fed, substituted=substituted,
                       motmetrics_videos=[int(v) for v in fallback],
                       repeated_gt_id_videos=sorted(repeated))


def _motmetrics_video(data: PoseTrackSet, pairs: FramePairs, video: int, fed: np.ndarray,
                      substituted: np.ndarray, counts: dict[str, np.ndarray]) -> None:
    """Score one video with motmetrics itself (exact for inputs the fast path does not take)."""
    import motmetrics as mm

    frames = np.flatnonzero((data.frame_video == video) & fed & ~substituted)
    for j in range(NUM_JOINTS):
        acc = mm.MOTAccumulator(auto_id=True)
        for f in frames:
            g = np.arange(data.gt_offsets[f], data.gt_offsets[f + 1])
            p = np.arange(data.pred_offsets[f], data.pred_offsets[f + 1])
            g, p = g[data.gt.has[g, j]], p[data.pred.has[p, j]]
            dist = np.full((len(g), len(p)), np.nan)
            if len(g) and len(p):
                k = pairs.index(np.repeat(p, len(g)), np.tile(g, len(p)), data.gt_offsets, data.pred.frame)
                d = pairs.dist[k, j].reshape(len(p), len(g)).T
                dist = np.where(d <= DIST_THRESHOLD, d, np.nan)
            acc.update(data.gt.track_id[g], data.pred.track_id[p], dist)
        if not len(frames):
            continue
        ev = acc.events.reset_index()
        frame_of = frames[ev["FrameId"].to_numpy()]
        kinds = ev["Type"].to_numpy()
        dist = np.nan_to_num(ev["D"].to_numpy())
        for name, kind in (("matches", "MATCH"), ("switches", "SWITCH"), ("transfers", "TRANSFER"),
                           ("ascends", "ASCEND"), ("migrates", "MIGRATE")):
            np.add.at(counts[name][:, j], frame_of[kinds == kind], 1)
        objects = np.isin(kinds, ["MATCH", "SWITCH", "MISS"])
        hypotheses = np.isin(kinds, ["MATCH", "SWITCH", "FP"])
        np.add.at(counts["objects"][:, j], frame_of[objects], 1)
        np.add.at(counts["hypotheses"][:, j], frame_of[hypotheses], 1)
        for name, rows in (("sum_raw", kinds == "RAW"), ("sum_matched", np.isin(kinds, ["MATCH", "SWITCH"])),
                           ("sum_extra", np.isin(kinds, ["ASCEND", "TRANSFER", "MIGRATE"]))):
            np.add.at(counts[name][:, j], frame_of[rows], dist[rows])
