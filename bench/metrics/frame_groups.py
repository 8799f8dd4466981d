"""Frame groups: degraded, recovery and clean person-frames, from the GT's burst flags.

Every GT person-frame of a video falls in exactly one group (``GROUPS``):

- ``degraded``: the person is inside a degraded-frame burst (``PersonGT.degradation`` set);
- ``recovery``: not degraded, and one of the `recovery` frames (``RECOVERY_FRAMES`` = 3 by
  default) after the last degraded frame of its track: ``1 <= f - last <= recovery`` in frame
  positions of the video as given (a temporally subsampled video counts its kept frames);
  persons without a track id (``track_id < 0``) are never in recovery;
- ``clean``: the rest.

A frame's group, the PoseTrack metric's unit, is ``degraded`` when any of its persons is
degraded, else ``recovery`` when any is in recovery, else ``clean``. How the metrics restrict
themselves to a group (``PCKResult.group``, ``PoseTrackResult.group``): PCK counts the hits
and trials of the group's person-frames only; PoseTrack scores the group's frames as if every
other frame were unlabeled (no GT, so the official code drops it with its predictions), which
equals running the official evaluation on such a copy of the files. Either way the groups
partition the whole: PCK trials, PoseTrack GT joints and evaluated frames add up.

Flags live only on annotated persons, so with sparse labelling a burst that lies entirely in
unlabeled frames leaves no trace here (its following frames count as clean).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

import numpy as np

from ..structures import VideoGT

if TYPE_CHECKING:
    from .base import MetricResult

GROUPS = ("degraded", "recovery", "clean")
#: frames after a burst that count as recovery, by default
RECOVERY_FRAMES = 3
_CODE = {name: code for code, name in enumerate(GROUPS)}


def person_groups(video: VideoGT, recovery: int = RECOVERY_FRAMES) -> list[list[str]]:
    """The group of every GT person, per frame (persons in the frame's order)."""
    if recovery < 0:
        raise ValueError(f"recovery must be >= 0, got {recovery}")
    last: dict[int, int] = {}
    out = []
    for position, frame in enumerate(video.frames):
        row = []
        for person in frame.persons:
            track = int(person.track_id)
            if person.degradation is not None:
                if track >= 0:
                    last[track] = position
                row.append("degraded")
            elif track in last and position - last[track] <= recovery:
                row.append("recovery")
            else:
                row.append("clean")
        out.append(row)
    return out


def frame_group(groups: Sequence[str]) -> str:
    """The group of a frame whose persons are in `groups`: degraded > recovery > clean."""
    for name in GROUPS[:2]:
        if name in groups:
            return name
    return GROUPS[2]


def _check(group: str) -> int:
    if group not in _CODE:
        raise ValueError(f"unknown frame group {group!r} (known: {', '.join(GROUPS)})")
    return _CODE[group]


@dataclasses.dataclass
class FrameGroups:
    """The group of every GT person-frame of some videos (by video name)."""

    recovery: int
    persons: dict[str, list[list[str]]]  # video -> frame position -> person index -> group

    @classmethod
    def of(cls, videos: Iterable[VideoGT], recovery: int = RECOVERY_FRAMES) -> FrameGroups:
        """Groups of the persons of `videos` (each loaded with its burst flags)."""
        return cls(recovery, {video.name: person_groups(video, recovery) for video in videos})

    def _video(self, name: str) -> list[list[str]]:
        try:
            return self.persons[name]
        except KeyError:
            raise ValueError(f"no frame groups for video {name!r}") from None

    def person_codes(self, videos: Sequence[str], video: np.ndarray, frame: np.ndarray,
                     index: np.ndarray) -> np.ndarray:
        """(N,) group code (position in ``GROUPS``) of GT rows given as (index into `videos`,
        frame position, position of the person in its frame); a row the groups do not know
        (GT files that do not match the videos) is a ValueError."""
        out = np.empty(len(video), dtype=np.int64)
        for row, (v, f, p) in enumerate(zip(np.asarray(video), np.asarray(frame), np.asarray(index))):
            frames = self._video(videos[int(v)])
            if not (0 <= f < len(frames) and 0 <= p < len(frames[f])):
                raise ValueError(f"{videos[int(v)]}: no GT person {int(p)} in frame {int(f)} of the "
                                 "videos the groups were made from")
            out[row] = _CODE[frames[f][p]]
        return out

    def person_mask(self, videos: Sequence[str], video: np.ndarray, frame: np.ndarray,
                    index: np.ndarray, group: str) -> np.ndarray:
        """(N,) True for the GT rows (as in `person_codes`) in `group`."""
        return self.person_codes(videos, video, frame, index) == _check(group)

    def frame_mask(self, videos: Sequence[str], video: np.ndarray, frame: np.ndarray,
                   group: str) -> np.ndarray:
        """(F,) True for the frames (index into `videos`, frame position) in `group`."""
        code = _check(group)
        out = np.empty(len(video), dtype=bool)
        for row, (v, f) in enumerate(zip(np.asarray(video), np.asarray(frame))):
            frames = self._video(videos[int(v)])
            if not 0 <= f < len(frames):
                raise ValueError(f"{videos[int(v)]}: no frame {int(f)} in the videos the groups "
                                 "were made from")
            out[row] = _CODE[frame_group(frames[f])] == code
        return out

    def counts(self) -> dict[str, int]:
        """GT person-frames per group."""
        flat = [g for frames in self.persons.values() for row in frames for g in row]
        return {name: flat.count(name) for name in GROUPS}

    def to_dict(self) -> dict[str, object]:
        """What a record says about the groups: the recovery window and the counts."""
        return {"recovery_frames": self.recovery, "person_frames": self.counts(),
                "definition": "degraded: inside a burst; recovery: the first "
                              f"{self.recovery} frames after a burst of the same track; clean: the rest"}


def group_results(result: MetricResult, groups: FrameGroups) -> dict[str, MetricResult]:
    """`result` on each frame group, in ``GROUPS`` order (each resamples and pairs like `result`)."""
    return {name: result.group(groups, name) for name in GROUPS}
