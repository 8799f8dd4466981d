"""The ``hota`` metric: keypoint HOTA exactly as the PoseTrack21 evaluation kit computes it.

HOTA, DetA, AssA, LocA, DetRe, DetPr, AssRe, AssPr, FragA, RHOTA, FA-HOTA, FA-RHOTA per joint
(the kit's 15) and Total, at 19 alpha thresholds, and the alpha-0 values, identical to the kit
(anDoer/PoseTrack21 3e61960, ``HOTAeypoints``) in the default ``official`` mode. ``corrected``
mode fixes the two reported problems: an empty frame counts its own joints (issue #10) and the
similarity is not clipped at half a head size (issue #11). ``docs/evaluation.md`` has every rule.

The kit's combination is reproduced, not simplified: per video the Total column is the plain
mean of the joints (counts: the sum); over videos, counts are summed, AssA / AssRe / AssPr /
FragA are TP-weighted means of the per-video values, LocA a TP-weighted mean, and DetA, HOTA,
... are recomputed from those. Every combined value is linear in per-video arrays, so video
subsets and bootstrap resamples are weighted sums of them.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ..registry import register_metric
from ..tables.base import Table
from .base import Metric, MetricResult, video_indices
from .hota_counts import ALPHAS, VideoCounts, video_counts
from .hota_data import KIT_JOINTS, NUM_KIT_JOINTS, KeypointTrackingSet, load_keypoint_tracking_set
from .hota_match import MODES, frame_pairs, match_joints

if TYPE_CHECKING:
    from .frame_groups import FrameGroups

#: fields with one value per alpha (the kit's float_array_fields), in its order
ALPHA_FIELDS = ("HOTA", "DetA", "AssA", "FragA", "DetRe", "DetPr", "AssRe", "AssPr", "LocA", "RHOTA",
                "FA-HOTA", "FA-RHOTA")
#: counts per alpha (integer_array_fields)
COUNT_FIELDS = ("HOTA_TP", "HOTA_FN", "HOTA_FP")
#: single values (float_fields, integer_fields): alpha 0.05 only
ALPHA0_FIELDS = ("HOTA(0)", "LocA(0)", "HOTALocA(0)", "HOTA_TP(0)", "HOTA_FN(0)", "HOTA_FP(0)")
#: the fields of the printed summary table (Total column)
TABLE_FIELDS = ("HOTA", "DetA", "AssA", "LocA", "DetRe", "DetPr", "AssRe", "AssPr")
_ASSOCIATION = ("AssA", "AssRe", "AssPr", "FragA")


def _derived(f: dict[str, np.ndarray]) -> None:
    """The kit's ``_compute_final_fields`` (without its averaging), in place."""
    tp, fn, fp = f["HOTA_TP"], f["HOTA_FN"], f["HOTA_FP"]
    f["DetRe"] = tp / np.maximum(1, tp + fn)
    f["DetPr"] = tp / np.maximum(1, tp + fp)
    f["DetA"] = tp / np.maximum(1, tp + fn + fp)
    f["HOTA"] = np.sqrt(f["DetA"] * f["AssA"])
    f["RHOTA"] = np.sqrt(f["DetRe"] * f["AssA"])
    f["FA-HOTA"] = np.sqrt(f["DetA"] * np.sqrt(f["AssA"] * f["FragA"]))
    f["FA-RHOTA"] = np.sqrt(f["DetRe"] * np.sqrt(f["AssA"] * f["FragA"]))


def per_video_fields(counts: VideoCounts) -> dict[str, np.ndarray]:
    """(V, 19, 16) per video: the 15 joints and the kit's per-video Total column (the mean of
    the joints for every value field, the sum for counts)."""
    tp = counts.tp
    f = {"HOTA_TP": tp, "HOTA_FN": counts.fn, "HOTA_FP": counts.fp,
         "AssA": counts.ass_a / np.maximum(1, tp), "AssRe": counts.ass_re / np.maximum(1, tp),
         "AssPr": counts.ass_pr / np.maximum(1, tp), "FragA": counts.frag_a / np.maximum(1, tp),
         "LocA": np.maximum(1e-10, counts.loc_sum) / np.maximum(1e-10, tp)}
    _derived(f)
    return {k: np.concatenate([v, (v.sum(axis=2) if k in COUNT_FIELDS else v.mean(axis=2))[..., None]], axis=2)
            for k, v in f.items()}


def combine(per_video: dict[str, np.ndarray], weights: np.ndarray) -> dict[str, np.ndarray]:
    """The kit's ``combine_sequences`` over videos counted `weights[b, v]` times: (B, 19, 16)."""
    def wsum(values: np.ndarray) -> np.ndarray:
        return np.einsum("bv,vac->bac", weights, values)

    tp = wsum(per_video["HOTA_TP"])
    f = {"HOTA_TP": tp, "HOTA_FN": wsum(per_video["HOTA_FN"]), "HOTA_FP": wsum(per_video["HOTA_FP"])}
    for k in _ASSOCIATION:
        f[k] = wsum(per_video[k] * per_video["HOTA_TP"]) / np.maximum(1.0, tp)
    f["LocA"] = np.maximum(1e-10, wsum(per_video["LocA"] * per_video["HOTA_TP"])) / np.maximum(1e-10, tp)
    _derived(f)
    return f


