"""The shuffled control: a temporal method whose temporal input comes from another video.

Same weights, same frames, same boxes and tracks; only the per-track temporal state (PTM's
memory, TFC's previous keypoint features, refine's previous heatmaps, hold's previous output)
is replaced, before every frame, by the state another video's track has at the same frame
index. `own - shuffled` is then what the method gets from its own track's past, as opposed
to what any plausible temporal input (a pose prior) gives it.

How (docs/methods.md, "Controls"): each video has a donor, the next video in sorted name
order of the whole split (cyclic). A second instance of the method (same checkpoint) runs the
donor video online in lockstep, with its own tracker. Before own frame t, each own track gets
a copy of the donor instance's state of one donor track, the one of the same rank (own
tracks of frame t sorted by id, donor tracks of the donor's last stepped frame sorted by id,
rank modulo the donor's track count); then the own frame is stepped (its output is the
prediction) and the donor instance steps donor frame t. A donor shorter than the own video
starts again from its first frame (frame t mod its length, from a reset state); when the
donor has no track with state yet (own frame 0, or no person so far), own tracks get no state
(their first-frame behaviour). Everything is a function of the video, its donor and the
method, so predictions do not depend on the number of workers or the videos asked for.
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Callable, Mapping, Sequence

import numpy as np

from .box_sources import BoxSource
from .errors import UserError
from .interface import FrameInput, TemporalPoseMethod, has_track_state
from .profiling import PhaseTimer
from .runner import OnlineRun, RunStats
from .structures import VideoGT, VideoPred
from .tracker import IoUTracker

#: where a method's temporal input comes from: its own track's past or a donor video's track
TEMPORAL_INPUTS = ("own", "shuffled")


def donor_names(names: Sequence[str]) -> dict[str, str]:
    """Each video's donor: the next name in sorted order, the last one's is the first."""
    ordered = sorted(names)
    if len(ordered) < 2:
        raise UserError(f"a shuffled run needs at least 2 videos in the split, found "
                        f"{len(ordered)}", field="temporal_input")
    return {name: ordered[(i + 1) % len(ordered)] for i, name in enumerate(ordered)}


def require_track_state(method: object, name: str) -> None:
    """A UserError unless the method (class or instance) can export and import track state."""
    if not has_track_state(method):
        raise UserError(f"method {name!r} keeps no per-track temporal state to shuffle "
                        "(shuffled variants exist for temporal methods: ptm, tfc, refine, hold)",
                        field="temporal_input")


def donor_tracks(own: np.ndarray, donors: np.ndarray) -> list[tuple[int, int | None]]:
    """(own track, donor track or None) pairs: own tracks sorted by id take the donor
    tracks sorted by id of the same rank, modulo the donor count (None: no donor track)."""
    lenders = sorted(int(t) for t in donors)
    return [(tid, lenders[rank % len(lenders)] if lenders else None)
            for rank, tid in enumerate(sorted(int(t) for t in own))]


def run_shuffled(method: TemporalPoseMethod, donor_method: TemporalPoseMethod, video: VideoGT,
                 donor: VideoGT, *, tracker: IoUTracker, boxes: BoxSource,
                 stats: RunStats | None = None, timer: PhaseTimer | None = None) -> VideoPred:
    """Predictions for `video` by `method` with every track's temporal state taken from
    `donor` run by `donor_method` (a second instance, same weights) in lockstep."""
    require_track_state(method, method.name)
    if donor_method is method:
        raise ValueError("the donor needs its own instance of the method")
    own = OnlineRun(method, video, tracker=tracker, boxes=boxes, stats=stats, timer=timer)
    lender = OnlineRun(donor_method, donor, tracker=copy.deepcopy(tracker), boxes=boxes)

    def transfer(frame: FrameInput) -> None:
        for tid, source in donor_tracks(frame.track_ids, lender.last_track_ids):
            state = None if source is None else donor_method.export_track_state(source)
            method.import_track_state(tid, state)

    while not own.done:
        own.step(before_step=transfer)
        if lender.done:  # the donor starts again from its first frame
            lender.finish()
            lender = OnlineRun(donor_method, donor, tracker=lender.tracker, boxes=boxes)
        lender.step()
    donor_method.reset()
    return own.finish()


@dataclasses.dataclass
class DonorSource:
    """What a shuffled run needs besides the method: a second instance of it (same weights),
    each video's donor name, and how to load a video by name."""

    method: TemporalPoseMethod
    donors: Mapping[str, str]
    load: Callable[[str], VideoGT]

    def run(self, method: TemporalPoseMethod, video: VideoGT, *, tracker: IoUTracker,
            boxes: BoxSource, stats: RunStats | None = None,
            timer: PhaseTimer | None = None) -> VideoPred:
        """`run_shuffled` of `video` with its donor."""
        if video.name not in self.donors:
            raise UserError(f"video {video.name!r} is not in the split the donors were drawn "
                            "from", field="temporal_input")
        donor = self.load(self.donors[video.name])
        return run_shuffled(method, self.method, video, donor, tracker=tracker, boxes=boxes,
                            stats=stats, timer=timer)
