"""The ``pck`` metric: PCK@alpha for single-person video datasets (``docs/evaluation.md``, `pck`).

A GT joint that counts is correct when ``||pred - gt||_2 <= alpha * L`` (inclusive), with L =
max(w, h) of that frame's GT person box (or, for tPCK, the GT torso: one shoulder to the
opposite hip). Hits and trials are pooled over every frame of every video. Table groups are
the mean of their joints' PCK; Mean is pooled hits / trials over the table joints (or all
joints). Which joints count: ``all`` (sub-JHMDB: every joint, every frame) or ``visible``
(Penn Action: v > 0 only); ``auto`` decides from the skeleton.

GT and predictions are PoseTrack'18-layout files (``vposebench convert``) in the dataset's own
joint order, paired by frame position; within a frame, GT and predicted persons pair by track
id, and a frame with one of each pairs them whatever their ids. A GT person without a paired
prediction, or a joint not predicted, is a miss. Normalisers below 1 px are never replaced:
they are used as they are and listed.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import UserError
from ..formats import PoseTrackFile, pair_files, read_file
from ..registry import register_metric
from ..skeleton import GROUP_KEYS, JHMDB, PENN_ACTION, Skeleton
from ..tables.base import Table
from .base import Metric, MetricResult, group_values, video_indices
from .frame_groups import FrameGroups
from .posetrack_data import in_frame_index

VISIBILITY_RULES = ("auto", "visible", "all")
NORMALISERS = ("box", "torso")
#: (shoulder, opposite hip) of the torso normaliser per skeleton; others use the first pair
TORSO_JOINTS = {PENN_ACTION.name: ("right_shoulder", "left_hip"), JHMDB.name: ("left_shoulder", "right_hip")}
_DEFAULT_TORSO = ("left_shoulder", "right_hip")
#: normalisers shorter than this (px) are listed as degenerate
SHORT_NORMALISER_PX = 1.0


def visibility_for(skeleton: Skeleton, rule: str) -> str:
    """The visibility rule `auto` resolves to: all joints for sub-JHMDB, v > 0 otherwise."""
    if rule not in VISIBILITY_RULES:
        raise ValueError(f"visibility must be one of {VISIBILITY_RULES}, got {rule!r}")
    if rule != "auto":
        return rule
    return "all" if skeleton == JHMDB else "visible"


@dataclasses.dataclass
class PCKOptions:
    """How PCK is computed; recorded with every result."""

    alpha: float = 0.2
    normaliser: str = "box"  # "box" | "torso"
    visibility: str = "auto"  # "auto" | "visible" | "all"
    all_joints: bool = False  # Mean over every joint instead of the table joints

    def __post_init__(self) -> None:
        if not (np.isfinite(self.alpha) and self.alpha > 0):
            raise UserError(f"alpha must be a positive number, got {self.alpha!r}", field="--pck-alpha")
        if self.normaliser not in NORMALISERS:
            raise ValueError(f"normaliser must be one of {NORMALISERS}, got {self.normaliser!r}")
        visibility_for(JHMDB, self.visibility)  # validates the name


@dataclasses.dataclass
class PCKScores:
    """Per GT person (one per frame and person) and joint: which joints count and which hit."""

    video: np.ndarray  # (N,) video index
    frame: np.ndarray  # (N,) frame position in the file
    counted: np.ndarray  # (N, J) bool
    correct: np.ndarray  # (N, J) bool (False where not counted)
    normaliser: np.ndarray  # (N,) L in pixels
    paired: np.ndarray  # (N,) a prediction was paired with the person
    index_in_frame: np.ndarray  # (N,) position of the person in its frame in the GT file

    def take(self, rows: np.ndarray) -> PCKScores:
        """The rows where `rows` ((N,) bool) is True."""
        return PCKScores(**{f.name: getattr(self, f.name)[rows] for f in dataclasses.fields(self)})


def _pair_persons(gt: PoseTrackFile, pred: PoseTrackFile) -> np.ndarray:
    """(N_gt,) prediction row paired with each GT row, -1 where none."""
    out = np.full(gt.num_persons, -1)
    g_off, p_off = gt.frame_offsets(), pred.frame_offsets()
    for f in np.flatnonzero(np.diff(g_off) > 0):
        g = np.arange(g_off[f], g_off[f + 1])
        p = np.arange(p_off[f], p_off[f + 1])
        if len(p) == 0:
            continue
        if len(g) == 1 and len(p) == 1:
            out[g[0]] = p[0]
            continue
        by_id = {int(pred.track_ids[k]): k for k in p}
        for k in g:
            out[k] = by_id.get(int(gt.track_ids[k]), -1)
    return out


def _normalisers(gt: PoseTrackFile, kind: str) -> np.ndarray:
    """L per GT person; NaN where the file has no person box (box normaliser)."""
    if kind == "box":
        boxes = gt.boxes
        return np.maximum(boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1])
    a, b = (gt.skeleton.index(n) for n in TORSO_JOINTS.get(gt.skeleton.name, _DEFAULT_TORSO))
    d = gt.keypoints[:, a, :2] - gt.keypoints[:, b, :2]
    return np.sqrt((d * d).sum(axis=1))


def score_video(gt: PoseTrackFile, pred: PoseTrackFile, options: PCKOptions, video: int) -> PCKScores:
    """Hits and trials of one video's GT persons."""
    if len(pred.frames) != len(gt.frames):
        raise UserError(f"{len(pred.frames)} frames, but the GT file has {len(gt.frames)} "
                        "(frames are paired by position)", path=pred.path, field="images")
    partner = _pair_persons(gt, pred)
    counted = (gt.keypoints[..., 2] > 0) if visibility_for(gt.skeleton, options.visibility) == "visible" \
        else np.ones(gt.keypoints.shape[:2], dtype=bool)
    length = _normalisers(gt, options.normaliser)
    counted &= ~np.isnan(length)[:, None]  # no box: excluded and listed, never guessed
    paired = partner >= 0
    pred_xy = np.full(gt.keypoints[..., :2].shape, np.nan)
    pred_xy[paired] = pred.keypoints[partner[paired], :, :2]
    d = pred_xy - gt.keypoints[..., :2]
    with np.errstate(invalid="ignore"):
        correct = counted & (np.sqrt((d * d).sum(axis=2)) <= options.alpha * length[:, None])
    return PCKScores(video=np.full(gt.num_persons, video), frame=gt.person_frame, counted=counted,
                     correct=correct, normaliser=length, paired=paired,
                     index_in_frame=in_frame_index(gt.person_frame))