def reported(fields: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """What the kit prints: alpha means of (..., 19, 16) arrays, and the alpha-0 values."""
    out = {k: fields[k].mean(axis=-2) for k in (*ALPHA_FIELDS, *COUNT_FIELDS)}
    for k in ("HOTA", "LocA", "HOTA_TP", "HOTA_FN", "HOTA_FP"):
        out[f"{k}(0)"] = fields[k][..., 0, :]
    out["HOTALocA(0)"] = out["HOTA(0)"] * out["LocA(0)"]
    return out


def _video_reported(fields: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Per-video reported values: as `reported`, except that the kit's per-video HOTALocA(0)
    Total is the mean of the per-joint products (it averages after multiplying)."""
    out = reported(fields)
    product = out["HOTALocA(0)"][..., :NUM_KIT_JOINTS]
    out["HOTALocA(0)"] = np.concatenate([product, product.mean(axis=-1, keepdims=True)], axis=-1)
    return out


@dataclasses.dataclass
class HOTAResult(MetricResult):
    """Per-video keypoint-HOTA arrays of one prediction set, combined on demand."""

    data: KeypointTrackingSet
    mode: str
    per_video_arrays: dict[str, np.ndarray]  # field -> (V, 19, 16)
    notes: list[str]
    selected: np.ndarray
    solver_calls: int = 0  # (frame, joint) assignments that needed the Hungarian solver

    metric = "hota"

    @property
    def videos(self) -> list[str]:
        return [self.data.videos[i] for i in self.selected]

    def subset(self, videos: Sequence[str]) -> HOTAResult:
        return dataclasses.replace(self, selected=video_indices(self.data.videos, videos))

    def group(self, groups: FrameGroups, name: str) -> HOTAResult:
        """The result on one frame group's frames (``frame_groups``), scored as if every other
        frame were unlabeled, as ``PoseTrackResult.group`` does: matching, association and the
        kit's empty-frame rule see only the group's frames of each video; the videos stay."""
        keep = groups.frame_mask(self.data.videos, self.data.frame_video, self.data.frame_position, name)
        sub = score_hota(self.data.take_frames(keep), self.mode)
        return dataclasses.replace(sub, selected=self.selected)

    def _weights(self, weights: np.ndarray | None = None) -> np.ndarray:
        """(B, V) multiplicities over all videos (unselected ones 0)."""
        if weights is None:
            weights = np.ones((1, len(self.selected)))
        full = np.zeros((len(weights), self.data.num_videos))
        full[:, self.selected] = weights
        return full

    def per_alpha(self) -> dict[str, np.ndarray]:
        """(19, 16) per field: the combined values at every alpha (15 joints, then Total)."""
        return {k: v[0] for k, v in combine(self.per_video_arrays, self._weights()).items()}

    @functools.cached_property
    def _reported(self) -> dict[str, np.ndarray]:
        return {k: v[0] for k, v in reported(combine(self.per_video_arrays, self._weights())).items()}

    def values(self) -> dict[str, np.ndarray]:
        """(16,) per field, on the kit's 0-1 scale: the 15 joints, then Total."""
        return {k: v.copy() for k, v in self._reported.items()}

    @staticmethod
    def _cells(values: dict[str, np.ndarray]) -> dict[str, Any]:
        cells = {f"{k}/Total": 100 * values[k][..., NUM_KIT_JOINTS] for k in TABLE_FIELDS}
        cells.update({f"HOTA/{name}": 100 * values["HOTA"][..., j] for j, name in enumerate(KIT_JOINTS)})
        return cells

    def headline(self) -> dict[str, float]:
        return {k: float(v) for k, v in self._cells(self._reported).items()}

    def resample(self, weights: np.ndarray) -> dict[str, np.ndarray]:
        weights = np.atleast_2d(np.asarray(weights, dtype=np.float64))
        return self._cells(reported(combine(self.per_video_arrays, self._weights(weights))))

    def per_video(self) -> dict[str, dict[str, dict[str, Any]]]:
        """The kit's per-sequence results (its own Total definition: joint means), per video:
        ``totals`` (field -> value) and ``full`` (field -> 15 joint values)."""
        out = {}
        for v in self.selected:
            values = _video_reported({k: a[v] for k, a in self.per_video_arrays.items()})
            out[self.data.videos[v]] = {
                "totals": {k: float(x[NUM_KIT_JOINTS]) for k, x in values.items()},
                "full": {k: x[:NUM_KIT_JOINTS].tolist() for k, x in values.items()},
            }
        return out

    def summary(self) -> dict[str, Any]:
        values = self._reported
        per_alpha = self.per_alpha()
        doc: dict[str, Any] = {"metric": "hota", "scale": "fractions in [0, 1] (the kit's); tables print percent"}
        for k in (*ALPHA_FIELDS, *ALPHA0_FIELDS, *COUNT_FIELDS):
            doc[k] = {"Total": float(values[k][NUM_KIT_JOINTS])}
        doc["full"] = {k: values[k][:NUM_KIT_JOINTS].tolist() for k in (*ALPHA_FIELDS, *ALPHA0_FIELDS, *COUNT_FIELDS)}
        doc["per_joint"] = {k: dict(zip(KIT_JOINTS, values[k][:NUM_KIT_JOINTS].tolist()))
                            for k in ("HOTA", "DetA", "AssA", "LocA")}
        doc["per_alpha"] = {k: per_alpha[k].tolist() for k in (*ALPHA_FIELDS, *COUNT_FIELDS)}
        sel = np.isin(self.data.frame_video, self.selected)
        doc.update({
            "joint_order": list(KIT_JOINTS),
            "alphas": ALPHAS.tolist(),
            "options": {"mode": self.mode,
                        "similarity": "max(0, 1 - d / 0.5001)" if self.mode == "official" else "max(0, 1 - d)",
                        "distance": "joint distance / (0.6 * GT head box diagonal)",
                        "empty_frames": ("the whole video's joint count per empty frame (the kit)"
                                         if self.mode == "official" else "the frame's own joints")},
            "counts": {"gt_persons": int(np.isin(self.data.frame_video[self.data.gt.frame], self.selected).sum()),
                       "predicted_persons": int(np.isin(self.data.frame_video[self.data.pred.frame],
                                                        self.selected).sum()),
                       "hungarian_solver_calls": self.solver_calls},
            "videos": len(self.selected),
            "frames_evaluated": int(sel.sum()),
            "notes": list(self.notes),
        })
        return doc

    def tables(self) -> list[Table]:
        cells = self.headline()
        return [
            Table.from_rows("HOTA", f"Keypoint HOTA, PoseTrack21 kit ({self.mode} mode)",
                            ["", *(f"{k} Total" for k in TABLE_FIELDS)],
                            [["HOTA", *(cells[f"{k}/Total"] for k in TABLE_FIELDS)]]),
            Table.from_rows("HOTA per joint", "HOTA per joint", ["", *KIT_JOINTS, "Total"],
                            [["HOTA", *(cells[f"HOTA/{k}"] for k in (*KIT_JOINTS, "Total"))]]),
        ]


def _notes(data: KeypointTrackingSet, mode: str) -> list[str]:
    """Where the input reaches the kit's empty-frame rule or a frame the kit crashes on."""
    n_gt, n_pred = data.frame_counts()
    notes = []
    persons_pred = np.bincount(data.frame_video[data.pred.frame], minlength=data.num_videos)
    for v, name in enumerate(data.videos):
        frames = data.frame_video == v
        if persons_pred[v] == 0:
            notes.append(f"{name}: no predicted person in any labeled frame; every GT joint is a miss")
            continue
        no_gt = data.frame_position[frames & (n_gt == 0)]
        if len(no_gt):
            notes.append(f"{name}: {len(no_gt)} labeled frame(s) without a GT person after the ignore "
                         f"regions (positions {no_gt.tolist()[:10]}); the kit crashes on these, here each "
                         "adds its own predicted joints to FP")
        gt_only = data.frame_position[frames & (n_gt > 0) & (n_pred == 0)]
        if len(gt_only) and mode == "official":
            notes.append(f"{name}: {len(gt_only)} labeled frame(s) with GT but no predicted person "
                         f"(positions {gt_only.tolist()[:10]}): each adds the whole video's GT-joint count "
                         "to FN, as the kit does (its issue #10; --hota-mode corrected counts the frame's own)")
    return notes


def score_hota(data: KeypointTrackingSet, mode: str = "official") -> HOTAResult:
    """Match and count a loaded set (no file access)."""
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
    matches = match_joints(data, frame_pairs(data, mode))
    arrays = per_video_fields(video_counts(data, matches, mode))
    return HOTAResult(data=data, mode=mode, per_video_arrays=arrays, notes=_notes(data, mode),
                      selected=np.arange(data.num_videos), solver_calls=matches.solved)


@register_metric("hota")
class HOTAMetric(Metric):
    """Keypoint HOTA / DetA / AssA / LocA, identical to the PoseTrack21 kit (official mode)."""

    def __init__(self, mode: str = "official") -> None:
        if mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
        self.mode = mode

    def evaluate(self, gt_dir: str | Path, pred_dir: str | Path, *,
                 videos: Sequence[str] | None = None) -> HOTAResult:
        return score_hota(load_keypoint_tracking_set(gt_dir, pred_dir, videos=videos), self.mode)
