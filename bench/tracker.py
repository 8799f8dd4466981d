"""The shared person tracker: IoU association of each frame's boxes with the previous frame's.

A box matched to a previous box (IoU at least `threshold`, 0.3 by default) inherits its track
id; an unmatched box starts a new track; a previous track that finds no box ends. Matching is
greedy (highest IoU first, the usual online choice) or optimal (Hungarian, maximising the
summed IoU of the pairs above the threshold). Ids are unique within a frame and below
`max_id` (10000: the PoseTrack evaluation's limit); past the limit, the smallest id not in use
is reused. Every method keys its per-person state by these ids, and they are the tracking
output scored by MOTA.
"""

from __future__ import annotations

import dataclasses

import numpy as np
from scipy.optimize import linear_sum_assignment

from .boxes import box_iou


@dataclasses.dataclass
class TrackerUpdate:
    """The association of one frame."""

    track_ids: np.ndarray  # (P,) int64, one per box, in box order
    ended: tuple[int, ...]  # tracks of the previous frame that found no box
    new: tuple[int, ...]  # tracks that start in this frame


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


class IoUTracker:
    """Frame-to-frame IoU tracker (see the module docstring)."""

    def __init__(self, threshold: float = 0.3, matching: str = "greedy", max_id: int = 10000) -> None:
        if matching not in MATCHERS:
            raise ValueError(f"matching must be one of {sorted(MATCHERS)}, got {matching!r}")
        if not 0 <= threshold <= 1:
            raise ValueError(f"threshold must be in [0, 1], got {threshold}")
        self.threshold = threshold
        self.matching = matching
        self.max_id = max_id
        self.reset()

    def reset(self) -> None:
        """Start of a video."""
        self._boxes = np.zeros((0, 4))
        self._ids: list[int] = []
        self._next = 0

    @property
    def active(self) -> tuple[int, ...]:
        """Ids of the tracks alive after the last update."""
        return tuple(self._ids)

    def _new_id(self, taken: set[int]) -> int:
        if self._next < self.max_id:
            self._next += 1
            return self._next - 1
        free = next(i for i in range(self.max_id) if i not in taken)
        return free

    def update(self, boxes: np.ndarray) -> TrackerUpdate:
        """Associate this frame's xyxy boxes (P, 4) with the previous frame's."""
        boxes = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
        previous = self._ids
        pairs = (MATCHERS[self.matching](box_iou(self._boxes, boxes), self.threshold)
                 if previous and len(boxes) else [])
        ids = [-1] * len(boxes)
        matched_prev = set()
        for r, c in pairs:
            ids[c] = previous[r]
            matched_prev.add(r)
        ended = tuple(t for r, t in enumerate(previous) if r not in matched_prev)
        taken = {i for i in ids if i >= 0} | set(ended)
        new = []
        for c, i in enumerate(ids):
            if i < 0:
                ids[c] = self._new_id(taken)
                taken.add(ids[c])
                new.append(ids[c])
        self._boxes, self._ids = boxes, ids
        return TrackerUpdate(np.array(ids, dtype=np.int64), ended, tuple(new))
