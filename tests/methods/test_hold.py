"""`hold` and `oracle-hold`: joints are held exactly when the rule (scores against the running
mean) or the ground-truth flags say, where the anchor says, per track."""

import numpy as np
import pytest
import torch

from vposebench.errors import UserError
from vposebench.interface import FrameInput, build_method
from vposebench.runner import run_video
from vposebench.skeleton import POSETRACK18

#: one torch thread (helpers.torch_threads)
pytestmark = pytest.mark.usefixtures("one_torch_thread")

J = POSETRACK18.num_joints
REAL = np.array([j not in POSETRACK18.placeholders for j in range(J)])


def frame_input(index, boxes, track_ids, flags=None):
    return FrameInput(image=np.zeros((8, 8, 3), np.uint8), boxes=np.asarray(boxes, float),
                      track_ids=np.asarray(track_ids, np.int64), index=index,
                      oracle_degraded=None if flags is None else np.asarray(flags, bool))


def network_output(index, scores):
    """(1, J, 3) keypoints of one person at a position unique to the frame, with `scores`."""
    kp = np.zeros((1, J, 3))
    kp[0, :, 0] = 10.0 * index + np.arange(J)
    kp[0, :, 1] = index
    kp[0, :, 2] = scores
    kp[0, ~REAL] = np.nan  # placeholders, as the network returns them
    return kp


def control(name, **settings):
    return build_method(name, POSETRACK18, preset="tiny", **settings)


def test_hold_holds_exactly_when_the_score_drops_below_the_fraction_of_its_running_mean():
    hold = control("hold", hold_fraction=0.5, hold_momentum=0.5, hold_anchor="image")
    sequence = [0.8, 0.8, 0.3, 0.3, 0.9, 0.35, 0.5]  # joint 5; every other joint stays at 0.8
    # running mean before each frame: -, 0.8, 0.8, 0.8 (held frames leave it), 0.8, 0.85, 0.85
    expected_held = {2: 1, 3: 1, 5: 4}  # frame -> the frame whose output is repeated
    outputs = []
    for t, score in enumerate(sequence):
        scores = np.full(J, 0.8)
        scores[5] = score
        outputs.append(hold.adjust(frame_input(t, [[0, 0, 10, 20]], [3]), network_output(t, scores))[0])
    for t, out in enumerate(outputs):
        raw = network_output(t, np.where(np.arange(J) == 5, sequence[t], 0.8))[0]
        source = expected_held.get(t)
        if source is None:
            np.testing.assert_array_equal(out, raw)
        else:
            others = REAL & (np.arange(J) != 5)
            np.testing.assert_array_equal(out[others], raw[others])  # not held: own output
            source_raw = network_output(source, np.where(np.arange(J) == 5, sequence[source], 0.8))[0]
            np.testing.assert_array_equal(out[5], source_raw[5])  # position and score repeated
    # 0.5 >= 0.5 x 0.85: frame 6 is not held; the mean moves on from 0.85
    np.testing.assert_allclose(hold.held[3].mean_score[5], 0.5 * 0.85 + 0.5 * 0.5)
    assert np.isnan(hold.held[3].mean_score[~REAL]).all()


def test_a_track_first_frame_is_never_held_and_ended_tracks_start_again():
    hold = control("hold", hold_fraction=0.5, hold_anchor="image")
    high, low = np.full(J, 0.9), np.full(J, 0.01)
    hold.adjust(frame_input(0, [[0, 0, 10, 20]], [1]), network_output(0, high))
    out = hold.adjust(frame_input(1, [[0, 0, 10, 20], [20, 0, 30, 20]], [1, 2]),
                      np.concatenate([network_output(1, low), network_output(1, low)]))
    np.testing.assert_array_equal(out[0, REAL], network_output(0, high)[0, REAL])  # held
    np.testing.assert_array_equal(out[1], network_output(1, low)[0])  # track 2's first frame
    hold.end_tracks([1])
    out = hold.adjust(frame_input(2, [[0, 0, 10, 20]], [1]), network_output(2, low))
    np.testing.assert_array_equal(out[0], network_output(2, low)[0])  # a first frame again
    hold.reset()
    assert not hold.held


