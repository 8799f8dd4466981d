"""`vposebench convert`: every adapter's ground truth as PoseTrack'18 JSON."""

import json

import numpy as np
import pytest

from vposebench import cli
from vposebench.boxes import xyxy_to_xywh
from vposebench.datasets.convert import convert_dataset, frame_difference
from vposebench.errors import UserError
from vposebench.formats import read_annotations
from vposebench.registry import DATASETS
from vposebench.skeleton import JHMDB, PENN_ACTION, POSETRACK17, POSETRACK18

MMPOSE_ONLY = {"width", "height", "mask_file", "iscrowd", "num_keypoints"}


def _without(obj, keys):
    return {k: v for k, v in obj.items() if k not in keys}


def test_posetrack18_round_trips_every_field_of_the_real_samples(writers, samples_dir, tmp_path):
    root = writers.posetrack18_root()
    summary = convert_dataset(DATASETS.get("posetrack18")(root, "val"), tmp_path / "out")
    assert sorted(p.name for p in summary.files) == sorted(p.name for p in (root / "annotations/val").iterdir())
    for path in summary.files:
        original = json.loads((samples_dir / "posetrack18/annotations/val" / path.name).read_text())
        written = json.loads(path.read_text())
        # JSON-level: identical apart from mmpose's additions (ints come back as equal floats)
        assert [_without(i, MMPOSE_ONLY) for i in original["images"]] == written["images"]
        assert [_without(a, MMPOSE_ONLY) for a in original["annotations"]] == written["annotations"]
        assert original["categories"] == written["categories"]
        assert isinstance(written["images"][0]["vid_id"], str)


def test_posetrack18_round_trip_with_unlabeled_frames(writers, tmp_path):
    root = tmp_path / "pt18"
    writers.write_json(root / "annotations/val/009473_mpii_test.json", writers.pt18_video(6, (1, 4)))
    dataset = DATASETS.get("posetrack18")(root, "val")
    convert_dataset(dataset, tmp_path / "out")
    before = dataset.load_video("009473_mpii_test")
    after = read_annotations(tmp_path / "out/009473_mpii_test.json", root=root)
    assert [f.is_labeled for f in after.frames] == [False, True, False, False, True, False]
    assert all(frame_difference(a, b) is None for a, b in zip(before.frames, after.frames))
    assert [f.image_path for f in after.frames] == [f.image_path for f in before.frames]


def test_frame_difference_detects_each_evaluated_field(writers, tmp_path):
    root = tmp_path / "pt18"
    writers.write_json(root / "annotations/val/v.json", writers.pt18_video(3, (0, 2)))
    load = DATASETS.get("posetrack18")(root, "val").load_video
    reference = load("v").frames[0]
    changes = {
        "file_name / is_labeled": lambda f: setattr(f, "is_labeled", False),
        "frame_id": lambda f: setattr(f, "frame_id", f.frame_id + 1),
        "ignore_regions": lambda f: f.ignore_regions[0].__setitem__((0, 0), 1.5),
        "number of persons": lambda f: f.persons.pop(),
        "person 1: track_id / keypoints": lambda f: f.persons[1].keypoints.__setitem__((5, 0), 0.25),
        "person 0: bbox / bbox_head": lambda f: f.persons[0].head_box.__setitem__(2, 1.0),
    }
    for expected, change in changes.items():
        frame = load("v").frames[0]
        change(frame)
        assert frame_difference(reference, frame) == expected


def test_posetrack17_maps_joints_by_name_and_derives_the_13x_box(pt17_root, tmp_path):
    dataset = DATASETS.get("posetrack17")(pt17_root, "val")
    summary = convert_dataset(dataset, tmp_path / "out")
    assert len(summary.files) == 3
    for name in dataset.video_names():
        source = dataset.load_video(name)
        converted = read_annotations(tmp_path / "out" / f"{name}.json")
        assert converted.skeleton is POSETRACK18 and len(converted.frames) == len(source.frames)
        doc = json.loads((tmp_path / "out" / f"{name}.json").read_text())
        assert doc["images"][0]["vid_id"] == source.meta["vid_id"]
        for a, b in zip(source.frames, converted.frames):
            assert (a.file_name, a.is_labeled, a.frame_id) == (b.file_name, b.is_labeled, b.frame_id)
            for p, q in zip(a.persons, b.persons):
                for slot, joint in enumerate(POSETRACK18.joints):
                    pt17_name = "neck" if joint == "head_bottom" else joint
                    expected = p.keypoints[POSETRACK17.index(pt17_name)] if pt17_name in POSETRACK17.joints else 0
                    np.testing.assert_array_equal(q.keypoints[slot], expected)
                listed = p.keypoints[p.annotated, :2]
                lo, hi = listed.min(0), listed.max(0)
                centre, extent = (lo + hi) / 2, hi - lo
                np.testing.assert_allclose(xyxy_to_xywh(q.box), [*(centre - 0.65 * extent), *(1.3 * extent)], atol=1e-9)
                np.testing.assert_array_equal(q.head_box, p.head_box)
                assert q.track_id == p.track_id


