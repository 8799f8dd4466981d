"""GT and prediction folders -> the flat arrays keypoint HOTA starts from, as the PoseTrack21 kit
prepares them (``docs/evaluation.md``, section HOTA; the kit's
``posetrack21/trackeval/datasets/posetrack.py``).

Per video (file-name order): only frames with ``is_labeled`` true are evaluated; both sides
keep the kit's 15 joints (PoseTrack'18 slots without the ears; PoseTrack'17 files are mapped
to them); a joint exists when x > 0 and y > 0. In a frame with ignore polygons every joint
strictly inside one is set to (0, 0), then a person is dropped if all 15 joints were inside or
every joint now has x <= 0 and y <= 0. Track ids are the identities (GT ``person_id``, the
visibility flags and the scores are not used). Persons are kept in file order.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ..errors import UserError
from ..formats import PoseTrackFile, pair_files, read_file
from ..skeleton import POSETRACK17, POSETRACK18, PT17_ID_FOR_PT18_SLOT
from .ignore_regions import IgnoreRegions, frame_field
from .posetrack_data import head_size

#: the kit's joint names, in its order
KIT_JOINTS: tuple[str, ...] = ("Nose", "Neck", "Head", "LS", "RS", "LE", "RE", "LW", "RW", "LH", "RH",
                               "LK", "RK", "LA", "RA")
NUM_KIT_JOINTS = len(KIT_JOINTS)
#: PoseTrack'18 slot of each kit joint (slots 3 and 4, the ears, are dropped)
KIT_SLOTS = np.array([s for s in range(POSETRACK18.num_joints) if s not in POSETRACK18.placeholders])


@dataclasses.dataclass
class TrackedPersons:
    """Persons of all evaluated frames, flat, in (video, frame, file) order."""

    frame: np.ndarray  # (N,) evaluated frame index
    track: np.ndarray  # (N,) identity: dense index over all videos (video-major)
    track_id: np.ndarray  # (N,) track id as in the file
    xy: np.ndarray  # (N, 15, 2) after the ignore filter (removed joints are (0, 0))
    valid: np.ndarray  # (N, 15) bool: x > 0 and y > 0
    head_size: np.ndarray | None = None  # (N,) GT only: 0.6 * head box diagonal

    def __len__(self) -> int:
        return len(self.frame)


@dataclasses.dataclass
class KeypointTrackingSet:
    """A GT folder and a prediction folder, paired and prepared as the PoseTrack21 kit does."""

    videos: list[str]
    gt_paths: list[Path]
    pred_paths: list[Path]
    frame_video: np.ndarray  # (F,) video index of each evaluated (labeled) frame
    frame_position: np.ndarray  # (F,) position of the frame in its file
    gt: TrackedPersons
    pred: TrackedPersons
    gt_offsets: np.ndarray  # (F + 1,) GT persons of frame f: gt_offsets[f]:gt_offsets[f + 1]
    pred_offsets: np.ndarray  # (F + 1,)
    gt_track_video: np.ndarray  # (T_gt,) video of each GT identity
    pred_track_video: np.ndarray  # (T_pred,) video of each predicted identity

    @property
    def num_videos(self) -> int:
        return len(self.videos)

    @property
    def num_frames(self) -> int:
        return len(self.frame_video)

    def frame_counts(self) -> tuple[np.ndarray, np.ndarray]:
        """(#GT persons, #predicted persons) per evaluated frame."""
        return np.diff(self.gt_offsets), np.diff(self.pred_offsets)

    def take_frames(self, keep: np.ndarray) -> KeypointTrackingSet:
        """The set with only the evaluated frames where `keep` ((F,) bool) is True, as if every
        other frame were unlabeled (the kit then drops it with its predictions). Identities
        that keep no person are dropped; the videos stay, also those left without a frame."""
        keep = np.asarray(keep, dtype=bool)
        if keep.shape != self.frame_video.shape:
            raise ValueError(f"keep must be {self.frame_video.shape}, got {keep.shape}")
        rank = np.cumsum(keep) - 1
        num_frames = int(keep.sum())

        def persons(p: TrackedPersons, track_video: np.ndarray) -> tuple[TrackedPersons, np.ndarray]:
            rows = keep[p.frame]
            kept, dense = np.unique(p.track[rows], return_inverse=True)  # video-major stays
            fields = {f.name: (None if getattr(p, f.name) is None else getattr(p, f.name)[rows])
                      for f in dataclasses.fields(p)}
            fields.update(frame=rank[p.frame[rows]], track=dense.reshape(-1).astype(np.int64))
            return TrackedPersons(**fields), track_video[kept]

        gt, gt_track_video = persons(self.gt, self.gt_track_video)
        pred, pred_track_video = persons(self.pred, self.pred_track_video)
        return dataclasses.replace(
            self, frame_video=self.frame_video[keep], frame_position=self.frame_position[keep],
            gt=gt, pred=pred, gt_offsets=np.searchsorted(gt.frame, np.arange(num_frames + 1)),
            pred_offsets=np.searchsorted(pred.frame, np.arange(num_frames + 1)),
            gt_track_video=gt_track_video, pred_track_video=pred_track_video)


def kit_keypoints(parsed: PoseTrackFile) -> np.ndarray:
    """(N, 15, 2) raw x, y in the kit's joint order; a joint the file leaves out is (0, 0)."""
    if parsed.skeleton == POSETRACK18:
        xy = parsed.keypoints[:, KIT_SLOTS, :2]
    elif parsed.skeleton == POSETRACK17:
        xy = parsed.keypoints[:, PT17_ID_FOR_PT18_SLOT[KIT_SLOTS], :2]
    else:
        raise UserError(
            f"keypoint HOTA needs PoseTrack joints, this file holds the {parsed.skeleton.name!r} joint set",
            path=parsed.path, field="categories[0].keypoints",
        )
    return np.nan_to_num(xy, nan=0.0)  # the reader marks predicted (0, 0, 0) joints NaN


def _apply_regions(regions: IgnoreRegions, frame_of: np.ndarray, xy: np.ndarray) -> np.ndarray:
    """The kit's ignore filter, in place on `xy`; returns the persons that remain."""
    inside = regions.inside(frame_of, xy, np.ones(xy.shape[:2], dtype=bool))
    xy[inside] = 0.0
    nothing_left = ((xy[..., 0] <= 0) & (xy[..., 1] <= 0)).all(axis=1)
    return ~(regions.frames()[frame_of] & (inside.all(axis=1) | nothing_left))


def _check_unique_tracks(parsed: PoseTrackFile, rows: np.ndarray, frame_of: np.ndarray, who: str) -> None:
    tracks = parsed.track_ids[rows]
    order = np.lexsort((tracks, frame_of))
    same = (np.diff(frame_of[order]) == 0) & (np.diff(tracks[order]) == 0)
    if same.any():
        row = int(rows[order[np.flatnonzero(same)[0] + 1]])
        raise UserError(f"{who} track id {int(parsed.track_ids[row])} appears twice in this labeled frame "
                        "(track ids must be unique within a frame)", path=parsed.path,
                        field=frame_field(parsed, int(parsed.person_frame[row])))


@dataclasses.dataclass
class _Video:
    positions: np.ndarray
    gt_frame: np.ndarray
    gt_track_id: np.ndarray
    gt_xy: np.ndarray
    gt_head: np.ndarray
    pred_frame: np.ndarray
    pred_track_id: np.ndarray
    pred_xy: np.ndarray


def _prepare_video(gt: PoseTrackFile, pred: PoseTrackFile) -> _Video:
    if len(pred.frames) != len(gt.frames):
        raise UserError(f"{len(pred.frames)} frames, but the GT file has {len(gt.frames)} "
                        "(frames are paired by position: list every GT frame, unlabeled ones too)",
                        path=pred.path, field="annolist" if pred.format == "posetrack17" else "images")
    labeled = np.array([f.is_labeled for f in gt.frames], dtype=bool)
    positions = np.flatnonzero(labeled)
    rank = np.full(len(gt.frames), -1)
    rank[positions] = np.arange(len(positions))
    regions = IgnoreRegions.of(gt, positions)

    gt_rows = np.flatnonzero(labeled[gt.person_frame])
    gt_frame = rank[gt.person_frame[gt_rows]]
    gt_xy = kit_keypoints(gt)[gt_rows]
    keep = _apply_regions(regions, gt_frame, gt_xy)
    gt_rows, gt_frame, gt_xy = gt_rows[keep], gt_frame[keep], gt_xy[keep]

    pred_rows = np.flatnonzero(labeled[pred.person_frame])
    pred_frame = rank[pred.person_frame[pred_rows]]
    pred_xy = kit_keypoints(pred)[pred_rows]
    keep = _apply_regions(regions, pred_frame, pred_xy)
    pred_rows, pred_frame, pred_xy = pred_rows[keep], pred_frame[keep], pred_xy[keep]

    missing_id = np.flatnonzero(gt.track_ids[gt_rows] < 0)
    if len(missing_id):
        raise UserError("missing GT track id (keypoint HOTA needs GT identities)", path=gt.path,
                        field=f"{gt.person_field(int(gt_rows[missing_id[0]]))}.track_id")
    _check_unique_tracks(gt, gt_rows, gt_frame, "GT")
    _check_unique_tracks(pred, pred_rows, pred_frame, "predicted")
    head = head_size(gt.head_boxes[gt_rows]) if len(gt_rows) else np.zeros(0)
    valid = (gt_xy[..., 0] > 0) & (gt_xy[..., 1] > 0)
    no_head = np.flatnonzero(np.isnan(head) & valid.any(axis=1))
    if len(no_head):
        raise UserError("missing head box (keypoint HOTA normalises distances by it)", path=gt.path,
                        field=f"{gt.person_field(int(gt_rows[no_head[0]]))}.bbox_head")
    return _Video(positions=positions, gt_frame=gt_frame, gt_track_id=gt.track_ids[gt_rows], gt_xy=gt_xy,
                  gt_head=head, pred_frame=pred_frame, pred_track_id=pred.track_ids[pred_rows],
                  pred_xy=pred_xy)


def load_keypoint_tracking_set(gt_dir: str | Path, pred_dir: str | Path, *,
                               videos: Sequence[str] | None = None) -> KeypointTrackingSet:
    """Read, check and prepare a GT folder and a prediction folder (one JSON per video)."""
    pairs = pair_files(gt_dir, pred_dir, videos)
    prepared = [_prepare_video(read_file(g, "gt"), read_file(p, "pred")) for g, p in pairs]
    return _concatenate(pairs, prepared)


def _persons(prepared: list[_Video], side: str, frame_base: np.ndarray) -> tuple[TrackedPersons, np.ndarray]:
    frames, tracks, track_ids, xys, track_video = [], [], [], [], []
    next_track = 0
    for v, (video, base) in enumerate(zip(prepared, frame_base)):
        ids = getattr(video, f"{side}_track_id")
        unique, dense = np.unique(ids, return_inverse=True)
        frames.append(getattr(video, f"{side}_frame") + base)
        tracks.append(dense.reshape(-1) + next_track)
        track_ids.append(ids)
        xys.append(getattr(video, f"{side}_xy"))
        track_video.append(np.full(len(unique), v))
        next_track += len(unique)

    def cat(values: list[np.ndarray], shape: tuple[int, ...], dtype) -> np.ndarray:
        return np.concatenate(values) if values else np.zeros((0, *shape), dtype=dtype)

    xy = cat(xys, (NUM_KIT_JOINTS, 2), np.float64)
    persons = TrackedPersons(
        frame=cat(frames, (), np.int64), track=cat(tracks, (), np.int64),
        track_id=cat(track_ids, (), np.int64), xy=xy, valid=(xy[..., 0] > 0) & (xy[..., 1] > 0),
        head_size=cat([v.gt_head for v in prepared], (), np.float64) if side == "gt" else None,
    )
    return persons, cat(track_video, (), np.int64)


def _concatenate(pairs: list[tuple[Path, Path]], prepared: list[_Video]) -> KeypointTrackingSet:
    counts = [len(v.positions) for v in prepared]
    frame_base = np.cumsum([0, *counts])
    num_frames = int(frame_base[-1])
    gt, gt_track_video = _persons(prepared, "gt", frame_base)
    pred, pred_track_video = _persons(prepared, "pred", frame_base)
    return KeypointTrackingSet(
        videos=[g.stem for g, _ in pairs], gt_paths=[g for g, _ in pairs], pred_paths=[p for _, p in pairs],
        frame_video=np.repeat(np.arange(len(prepared)), counts),
        frame_position=np.concatenate([v.positions for v in prepared]) if prepared else np.zeros(0, np.int64),
        gt=gt, pred=pred,
        gt_offsets=np.searchsorted(gt.frame, np.arange(num_frames + 1)),
        pred_offsets=np.searchsorted(pred.frame, np.arange(num_frames + 1)),
        gt_track_video=gt_track_video, pred_track_video=pred_track_video,
    )
