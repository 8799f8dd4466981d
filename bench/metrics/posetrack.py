"""The ``posetrack`` metric: per-joint AP and MOTA / MOTP / precision / recall, identical to the
official PoseTrack evaluation (poseval ``evaluate -e -t``) in the default ``official`` mode.

evaluate (read, clean, match, accumulate) runs once; the result keeps the per-label and
per-(frame, joint) arrays, and every table, per-video breakdown, video subset, GT-joint
selection and bootstrap resample is computed from them.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..registry import register_metric
from ..skeleton import POSETRACK17
from ..tables.base import Table
from .base import Metric, MetricResult, group_values, nanmean, video_indices
from .frame_groups import FrameGroups
from .posetrack_ap import (
    APLabels,
    ap_labels,
    ap_per_joint,
    frame_pairs,
    match_poses,
    sorted_labels,
    weighted_ap,
)
from .posetrack_data import JOINTS, NUM_JOINTS, PoseTrackSet, load_posetrack_set
from .posetrack_mot import MATCHED, MISSED, MODES, SWITCHED, FrameEvents, frame_events, sum_by_group

#: printed group names of the official tables, with their joints (internal ids)
GROUPS: tuple[tuple[str, tuple[int, ...]], ...] = tuple(
    ({"Sho": "Shou", "Ank": "Ankl"}.get(key, key), idx) for key, idx in POSETRACK17.groups
)
GROUP_KEYS = tuple(k for k, _ in GROUPS)


def mot_metrics(counts: dict[str, np.ndarray], *, classic_motp: bool = False) -> dict[str, np.ndarray]:
    """MOTA, MOTP, Prec, Rec (percent) from summed event counts (any leading shape, joints last).

    The official formulas: MOTA = 1 - (FN + IDSW + FP) / objects (NaN without objects);
    MOTP = 1 - sum(D) / (matches + switches), 0 without detections, where sum(D) is over every
    accumulator row (official) or over matched pairs only (``classic_motp``).
    """
    objects = counts["objects"]
    detections = counts["matches"] + counts["switches"]
    misses = objects - detections
    false_pos = counts["hypotheses"] - detections
    distance = counts["sum_matched"] if classic_motp else (
        counts["sum_raw"] + counts["sum_matched"] + counts["sum_extra"])
    with np.errstate(divide="ignore", invalid="ignore"):
        n_obj = np.where(objects > 0, objects, np.nan)
        total_det = np.where(false_pos + detections > 0, false_pos + detections, np.nan)
        return {
            "mota": 100 * (1.0 - (misses + counts["switches"] + false_pos) / n_obj),
            "motp": np.where((detections == 0) | np.isnan(distance), 0.0,
                             100 * (1.0 - distance / np.where(detections > 0, detections, 1))),
            "pre": 100 * (detections / total_det),
            "rec": 100 * (detections / n_obj),
        }


def _append_total(per_joint: np.ndarray) -> np.ndarray:
    """The 15 joint values and, as entry 15, the official Total (mean of the non-NaN joints)."""
    return np.append(per_joint, nanmean(per_joint))


def _with_total(per_joint: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    return {k: _append_total(v) for k, v in per_joint.items()}


@dataclasses.dataclass
class PoseTrackResult(MetricResult):
    """AP labels and CLEAR-MOT event counts of one prediction set, with everything derived."""

    data: PoseTrackSet
    mode: str
    labels: APLabels
    n_gt_video: np.ndarray  # (V, 15) annotated GT joints per video
    events: FrameEvents
    mot_video: dict[str, np.ndarray]  # name -> (V, 15) event counts per video
    notes: list[str]
    selected: np.ndarray  # indices of the videos this result covers

    metric = "posetrack"

    # -- selection ----------------------------------------------------------------------
    @property
    def videos(self) -> list[str]:
        return [self.data.videos[i] for i in self.selected]

    def subset(self, videos: Sequence[str]) -> PoseTrackResult:
        idx = video_indices(self.data.videos, videos)
        return dataclasses.replace(self, selected=np.asarray(idx))

    @functools.cached_property
    def _labels(self) -> APLabels:
        if len(self.selected) == self.data.num_videos:
            return self.labels
        return self.labels.take(np.isin(self.labels.video, self.selected))

    def _counts(self) -> dict[str, np.ndarray]:
        return {k: v[self.selected].sum(axis=0) for k, v in self.mot_video.items()}

    # -- the official tables --------------------------------------------------------------
    @functools.cached_property
    def _ap_full(self) -> dict[str, np.ndarray]:
        return _with_total(ap_per_joint(self._labels, self.n_gt_video[self.selected].sum(axis=0)))

    def ap_full(self) -> dict[str, np.ndarray]:
        """``ap``, ``pre``, ``rec`` as 16 values: the 15 joints (internal order) and Total."""
        return {k: v.copy() for k, v in self._ap_full.items()}

    def mot_full(self, *, classic_motp: bool | None = None) -> dict[str, np.ndarray]:
        """``mota``, ``motp``, ``pre``, ``rec`` as 16 values (joints, Total)."""
        classic = self.mode == "corrected" if classic_motp is None else classic_motp
        return _with_total(mot_metrics(self._counts(), classic_motp=classic))

    def event_counts(self) -> dict[str, list[int]]:
        """Per-joint CLEAR-MOT event counts summed over the selected videos."""
        c = self._counts()
        det = c["matches"] + c["switches"]
        out = {"num_objects": c["objects"], "num_matches": c["matches"], "num_switches": c["switches"],
               "num_misses": c["objects"] - det, "num_false_positives": c["hypotheses"] - det,
               "num_detections": det, "num_transfers": c["transfers"], "num_ascends": c["ascends"],
               "num_migrates": c["migrates"], "num_gt_joints": self.n_gt_video[self.selected].sum(axis=0)}
        return {k: [int(x) for x in v] for k, v in out.items()}

    def headline(self) -> dict[str, float]:
        ap = self.ap_full()["ap"]
        mot = self.mot_full()
        return self._cells(ap[:NUM_JOINTS], ap[NUM_JOINTS], {k: v[:NUM_JOINTS] for k, v in mot.items()},
                           {k: v[NUM_JOINTS] for k, v in mot.items()})

    @staticmethod
    def _cells(ap: np.ndarray, ap_total: Any, mot: dict[str, np.ndarray], mot_total: dict[str, Any]) -> dict:
        cells = {f"AP/{k}": v for k, v in group_values(ap, GROUPS).items()}
        cells["AP/Total"] = ap_total
        cells.update({f"MOTA/{k}": v for k, v in group_values(mot["mota"], GROUPS).items()})
        cells["MOTA/Total"] = mot_total["mota"]
        cells["MOTP/Total"] = mot_total["motp"]
        cells["Prec/Total"] = mot_total["pre"]
        cells["Rec/Total"] = mot_total["rec"]
        return {k: (float(v) if np.ndim(v) == 0 else v) for k, v in cells.items()}

    # -- bootstrap ------------------------------------------------------------------------
    @functools.cached_property
    def _sorted(self):
        return sorted_labels(self.labels, self.n_gt_video)

    def resample(self, weights: np.ndarray) -> dict[str, np.ndarray]:
        weights = np.atleast_2d(np.asarray(weights, dtype=np.float64))
        full = np.zeros((len(weights), self.data.num_videos))
        full[:, self.selected] = weights
        ap = np.zeros((len(full), NUM_JOINTS))
        for j, sl in enumerate(self._sorted):
            ap[:, j] = weighted_ap(sl, full)
        counts = {k: full @ v for k, v in self.mot_video.items()}
        mot = mot_metrics(counts, classic_motp=self.mode == "corrected")
        return self._cells(ap, nanmean(ap, axis=1), mot, {k: nanmean(v, axis=1) for k, v in mot.items()})

    # -- breakdowns -----------------------------------------------------------------------
    def per_video(self) -> dict[str, dict[str, list[float]]]:
        """Per video: the 16-value ``ap``/``ap_pre``/``ap_rec`` and ``mota``/``motp``/``mot_pre``/
        ``mot_rec`` lists, as the official ``-s`` option writes them."""
        out = {}
        for v in self.selected:
            one = self.subset([self.data.videos[v]])
            ap, mot = one.ap_full(), one.mot_full()
            out[self.data.videos[v]] = {
                "ap": ap["ap"].tolist(), "ap_pre": ap["pre"].tolist(), "ap_rec": ap["rec"].tolist(),
                "mota": mot["mota"].tolist(), "motp": mot["motp"].tolist(),
                "mot_pre": mot["pre"].tolist(), "mot_rec": mot["rec"].tolist(),
            }
        return out

    def frame_keys(self) -> dict[str, np.ndarray]:
        """Identify each evaluated frame (the rows of a frame mask): video index, position in the
        file."""
        return {"video": self.data.frame_video, "frame": self.data.frame_position}

    def select_frames(self, keep: np.ndarray) -> PoseTrackResult:
        """The result on the evaluated frames where `keep` ((F,) bool over :meth:`frame_keys`) is
        True, scored as if every other frame were unlabeled: exactly what the official
        evaluation gives on a copy of the files where those frames have no GT person. Matching
        and tracking are re-run on the kept frames (tracking sees them as consecutive, and the
        last kept frame of each video is the one never fed); the videos stay."""
        sub = score_posetrack(self.data.take_frames(keep), self.mode)
        return dataclasses.replace(sub, selected=self.selected)

    def group(self, groups: FrameGroups, name: str) -> PoseTrackResult:
        """The result on one frame group's frames (``frame_groups``)."""
        keys = self.frame_keys()
        return self.select_frames(groups.frame_mask(self.data.videos, keys["video"], keys["frame"], name))

    def gt_persons(self) -> dict[str, np.ndarray]:
        """Identify each GT row (the rows of a joint mask): video index, frame position in the
        file, position in the frame, track id."""
        gt = self.data.gt
        return {"video": self.data.frame_video[gt.frame], "frame": self.data.frame_position[gt.frame],
                "index_in_frame": gt.index_in_frame, "track_id": gt.track_id}

    def select_gt_joints(self, mask: np.ndarray) -> dict[str, Any]:
        """AP and tracking recall on a selection of GT joints (e.g. the occluded ones).

        `mask` is (N_gt, 15) bool over the rows of :meth:`gt_persons`, internal joint order
        (``posetrack_data.to_internal_joints`` converts a mask in PoseTrack'18 slot order).
        AP: unselected GT joints are ignored (a prediction of them is neither TP nor FP), so
        nGT counts selected joints and false positives that belong to no selected GT joint stay.
        Tracking: per joint, selected GT joints fed to the accumulators and how many were
        matched, switched or missed (false positives belong to no GT joint, so no MOTA).
        """
        mask = np.asarray(mask, dtype=bool)
        if mask.shape != self.data.gt.has.shape:
            raise ValueError(f"mask must be {self.data.gt.has.shape}, got {mask.shape}")
        in_sel = np.isin(self.data.frame_video[self.data.gt.frame], self.selected)
        chosen = mask & self.data.gt.has & in_sel[:, None]
        labels = self._labels
        matched = labels.gt >= 0
        gt_row = np.where(matched, labels.gt, 0)
        ignored = matched & self.data.gt.has[gt_row, labels.joint] & ~mask[gt_row, labels.joint]
        ap = ap_per_joint(labels.take(~ignored), chosen.sum(axis=0))
        status = self.events.gt_status
        fed = chosen & (status >= 0)
        tracked = {name: (fed & (status == code)).sum(axis=0) for name, code in
                   (("matched", MATCHED), ("switched", SWITCHED), ("missed", MISSED))}
        with np.errstate(divide="ignore", invalid="ignore"):
            recall = 100 * (tracked["matched"] + tracked["switched"]) / np.where(fed.sum(0) > 0, fed.sum(0), np.nan)
        return {
            "joints": list(JOINTS),
            "num_gt_joints": chosen.sum(axis=0).tolist(),
            "AP": _append_total(ap["ap"]).tolist(),
            "AP_recall": _append_total(ap["rec"]).tolist(),
            "tracking_objects": fed.sum(axis=0).tolist(),
            "tracking_recall": _append_total(recall).tolist(),
            "id_switches": tracked["switched"].tolist(),
            "misses": tracked["missed"].tolist(),
            "unknown_tracking_videos": [self.data.videos[v] for v in self.events.motmetrics_videos],
        }

    # -- output ---------------------------------------------------------------------------
    def summary(self) -> dict[str, Any]:
        ap, mot = self.ap_full(), self.mot_full()
        cells = self.headline()
        classic = self.mot_full(classic_motp=True)
        return {
            "metric": "posetrack",
            "AP": {k: cells[f"AP/{k}"] for k in (*GROUP_KEYS, "Total")},
            "MOTA": {k: cells[f"MOTA/{k}"] for k in (*GROUP_KEYS, "Total")},
            "MOTP": {"Total": cells["MOTP/Total"]},
            "Prec": {"Total": cells["Prec/Total"]},
            "Rec": {"Total": cells["Rec/Total"]},
            "per_joint": {
                "AP": dict(zip(JOINTS, ap["ap"][:NUM_JOINTS].tolist())),
                "MOTA": dict(zip(JOINTS, mot["mota"][:NUM_JOINTS].tolist())),
                "MOTP": dict(zip(JOINTS, mot["motp"][:NUM_JOINTS].tolist())),
                "Prec": dict(zip(JOINTS, mot["pre"][:NUM_JOINTS].tolist())),
                "Rec": dict(zip(JOINTS, mot["rec"][:NUM_JOINTS].tolist())),
                "AP_precision": dict(zip(JOINTS, ap["pre"][:NUM_JOINTS].tolist())),
                "AP_recall": dict(zip(JOINTS, ap["rec"][:NUM_JOINTS].tolist())),
            },
            "full": {"joint_order": [*JOINTS, "total"],
                     "ap": {k: v.tolist() for k, v in ap.items()},
                     "mot": {k: v.tolist() for k, v in mot.items()}},
            "MOTP_classic": {"Total": float(classic["motp"][NUM_JOINTS]),
                             "per_joint": dict(zip(JOINTS, classic["motp"][:NUM_JOINTS].tolist()))},
            "counts": self.event_counts(),
            "options": {"mode": self.mode, "distance_threshold_head_sizes": 0.5,
                        "head_size": "0.6 * head box diagonal",
                        "motp": "classic (matched pairs only)" if self.mode == "corrected"
                        else "official (every accumulator row, motmetrics 1.4.0)"},
            "videos": len(self.selected),
            "frames_evaluated": int(np.isin(self.data.frame_video, self.selected).sum()),
            "notes": list(self.notes),
        }

    def tables(self) -> list[Table]:
        cells = self.headline()
        keys = (*GROUP_KEYS, "Total")
        return [
            Table.from_rows("AP", "Average Precision (AP)", ["", *keys],
                            [["AP", *(cells[f"AP/{k}"] for k in keys)]]),
            Table.from_rows("MOT", "Multiple Object Tracking (MOT)",
                            ["", *(f"MOTA {k}" for k in keys), "MOTP Total", "Prec Total", "Rec Total"],
                            [["MOT", *(cells[f"MOTA/{k}"] for k in keys), cells["MOTP/Total"],
                              cells["Prec/Total"], cells["Rec/Total"]]]),
        ]