def test_posetrack17_mat_and_json_variants_convert_to_the_same_file(pt17_root, writers, tmp_path):
    name = "000001_bonn_relpath_5sec_testsub"
    twin = tmp_path / "twin"
    doc = writers.pt17.document("bonn_5sec/000001_bonn", [f"{i:08d}.jpg" for i in range(1, 4)], seed=2)
    writers.write_json(twin / f"annotations/val/{name}.json", doc)
    convert_dataset(DATASETS.get("posetrack17")(pt17_root, "val"), tmp_path / "a")
    convert_dataset(DATASETS.get("posetrack17")(twin, "val"), tmp_path / "b")
    assert (tmp_path / "a" / f"{name}.json").read_bytes() == (tmp_path / "b" / f"{name}.json").read_bytes()


def test_jhmdb_converts_with_its_own_joints_and_mask_boxes(writers, tmp_path):
    root, doc = writers.mmpose_jhmdb_root()
    convert_dataset(DATASETS.get("jhmdb")(root, "test1"), tmp_path / "out")
    for image, ann in zip(doc["images"], doc["annotations"]):
        clip = image["file_name"].split("/")[0]
        written = json.loads((tmp_path / "out" / f"{clip}.json").read_text())
        assert written["categories"][0]["keypoints"] == list(JHMDB.joints)
        first = written["annotations"][0]
        # the mmpose convention shifted by -1: bbox and keypoints one pixel left/up of mmpose's
        np.testing.assert_allclose(np.add(first["bbox"], [1, 1, 0, 0]), ann["bbox"])
        kps = np.reshape(first["keypoints"], (15, 3))
        np.testing.assert_allclose(kps[:, :2] + 1, np.reshape(ann["keypoints"], (15, 3))[:, :2], atol=1e-9)
        assert (kps[:, 2] == 1).all() and first["track_id"] == 0 and "bbox_head" not in first
        back = read_annotations(tmp_path / "out" / f"{clip}.json")
        assert back.skeleton is JHMDB and len(back.frames) == 3


def test_penn_converts_visibility_and_repaired_boxes_and_the_cli_reports_them(samples_dir, tmp_path, capsys):
    out = tmp_path / "penn"
    status = cli.main(["convert", "--dataset", "penn_action", "--root", str(samples_dir / "penn_action"),
                       "--split", "train", "--out", str(out)])
    printed = capsys.readouterr().out
    assert status == 0
    assert "penn_action train: 4 videos, 338 frames (338 labeled), 338 persons" in printed
    assert "box repairs: 2 video(s)" in printed
    assert "1865: 1 missing box (frame 72)" in printed and "2173: 1 degenerate box (frame 87)" in printed
    written = json.loads((out / "2173.json").read_text())
    assert written["categories"][0]["keypoints"] == list(PENN_ACTION.joints)
    video = DATASETS.get("penn_action")(samples_dir / "penn_action", "train").load_video("2173")
    for frame, ann in zip(video.frames, written["annotations"]):
        np.testing.assert_array_equal(np.reshape(ann["keypoints"], (13, 3)), frame.persons[0].keypoints)
        np.testing.assert_allclose(ann["bbox"], xyxy_to_xywh(frame.persons[0].box))
    assert read_annotations(out / "2173.json").skeleton is PENN_ACTION


def test_output_folder_with_other_files_is_refused_and_left_alone(writers, tmp_path):
    root = writers.posetrack18_root()
    out = tmp_path / "out"
    out.mkdir()
    (out / "stale.json").write_text("{}")
    with pytest.raises(UserError, match="1 other .json file"):
        convert_dataset(DATASETS.get("posetrack18")(root, "val"), out)
    assert sorted(p.name for p in out.iterdir()) == ["stale.json"]
    convert_dataset(DATASETS.get("posetrack18")(root, "val"), tmp_path / "again")
    convert_dataset(DATASETS.get("posetrack18")(root, "val"), tmp_path / "again")  # re-running is fine
