"""Statistics of generated ground truth, and the subset definitions measured on them.

A video's condition tags are measured, not declared: whatever profile generated it,

- ``crowd``: mean annotated persons per labelled frame above ``crowd_min_persons`` (8, the PTM
  paper's crowd subset: "videos with the average number over 8");
- ``occlusion``: at least ``occlusion_min_fraction`` of the annotated joints are hidden by
  another person or an occluder, and some of those joints were visible earlier in their track;
- ``fast``: the mean joint displacement between consecutive labelled frames, divided by the
  person's body height, is at least ``fast_min_displacement``;
- ``burst``: at least ``burst_min_fraction`` of the labelled person-frames lie inside a
  degraded-frame burst (`bursts.py`).

Occlusion is counted without the person-frames an occluder burst covers (their joints are all
hidden by the burst's board, which the burst columns count), so ``occlusion`` keeps meaning
the occlusion of the scene itself.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

import numpy as np

from vposebench.structures import PersonGT

from .config import BURST_KINDS, SynthConfig
from .truth import (
    BY_OCCLUDER,
    BY_PERSON,
    BY_SELF,
    NOT_ANNOTATED,
    VISIBLE,
    VideoTruth,
    occluded_mask,
)

SUBSETS = ("crowd", "occlusion", "fast", "burst")


@dataclasses.dataclass
class VideoStats:
    """What a video contains, for the manifest and the subset definitions."""

    labeled_frames: int
    persons: int
    persons_per_frame: float
    max_persons: int
    joints: int  # annotated joints
    occluded: int  # hidden by another person or an occluder
    by_person: int
    by_occluder: int
    by_self: int
    occluded_after_visible: int  # occluded joints seen visible earlier in the same track
    displacement_median: float  # pixels per frame
    displacement_p90: float
    relative_displacement_mean: float  # per body height
    degraded: dict[str, int]  # labelled person-frames inside a burst, per kind

    @property
    def occluded_fraction(self) -> float:
        return self.occluded / self.joints if self.joints else 0.0

    @property
    def burst_fraction(self) -> float:
        """Share of the labelled person-frames inside a burst."""
        return sum(self.degraded.values()) / self.persons if self.persons else 0.0

    def to_dict(self) -> dict[str, Any]:
        out = dataclasses.asdict(self)
        out["occluded_fraction"] = self.occluded_fraction
        out["burst_fraction"] = self.burst_fraction
        return {k: (round(v, 6) if isinstance(v, float) else v) for k, v in out.items()}


@dataclasses.dataclass
class Measured:
    """A video's statistics plus the raw samples that pooled summaries need."""

    stats: VideoStats
    persons_per_frame: np.ndarray  # (labelled frames,)
    displacement: np.ndarray  # (N,) joint displacement between consecutive frames, pixels
    relative: np.ndarray  # (N,) the same divided by the body height


def _displacements(truth: VideoTruth) -> tuple[np.ndarray, np.ndarray]:
    """Joint displacements (pixels, relative) between every pair of consecutive labelled frames."""
    px, rel = [np.zeros(0)], [np.zeros(0)]
    frames = truth.video.frames
    for f in range(1, len(frames)):
        prev, cur = frames[f - 1], frames[f]
        if not (prev.is_labeled and cur.is_labeled):
            continue
        before = {p.track_id: p for p in prev.persons}
        for person, height in zip(cur.persons, truth.heights[f]):
            old = before.get(person.track_id)
            if old is None:
                continue
            both = person.annotated & old.annotated
            d = np.hypot(*(person.keypoints[both, :2] - old.keypoints[both, :2]).T)
            px.append(d)
            rel.append(d / height)
    return np.concatenate(px), np.concatenate(rel)


def _covered(person: PersonGT) -> bool:
    """The person-frame is covered by an occluder burst's board (left out of occlusion counts)."""
    return person.degradation == "occluder"


def _occluded_after_visible(truth: VideoTruth) -> int:
    seen: dict[int, np.ndarray] = {}
    count = 0
    for frame, codes in zip(truth.video.frames, truth.codes):
        for person, c in zip(frame.persons, codes):
            if _covered(person):
                continue
            was = seen.setdefault(person.track_id, np.zeros(len(c), dtype=bool))
            count += int((occluded_mask(c) & was).sum())
            was |= c == VISIBLE
    return count


def _percentile(values: np.ndarray, q: float) -> float:
    return float(np.percentile(values, q)) if len(values) else 0.0


