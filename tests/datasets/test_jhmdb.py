"""The jhmdb adapter: the real joint_positions.mat and frames, mmpose's boxes, split files.

Puppet masks and split files are SYNTHETIC (written with scipy.io.savemat / as text in the real
layout): no real puppet_mask.mat or split file is among the samples.
"""

import json
import shutil

import numpy as np
import pytest
import scipy.io
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from vposebench.boxes import xyxy_to_xywh
from vposebench.datasets.jhmdb import mask_boxes, parse_split_file
from vposebench.errors import UserError
from vposebench.registry import DATASETS
from vposebench.skeleton import JHMDB

REAL_CLIP = "Goal_Keeping_Tips_catch_f_cm_np1_fr_med_2"


@pytest.fixture
def real_clip_root(writers, samples_dir):
    """The real joint_positions.mat (T=40) and its 3 real frames, plus a synthetic mask and
    37 synthetic frames so that the frame counts agree."""
    root = writers.tmp / "jhmdb_real"
    source = samples_dir / "jhmdb/joint_positions/catch" / REAL_CLIP / "joint_positions.mat"
    pos = scipy.io.loadmat(source)["pos_img"]
    real = sorted((samples_dir / "jhmdb/Rename_Images/catch" / REAL_CLIP).glob("*.png"))
    writers.jhmdb_clip(root, "catch", REAL_CLIP, pos, writers.puppet_mask(pos), real_pngs=real)
    shutil.copyfile(source, root / "joint_positions/catch" / REAL_CLIP / "joint_positions.mat")
    writers.jhmdb_split(root, "catch", 1, {REAL_CLIP: 2, "other_clip": 1})
    return root


def test_real_joint_positions_load_shifted_to_0_based(real_clip_root, samples_dir):
    dataset = DATASETS.get("jhmdb")(real_clip_root, "test1")
    assert dataset.video_names() == [REAL_CLIP]
    video = dataset.load_video(REAL_CLIP)
    pos = scipy.io.loadmat(samples_dir / "jhmdb/joint_positions/catch" / REAL_CLIP / "joint_positions.mat")["pos_img"]
    assert video.skeleton is JHMDB and len(video.frames) == 40 == pos.shape[2]
    for t in (0, 17, 39):
        person, = video.frames[t].persons
        np.testing.assert_array_equal(person.keypoints[:, :2], pos[:, :, t].T - 1)
        assert (person.keypoints[:, 2] == 1).all() and person.track_id == 0
    # frame 1: the head is the top-most joint, the ankles the lowest (dataset-formats.md 3.2)
    kp = video.frames[0].persons[0].keypoints
    assert kp[:, 1].argmin() == JHMDB.index("head")
    assert set(np.argsort(kp[:, 1])[-2:]) == {JHMDB.index("left_ankle"), JHMDB.index("right_ankle")}
    assert "scale" not in video.meta and "viewpoint" not in video.meta  # absent in the real file
    frame = video.frames[0]
    assert frame.file_name == f"Rename_Images/catch/{REAL_CLIP}/00001.png"
    assert frame.load_image().shape == (240, 320, 3) and frame.size == (240, 320)
    # joints lie in the box taken from the mask drawn through them
    for f in video.frames:
        p = f.persons[0]
        assert ((p.keypoints[:, :2] >= p.box[:2] - 0.5) & (p.keypoints[:, :2] <= p.box[2:] + 0.5)).all()


def test_boxes_match_mmposes_json_for_the_same_clips(writers):
    """mmpose's bbox is [xmin0 + 1, ymin0 + 1, w, h] of the mask; after the -1 shift that both
    joints and box get here, box xywh + (1, 1, 0, 0) is mmpose's and joints + 1 are its keypoints."""
    root, doc = writers.mmpose_jhmdb_root()
    dataset = DATASETS.get("jhmdb")(root, "test")
    clips = [image["file_name"].split("/")[0] for image in doc["images"]]
    assert dataset.video_names() == sorted(clips)
    assert "Goalkeeper_Training_Day_@_7_catch_f_cm_np1_ri_med_0" in clips  # name used untouched
    for clip, ann in zip(clips, doc["annotations"]):
        video = dataset.load_video(clip)
        person = video.frames[0].persons[0]
        np.testing.assert_allclose(xyxy_to_xywh(person.box) + [1, 1, 0, 0], ann["bbox"], atol=1e-12)
        np.testing.assert_allclose(person.keypoints[:, :2] + 1, np.reshape(ann["keypoints"], (15, 3))[:, :2], atol=1e-9)
        # frames 2 and 3 were moved by (2, 1) and (-1, 3): box and joints move together
        for t, shift in ((1, (2, 1)), (2, (-1, 3))):
            moved = video.frames[t].persons[0]
            np.testing.assert_allclose(moved.box, person.box + np.tile(shift, 2))
            np.testing.assert_allclose(moved.keypoints[:, :2], person.keypoints[:, :2] + shift, atol=1e-9)
        assert video.frames[0].load_image().shape == (240, 320, 3)  # the real mmpose PNG


