"""The shuffled control: temporal state really comes from the donor video's track (by rank, at
the same frame index, the donor looping), the state transfer is complete for every temporal
method, and shuffled predictions are deterministic whatever the workers."""

import copy
from typing import ClassVar

import numpy as np
import pytest
import torch
from helpers.checkpoints import save_untrained
from helpers.sticks import StickDataset, write_sticks

from vposebench.box_sources import GTBoxes
from vposebench.errors import UserError
from vposebench.interface import (
    FrameInput,
    MethodDescription,
    StepOutput,
    TemporalPoseMethod,
    TrackStateAccess,
    build_method,
)
from vposebench.protocols import Protocol
from vposebench.runner import DatasetSpec, MethodSpec, RunSpec, predict_dataset
from vposebench.shuffle import donor_names, donor_tracks, run_shuffled
from vposebench.skeleton import POSETRACK18
from vposebench.tracker import IoUTracker

#: one torch thread (helpers.torch_threads)
pytestmark = pytest.mark.usefixtures("one_torch_thread")


class Witness(TemporalPoseMethod, TrackStateAccess):
    """A stateful toy: each track's state is (mean of the image where the track began, the
    track id it began as, frames seen); every joint's output is that state, so the output
    says which video and track the state came from and how old it is."""

    name: ClassVar[str] = "witness"

    def __init__(self) -> None:
        super().__init__(POSETRACK18)
        self.tracks: dict[int, list] = {}

    def reset(self) -> None:
        self.tracks.clear()

    def end_tracks(self, track_ids) -> None:
        for t in track_ids:
            self.tracks.pop(int(t), None)

    def step(self, frame: FrameInput) -> StepOutput:
        self.end_tracks(frame.ended_tracks)
        out = np.zeros((frame.num_persons, POSETRACK18.num_joints, 3))
        for p, tid in enumerate(int(t) for t in frame.track_ids):
            state = self.tracks.setdefault(tid, [float(frame.image.mean()), tid, 0])
            state[2] += 1
            out[p] = state
        return StepOutput(out, torch.zeros(frame.num_persons, 1, 1, 1))

    def loss(self, batch):
        raise NotImplementedError

    def describe(self) -> MethodDescription:
        raise NotImplementedError

    def export_track_state(self, track_id):
        state = self.tracks.get(int(track_id))
        return None if state is None else list(state)

    def import_track_state(self, track_id, state) -> None:
        if state is None:
            self.tracks.pop(int(track_id), None)
        else:
            self.tracks[int(track_id)] = state


def first_image_mean(video) -> float:
    return float(video.frames[0].load_image().mean())


@pytest.fixture(scope="module")
def short_donor(tmp_path_factory):
    """One 5-frame video with one person."""
    root = write_sticks(tmp_path_factory.mktemp("donor"), splits={"val": 1}, frames=5, persons=1, seed=3)
    dataset = StickDataset(root, "val")
    return dataset.load_video(dataset.video_names()[0])


def test_donors_are_the_next_video_and_tracks_pair_by_rank():
    assert donor_names(["c", "a", "b"]) == {"a": "b", "b": "c", "c": "a"}
    with pytest.raises(UserError, match="at least 2 videos"):
        donor_names(["a"])
    assert donor_tracks(np.array([7, 3, 5]), np.array([12, 10])) == [(3, 10), (5, 12), (7, 10)]
    assert donor_tracks(np.array([4]), np.array([], dtype=np.int64)) == [(4, None)]


def test_every_frame_takes_the_state_of_the_donor_track_at_the_same_index(sticks, short_donor):
    own = sticks("val").load_video(sticks("val").video_names()[0])  # 8 frames, tracks 0 and 1
    with torch.no_grad():
        pred = run_shuffled(Witness(), Witness(), own, short_donor, tracker=IoUTracker(), boxes=GTBoxes())
    donor_sig, own_sig = first_image_mean(short_donor), first_image_mean(own)
    # frame 0: the donor has no state yet, so the tracks start their own; then the donor's
    # one track (frames seen t, + this step), which starts again after its 5 frames
    expected_age = [1, 2, 3, 4, 5, 6, 2, 3]
    for t, frame in enumerate(pred.frames):
        assert [p.track_id for p in frame.persons] == [0, 1]
        for p in frame.persons:
            signature, origin, age = p.keypoints[0]
            assert age == expected_age[t]
            if t == 0:
                assert signature == pytest.approx(own_sig) and origin == p.track_id
            else:
                assert signature == pytest.approx(donor_sig) and origin == 0