def _notes(data: PoseTrackSet, mode: str, events: FrameEvents) -> list[str]:
    notes = []
    counts = np.bincount(data.frame_video, minlength=data.num_videos)
    for v in np.flatnonzero(counts == 0):
        notes.append(f"{data.videos[v]}: no GT frame with a person; the video adds nothing")
    if mode == "official":
        for v in np.flatnonzero(counts == 1):
            notes.append(
                f"{data.videos[v]}: a single labeled frame. The official code crashes on such a "
                "video; here it adds to AP as usual and nothing to MOTA (its only frame is the "
                "last one, which the official tracking evaluation never feeds)")
    for v in events.repeated_gt_id_videos:
        notes.append(f"{data.videos[v]}: a GT track id repeats within a frame; tracking scored with "
                     "motmetrics itself, as the official code does (per-GT-joint events unavailable)")
    if data.missing_scores:
        notes.append(f"{data.missing_scores} predicted joints have no score; scored -9999 as the "
                     "official code does")
    return notes


def score_posetrack(data: PoseTrackSet, mode: str = "official", *, engine: str = "fast") -> PoseTrackResult:
    """Match, label and accumulate a loaded set (no file access). ``engine="motmetrics"`` runs
    motmetrics' accumulator frame by frame (the slow reference) instead of the fast one."""
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
    pairs = frame_pairs(data)
    labels = ap_labels(data, pairs, match_poses(data, pairs))
    events = frame_events(data, pairs, mode, engine=engine)
    n_gt_video = sum_by_group(data.frame_video[data.gt.frame], data.gt.has.astype(np.int64), data.num_videos)
    return PoseTrackResult(
        data=data, mode=mode, labels=labels, n_gt_video=n_gt_video, events=events,
        mot_video=events.per_video(data.frame_video, data.num_videos),
        notes=_notes(data, mode, events), selected=np.arange(data.num_videos),
    )


@register_metric("posetrack")
class PoseTrackMetric(Metric):
    """PoseTrack per-joint AP and MOTA/MOTP/Prec/Rec, identical to the official evaluation."""

    def __init__(self, mode: str = "official") -> None:
        if mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
        self.mode = mode

    def evaluate(self, gt_dir: str | Path, pred_dir: str | Path, *,
                 videos: Sequence[str] | None = None) -> PoseTrackResult:
        return score_posetrack(load_posetrack_set(gt_dir, pred_dir, videos=videos), self.mode)
