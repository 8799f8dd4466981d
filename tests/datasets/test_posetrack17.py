"""The posetrack17 adapter on SYNTHETIC PoseTrack'17 files in the real layout (JSON and .mat).

No real PoseTrack'17 annotation file is available (tests/data/samples/posetrack17/SOURCES.md);
the fixtures are built by tests/helpers/dataset_writers.py (class PT17) and labelled synthetic.
"""

import numpy as np
import pytest
import scipy.io

from vposebench.errors import UserError
from vposebench.registry import DATASETS
from vposebench.skeleton import POSETRACK17

REGULAR = "000342_mpii_relpath_5sec_testsub"
ODD = "00044_mpii_step1_relpath_5sec_testsub"
MAT = "000001_bonn_relpath_5sec_testsub"


def _assert_same_video(a, b):
    assert len(a.frames) == len(b.frames)
    for f, g in zip(a.frames, b.frames):
        assert (f.file_name, f.is_labeled, f.frame_id, len(f.persons)) == (g.file_name, g.is_labeled, g.frame_id, len(g.persons))
        for r, s in zip(f.ignore_regions, g.ignore_regions):
            np.testing.assert_array_equal(r, s)
        for p, q in zip(f.persons, g.persons):
            np.testing.assert_array_equal(p.keypoints, q.keypoints)
            np.testing.assert_array_equal(p.head_box, q.head_box)
            assert p.track_id == q.track_id


def test_json_video_loads_with_counts_joints_and_head_boxes(pt17_root, writers):
    dataset = DATASETS.get("posetrack17")(pt17_root, "val")
    assert dataset.video_names() == sorted([REGULAR, ODD, MAT])
    video = dataset.load_video(REGULAR)
    doc = writers.pt17.document("bonn_mpii_test_5sec/000342_mpii", [f"{i:08d}.jpg" for i in range(1, 5)])
    assert video.skeleton is POSETRACK17 and video.meta["vid_id"] == "000342"
    assert [f.is_labeled for f in video.frames] == [True, False, True, False]
    assert [len(f.persons) for f in video.frames] == [2, 0, 1, 0]
    first = video.frames[0]
    assert first.file_name == "images/bonn_mpii_test_5sec/000342_mpii/00000001.jpg"
    assert first.image_path == pt17_root / "posetrack_data" / first.file_name
    for point in doc["annolist"][0]["annorect"][0]["annopoints"][0]["point"]:
        np.testing.assert_array_equal(first.persons[0].keypoints[point["id"][0]], [point["x"][0], point["y"][0], 1])
    lone = first.persons[1]
    assert lone.track_id == 3 and lone.annotated.tolist() == [j == 13 for j in range(15)]
    np.testing.assert_array_equal(lone.head_box, [300, 60, 320, 85])
    third = video.frames[2]
    assert third.persons[0].annotated.sum() == 6 and third.ignore_regions[0].shape == (3, 2)
    # frame ids as the official converter packs them: mpii=1, sequence 342, 1-based file number
    assert [f.frame_id for f in video.frames] == [10003420000 + i for i in range(1, 5)]


def test_irregular_frame_names_are_taken_from_the_file(pt17_root):
    video = DATASETS.get("posetrack17")(pt17_root, "val").load_video(ODD)
    assert [f.file_name for f in video.frames] == [f"images/mpii_5sec/00044_mpii/00{i:02d}_crop.jpg" for i in (1, 2, 3)]
    assert video.meta["vid_id"] == "00044"
    assert [f.frame_id for f in video.frames] == [10000440000 + i for i in (1, 2, 3)]


def test_mat_variant_has_bare_structs_and_reads_like_its_json_twin(pt17_root, writers, tmp_path):
    path = pt17_root / f"posetrack_data/annotations/val/{MAT}.mat"
    raw = scipy.io.loadmat(path, squeeze_me=True, struct_as_record=False)["annolist"]
    # the real .mat quirks are present: a single person and a single point come back bare
    assert isinstance(raw[2].annorect, scipy.io.matlab.mat_struct)
    assert isinstance(raw[0].annorect[1].annopoints.point, scipy.io.matlab.mat_struct)
    from_mat = DATASETS.get("posetrack17")(pt17_root, "val").load_video(MAT)
    assert from_mat.meta["variant"] == "mat" and from_mat.meta["vid_id"] == "000001"
    assert from_mat.frames[0].frame_id == 20000010001  # bonn = 2
    twin = tmp_path / "twin"
    doc = writers.pt17.document("bonn_5sec/000001_bonn", [f"{i:08d}.jpg" for i in range(1, 4)], seed=2)
    writers.write_json(twin / f"annotations/val/{MAT}.json", doc)
    from_json = DATASETS.get("posetrack17")(twin, "val").load_video(MAT)
    assert from_json.meta["variant"] == "json"
    _assert_same_video(from_mat, from_json)


def test_single_frame_mat_file(tmp_path, writers):
    doc = writers.pt17.document("bonn_5sec/000001_bonn", ["00000001.jpg"])
    writers.pt17.write_mat(tmp_path / "annotations/val/v.mat", doc)
    video = DATASETS.get("posetrack17")(tmp_path, "val").load_video("v")
    assert len(video.frames) == 1 and len(video.frames[0].persons) == 2


def test_json_is_preferred_when_both_variants_exist(pt17_root, writers):
    folder = pt17_root / "posetrack_data/annotations/val"
    writers.pt17.write_mat(folder / f"{REGULAR}.mat", {"annolist": []})  # would be refused if read
    dataset = DATASETS.get("posetrack17")(pt17_root, "val")
    assert dataset.load_video(REGULAR).meta["variant"] == "json"
    assert folder / f"{REGULAR}.mat" not in dataset.annotation_files()


def test_corrupt_mat_file_is_a_user_error(tmp_path):
    path = tmp_path / "annotations/val/v.mat"
    path.parent.mkdir(parents=True)
    path.write_bytes(b"MATLAB 5.0 MAT-file" + b"\0" * 50)
    with pytest.raises(UserError) as info:
        DATASETS.get("posetrack17")(tmp_path, "val").load_video("v")
    assert info.value.path == str(path) and "cannot read MATLAB file" in info.value.message


def test_mat_without_annolist_names_the_variable(tmp_path):
    path = tmp_path / "annotations/val/v.mat"
    path.parent.mkdir(parents=True)
    scipy.io.savemat(path, {"something": np.ones(3)})
    with pytest.raises(UserError) as info:
        DATASETS.get("posetrack17")(tmp_path, "val").load_video("v")
    assert info.value.field == "annolist" and info.value.message == "missing variable"