def test_tracks_of_the_same_rank_are_paired(sticks):
    val = sticks("val")
    own, donor = (val.load_video(n) for n in val.video_names())
    with torch.no_grad():
        pred = run_shuffled(Witness(), Witness(), own, donor, tracker=IoUTracker(), boxes=GTBoxes())
    for frame in pred.frames[1:]:
        assert [p.keypoints[0, 1] for p in frame.persons] == [0, 1]
        assert all(p.keypoints[0, 0] == pytest.approx(first_image_mean(donor)) for p in frame.persons)


def frame_input(video, t):
    frame = video.frames[t]
    boxes = GTBoxes().boxes(video, frame).boxes
    return FrameInput(frame.load_image(), boxes, np.arange(len(boxes)), index=t)


@pytest.mark.parametrize("name,settings", [
    ("ptm", {"write_threshold": -1e9}),  # every frame written: the memory is never empty
    ("tfc", {}),
    ("refine", {"align_previous": False}),  # no geometry: the imported maps are used as they are
    ("hold", {"hold_fraction": 1e9}),  # every joint held: the output is the previous output
])
def test_an_imported_state_makes_the_method_behave_as_its_exporter(sticks, name, settings):
    """Y (which ran another video) imports X's track states and then predicts X's next frame
    exactly as X does; without the import it does not."""
    val = sticks("val")
    mine, other = (val.load_video(n) for n in val.video_names())
    torch.manual_seed(0)
    x = build_method(name, POSETRACK18, preset="tiny", **settings).eval()
    y, z = copy.deepcopy(x), copy.deepcopy(x)
    with torch.no_grad():
        for t in range(3):
            x.step(frame_input(mine, t))
            y.step(frame_input(other, t))
            z.step(frame_input(other, t))
        for tid in (0, 1):
            y.import_track_state(tid, x.export_track_state(tid))
        a, b, c = (m.step(frame_input(mine, 3)) for m in (x, y, z))
    np.testing.assert_array_equal(a.keypoints, b.keypoints)
    assert torch.equal(a.heatmaps, b.heatmaps)
    if name == "hold":
        assert not np.array_equal(a.keypoints, c.keypoints)
    else:
        assert not torch.equal(a.heatmaps, c.heatmaps)


def test_refine_takes_the_donor_maps_in_its_own_track_geometry(sticks):
    val = sticks("val")
    mine, other = (val.load_video(n) for n in val.video_names())
    x = build_method("refine", POSETRACK18, preset="tiny").eval()
    y, fresh = copy.deepcopy(x), copy.deepcopy(x)
    with torch.no_grad():
        x.step(frame_input(mine, 0))
        y.step(frame_input(other, 0))
    exported = x.export_track_state(0)
    own_matrix = y.tracks[0][1]
    y.import_track_state(0, exported)
    fresh.import_track_state(0, x.export_track_state(0))
    assert torch.equal(y.tracks[0][0], exported[0]) and np.array_equal(y.tracks[0][1], own_matrix)
    assert fresh.tracks[0][1] is None  # no crop of its own yet: the maps sit in the current crop
    with torch.no_grad():
        out = fresh.step(frame_input(other, 1))
    assert out.keypoints.shape[0] == 2 and np.isfinite(fresh.tracks[0][1]).all()


def test_shuffled_predictions_are_deterministic_and_independent_of_workers(sticks, tmp_path):
    torch.manual_seed(0)
    ckpt = save_untrained(build_method("hold", POSETRACK18, preset="tiny", hold_fraction=1e9),
                          tmp_path / "hold.ckpt")
    root = str(sticks("val").root)

    def predict(out, temporal_input="shuffled", workers=1, videos=None):
        # the stick-figure files are a PoseTrack'18 layout: the registered adapter reads them
        # in spawned workers too
        spec = RunSpec(MethodSpec(str(ckpt)), DatasetSpec("posetrack18", root, "val"), str(out),
                       Protocol("posetrack", temporal_input=temporal_input))
        predict_dataset(spec, workers=workers, videos=videos)
        return {p.name: p.read_bytes() for p in sorted(out.glob("*.json"))}

    one = predict(tmp_path / "w1")
    assert predict(tmp_path / "w2", workers=2) == one
    last = sorted(one)[-1]
    assert predict(tmp_path / "sub", videos=[last[:-5]]) == {last: one[last]}
    with pytest.raises(UserError, match="expected one of own, shuffled"):
        predict(tmp_path / "x", "other")
    ckpt = save_untrained(build_method("baseline", POSETRACK18, preset="tiny"), tmp_path / "b.ckpt")
    with pytest.raises(UserError, match="no per-track temporal state"):
        predict(tmp_path / "y")
    assert not (tmp_path / "y").exists()
