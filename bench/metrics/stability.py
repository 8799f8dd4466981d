"""The ``stability`` metric: how smooth predicted keypoints are over time (lower is better).

For every predicted track matched to a GT track (``stability_tracks``) and every joint, at each
frame t whose neighbours t - 1 and t + 1 are the adjacent frames of the video, all three
labeled, with the GT joint annotated and the joint predicted in all three:

- acceleration error: ||(p[t-1] - g[t-1]) - 2 (p[t] - g[t]) + (p[t+1] - g[t+1])|| / L,
  the second difference of the error (= predicted minus GT acceleration), the measure of
  HMMR (Kanazawa et al., CVPR 2019) and VIBE (Kocabas et al., CVPR 2020), here in 2D;
- jitter: ||p[t-1] - 2 p[t] + p[t+1]|| / L, the acceleration of the prediction alone;
- GT acceleration: the same for the GT (the true motion, reported for reference);

with L the GT person's normaliser at frame t: 0.6 x the head box diagonal (PoseTrack's head
size) or the larger side of the person box (the PCK normaliser). Values are means over these
(track, joint, frame) triples, in percent of L per frame^2, pooled over videos; groups are the
mean of their joints, Mean pools the table joints. A frame next to an unannotated one is masked.

A triple belongs to the GT person of its middle frame t: frame groups (``frame_groups``:
degraded, recovery, clean; ``StabilityResult.group``) keep the triples whose middle person-frame
is in the group, like PCK's person-frames.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import UserError
from ..formats import PoseTrackFile, pair_files, read_file
from ..registry import register_metric
from ..skeleton import Skeleton
from ..tables.base import Table
from .base import Metric, MetricResult, group_values, video_indices
from .posetrack_data import head_size, in_frame_index
from .stability_tracks import THRESHOLDS, match_tracks

if TYPE_CHECKING:
    from .frame_groups import FrameGroups

NORMALISERS = ("auto", "head", "box")
#: what is averaged, in this order: error, prediction alone, GT alone
QUANTITIES = ("AccelErr", "Jitter", "GTAccel")


def normaliser_lengths(gt: PoseTrackFile, kind: str) -> np.ndarray:
    """(N,) L per GT person: head size or larger box side; NaN where the file has no such box."""
    if kind == "head":
        return head_size(gt.head_boxes)
    boxes = gt.boxes
    return np.maximum(boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1])


def resolve_normaliser(gt: PoseTrackFile, kind: str) -> str:
    """`auto`: head when the GT file gives head boxes, box otherwise (the metric asks the first
    file and uses the answer for every video)."""
    if kind not in NORMALISERS:
        raise ValueError(f"normaliser must be one of {NORMALISERS}, got {kind!r}")
    if kind != "auto":
        return kind
    return "head" if (~np.isnan(gt.head_boxes).any(axis=1)).any() else "box"


@dataclasses.dataclass
class VideoStability:
    """One video's sums over its valid triples, per GT person-frame (the triple's middle)
    and joint."""

    frame: np.ndarray  # (R,) frame position of each GT person-frame with a triple
    index_in_frame: np.ndarray  # (R,) its position in its frame in the GT file
    sums: np.ndarray  # (R, 3, J) summed AccelErr, Jitter, GTAccel (in units of L)
    counts: np.ndarray  # (R, J) triples
    gt_tracks: int
    matched_tracks: int


def _track_series(frames: np.ndarray, xy: np.ndarray, n_frames: int) -> np.ndarray:
    """(F, J, 2) positions per frame of the video, NaN where the track has no person."""
    out = np.full((n_frames, *xy.shape[1:]), np.nan)
    out[frames] = xy
    return out


def second_difference(x: np.ndarray, scale: np.ndarray) -> np.ndarray:
    """(F - 2, J) ||x[t-1] - 2 x[t] + x[t+1]|| / scale[t] for t = 1 .. F - 2 of (F, J, 2) positions
    (NaN wherever one of the three is missing)."""
    a = x[:-2] - 2 * x[1:-1] + x[2:]
    return np.sqrt((a * a).sum(axis=2)) / scale[1:-1, None]


def video_stability(gt: PoseTrackFile, pred: PoseTrackFile, kind: str) -> VideoStability:
    """Match tracks, then sum the second differences over every valid triple of the video."""
    if len(pred.frames) != len(gt.frames):
        raise UserError(f"{len(pred.frames)} frames, but the GT file has {len(gt.frames)} (frames are "
                        "paired by position)", path=pred.path, field="images")
    n_frames, n_joints = len(gt.frames), gt.skeleton.num_joints
    labeled = np.array([f.is_labeled for f in gt.frames], dtype=bool)
    g_rows = np.flatnonzero(labeled[gt.person_frame])
    bad = g_rows[gt.track_ids[g_rows] < 0]
    if len(bad):
        raise UserError("missing GT track id (stability follows GT tracks)", path=gt.path,
                        field=f"{gt.person_field(int(bad[0]))}.track_id")
    p_rows = np.flatnonzero(labeled[pred.person_frame])
    length = normaliser_lengths(gt, kind)[g_rows]
    kps = gt.keypoints[g_rows]
    annotated = ~((kps[..., 0] == 0) & (kps[..., 1] == 0) & (kps[..., 2] == 0))
    annotated[:, list(gt.skeleton.placeholders)] = False
    gt_xy = np.where(annotated[..., None], kps[..., :2], np.nan)
    gt_xy[np.isnan(length)] = np.nan  # no normaliser: left out
    pred_xy = pred.keypoints[p_rows, :, :2]
    gt_frame, pred_frame = gt.person_frame[g_rows], pred.person_frame[p_rows]
    pairs = match_tracks(gt_frame, gt.track_ids[g_rows], gt_xy, length, pred_frame, pred.track_ids[p_rows],
                         pred_xy, THRESHOLDS[kind])
    sums, counts = np.zeros((len(g_rows), len(QUANTITIES), n_joints)), np.zeros((len(g_rows), n_joints))
    for g_track, p_track in pairs.items():
        g_sel = gt.track_ids[g_rows] == g_track
        p_sel = pred.track_ids[p_rows] == p_track
        g = _track_series(gt_frame[g_sel], gt_xy[g_sel], n_frames)
        p = _track_series(pred_frame[p_sel], pred_xy[p_sel], n_frames)
        scale = np.full(n_frames, np.nan)
        scale[gt_frame[g_sel]] = length[g_sel]
        values = np.stack([second_difference(x, scale) for x in (p - g, p, g)])
        valid = np.isfinite(values).all(axis=0)
        middle = np.full(n_frames, -1)  # the track's GT row (into g_rows) at each frame
        middle[gt_frame[g_sel]] = np.flatnonzero(g_sel)
        t = np.flatnonzero(valid.any(axis=1))  # triples t - 1, t, t + 1 have t + 1 here
        sums[middle[t + 1]] += np.where(valid[t], values[:, t], 0).transpose(1, 0, 2)
        counts[middle[t + 1]] += valid[t]
    kept = counts.any(axis=1)
    return VideoStability(frame=gt_frame[kept], index_in_frame=in_frame_index(gt.person_frame)[g_rows][kept],
                          sums=sums[kept], counts=counts[kept], gt_tracks=len(np.unique(gt.track_ids[g_rows])),
                          matched_tracks=len(pairs))


@dataclasses.dataclass
class StabilityResult(MetricResult):
    """Sums of the second differences per GT person-frame (a triple's middle), pooled per
    video and over videos on demand."""

    skeleton: Skeleton
    normaliser: str
    video_names: list[str]
    persons: dict[str, np.ndarray]  # video, frame, index_in_frame: (R,); sums (R, 3, J); counts (R, J)
    gt_tracks: np.ndarray  # (V,)
    matched_tracks: np.ndarray  # (V,)
    selected: np.ndarray

    metric = "stability"

    @property
    def videos(self) -> list[str]:
        return [self.video_names[i] for i in self.selected]

    def subset(self, videos: Sequence[str]) -> StabilityResult:
        return dataclasses.replace(self, selected=video_indices(self.video_names, videos))

    @property
    def sums(self) -> np.ndarray:
        """(V, 3, J) summed quantities per video."""
        out = np.zeros((len(self.video_names), *self.persons["sums"].shape[1:]))
        np.add.at(out, self.persons["video"], self.persons["sums"])
        return out

    @property
    def counts(self) -> np.ndarray:
        """(V, J) triples per video."""
        out = np.zeros((len(self.video_names), self.persons["counts"].shape[1]))
        np.add.at(out, self.persons["video"], self.persons["counts"])
        return out

    def gt_persons(self) -> dict[str, np.ndarray]:
        """Identify each GT person-frame row (video index, frame position, position in the
        frame), as in ``PCKResult.gt_persons``."""
        return {k: self.persons[k] for k in ("video", "frame", "index_in_frame")}

    def select_persons(self, rows: np.ndarray) -> StabilityResult:
        """Only the triples whose middle GT person-frame is selected ((R,) bool over
        :meth:`gt_persons`); the videos stay, so it resamples and pairs like the whole."""
        rows = np.asarray(rows, dtype=bool)
        return dataclasses.replace(self, persons={k: v[rows] for k, v in self.persons.items()})

    def group(self, groups: FrameGroups, name: str) -> StabilityResult:
        """The triples whose middle person-frame is in frame group `name` (``frame_groups``)."""
        rows = self.gt_persons()
        return self.select_persons(groups.person_mask(self.video_names, rows["video"], rows["frame"],
                                                      rows["index_in_frame"], name))

    def _weights(self, weights: np.ndarray | None = None) -> np.ndarray:
        weights = np.ones((1, len(self.selected))) if weights is None else np.atleast_2d(weights)
        full = np.zeros((len(weights), len(self.video_names)))
        full[:, self.selected] = weights
        return full

    def _cells(self, weights: np.ndarray) -> tuple[dict[str, np.ndarray], np.ndarray]:
        """(B,) table cells and (B, 3, J) per-joint means (percent of L per frame^2)."""
        sums = np.einsum("bv,vqj->bqj", weights, self.sums)
        counts = weights @ self.counts
        table = list(self.skeleton.table_joints)
        with np.errstate(invalid="ignore", divide="ignore"):
            per_joint = 100 * sums / counts[:, None, :]
            mean = 100 * sums[..., table].sum(axis=2) / counts[:, table].sum(axis=1)[:, None]
        cells = {}
        for q, name in enumerate(QUANTITIES[:2]):
            cells.update({f"{name}/{k}": v for k, v in group_values(per_joint[:, q], self.skeleton.groups).items()})
            cells[f"{name}/Mean"] = mean[:, q]
        return cells, np.concatenate([per_joint, mean[..., None]], axis=2)

    def headline(self) -> dict[str, float]:
        cells, _ = self._cells(self._weights())
        return {k: float(v[0]) for k, v in cells.items()}

    def resample(self, weights: np.ndarray) -> dict[str, np.ndarray]:
        cells, _ = self._cells(self._weights(weights))
        return cells

    def summary(self) -> dict[str, Any]:
        cells, full = self._cells(self._weights())
        keys = [k for k, _ in self.skeleton.groups] + ["Mean"]
        joints = [self.skeleton.joints[j] for j in range(self.skeleton.num_joints)
                  if j not in self.skeleton.placeholders]
        index = [self.skeleton.index(name) for name in joints]
        return {
            "metric": "stability",
            **{name: {k: float(cells[f"{name}/{k}"][0]) for k in keys} for name in QUANTITIES[:2]},
            "GTAccel": {"Mean": float(full[0, 2, -1])},
            "per_joint": {name: dict(zip(joints, full[0, q, index].tolist())) for q, name in enumerate(QUANTITIES)},
            "units": "percent of the normaliser L per frame^2 (depends on the frame rate)",
            "normaliser": ("0.6 x GT head box diagonal" if self.normaliser == "head"
                           else "larger side of the GT person box"),
            "track_matching": f"global per video, joints within {THRESHOLDS[self.normaliser]} L summed over frames",
            "counts": {"triples": dict(zip(joints, self.counts[self.selected].sum(axis=0)[index].astype(int).tolist())),
                       "gt_tracks": int(self.gt_tracks[self.selected].sum()),
                       "matched_tracks": int(self.matched_tracks[self.selected].sum())},
            "skeleton": self.skeleton.name,
            "videos": len(self.selected),
        }

    def tables(self) -> list[Table]:
        cells = self.headline()
        keys = [k for k, _ in self.skeleton.groups] + ["Mean"]
        return [Table.from_rows(name, f"{title} (% of {self.normaliser} size per frame^2, lower is better)",
                                ["", *keys], [[name, *(cells[f"{name}/{k}"] for k in keys)]])
                for name, title in (("AccelErr", "Acceleration error"), ("Jitter", "Jitter"))]


@register_metric("stability")
class StabilityMetric(Metric):
    """Temporal stability: per-joint acceleration error and jitter of matched predicted tracks."""

    def __init__(self, normaliser: str = "auto") -> None:
        if normaliser not in NORMALISERS:
            raise ValueError(f"normaliser must be one of {NORMALISERS}, got {normaliser!r}")
        self.normaliser = normaliser

    def evaluate(self, gt_dir: str | Path, pred_dir: str | Path, *,
                 videos: Sequence[str] | None = None) -> StabilityResult:
        pairs = pair_files(gt_dir, pred_dir, videos)
        skeleton, kind, parts = None, None, []
        for gt_path, pred_path in pairs:
            gt = read_file(gt_path, "gt", skeleton=skeleton)
            skeleton = gt.skeleton
            kind = kind or resolve_normaliser(gt, self.normaliser)
            parts.append(video_stability(gt, read_file(pred_path, "pred", skeleton=skeleton), kind))
        persons = {"video": np.concatenate([np.full(len(p.frame), v) for v, p in enumerate(parts)]),
                   "frame": np.concatenate([p.frame for p in parts]),
                   "index_in_frame": np.concatenate([p.index_in_frame for p in parts]),
                   "sums": np.concatenate([p.sums for p in parts]),
                   "counts": np.concatenate([p.counts for p in parts])}
        return StabilityResult(
            skeleton=skeleton, normaliser=kind, video_names=[g.stem for g, _ in pairs], persons=persons,
            gt_tracks=np.array([p.gt_tracks for p in parts]), matched_tracks=np.array([p.matched_tracks for p in parts]),
            selected=np.arange(len(pairs)))
