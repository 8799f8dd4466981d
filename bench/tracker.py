"""The shared person tracker: IoU association of each frame's boxes with the tracks' last boxes.

A box matched to a track (IoU at least `threshold`, 0.3 by default) inherits its track id; an
unmatched box starts a new track. A track that finds no box is *lost*: it keeps its id and
its last box for up to `max_age` further frames (frames the tracker sees, i.e. with at least
one box), and a later box can still match that last box; after `max_age` frames without a box
it *ends* (`max_age=0`: a track ends in the first frame without a box). Matching runs in two
stages, the tracks seen in the previous frame first (exactly the frame-to-frame association),
then the lost tracks on the boxes left. Each stage is greedy (highest IoU first, the usual
online choice) or optimal (Hungarian, maximising the summed IoU of the pairs above the
threshold). Ids are unique within a frame and below `max_id` (10000: the PoseTrack
evaluation's limit); past the limit, the smallest id not in use by a live track is reused.
Every method keys its per-person state by these ids (and frees a track's state only when the
track ends), and they are the tracking output scored by MOTA.
"""

from __future__ import annotations

import dataclasses

import numpy as np
from scipy.optimize import linear_sum_assignment

from .boxes import box_iou

#: frames a track survives without a box by default: the longest occlusion or missed-detection
#: episode the synthetic generator makes is about 6 frames (docs/methods.md, "Tracker")
DEFAULT_MAX_AGE = 8


@dataclasses.dataclass
class TrackerUpdate:
    """The association of one frame."""

    track_ids: np.ndarray  # (P,) int64, one per box, in box order
    ended: tuple[int, ...]  # tracks dropped in this frame (more than max_age frames without a box)
    new: tuple[int, ...]  # tracks that start in this frame
    #: tracks alive but without a box in this frame (their state is kept)
    lost: tuple[int, ...] = ()


def greedy_match(iou: np.ndarray, threshold: float) -> list[tuple[int, int]]:
    """Pairs (previous, current) taken in order of decreasing IoU while both are free.

    Frames hold a handful of boxes, so this works on Python lists (numpy's per-call cost
    would dominate); ties keep the row-major order, as a stable sort does.
    """
    if iou.size == 0:
        return []
    cols = iou.shape[1]
    flat = iou.ravel().tolist()
    used_r, used_c, pairs = set(), set(), []
    for k in sorted(range(len(flat)), key=lambda k: -flat[k]):
        if flat[k] < threshold:
            break
        r, c = divmod(k, cols)
        if r not in used_r and c not in used_c:
            used_r.add(r)
            used_c.add(c)
            pairs.append((r, c))
    return pairs


def hungarian_match(iou: np.ndarray, threshold: float) -> list[tuple[int, int]]:
    """Pairs maximising the summed IoU among pairs at or above the threshold."""
    if iou.size == 0:
        return []
    gain = np.where(iou >= threshold, iou, 0.0)
    rows, cols = linear_sum_assignment(gain, maximize=True)
    return [(r, c) for r, c in zip(rows.tolist(), cols.tolist()) if iou[r, c] >= threshold]


MATCHERS = {"greedy": greedy_match, "hungarian": hungarian_match}


@dataclasses.dataclass
class _Track:
    box: np.ndarray  # the last box seen
    missed: int = 0  # frames since then without a box


class IoUTracker:
    """IoU tracker with lost tracks kept for `max_age` frames (see the module docstring)."""

    def __init__(self, threshold: float = 0.3, matching: str = "greedy", max_id: int = 10000,
                 max_age: int = DEFAULT_MAX_AGE) -> None:
        if matching not in MATCHERS:
            raise ValueError(f"matching must be one of {sorted(MATCHERS)}, got {matching!r}")
        if not 0 <= threshold <= 1:
            raise ValueError(f"threshold must be in [0, 1], got {threshold}")
        if max_age < 0:
            raise ValueError(f"max_age must be >= 0, got {max_age}")
        self.threshold = threshold
        self.matching = matching
        self.max_id = max_id
        self.max_age = max_age
        self.reset()

    def reset(self) -> None:
        """Start of a video."""
        self._tracks: dict[int, _Track] = {}  # live tracks: the last frame's in box order, then lost
        self._next = 0

    @property
    def active(self) -> tuple[int, ...]:
        """Ids of the tracks that had a box in the last update."""
        return tuple(t for t, track in self._tracks.items() if track.missed == 0)

    @property
    def alive(self) -> tuple[int, ...]:
        """Ids of all live tracks (with a box in the last update, or lost for <= max_age)."""
        return tuple(self._tracks)

    def _new_id(self, taken: set[int]) -> int | None:
        """The next id, or past `max_id` the smallest id not taken (None if all are)."""
        if self._next < self.max_id:
            self._next += 1
            return self._next - 1
        return next((i for i in range(self.max_id) if i not in taken), None)

    def _match(self, ids: list[int], boxes: np.ndarray, free: list[int]) -> list[tuple[int, int]]:
        """(track id, box index) pairs between the tracks `ids` and the boxes `free`."""
        if not ids or not free:
            return []
        last = np.stack([self._tracks[t].box for t in ids])
        pairs = MATCHERS[self.matching](box_iou(last, boxes[free]), self.threshold)
        return [(ids[r], free[c]) for r, c in pairs]

    def update(self, boxes: np.ndarray) -> TrackerUpdate:
        """Associate this frame's xyxy boxes (P, 4) with the live tracks."""
        boxes = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
        ids = [-1] * len(boxes)
        free = list(range(len(boxes)))
        for stage in (True, False):  # seen in the previous frame first, then the lost ones
            candidates = [t for t, track in self._tracks.items() if (track.missed == 0) == stage]
            for track_id, c in self._match(candidates, boxes, free):
                ids[c] = track_id
            free = [c for c in free if ids[c] < 0]
        matched = set(ids)
        ended, lost = [], []
        for track_id, track in list(self._tracks.items()):
            if track_id in matched:
                continue
            track.missed += 1
            if track.missed > self.max_age:
                ended.append(track_id)
                del self._tracks[track_id]
            else:
                lost.append(track_id)
        taken = set(self._tracks) | set(ended)
        new = []
        for c in free:
            track_id = self._new_id(taken)
            if track_id is None:  # every id is in use: the longest-lost track ends, gives its id
                track_id = max(lost, key=lambda t: self._tracks[t].missed)
                lost.remove(track_id)
                ended.append(track_id)
                del self._tracks[track_id]
            ids[c] = track_id
            taken.add(track_id)
            new.append(track_id)
        # this frame's tracks in box order, then the lost ones
        self._tracks = {**{t: _Track(boxes[c]) for c, t in enumerate(ids)},
                        **{t: self._tracks[t] for t in lost}}
        return TrackerUpdate(np.array(ids, dtype=np.int64), tuple(ended), tuple(new), tuple(lost))