def measure(truth: VideoTruth) -> Measured:
    """Counts, occlusion and motion of one video."""
    labelled = [f for f in truth.video.frames if f.is_labeled]
    counts = np.array([len(f.persons) for f in labelled], dtype=np.int64)
    codes = [c for frame, frame_codes in zip(truth.video.frames, truth.codes)
             for person, c in zip(frame.persons, frame_codes) if not _covered(person)]
    kinds = [p.degradation for f in labelled for p in f.persons if p.degradation is not None]
    flat = np.concatenate(codes) if codes else np.zeros(0, dtype=np.int8)
    px, rel = _displacements(truth)
    stats = VideoStats(
        labeled_frames=len(counts), persons=int(counts.sum()),
        persons_per_frame=float(counts.mean()) if len(counts) else 0.0,
        max_persons=int(counts.max(initial=0)),
        joints=int((flat != NOT_ANNOTATED).sum()), occluded=int(occluded_mask(flat).sum()),
        by_person=int((flat == BY_PERSON).sum()), by_occluder=int((flat == BY_OCCLUDER).sum()),
        by_self=int((flat == BY_SELF).sum()), occluded_after_visible=_occluded_after_visible(truth),
        displacement_median=_percentile(px, 50), displacement_p90=_percentile(px, 90),
        relative_displacement_mean=float(rel.mean()) if len(rel) else 0.0,
        degraded={kind: kinds.count(kind) for kind in BURST_KINDS},
    )
    return Measured(stats=stats, persons_per_frame=counts, displacement=px, relative=rel)


def subset_tags(stats: VideoStats, config: SynthConfig) -> list[str]:
    """The named subsets a video belongs to (the definitions in this module's docstring)."""
    tags = []
    if stats.persons_per_frame > config.crowd_min_persons:
        tags.append("crowd")
    if stats.occluded_fraction >= config.occlusion_min_fraction and stats.occluded_after_visible > 0:
        tags.append("occlusion")
    if stats.relative_displacement_mean >= config.fast_min_displacement:
        tags.append("fast")
    if stats.persons and stats.burst_fraction >= config.burst_min_fraction:
        tags.append("burst")
    return tags


def _ratio(a: float, b: float, digits: int = 4) -> float:
    return round(a / b, digits) if b else 0.0


def summarise(measured: Sequence[Measured], tags: Sequence[Sequence[str]]) -> dict[str, dict[str, Any]]:
    """Pooled statistics of all videos, of each subset, and of the videos in no subset."""
    groups = {"all": list(range(len(measured)))}
    for name in SUBSETS:
        groups[name] = [i for i, t in enumerate(tags) if name in t]
    groups["none"] = [i for i, t in enumerate(tags) if not t]
    out = {}
    for name, members in groups.items():
        stats = [measured[i].stats for i in members]
        per_frame = np.concatenate([np.zeros(0), *(measured[i].persons_per_frame for i in members)])
        px = np.concatenate([np.zeros(0), *(measured[i].displacement for i in members)])
        rel = np.concatenate([np.zeros(0), *(measured[i].relative for i in members)])
        joints = sum(s.joints for s in stats)
        occluded = sum(s.occluded for s in stats)
        persons = sum(s.persons for s in stats)
        degraded = {kind: sum(s.degraded[kind] for s in stats) for kind in BURST_KINDS}
        out[name] = {
            "videos": len(members),
            "labeled_frames": len(per_frame),
            "persons": persons,
            "persons_per_frame": round(float(per_frame.mean()), 3) if len(per_frame) else 0.0,
            "frames_over_8_persons": round(float((per_frame > 8).mean()), 3) if len(per_frame) else 0.0,
            "max_persons": int(per_frame.max(initial=0)),
            "occluded_fraction": _ratio(occluded, joints),
            "by_person_fraction": _ratio(sum(s.by_person for s in stats), joints),
            "by_occluder_fraction": _ratio(sum(s.by_occluder for s in stats), joints),
            "by_self_fraction": _ratio(sum(s.by_self for s in stats), joints),
            "occluded_after_visible": _ratio(sum(s.occluded_after_visible for s in stats), occluded),
            "displacement_px": {f"p{q}": round(_percentile(px, q), 2) for q in (50, 90, 99)},
            "relative_displacement": {"mean": round(float(rel.mean()), 4) if len(rel) else 0.0,
                                      **{f"p{q}": round(_percentile(rel, q), 4) for q in (50, 90)}},
            "burst_fraction": _ratio(sum(degraded.values()), persons),
            "burst_kind_fraction": {kind: _ratio(n, persons) for kind, n in degraded.items()},
        }
    return out
