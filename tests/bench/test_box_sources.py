import json

import numpy as np
import pytest

from vposebench.box_sources import (
    DetectionBoxes,
    GTBoxes,
    JitterConfig,
    JitteredGTBoxes,
    make_box_source,
)
from vposebench.errors import UserError
from vposebench.skeleton import POSETRACK18
from vposebench.structures import FrameGT, PersonGT, VideoGT


def _video():
    kps = np.zeros((17, 3))
    kps[[0, 15], :] = [[100, 50, 1], [120, 250, 1]]
    moved = kps.copy()
    moved[[0, 15], 0] += 200
    persons = [PersonGT(kps, 0, box=[90, 40, 130, 260]), PersonGT(moved, 1)]
    frames = [FrameGT(i, f"{i}.jpg", persons, frame_id=10000010000 + i) for i in range(20)]
    return VideoGT("000001_mpii_test", POSETRACK18, frames)


def test_gt_boxes_use_box_or_keypoint_extent():
    video = _video()
    out = GTBoxes().boxes(video, video.frames[0])
    np.testing.assert_allclose(out.boxes[0], [90, 40, 130, 260])
    # second person has no box: 1.3 x the extent of (300, 50)-(320, 250)
    np.testing.assert_allclose(out.boxes[1], [310 - 13, 150 - 130, 310 + 13, 150 + 130])


def test_jitter_is_a_function_of_seed_video_and_frame():
    video = _video()
    src = JitteredGTBoxes(JitterConfig(shift=0.1, scale=0.2, dropout=0.3, seed=3))
    a = [src.boxes(video, f).boxes for f in video.frames]
    b = [src.boxes(video, f).boxes for f in reversed(video.frames)][::-1]
    assert all(np.array_equal(x, y) for x, y in zip(a, b))
    assert not np.array_equal(a[0], GTBoxes().boxes(video, video.frames[0]).boxes)
    counts = [len(x) for x in a]
    assert min(counts) < 2  # some persons were dropped
    other = JitteredGTBoxes(JitterConfig(shift=0.1, scale=0.2, dropout=0.3, seed=4))
    assert not all(np.array_equal(x, other.boxes(video, f).boxes) for x, f in zip(a, video.frames))


def test_ground_truth_boxes_name_their_persons_and_carry_the_burst_flags():
    video = _video()
    frame = FrameGT(0, "0.jpg", [PersonGT(np.zeros((17, 3))), *(PersonGT(p.keypoints, p.track_id, p.box)
                                                               for p in video.frames[0].persons)])
    frame.persons[2].degradation = "defocus"
    out = GTBoxes().boxes(video, frame)
    assert out.gt_persons.tolist() == [1, 2]  # the first person has no box
    assert out.degraded(frame).tolist() == [False, True]
    src = JitteredGTBoxes(JitterConfig(shift=0.0, scale=0.0, dropout=0.5, seed=1))
    kept = [src.boxes(video, f) for f in video.frames]
    assert {tuple(k.gt_persons) for k in kept} >= {(0,), (1,)}  # some frames lost a person
    for k, f in zip(kept, video.frames):
        whole = GTBoxes().boxes(video, f)
        np.testing.assert_allclose(k.boxes, whole.boxes[k.gt_persons])


def test_detections_file(tmp_path):
    dets = [{"image_id": 10000010000, "category_id": 1, "bbox": [10, 20, 30, 40], "score": 0.9},
            {"image_id": 10000010000, "category_id": 1, "bbox": [0, 0, 5, 5], "score": 0.1},
            {"image_id": 10000010001, "category_id": 2, "bbox": [0, 0, 5, 5], "score": 0.9}]
    path = tmp_path / "dets.json"
    path.write_text(json.dumps(dets))
    video = _video()
    src = make_box_source("detections", detections=str(path), score_threshold=0.5)
    out = src.boxes(video, video.frames[0])
    np.testing.assert_allclose(out.boxes, [[10, 20, 40, 60]])
    assert out.gt_persons is None and out.degraded(video.frames[0]) is None  # nothing known
    assert len(src.boxes(video, video.frames[1]).boxes) == 0  # other category ignored
    path.write_text(json.dumps([{"image_id": "x", "bbox": [0, 0, 1, 1], "score": 1}]))
    with pytest.raises(UserError, match=r"\[0\].image_id"):
        DetectionBoxes(path)
    with pytest.raises(UserError, match="needs --detections"):
        make_box_source("detections")
