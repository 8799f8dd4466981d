"""The basic online runner: every frame listed, unlabeled frames skipped, tracks carried."""

import numpy as np
import pytest
import torch

from vposebench.box_sources import GTBoxes
from vposebench.interface import build_method
from vposebench.runner import run_video
from vposebench.skeleton import POSETRACK18
from vposebench.structures import FrameGT, PersonGT
from vposebench.tracker import IoUTracker

#: one torch thread (helpers.torch_threads)
pytestmark = pytest.mark.usefixtures("one_torch_thread")


def test_runner_lists_every_frame_and_carries_state_over_unlabeled_frames(sticks):
    video = sticks("val").load_video(sticks("val").video_names()[0])
    for index in (2, 3):  # unlabeled frames: no ground-truth persons, no boxes
        video.frames[index].persons = []
        video.frames[index].is_labeled = False
    method = build_method("ptm", POSETRACK18, preset="tiny", write_threshold=-1e9).eval()
    calls = []
    step = method.step
    method.step = lambda frame: calls.append((frame.index, frame.track_ids.tolist(), frame.ended_tracks)) or step(frame)
    with torch.no_grad():
        pred = run_video(method, video, tracker=IoUTracker())
    assert [f.file_name for f in pred.frames] == [f.file_name for f in video.frames]
    assert [len(f.persons) for f in pred.frames] == [len(f.persons) for f in video.frames]
    assert [c[0] for c in calls] == [0, 1, 4, 5, 6, 7]
    assert all(c[1] == [0, 1] and c[2] == () for c in calls)  # same tracks across the gap
    assert not method.store.slots  # the runner resets the method after the video
    for frame in pred.frames[4:]:
        assert [p.track_id for p in frame.persons] == [0, 1]
        assert all(np.isfinite(p.score) and p.box is not None for p in frame.persons)


def test_gt_boxes_fall_back_to_the_keypoint_extent():
    kps = np.zeros((17, 3))
    kps[5:, :2] = np.arange(24).reshape(12, 2) + 10
    kps[5:, 2] = 1
    frame = FrameGT(0, "a.jpg", persons=[
        PersonGT(kps, box=np.array([0.0, 0, 50, 60])),
        PersonGT(kps, box=np.array([5.0, 5, 5, 9])),  # degenerate: keypoint extent instead
        PersonGT(np.zeros((17, 3))),  # nothing usable: left out
    ])
    boxes = GTBoxes().boxes(None, frame).boxes
    assert boxes.shape == (2, 4)
    np.testing.assert_allclose(boxes[1], [10 - 3.3, 11 - 3.3, 32 + 3.3, 33 + 3.3])


@pytest.mark.parametrize("max_age, continues", [(2, True), (1, False)])
def test_a_person_missing_for_a_few_frames_keeps_its_track_and_state(sticks, max_age, continues):
    video = sticks("val").load_video(sticks("val").video_names()[0])
    for index in (3, 4):  # person 1 has no box in frames 3 and 4 (occluded), person 0 has one
        video.frames[index].persons = video.frames[index].persons[:1]
    method = build_method("refine", POSETRACK18, preset="tiny").eval()
    calls = []
    step = method.step
    method.step = lambda frame: calls.append((frame.track_ids.tolist(), frame.ended_tracks,
                                              sorted(method.tracks))) or step(frame)
    with torch.no_grad():
        pred = run_video(method, video, tracker=IoUTracker(max_age=max_age))
    ids = [c[0] for c in calls]
    assert ids[3] == ids[4] == [0]
    if continues:  # lost for two frames, then matched to its last box: same id, state kept
        assert ids[5:] == [[0, 1]] * 3 and all(c[1] == () for c in calls)
        assert [c[2] for c in calls[4:6]] == [[0, 1], [0, 1]]  # refine kept track 1's maps
    else:  # dropped after one frame without a box: the method frees its state, a new track
        assert calls[4][1] == (1,) and calls[5][2] == [0] and ids[5] == [0, 2]
    assert [p.track_id for p in pred.frames[7].persons] == ids[7]
