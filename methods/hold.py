"""`hold` and `oracle-hold`: the positive controls of the temporal-sensitivity check.

Both wrap a trained per-frame `baseline` network (`vposebench train --method hold --set
init_checkpoint=BASE.ckpt` copies it; no gradient steps, `vposebench.fitting`) and change
only its output. Per track and joint, a joint is *held* (its output is the track's previous
output of that joint, score included) when a rule says the current frame cannot be trusted:

- `hold`: the joint's score is below `hold_fraction` times its running mean score on the
  track. The running mean is an exponential moving average over the track's frames where the
  joint was not held, m <- (1 - w) m + w s with w = `hold_momentum`, started at the track's
  first score; held frames leave it alone, so a long drop does not lower the bar.
- `oracle-hold`: every joint of a person whose frame is inside a degraded-frame burst (the
  ground-truth flag, `FrameInput.oracle_degraded`, which the runner hands to oracles only).
  An upper bound, not a method: `describe().oracle` is True and tables mark it "(oracle)".

A track's first frame is never held (there is nothing to hold). Where a held joint goes is
`hold_anchor`: "box" (the default) keeps its position relative to the previous frame's person
box and places it in the current box; "image" keeps its pixel position (the literal previous
output). A held output is what the next frame holds, so a run of held frames repeats the last
trusted pose. The heatmaps returned are the network's own.
"""

from __future__ import annotations

import abc
import copy
import dataclasses
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from vposebench.boxes import box_is_valid
from vposebench.config import choice, positive
from vposebench.errors import UserError
from vposebench.interface import ControlMethod, FrameInput, StepOutput, TrackStateAccess
from vposebench.registry import register_method
from vposebench.skeleton import Skeleton
from vposebench.structures import PersonGT, VideoGT, VideoPred

from .baseline import Baseline
from .config import PoseConfig

#: where a held joint is placed: relative to the person box, or at the same pixel
HOLD_ANCHORS = ("box", "image")


@dataclasses.dataclass
class HoldConfig(PoseConfig):
    """The wrapped network's config plus the hold rule."""

    #: hold a joint when its score is below this fraction of its running mean score
    hold_fraction: float = 0.5
    #: weight of the newest score in the running mean (an EMA over frames not held)
    hold_momentum: float = 0.2
    #: "box": a held joint keeps its place in the person box; "image": its pixel position
    hold_anchor: str = "box"

    def validate(self) -> None:
        super().validate()
        positive(self.hold_fraction, "hold_fraction")
        if not 0 < self.hold_momentum <= 1:
            raise UserError(f"must be in (0, 1], got {self.hold_momentum}", field="hold_momentum")
        choice(self.hold_anchor, HOLD_ANCHORS, "hold_anchor")


@dataclasses.dataclass
class HeldTrack:
    """What a hold control keeps per track."""

    keypoints: np.ndarray  # (J, 3) the previous output: x, y, score in image pixels
    box: np.ndarray  # (4,) the person box of that output
    #: (J,) running mean score over the frames where the joint was not held (NaN: none yet)
    mean_score: np.ndarray

    @property
    def nbytes(self) -> int:
        return self.keypoints.nbytes + self.box.nbytes + self.mean_score.nbytes


def running_mean(previous: np.ndarray | None, scores: np.ndarray, held: np.ndarray,
                 momentum: float) -> np.ndarray:
    """The EMA of each joint's score over frames where it was not held (NaN until a score)."""
    fresh = np.isfinite(scores) & ~held
    if previous is None:
        return np.where(fresh, scores, np.nan)
    updated = np.where(np.isnan(previous), scores, (1 - momentum) * previous + momentum * scores)
    return np.where(fresh, updated, previous)


def moved_to_box(keypoints: np.ndarray, old_box: np.ndarray, new_box: np.ndarray) -> np.ndarray:
    """(J, 3) keypoints at the same place relative to `new_box` as they were in `old_box`
    (unchanged when either box is degenerate); scores kept."""
    if not (box_is_valid(old_box) and box_is_valid(new_box)):
        return keypoints.copy()
    out = keypoints.copy()
    scale = (new_box[2:] - new_box[:2]) / (old_box[2:] - old_box[:2])
    out[:, :2] = new_box[:2] + (keypoints[:, :2] - old_box[:2]) * scale
    return out