def test_split_selection_and_subsets(writers):
    root, doc = writers.mmpose_jhmdb_root()
    clips = sorted(image["file_name"].split("/")[0] for image in doc["images"])
    assert DATASETS.get("jhmdb")(root, "test1").video_names() == clips
    assert DATASETS.get("jhmdb")(root, "train1").video_names() == []
    assert DATASETS.get("jhmdb")(root, "train2").video_names() == clips
    with pytest.raises(UserError, match="no split files for partition 3"):
        DATASETS.get("jhmdb")(root, "test3")
    with pytest.raises(UserError, match="folder not found"):
        DATASETS.get("jhmdb")(root, "full-test1")
    # full JHMDB's splits/<action>_test_split<k>.txt, CRLF line ends and trailing blanks
    writers.jhmdb_split(root, "catch", 1, {clips[0]: 2, clips[1]: 0, clips[2]: 1}, full=True, line_end="\r\n")
    full = DATASETS.get("jhmdb")(root, "full-test1")
    assert full.subset == "full" and full.video_names() == [clips[0]]
    assert DATASETS.get("jhmdb")(root, "full-train1").video_names() == [clips[2]]
    described = DATASETS.get("jhmdb")(root, "test").describe()
    assert described.details["fold"] == 1 and described.details["subset"] == "sub"
    assert described.split == "sub-test1" and full.split == "full-test1"
    assert (described.videos, described.frames, described.persons) == (3, 9, 9)


def test_optional_scale_and_viewpoint_are_read(writers):
    root = writers.tmp / "j"
    pos = np.random.default_rng(0).uniform(20, 200, (2, 15, 4))
    writers.jhmdb_clip(root, "walk", "a_(b)!", pos, writers.puppet_mask(pos), scale=np.full((1, 4), 0.8),
                       viewpoint="ENE")
    writers.jhmdb_split(root, "walk", 2, {"a_(b)!": 2})
    video = DATASETS.get("jhmdb")(root, "test2").load_video("a_(b)!")
    assert video.meta["scale"] == [0.8] * 4 and video.meta["viewpoint"] == "ENE"
    assert video.meta["action"] == "walk" and video.name == "a_(b)!"


def test_annotations_only_without_frame_folder(writers):
    root = writers.tmp / "j"
    pos = np.random.default_rng(0).uniform(20, 200, (2, 15, 3))
    writers.jhmdb_clip(root, "run", "c", pos, writers.puppet_mask(pos), pngs=0)
    assert not (root / "Rename_Images").exists()
    writers.jhmdb_split(root, "run", 1, {"c": 2})
    video = DATASETS.get("jhmdb")(root).load_video("c")
    assert len(video.frames) == 3 and video.meta["images_checked"] is False


@pytest.mark.parametrize("pngs, mask_frames, message", [
    (5, 4, "the frame folder has 5 .png files"),
    (4, 3, "3 mask frames"),
])
def test_frame_count_mismatch_names_the_files(writers, pngs, mask_frames, message):
    root = writers.tmp / "j"
    pos = np.random.default_rng(0).uniform(20, 200, (2, 15, 4))
    mask = writers.puppet_mask(pos)[:, :, :mask_frames]
    writers.jhmdb_clip(root, "run", "c", pos, mask, pngs=pngs)
    writers.jhmdb_split(root, "run", 1, {"c": 2})
    with pytest.raises(UserError, match=message) as info:
        DATASETS.get("jhmdb")(root).load_video("c")
    assert "frame count mismatch" in info.value.message and "joint_positions.mat" in info.value.format()


def test_nan_joint_and_empty_mask_are_user_errors(writers):
    root = writers.tmp / "j"
    pos = np.random.default_rng(0).uniform(20, 200, (2, 15, 3))
    mask = writers.puppet_mask(pos)
    mask[:, :, 1] = 0
    writers.jhmdb_clip(root, "run", "c", pos, mask)
    writers.jhmdb_split(root, "run", 1, {"c": 2})
    with pytest.raises(UserError, match="empty in frame 1") as info:
        DATASETS.get("jhmdb")(root).load_video("c")
    assert info.value.field == "part_mask"
    pos[0, 3, 2] = np.nan
    writers.jhmdb_clip(root, "run", "c", pos, writers.puppet_mask(np.nan_to_num(pos)))
    with pytest.raises(UserError, match=r"NaN .* index \(0, 3, 2\)") as info:
        DATASETS.get("jhmdb")(root).load_video("c")
    assert info.value.field == "pos_img"


def test_split_file_lines_are_parsed_robustly(tmp_path):
    path = tmp_path / "catch_test_split_1.txt"
    path.write_text("a_@_x.avi 1 \r\nb!(1).avi\t2\n\n  c.avi 0\n")
    assert parse_split_file(path) == {"a_@_x": 1, "b!(1)": 2, "c": 0}
    path.write_text("a.avi 1\nb.avi 3\n")
    with pytest.raises(UserError) as info:
        parse_split_file(path)
    assert info.value.field == "line 2"