@dataclasses.dataclass
class PCKResult(MetricResult):
    """Pooled PCK with the per-person arrays behind it."""

    skeleton: Skeleton
    options: PCKOptions
    video_names: list[str]
    scores: PCKScores
    selected: np.ndarray

    metric = "pck"

    @property
    def videos(self) -> list[str]:
        return [self.video_names[i] for i in self.selected]

    def subset(self, videos: Sequence[str]) -> PCKResult:
        return dataclasses.replace(self, selected=video_indices(self.video_names, videos))

    @property
    def visibility(self) -> str:
        return visibility_for(self.skeleton, self.options.visibility)

    @functools.cached_property
    def _video_counts(self) -> tuple[np.ndarray, np.ndarray]:
        """(V, J) hits and trials per video."""
        n_v, n_j = len(self.video_names), self.skeleton.num_joints
        hits, trials = np.zeros((n_v, n_j)), np.zeros((n_v, n_j))
        np.add.at(hits, self.scores.video, self.scores.correct)
        np.add.at(trials, self.scores.video, self.scores.counted)
        return hits, trials

    def mean_joints(self) -> tuple[int, ...]:
        """Joints pooled into Mean."""
        if self.options.all_joints:
            return tuple(range(self.skeleton.num_joints))
        return self.skeleton.table_joints

    def _cells(self, hits: np.ndarray, trials: np.ndarray) -> tuple[dict[str, Any], np.ndarray]:
        """Table cells and per-joint PCK from (..., J) hits and trials."""
        with np.errstate(invalid="ignore", divide="ignore"):
            per_joint = 100 * hits / trials
            cols = list(self.mean_joints())
            mean = 100 * hits[..., cols].sum(axis=-1) / trials[..., cols].sum(axis=-1)
        cells = {f"PCK/{k}": v for k, v in group_values(per_joint, self.skeleton.groups).items()}
        cells["PCK/Mean"] = mean
        return cells, per_joint

    def counts(self, weights: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Hits and trials per joint summed over the selected videos (or weighted)."""
        hits, trials = self._video_counts
        if weights is None:
            return hits[self.selected].sum(axis=0), trials[self.selected].sum(axis=0)
        full = np.zeros((len(weights), len(self.video_names)))
        full[:, self.selected] = weights
        return full @ hits, full @ trials

    def headline(self) -> dict[str, float]:
        cells, _ = self._cells(*self.counts())
        return {k: float(v) for k, v in cells.items()}

    def per_joint(self) -> dict[str, float]:
        _, per_joint = self._cells(*self.counts())
        return dict(zip(self.skeleton.joints, per_joint.tolist()))

    def select_gt_joints(self, mask: np.ndarray) -> dict[str, float]:
        """The table cells counting only the GT joints where `mask` ((N, J) bool over the rows
        of ``scores``: one per GT person and frame) is True, e.g. occluded joints."""
        mask = np.asarray(mask, dtype=bool)
        if mask.shape != self.scores.counted.shape:
            raise ValueError(f"mask must be {self.scores.counted.shape}, got {mask.shape}")
        rows = np.isin(self.scores.video, self.selected)[:, None] & mask
        hits = (self.scores.correct & rows).sum(axis=0).astype(np.float64)
        trials = (self.scores.counted & rows).sum(axis=0).astype(np.float64)
        cells, _ = self._cells(hits, trials)
        return {k: float(v) for k, v in cells.items()}

    def resample(self, weights: np.ndarray) -> dict[str, np.ndarray]:
        cells, _ = self._cells(*self.counts(np.atleast_2d(weights)))
        return cells

    def gt_persons(self) -> dict[str, np.ndarray]:
        """Identify each GT row of ``scores``: video index, frame position in the file,
        position in the frame, as in ``PoseTrackResult.gt_persons``."""
        s = self.scores
        return {"video": s.video, "frame": s.frame, "index_in_frame": s.index_in_frame}

    def select_persons(self, rows: np.ndarray) -> PCKResult:
        """The same result counting only the GT person-frames where `rows` ((N,) bool over the
        rows of ``scores``) is True; the videos stay (a video without a selected row adds
        nothing), so it resamples and pairs like the whole."""
        rows = np.asarray(rows, dtype=bool)
        if rows.shape != self.scores.video.shape:
            raise ValueError(f"rows must be {self.scores.video.shape}, got {rows.shape}")
        return dataclasses.replace(self, scores=self.scores.take(rows))

    def group(self, groups: FrameGroups, name: str) -> PCKResult:
        """The result on one frame group's person-frames (``frame_groups``): their hits and
        trials only."""
        rows = self.gt_persons()
        return self.select_persons(groups.person_mask(self.video_names, rows["video"], rows["frame"],
                                                      rows["index_in_frame"], name))

    def flagged(self, *, missing: bool = False) -> list[dict[str, Any]]:
        """GT persons whose normaliser is shorter than 1 px (used as is, never replaced), or
        with `missing`, those without one (left out of the counts)."""
        s = self.scores
        bad = np.isnan(s.normaliser) if missing else s.normaliser < SHORT_NORMALISER_PX
        rows = np.flatnonzero(bad & np.isin(s.video, self.selected))
        return [{"video": self.video_names[s.video[r]], "frame": int(s.frame[r]),
                 "normaliser_px": None if missing else float(s.normaliser[r])} for r in rows]

    def summary(self) -> dict[str, Any]:
        hits, trials = self.counts()
        cells = self.headline()
        norm = ("max(w, h) of the GT person box (x1y1x2y2, no +1)" if self.options.normaliser == "box"
                else "GT torso: {} to {}".format(*TORSO_JOINTS.get(self.skeleton.name, _DEFAULT_TORSO)))
        flagged, missing = self.flagged(), self.flagged(missing=True)
        sel = np.isin(self.scores.video, self.selected)
        return {
            "metric": "pck",
            "alpha": self.options.alpha,
            "PCK": {k: cells[f"PCK/{k}"] for k in (*GROUP_KEYS, "Mean")},
            "per_joint": {"PCK": self.per_joint()},
            "skeleton": self.skeleton.name,
            "normaliser": norm,
            "visibility": ("every joint of every frame" if self.visibility == "all"
                           else "joints with v > 0 only"),
            "comparison": "distance <= alpha * L",
            "mean": ("pooled hits / trials over all joints" if self.options.all_joints
                     else "pooled hits / trials over the table joints: "
                     + ", ".join(self.skeleton.joints[j] for j in self.skeleton.table_joints)),
            "groups": "mean of the per-joint PCK of the group's joints",
            "counts": {"hits": dict(zip(self.skeleton.joints, hits.astype(int).tolist())),
                       "trials": dict(zip(self.skeleton.joints, trials.astype(int).tolist())),
                       "gt_persons": int(sel.sum()),
                       "gt_persons_without_prediction": int((~self.scores.paired & sel).sum())},
            "short_normalisers": {"threshold_px": SHORT_NORMALISER_PX, "count": len(flagged),
                                  "used_as_is": True, "items": flagged},
            "missing_normalisers": {"count": len(missing), "excluded": True, "items": missing},
            "videos": len(self.selected),
        }

    def tables(self) -> list[Table]:
        cells = self.headline()
        keys = (*GROUP_KEYS, "Mean")
        return [Table.from_rows("PCK", f"PCK@{self.options.alpha:g} ({self.options.normaliser})",
                                ["", *keys], [["PCK", *(cells[f"PCK/{k}"] for k in keys)]])]


@register_metric("pck")
class PCKMetric(Metric):
    """PCK@alpha (box or torso normaliser) for sub-JHMDB / Penn Action style single-person GT."""

    def __init__(self, options: PCKOptions | None = None, **kwargs: Any) -> None:
        self.options = options if options is not None else PCKOptions(**kwargs)

    def evaluate(self, gt_dir: str | Path, pred_dir: str | Path, *,
                 videos: Sequence[str] | None = None) -> PCKResult:
        pairs = pair_files(gt_dir, pred_dir, videos)
        skeleton = None
        parts = []
        for v, (gt_path, pred_path) in enumerate(pairs):
            gt = read_file(gt_path, "gt", skeleton=skeleton)
            skeleton = gt.skeleton
            pred = read_file(pred_path, "pred", skeleton=skeleton)
            parts.append(score_video(gt, pred, self.options, v))
        scores = PCKScores(**{f.name: np.concatenate([getattr(p, f.name) for p in parts])
                              for f in dataclasses.fields(PCKScores)})
        return PCKResult(skeleton=skeleton, options=self.options, video_names=[g.stem for g, _ in pairs],
                         scores=scores, selected=np.arange(len(pairs)))
