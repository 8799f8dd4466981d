"""The penn_action adapter on the nine real label files and on savemat-written ones."""

import numpy as np
import pytest
import scipy.io
from hypothesis import given, settings
from hypothesis import strategies as st

from vposebench.boxes import box_is_valid
from vposebench.datasets.penn_action import repair_boxes
from vposebench.errors import UserError
from vposebench.registry import DATASETS
from vposebench.skeleton import PENN_ACTION

# clip -> (split, nframes, action, pose) as stored in the real files
REAL = {
    "0001": ("test", 151, "baseball_pitch", "back"), "0002": ("train", 80, "baseball_pitch", "back"),
    "0100": ("train", 97, "baseball_pitch", "left"), "0623": ("test", 564, "bowl", "back"),
    "1000": ("test", 44, "jump_rope", "front"), "1154": ("test", 72, "pullup", "front"),
    "1865": ("train", 73, "squat", "left"), "2173": ("train", 88, "tennis_serve", "right"),
    "2326": ("test", 52, "tennis_serve", "left"),
}


@pytest.mark.parametrize("split", ["train", "test"])
def test_real_labels_load_with_counts_splits_and_positions(samples_dir, split):
    root = samples_dir / "penn_action"
    dataset = DATASETS.get("penn_action")(root, split)
    assert dataset.video_names() == sorted(c for c, v in REAL.items() if v[0] == split)
    for video in dataset:
        _, nframes, action, pose = REAL[video.name]
        raw = scipy.io.loadmat(root / "labels" / f"{video.name}.mat")
        assert video.skeleton is PENN_ACTION and len(video.frames) == nframes == video.num_persons
        assert (video.meta["action"], video.meta["pose"], video.meta["split"]) == (action, pose, split)
        assert video.frames[0].size == tuple(int(v) for v in raw["dimensions"][0, :2])
        assert video.frames[5].file_name == f"frames/{video.name}/000006.jpg"
        for t in (0, nframes // 2, nframes - 1):
            kp = video.frames[t].persons[0].keypoints
            np.testing.assert_array_equal(kp[:, 0], raw["x"][t].astype(float))
            np.testing.assert_array_equal(kp[:, 1], raw["y"][t].astype(float))
            np.testing.assert_array_equal(kp[:, 2], raw["visibility"][t])
        boxes = np.stack([f.persons[0].box for f in video.frames])
        assert box_is_valid(boxes).all()
        repaired = {r.frame for r in video.meta["box_repairs"]}
        untouched = [t for t in range(len(raw["bbox"])) if t not in repaired]
        np.testing.assert_array_equal(boxes[untouched], raw["bbox"][untouched].astype(float))


def test_integer_files_are_cast_before_arithmetic(samples_dir):
    raw = scipy.io.loadmat(samples_dir / "penn_action/labels/0100.mat")
    assert raw["y"].dtype == np.uint8 and raw["bbox"].dtype == np.uint16
    video = DATASETS.get("penn_action")(samples_dir / "penn_action", "train").load_video("0100")
    kp = video.frames[0].persons[0].keypoints
    assert kp.dtype == np.float64
    np.testing.assert_array_equal(kp[:, 1] - 300, raw["y"][0].astype(float) - 300)  # no uint8 wrap


def test_real_box_defects_are_repaired_and_reported(samples_dir):
    root = samples_dir / "penn_action"
    train = DATASETS.get("penn_action")(root, "train")
    test = DATASETS.get("penn_action")(root, "test")
    for dataset, clip, frame, kind, source in ((test, "1154", 71, "missing", 70),
                                               (train, "1865", 72, "missing", 71),
                                               (train, "2173", 87, "degenerate", 86)):
        video = dataset.load_video(clip)
        raw = scipy.io.loadmat(root / "labels" / f"{clip}.mat")["bbox"].astype(float)
        repair, = video.meta["box_repairs"]
        assert (repair.frame, repair.kind, repair.source_frame) == (frame, kind, source)
        np.testing.assert_array_equal(video.frames[frame].persons[0].box, raw[source])
    assert train.load_video("2173").meta["box_repairs"][0].original == (0.75, 0.75, 0.0, 0.0)
    # 0623 has zero-area boxes where at most one joint is visible: repaired from the nearest valid frame
    repairs = test.load_video("0623").meta["box_repairs"]
    assert len(repairs) == 153 and {r.kind for r in repairs} == {"degenerate"}
    assert (repairs[0].frame, repairs[0].source_frame) == (271, 270)
    assert (repairs[-1].frame, repairs[-1].source_frame) == (517, 518)


def test_invisible_joints_keep_their_guessed_positions(samples_dir):
    video = DATASETS.get("penn_action")(samples_dir / "penn_action", "test").load_video("0623")
    kp = np.stack([f.persons[0].keypoints for f in video.frames])
    hidden = kp[..., 2] == 0
    assert hidden.any() and (kp[hidden][:, :2] != 0).all()


def test_written_labels_with_defects_and_frames(writers):
    root = writers.tmp / "penn"
    written = writers.penn_label(root, "0007", nframes=6, dtype="uint16", bbox_rows=5, degenerate=2)
    writers.penn_label(root, "0008", nframes=4, train=1, seed=1)
    writers.penn_frames(root, "0007", 6)
    writers.penn_frames(root, "0008", 4)
    test = DATASETS.get("penn_action")(root, "test")
    assert test.video_names() == ["0007"]
    video = test.load_video("0007")
    assert video.meta["images_checked"] is True and video.meta["action"] == "tennis_serve"
    assert [(r.frame, r.kind, r.source_frame) for r in video.meta["box_repairs"]] == \
        [(2, "degenerate", 1), (5, "missing", 4)]
    for t in range(6):
        np.testing.assert_array_equal(video.frames[t].persons[0].keypoints[:, 0], written["x"][t].astype(float))
    assert video.frames[0].load_image().shape == (24, 32, 3)
    assert DATASETS.get("penn_action")(root, "train").video_names() == ["0008"]


@pytest.mark.parametrize("change, field, message", [
    (dict(overrides={"train": np.array([[0]], np.int32)}), "train", "expected 1 (train) or -1 (test)"),
    (dict(overrides={"nframes": np.array([[7]], np.uint8)}), "x", "frame count mismatch"),
    (dict(overrides={"dimensions": np.array([[240, 320, 5]], np.uint16)}), "dimensions", "nframes=6"),
    (dict(bbox_rows=7, overrides={"bbox": np.ones((7, 4))}), "bbox", "7 bbox rows for nframes=6"),
    (dict(overrides={"x": np.full((6, 13), np.nan)}), "x", "NaN"),
    (dict(overrides={"x": np.array(["abc"])}), "x", "expected a numeric array"),
    (dict(overrides={"visibility": np.full((6, 13), 2, np.uint8)}), "visibility", "only 0 and 1"),
    (dict(overrides={"bbox": np.zeros((6, 4))}), "bbox", "no frame has a valid bbox"),
    (dict(overrides={"nframes": np.array([[0]], np.uint8)}), "nframes", "the video has no frames"),
])
def test_bad_label_fields_name_the_file_and_field(writers, change, field, message):
    root = writers.tmp / "penn"
    writers.penn_label(root, "0001", nframes=6, **change)
    with pytest.raises(UserError) as info:
        dataset = DATASETS.get("penn_action")(root, "test")
        dataset.load_video("0001")
    assert info.value.path == str(root / "labels/0001.mat") and info.value.field == field
    assert message in info.value.message


def test_frame_folder_with_the_wrong_count_is_refused(writers):
    root = writers.tmp / "penn"
    writers.penn_label(root, "0001", nframes=6)
    writers.penn_frames(root, "0001", 5)
    with pytest.raises(UserError, match="nframes in .*0001.mat says 6 frames, the frame folder has 5"):
        DATASETS.get("penn_action")(root).load_video("0001")


@settings(max_examples=80, deadline=None)
@given(st.lists(st.tuples(st.floats(-5, 50), st.floats(-5, 50), st.floats(-5, 50), st.floats(-5, 50)),
                max_size=12), st.integers(0, 3))
def test_repair_boxes_gives_valid_boxes_from_the_nearest_valid_frame(rows, missing):
    boxes = np.array(rows).reshape(-1, 4)
    count = len(boxes) + missing
    valid = box_is_valid(boxes)
    if not valid.any():
        with pytest.raises(UserError, match="no frame has a valid bbox"):
            repair_boxes(boxes, count, "b.mat")
        return
    out, repairs = repair_boxes(boxes, count, "b.mat")
    assert out.shape == (count, 4) and box_is_valid(out).all()
    by_frame = {r.frame: r for r in repairs}
    assert len(by_frame) == len(repairs)  # at most one repair per frame
    good = np.flatnonzero(valid)
    for t in range(count):
        if t < len(boxes) and valid[t]:
            assert t not in by_frame and (out[t] == boxes[t]).all()
            continue
        repair = by_frame[t]
        assert repair.kind == ("missing" if t >= len(boxes) else "degenerate")
        distance = np.abs(good - t).min()
        assert repair.source_frame == good[np.abs(good - t) == distance].min()  # nearest, earlier on ties
        assert (out[t] == boxes[repair.source_frame]).all()
