"""GT and prediction folders -> the flat arrays both PoseTrack evaluations start from.

Reproduces the official evaluation's input handling (poseval, see ``docs/evaluation.md``, `posetrack`):
per-file PT18/PT17 detection, positional frame pairing, prediction track-id checks, dropping GT
frames without persons (and the predictions at those positions), dropping persons without a
point list, and ignore regions (a joint strictly inside a polygon is removed, then a person
left without joints is removed, in frames that have regions only).

Everything is kept as arrays over all videos (videos sorted by file name, frames in file
order, persons in file order) so that AP matching, CLEAR-MOT accumulation, per-video slices and
bootstrap resampling never touch the files again.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ..errors import UserError
from ..formats.folders import pair_files
from ..formats.parsed import PoseTrackFile
from ..formats.reader import read_file
from ..skeleton import POSETRACK17, POSETRACK18, PT17_ID_FOR_PT18_SLOT
from .ignore_regions import IgnoreRegions, frame_field

#: the official evaluation's internal joint order (PoseTrack'17 point ids 0..14)
JOINTS: tuple[str, ...] = POSETRACK17.joints
NUM_JOINTS = len(JOINTS)
#: the official code asserts track ids below this before adding a per-video offset
MAX_TRACK_ID = 10000
#: score the official code substitutes for a predicted joint without one
MISSING_SCORE = -9999.0

# PT18 slot holding each internal joint id
_PT18_SLOT_FOR_ID = np.array([int(np.flatnonzero(PT17_ID_FOR_PT18_SLOT == j)[0]) for j in range(NUM_JOINTS)])


@dataclasses.dataclass
class Persons:
    """Persons of all evaluated frames, flat, in (video, frame, file) order."""

    frame: np.ndarray  # (N,) index into PoseTrackSet frames
    track_id: np.ndarray  # (N,) int64, as in the file (-1: GT without one)
    xy: np.ndarray  # (N, 15, 2) float64, internal joint order
    has: np.ndarray  # (N, 15) bool: annotated (GT) / predicted (pred), after ignore regions
    index_in_frame: np.ndarray  # (N,) position of the person in its frame in the file
    score: np.ndarray | None = None  # (N, 15) joint scores (predictions only)
    head_size: np.ndarray | None = None  # (N,) 0.6 * head box diagonal (GT only)

    def __len__(self) -> int:
        return len(self.frame)


@dataclasses.dataclass
class PoseTrackSet:
    """A GT folder and a prediction folder, paired, cleaned and flattened.

    Frames are the evaluated ones only: GT frames with at least one person (``frame_position``
    gives their position in the video file).
    """

    videos: list[str]  # video names (file stems), sorted
    gt_paths: list[Path]
    pred_paths: list[Path]
    frame_video: np.ndarray  # (F,) video index of each evaluated frame
    frame_position: np.ndarray  # (F,) position of the frame in its file
    frame_names: list[str]  # (F,) file_name of each evaluated frame
    gt: Persons
    pred: Persons
    gt_offsets: np.ndarray  # (F + 1,) GT persons of frame f: gt_offsets[f]:gt_offsets[f + 1]
    pred_offsets: np.ndarray  # (F + 1,)
    formats: dict[str, str]  # video -> "posetrack18" | "posetrack17" of its GT file
    missing_scores: int = 0  # predicted joints without a score (scored MISSING_SCORE)

    @property
    def num_videos(self) -> int:
        return len(self.videos)

    @property
    def num_frames(self) -> int:
        return len(self.frame_video)

    def video_frame_offsets(self) -> np.ndarray:
        """(V + 1,) frames of video v: offsets[v]:offsets[v + 1]."""
        return np.searchsorted(self.frame_video, np.arange(self.num_videos + 1))

    def frame_counts(self) -> tuple[np.ndarray, np.ndarray]:
        """(#GT persons, #predicted persons) per evaluated frame."""
        return np.diff(self.gt_offsets), np.diff(self.pred_offsets)

    def take_frames(self, keep: np.ndarray) -> PoseTrackSet:
        """The set with only the evaluated frames where `keep` ((F,) bool) is True, as if every
        other frame had no GT person in the files (the official code then drops it with the
        predictions at its position). Videos stay, also those left without a frame."""
        keep = np.asarray(keep, dtype=bool)
        if keep.shape != self.frame_video.shape:
            raise ValueError(f"keep must be {self.frame_video.shape}, got {keep.shape}")
        rank = np.cumsum(keep) - 1
        num_frames = int(keep.sum())

        def persons(p: Persons) -> Persons:
            rows = keep[p.frame]
            fields = {f.name: (None if getattr(p, f.name) is None else getattr(p, f.name)[rows])
                      for f in dataclasses.fields(p)}
            fields["frame"] = rank[p.frame[rows]]
            return Persons(**fields)

        gt, pred = persons(self.gt), persons(self.pred)
        return dataclasses.replace(
            self, frame_video=self.frame_video[keep], frame_position=self.frame_position[keep],
            frame_names=[n for n, k in zip(self.frame_names, keep) if k], gt=gt, pred=pred,
            gt_offsets=np.searchsorted(gt.frame, np.arange(num_frames + 1)),
            pred_offsets=np.searchsorted(pred.frame, np.arange(num_frames + 1)),
            missing_scores=int((pred.has & (pred.score == MISSING_SCORE)).sum()),
        )


# ----------------------------------------------------------------------------- one video
def _internal_keypoints(parsed: PoseTrackFile) -> np.ndarray:
    """(N, 15, 3) keypoints in the internal joint order."""
    if parsed.skeleton == POSETRACK17:
        return parsed.keypoints
    if parsed.skeleton == POSETRACK18:
        return parsed.keypoints[:, _PT18_SLOT_FOR_ID]
    raise UserError(
        f"the posetrack metric needs PoseTrack joints, this file holds the {parsed.skeleton.name!r} "
        "joint set (use --metric pck)",
        path=parsed.path, field="categories[0].keypoints",
    )


def to_internal_joints(values: np.ndarray) -> np.ndarray:
    """(..., 17) values in PoseTrack'18 slot order (or (..., 15) PT17 ids) -> (..., 15) internal."""
    values = np.asarray(values)
    if values.shape[-1] == POSETRACK18.num_joints:
        return values[..., _PT18_SLOT_FOR_ID]
    if values.shape[-1] == NUM_JOINTS:
        return values
    raise ValueError(f"expected 17 (PoseTrack'18) or 15 joints on the last axis, got {values.shape}")


def _check_pred_tracks(parsed: PoseTrackFile) -> None:
    """Track ids below MAX_TRACK_ID and unique within each frame (the official code refuses
    the whole input otherwise)."""
    tracks = parsed.track_ids
    if len(tracks) == 0:
        return
    big = np.flatnonzero(tracks >= MAX_TRACK_ID)
    if len(big):
        row = int(big[0])
        raise UserError(f"track id {int(tracks[row])} is not below {MAX_TRACK_ID} (the official "
                        "evaluation's per-video offset)", path=parsed.path,
                        field=f"{parsed.person_field(row)}.track_id")
    order = np.lexsort((tracks, parsed.person_frame))
    same = (np.diff(parsed.person_frame[order]) == 0) & (np.diff(tracks[order]) == 0)
    dup = np.flatnonzero(same)
    if len(dup):
        row = int(order[dup[0] + 1])
        frame = int(parsed.person_frame[row])
        raise UserError(
            f"non-unique track id {int(tracks[row])} in frame {parsed.frames[frame].file_name or frame} "
            "(track ids must be unique within a frame)",
            path=parsed.path, field=f"{frame_field(parsed, frame)}",
        )


def _check_gt_tracks(parsed: PoseTrackFile, rows: np.ndarray) -> None:
    tracks = parsed.track_ids[rows]
    bad = np.flatnonzero((tracks < 0) | (tracks >= MAX_TRACK_ID))
    if len(bad):
        row = int(rows[bad[0]])
        what = "missing" if parsed.track_ids[row] == -1 else f"{int(parsed.track_ids[row])} is not in 0..{MAX_TRACK_ID - 1}"
        raise UserError(f"GT track id {what} (needed for MOTA)", path=parsed.path,
                        field=f"{parsed.person_field(row)}.track_id")


def _check_head_boxes(parsed: PoseTrackFile, rows: np.ndarray) -> None:
    missing = np.flatnonzero(np.isnan(parsed.head_boxes[rows]).any(axis=1))
    if len(missing):
        row = int(rows[missing[0]])
        key = "x1" if parsed.format == "posetrack17" else "bbox_head"
        raise UserError("missing head box (the PoseTrack metric normalises distances by it)",
                        path=parsed.path, field=f"{parsed.person_field(row)}.{key}")


@dataclasses.dataclass
class _Video:
    positions: np.ndarray  # evaluated frame positions
    names: list[str]
    gt_frame: np.ndarray  # position index into `positions`
    gt_kps: np.ndarray
    gt_has: np.ndarray
    gt_head: np.ndarray
    gt_track: np.ndarray
    gt_index: np.ndarray
    pred_frame: np.ndarray
    pred_kps: np.ndarray
    pred_has: np.ndarray
    pred_track: np.ndarray
    pred_index: np.ndarray
    missing_scores: int


def _remove_ignored(regions: IgnoreRegions, frame_of: np.ndarray, xy: np.ndarray, has: np.ndarray) -> np.ndarray:
    """Clear `has` for joints strictly inside a region of their frame; return the persons to
    keep (in frames with regions, those left with a joint), as the official code does."""
    has &= ~regions.inside(frame_of, xy, has)
    return ~regions.frames()[frame_of] | has.any(axis=1)


def in_frame_index(person_frame: np.ndarray) -> np.ndarray:
    """Position of each person within its frame in the file (persons are sorted by frame)."""
    return np.arange(len(person_frame)) - np.searchsorted(person_frame, person_frame)


def _prepare_video(gt: PoseTrackFile, pred: PoseTrackFile, need_tracks: bool) -> _Video:
    if len(pred.frames) != len(gt.frames):
        raise UserError(f"{len(pred.frames)} frames, but the GT file has {len(gt.frames)} "
                        "(frames are paired by position: list every GT frame, unlabeled ones too)",
                        path=pred.path, field="annolist" if pred.format == "posetrack17" else "images")
    _check_pred_tracks(pred)
    gt_kps_all = _internal_keypoints(gt)
    pred_kps_all = _internal_keypoints(pred)
    gt_index_all = in_frame_index(gt.person_frame)
    pred_index_all = in_frame_index(pred.person_frame)

    # frames the official code keeps: GT has at least one person (annorect non-empty)
    has_person = np.zeros(len(gt.frames), dtype=bool)
    has_person[gt.person_frame] = True
    positions = np.flatnonzero(has_person)
    rank = np.full(len(gt.frames), -1)
    rank[positions] = np.arange(len(positions))

    gt_rows = np.flatnonzero(gt.has_points)  # every person of a kept frame is in a kept frame
    pred_keep = pred.has_points & has_person[pred.person_frame]
    pred_rows = np.flatnonzero(pred_keep)

    kps = gt_kps_all[gt_rows]
    gt_has = ~((kps[..., 0] == 0) & (kps[..., 1] == 0) & (kps[..., 2] == 0))
    pkps = pred_kps_all[pred_rows]
    pred_has = ~np.isnan(pkps[..., 0])
    gt_frame = rank[gt.person_frame[gt_rows]]
    pred_frame = rank[pred.person_frame[pred_rows]]

    # ignore regions: remove joints inside, then persons left without joints (those frames only)
    regions = IgnoreRegions.of(gt, positions)
    gt_keep = _remove_ignored(regions, gt_frame, kps[..., :2], gt_has)
    pred_keep = _remove_ignored(regions, pred_frame, pkps[..., :2], pred_has)

    gt_rows, pred_rows = gt_rows[gt_keep], pred_rows[pred_keep]
    _check_head_boxes(gt, gt_rows)
    if need_tracks:
        _check_gt_tracks(gt, gt_rows)
    scores = pkps[pred_keep][..., 2].copy()
    pred_has = pred_has[pred_keep]
    missing = pred_has & np.isnan(scores)
    scores[missing] = MISSING_SCORE
    return _Video(
        positions=positions,
        names=[gt.frames[p].file_name for p in positions],
        gt_frame=gt_frame[gt_keep], gt_kps=kps[gt_keep], gt_has=gt_has[gt_keep],
        gt_head=gt.head_boxes[gt_rows], gt_track=gt.track_ids[gt_rows],
        gt_index=gt_index_all[gt_rows],
        pred_frame=pred_frame[pred_keep], pred_kps=np.concatenate(
            [pkps[pred_keep][..., :2], scores[..., None]], axis=2),
        pred_has=pred_has, pred_track=pred.track_ids[pred_rows], pred_index=pred_index_all[pred_rows],
        missing_scores=int(missing.sum()),
    )


def head_size(head_boxes: np.ndarray) -> np.ndarray:
    """0.6 * the diagonal of x1y1x2y2 head boxes, as the official code computes it."""
    dx = head_boxes[:, 2] - head_boxes[:, 0]
    dy = head_boxes[:, 3] - head_boxes[:, 1]
    with np.errstate(over="ignore"):  # absurd coordinates give an infinite head size, as officially
        return 0.6 * np.sqrt(dx * dx + dy * dy)


def load_posetrack_set(gt_dir: str | Path, pred_dir: str | Path, *, videos: Sequence[str] | None = None,
                       need_tracks: bool = True) -> PoseTrackSet:
    """Read, check and clean a GT folder and a prediction folder (one JSON per video)."""
    pairs = pair_files(gt_dir, pred_dir, videos)
    prepared: list[_Video] = []
    formats = {}
    for gt_path, pred_path in pairs:
        gt = read_file(gt_path, "gt")
        pred = read_file(pred_path, "pred")
        formats[gt_path.stem] = gt.format
        prepared.append(_prepare_video(gt, pred, need_tracks))
    return _concatenate(pairs, prepared, formats)


def _concatenate(pairs: list[tuple[Path, Path]], prepared: list[_Video], formats: dict[str, str]) -> PoseTrackSet:
    frame_base = np.cumsum([0] + [len(v.positions) for v in prepared])
    num_frames = int(frame_base[-1])

    def cat(values: list[np.ndarray], shape: tuple[int, ...], dtype) -> np.ndarray:
        return np.concatenate(values) if values else np.zeros((0, *shape), dtype=dtype)

    gt_frame = cat([v.gt_frame + b for v, b in zip(prepared, frame_base)], (), np.int64)
    pred_frame = cat([v.pred_frame + b for v, b in zip(prepared, frame_base)], (), np.int64)
    gt_kps = cat([v.gt_kps for v in prepared], (NUM_JOINTS, 3), np.float64)
    pred_kps = cat([v.pred_kps for v in prepared], (NUM_JOINTS, 3), np.float64)
    gt = Persons(
        frame=gt_frame, track_id=cat([v.gt_track for v in prepared], (), np.int64),
        xy=gt_kps[..., :2], has=cat([v.gt_has for v in prepared], (NUM_JOINTS,), bool),
        index_in_frame=cat([v.gt_index for v in prepared], (), np.int64),
        head_size=head_size(cat([v.gt_head for v in prepared], (4,), np.float64)),
    )
    pred = Persons(
        frame=pred_frame, track_id=cat([v.pred_track for v in prepared], (), np.int64),
        xy=pred_kps[..., :2], has=cat([v.pred_has for v in prepared], (NUM_JOINTS,), bool),
        index_in_frame=cat([v.pred_index for v in prepared], (), np.int64),
        score=pred_kps[..., 2],
    )
    missing = sum(v.missing_scores for v in prepared)
    return PoseTrackSet(
        videos=[g.stem for g, _ in pairs],
        gt_paths=[g for g, _ in pairs], pred_paths=[p for _, p in pairs],
        frame_video=np.repeat(np.arange(len(prepared)), np.diff(frame_base)),
        frame_position=cat([v.positions for v in prepared], (), np.int64),
        frame_names=[name for v in prepared for name in v.names],
        gt=gt, pred=pred,
        gt_offsets=np.searchsorted(gt_frame, np.arange(num_frames + 1)),
        pred_offsets=np.searchsorted(pred_frame, np.arange(num_frames + 1)),
        formats=formats, missing_scores=missing,
    )
