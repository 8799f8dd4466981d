"""The posetrack18 adapter on the real PoseTrack'18 samples and on layouts built from them."""

import json

import numpy as np
import pytest

from vposebench.boxes import keypoint_box, xywh_to_xyxy
from vposebench.errors import UserError
from vposebench.registry import DATASETS
from vposebench.skeleton import POSETRACK18

# per real sample: persons in its one frame, ignore polygons, nframes stated in the file
SAMPLES = {
    "003418_mpii_test": (1, 9, 149),
    "009473_mpii_test": (2, 2, 101),
    "012834_mpii_test": (11, 4, 140),
}


def test_registered():
    assert DATASETS.get("posetrack18").skeleton is POSETRACK18


@pytest.mark.parametrize("official", [False, True])
def test_real_samples_load_with_their_counts_and_positions(writers, samples_dir, official):
    root = writers.posetrack18_root(official=official)
    dataset = DATASETS.get("posetrack18")(root, "val")
    assert dataset.video_names() == sorted(SAMPLES)
    for video in dataset:
        raw = json.loads((samples_dir / f"posetrack18/annotations/val/{video.name}.json").read_text())
        persons, regions, nframes = SAMPLES[video.name]
        assert video.skeleton is POSETRACK18 and len(video.frames) == 1
        assert video.meta["vid_id"] == video.name[:6] and isinstance(video.meta["vid_id"], str)
        assert video.meta["nframes"] == nframes
        frame = video.frames[0]
        assert frame.frame_id == raw["images"][0]["frame_id"] > 2**31  # big int kept exact
        assert frame.is_labeled and len(frame.persons) == persons and len(frame.ignore_regions) == regions
        assert frame.image_path == (root / "posetrack_data" if official else root) / raw["images"][0]["file_name"]
        for person, ann in zip(frame.persons, raw["annotations"]):
            expected = np.asarray(ann["keypoints"], float).reshape(17, 3)
            np.testing.assert_array_equal(person.keypoints, expected)
            assert person.track_id == ann["track_id"]
            assert not person.keypoints[[3, 4]].any()  # the ears are never labelled
            assert person.annotated.sum() == ann["num_keypoints"]
            np.testing.assert_allclose(person.head_box, xywh_to_xyxy(ann["bbox_head"]))
            # the file's bbox is the 1.3x keypoint-extent box (dataset-formats.md 1.4)
            np.testing.assert_allclose(person.box, keypoint_box(person.keypoints, person.visible, 1.3), atol=1e-3)
        for polygon, xs, ys in zip(frame.ignore_regions, raw["images"][0]["ignore_regions_x"],
                                   raw["images"][0]["ignore_regions_y"]):
            np.testing.assert_array_equal(polygon, np.column_stack([xs, ys]))


def test_frames_load_lazily_from_the_resolved_path(writers):
    dataset = DATASETS.get("posetrack18")(writers.posetrack18_root(), "val")
    frame = dataset.load_video("009473_mpii_test").frames[0]
    assert frame.load_image().shape == (1080, 1920, 3)


def test_mmpose_extra_keys_are_accepted_not_required(writers):
    root = writers.posetrack18_root()
    folder = root / "annotations/val"
    with_extras = {name: DATASETS.get("posetrack18")(root).load_video(name) for name in SAMPLES}
    for path in folder.glob("*.json"):
        doc = json.loads(path.read_text())
        for image in doc["images"]:
            for key in ("width", "height", "mask_file"):
                image.pop(key)
        for ann in doc["annotations"]:
            ann.pop("iscrowd"), ann.pop("num_keypoints")
        path.write_text(json.dumps(doc))
    for name, video in with_extras.items():
        bare = DATASETS.get("posetrack18")(root).load_video(name)
        assert bare.frames[0].size is None and video.frames[0].size == (1080, 1920)
        for p, q in zip(video.frames[0].persons, bare.frames[0].persons):
            np.testing.assert_array_equal(p.keypoints, q.keypoints)


def test_unlabeled_frames_are_kept_in_order(writers):
    root = writers.tmp / "pt18"
    writers.write_json(root / "annotations/val/009473_mpii_test.json", writers.pt18_video(5, (0, 2, 4)))
    video = DATASETS.get("posetrack18")(root, "val").load_video("009473_mpii_test")
    assert [f.is_labeled for f in video.frames] == [True, False, True, False, True]
    assert [len(f.persons) for f in video.frames] == [2, 0, 2, 0, 2]
    assert [f.file_name[-10:] for f in video.frames] == [f"{i:06d}.jpg" for i in range(5)]
    assert [f.frame_id % 10**4 for f in video.frames] == list(range(5))
    np.testing.assert_array_equal(video.frames[2].persons[0].keypoints[0], [752, 299.5, 1])


def test_splits_are_folders_and_the_merged_mmpose_files_are_ignored(writers, samples_dir):
    root = writers.posetrack18_root()
    (root / "annotations/posetrack18_val.json").write_text(
        (samples_dir / "posetrack18/mmpose_merged/test_posetrack18_val.json").read_text())
    assert len(DATASETS.get("posetrack18")(root, "val")) == 3
    with pytest.raises(UserError, match="folder not found"):
        DATASETS.get("posetrack18")(root, "train")
    with pytest.raises(UserError, match="unknown split 'dev'"):
        DATASETS.get("posetrack18")(root, "dev")


def test_describe_counts_and_fingerprints_the_annotations(writers):
    root = writers.posetrack18_root()
    first = DATASETS.get("posetrack18")(root, "val").describe()
    assert (first.videos, first.frames, first.labeled_frames, first.persons) == (3, 3, 3, 14)
    assert first.split == "val" and first.fingerprint.startswith("sha256:")
    assert DATASETS.get("posetrack18")(root, "val").describe().fingerprint == first.fingerprint
    path = root / "annotations/val/003418_mpii_test.json"
    path.write_text(path.read_text().replace('"track_id": 0', '"track_id": 5', 1))
    assert DATASETS.get("posetrack18")(root, "val").describe().fingerprint != first.fingerprint


def test_frames_out_of_temporal_order_are_refused(writers):
    root = writers.tmp / "pt18"
    doc = writers.pt18_video(3, (0, 1, 2))
    doc["images"][1], doc["images"][2] = doc["images"][2], doc["images"][1]
    path = writers.write_json(root / "annotations/val/009473_mpii_test.json", doc)
    with pytest.raises(UserError) as info:
        DATASETS.get("posetrack18")(root).load_video("009473_mpii_test")
    assert info.value.path == str(path) and info.value.field == "images[2].frame_id"


def test_a_track_id_twice_in_a_frame_is_refused(writers):
    root = writers.tmp / "pt18"
    doc = writers.pt18_video(2, (0, 1))
    doc["annotations"][1]["track_id"] = doc["annotations"][0]["track_id"]
    writers.write_json(root / "annotations/val/009473_mpii_test.json", doc)
    with pytest.raises(UserError, match="track id 0 appears twice in frame 0"):
        DATASETS.get("posetrack18")(root).load_video("009473_mpii_test")