@settings(max_examples=60, deadline=None)
@given(st.text(alphabet="ab .avi012\n\t\r@!", max_size=60))
def test_any_split_file_text_parses_or_is_a_user_error(tmp_path_factory, content):
    path = tmp_path_factory.mktemp("split") / "x_test_split_1.txt"
    path.write_bytes(content.encode())
    try:
        flags = parse_split_file(path)
    except UserError as exc:
        assert exc.path == str(path)
    else:
        assert set(flags.values()) <= {0, 1, 2} and all(" " not in clip for clip in flags)


@settings(max_examples=60, deadline=None)
@given(arrays(np.uint8, st.tuples(st.integers(1, 12), st.integers(1, 12), st.integers(1, 4)),
              elements=st.integers(0, 1)))
def test_mask_boxes_equal_the_extent_of_the_nonzero_pixels(mask):
    frames_with_pixels = mask.reshape(-1, mask.shape[2]).any(axis=0)
    if not frames_with_pixels.all():
        with pytest.raises(UserError):
            mask_boxes(mask > 0, "m.mat")
        return
    boxes = mask_boxes(mask > 0, "m.mat")
    for t in range(mask.shape[2]):
        ys, xs = np.nonzero(mask[:, :, t])
        assert boxes[t].tolist() == [xs.min(), ys.min(), xs.max() + 1, ys.max() + 1]


def test_mmpose_json_sample_is_not_an_official_layout(samples_dir):
    # the sample root has no puppet masks and no split files: a clear error, not a crash
    with pytest.raises(UserError, match="puppet_mask"):
        DATASETS.get("jhmdb")(samples_dir / "jhmdb")
    assert json.loads((samples_dir / "jhmdb/mmpose_coco/test_jhmdb_sub1.json").read_text())["images"]


# -- clip folders without puppet masks or split files (JHMDBOptions) -------------------------
def test_shared_samples_convert_without_masks_and_splits(samples_dir, tmp_path, capsys):
    """The samples have joint_positions.mat and 3 of its 40 frames, no puppet_mask/, no split
    files: `all` + box_from_joints + trim_to_frames read them; convert writes them."""
    from vposebench.cli import main

    options = {"box_from_joints": "true", "trim_to_frames": "true"}
    dataset = DATASETS.get("jhmdb")(samples_dir / "jhmdb", "all", **options)
    assert dataset.video_names() == [REAL_CLIP] and dataset.split == "all"
    assert dataset.annotation_files() == [samples_dir / "jhmdb/joint_positions/catch" / REAL_CLIP
                                          / "joint_positions.mat"]
    video = dataset.load_video(REAL_CLIP)
    assert len(video.frames) == 3 and video.meta["trimmed_from"] == 40
    assert video.meta["box"].startswith("joints' extent") and "0.1" in video.meta["box"]
    for frame in video.frames:
        person, = frame.persons
        lo, hi = person.keypoints[:, :2].min(0), person.keypoints[:, :2].max(0)
        pad = 0.1 * (hi - lo).max()
        np.testing.assert_allclose(person.box, [*(lo - pad), *(hi + pad)])
    args = ["convert", "--dataset", "jhmdb", "--root", str(samples_dir / "jhmdb"), "--split", "all",
            "--dataset-option", "box_from_joints=true", "--dataset-option", "trim_to_frames=true",
            "--out", str(tmp_path / "gt")]
    assert main(args) == 0
    assert "jhmdb all: 1 videos, 3 frames" in capsys.readouterr().out
    doc = json.loads((tmp_path / "gt" / f"{REAL_CLIP}.json").read_text())
    assert len(doc["images"]) == 3 and len(doc["annotations"]) == 3


@pytest.mark.parametrize("options, split, message", [
    ({}, "all", "box_from_joints=true"),  # no puppet_mask/: the error names the option
    ({"box_from_joints": "true"}, "test1", "--split all"),  # no split files
    ({"box_from_joints": "true"}, "all", "trim_to_frames=true"),  # 3 of 40 frames
    ({"box_margin": "-1"}, "all", "box_margin"),
])
def test_missing_layout_parts_name_the_option_that_reads_them(samples_dir, options, split, message):
    with pytest.raises(UserError, match=message):
        DATASETS.get("jhmdb")(samples_dir / "jhmdb", split, **options).load_video(REAL_CLIP)


def test_box_from_joints_matches_the_real_mask_boxes_larger_side(writers):
    """On mmpose's three real frames the joints' box (margin 0.1) has the mask box's larger
    side to within 2 % (the PCK normaliser is that side)."""
    root, _ = writers.mmpose_jhmdb_root()
    masked = DATASETS.get("jhmdb")(root, "test1")
    joints = DATASETS.get("jhmdb")(root, "all", box_from_joints=True)
    assert joints.video_names() == masked.video_names()
    for name in masked.video_names():
        a = masked.load_video(name).frames[0].persons[0].box
        b = joints.load_video(name).frames[0].persons[0].box
        ratio = (b[2:] - b[:2]).max() / (a[2:] - a[:2]).max()
        assert 0.98 < ratio < 1.03, (name, ratio)
    assert joints.describe().details["options"]["box_from_joints"] is True