class HoldControl(Baseline, ControlMethod, TrackStateAccess):
    """Shared machinery of `hold` and `oracle-hold`: subclasses say which joints are held."""

    config_class = HoldConfig
    config: HoldConfig
    past_frames = None  # the previous output, and a running mean over all earlier frames
    state_per_track = "the previous output (J x 3) with its box, and a running mean score per joint"

    def __init__(self, skeleton: Skeleton, config: HoldConfig | None = None, **overrides: Any) -> None:
        super().__init__(skeleton, config, **overrides)
        self.held: dict[int, HeldTrack] = {}

    @abc.abstractmethod
    def hold_mask(self, frame: FrameInput, person: int, scores: np.ndarray,
                  track: HeldTrack) -> np.ndarray:
        """(J,) bool: which joints of the frame's `person` (a track with a previous output)
        to hold, given the network's current `scores`."""

    def fit(self, videos: list[VideoGT], predictions: list[VideoPred],
            trains_on: Callable[[PersonGT], np.ndarray]) -> None:
        """Nothing to fit: the wrapped weights are all a hold control needs."""

    # -- state ----------------------------------------------------------------------------
    def reset(self) -> None:
        self.held.clear()

    def end_tracks(self, track_ids: Iterable[int]) -> None:
        for t in track_ids:
            self.held.pop(int(t), None)

    def state_bytes(self) -> int:
        return sum(track.nbytes for track in self.held.values())

    def export_track_state(self, track_id: int) -> HeldTrack | None:
        track = self.held.get(int(track_id))
        return None if track is None else copy.deepcopy(track)

    def import_track_state(self, track_id: int, state: HeldTrack | None) -> None:
        if state is None:
            self.held.pop(int(track_id), None)
        else:
            self.held[int(track_id)] = state

    # -- inference ------------------------------------------------------------------------
    def step(self, frame: FrameInput) -> StepOutput:
        """The wrapped network's output with the held joints replaced."""
        out = super().step(frame)
        return StepOutput(self.adjust(frame, out.keypoints), out.heatmaps)

    def adjust(self, frame: FrameInput, keypoints: np.ndarray) -> np.ndarray:
        """(P, J, 3) output of the control given the wrapped network's `keypoints` for the
        frame's persons; updates every track's state."""
        out = keypoints.copy()
        boxes = np.asarray(frame.boxes, dtype=np.float64)
        for p, tid in enumerate(int(t) for t in frame.track_ids):
            track = self.held.get(tid)
            scores = keypoints[p, :, 2]
            held = np.zeros(len(scores), dtype=bool)
            if track is not None:
                held = self.hold_mask(frame, p, scores, track) & np.isfinite(track.keypoints[:, 0])
                previous = (moved_to_box(track.keypoints, track.box, boxes[p])
                            if self.config.hold_anchor == "box" else track.keypoints)
                out[p, held] = previous[held]
            mean = running_mean(None if track is None else track.mean_score, scores, held,
                                self.config.hold_momentum)
            self.held[tid] = HeldTrack(out[p].copy(), boxes[p].copy(), mean)
        return out


@register_method("hold")
class Hold(HoldControl):
    """Positive control: a joint repeats its previous output when its score drops (wraps a baseline).

    Held when the score is below `hold_fraction` of the joint's running mean on the track.
    """

    def hold_mask(self, frame: FrameInput, person: int, scores: np.ndarray,
                  track: HeldTrack) -> np.ndarray:
        with np.errstate(invalid="ignore"):
            return scores < self.config.hold_fraction * track.mean_score


@register_method("oracle-hold")
class OracleHold(HoldControl):
    """Oracle upper bound: hold every joint of a person inside a burst (ground-truth flags).

    The runner hands the flags to oracles only, with ground-truth boxes.
    """

    oracle = True
    state_per_track = ("the previous output (J x 3) with its box (oracle: switched by the "
                       "ground-truth burst flags)")

    def adjust(self, frame: FrameInput, keypoints: np.ndarray) -> np.ndarray:
        if frame.oracle_degraded is None and frame.num_persons:
            raise UserError("oracle-hold needs the ground-truth burst flags, which the runner "
                            "hands over only when the boxes come from the ground truth (not "
                            "with detections)", field="oracle_degraded")
        return super().adjust(frame, keypoints)

    def hold_mask(self, frame: FrameInput, person: int, scores: np.ndarray,
                  track: HeldTrack) -> np.ndarray:
        return np.full(len(scores), bool(frame.oracle_degraded[person]))