def test_box_anchor_places_a_held_joint_in_the_current_box():
    hold = control("hold", hold_fraction=0.5)  # hold_anchor="box" by default
    assert hold.config.hold_anchor == "box"
    hold.adjust(frame_input(0, [[0, 0, 10, 20]], [0]), network_output(0, np.full(J, 0.9)))
    out = hold.adjust(frame_input(1, [[5, 5, 25, 45]], [0]), network_output(1, np.full(J, 0.1)))
    previous = network_output(0, np.full(J, 0.9))[0]
    np.testing.assert_allclose(out[0, REAL, 0], 5 + 2 * previous[REAL, 0])
    np.testing.assert_allclose(out[0, REAL, 1], 5 + 2 * previous[REAL, 1])
    np.testing.assert_allclose(out[0, REAL, 2], 0.9)


def test_oracle_hold_follows_the_flags_and_refuses_without_them():
    oracle = control("oracle-hold", hold_anchor="image")
    assert oracle.describe().oracle and not control("hold").oracle
    flags = [True, True, False, True, True, False]  # frame 0 is the track's first: not held
    high = np.full(J, 0.9)  # high scores: the score rule would never hold
    sources = {1: 0, 3: 2, 4: 2}
    for t, flag in enumerate(flags):
        out = oracle.adjust(frame_input(t, [[0, 0, 10, 20]], [0], [flag]), network_output(t, high))
        expected = network_output(sources.get(t, t), high)[0]
        np.testing.assert_array_equal(out[0], expected)
    with pytest.raises(UserError, match="ground-truth burst flags"):
        oracle.adjust(frame_input(6, [[0, 0, 10, 20]], [0]), network_output(6, high))


def test_the_runner_hands_degradation_flags_to_oracles_only(sticks):
    video = sticks("val").load_video(sticks("val").video_names()[0])
    for frame in video.frames[2:5]:
        frame.persons[1].degradation, frame.persons[1].burst_position = "occluder", frame.index - 2
    video.frames[3].persons.insert(0, type(video.frames[3].persons[0])(np.zeros((J, 3))))  # no box
    seen = {}
    for name in ("oracle-hold", "hold"):
        method = control(name).eval()
        step = method.step
        method.step = lambda frame, name=name, step=step: seen.setdefault(name, []).append(
            frame.oracle_degraded) or step(frame)
        with torch.no_grad():
            run_video(method, video)
    assert all(flags is None for flags in seen["hold"])
    assert [f.tolist() for f in seen["oracle-hold"]] == [
        [False, False], [False, False], [False, True], [False, True], [False, True],
        [False, False], [False, False], [False, False]]


def test_oracle_hold_holds_the_generated_bursts(tiny_root):
    """On a generated root the flags come from the degradation side files: oracle-hold holds
    exactly the person-frames inside a burst that follow an earlier frame of the track."""
    from vposebench.datasets.synthetic.dataset import SyntheticDataset

    dataset = SyntheticDataset(tiny_root, "val")
    video = next(v for v in map(dataset.load_video, dataset.video_names())
                 if any(p.degradation for f in v.frames for p in f.persons))
    oracle = control("oracle-hold", hold_anchor="image").eval()
    raw = control("baseline")
    raw.load_state_dict({k: v for k, v in oracle.state_dict().items()})
    with torch.no_grad():
        held, plain = run_video(oracle, video), run_video(raw.eval(), video)
    checked = 0
    for t, (gt, a, b) in enumerate(zip(video.frames, held.frames, plain.frames)):
        boxed = [p for p in gt.persons if p.crop_box() is not None]
        for person, pa, pb in zip(boxed, a.persons, b.persons):
            earlier = [f for f in held.frames[:t] if any(q.track_id == pa.track_id for q in f.persons)]
            if person.degradation is not None and earlier:
                previous = next(q for q in earlier[-1].persons if q.track_id == pa.track_id)
                np.testing.assert_array_equal(pa.keypoints, previous.keypoints)
                checked += 1
            else:
                np.testing.assert_array_equal(pa.keypoints, pb.keypoints)
    assert checked > 0
