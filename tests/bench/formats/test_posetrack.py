import json

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from vposebench.errors import UserError
from vposebench.formats import (
    list_video_files,
    read_annotations,
    read_predictions,
    write_annotations,
    write_predictions,
)
from vposebench.skeleton import JHMDB, POSETRACK17, POSETRACK18
from vposebench.structures import FrameGT, FramePred, PersonGT, PersonPred, VideoGT, VideoPred


def test_real_posetrack18_sample(samples_dir):
    root = samples_dir / "posetrack18"
    video = read_annotations(root / "annotations/val/009473_mpii_test.json", root=root)
    assert video.skeleton is POSETRACK18
    assert len(video.frames) == 1 and video.meta["vid_id"] == "009473" and video.meta["nframes"] == 101
    frame = video.frames[0]
    assert frame.frame_id == 10094730000 and frame.is_labeled
    assert frame.image_path.is_file() and frame.load_image().shape == (1080, 1920, 3)
    assert len(frame.ignore_regions) == 2 and frame.ignore_regions[0].shape == (25, 2)
    p0 = frame.persons[0]
    np.testing.assert_allclose(p0.keypoints[0], [750, 297.5, 1])
    np.testing.assert_allclose(p0.head_box, [648, 253, 648 + 138, 253 + 103])
    assert p0.track_id == 0 and p0.annotated.sum() == 14  # num_keypoints in the file


def test_pt17_prediction_conformance_file(conformance_dir):
    pred = read_predictions(conformance_dir / "cases/v04_basic17/pred/000342_mpii_test.json")
    assert pred.skeleton is POSETRACK17
    person = pred.frames[0].persons[0]
    assert person.track_id == 100 and person.score == pytest.approx(0.611956)
    np.testing.assert_allclose(person.keypoints[0], [1102.37, 490.13, 0.672556])
    assert np.isnan(person.keypoints[5, 0])  # joint 5 not listed


def test_pt17_gt_conformance_file(conformance_dir):
    gt = read_annotations(conformance_dir / "cases/v04_basic17/gt/000342_mpii_test.json")
    assert gt.skeleton is POSETRACK17
    labeled = [f for f in gt.frames if f.persons]
    assert labeled and all(p.head_box is not None for f in labeled for p in f.persons)


def _gt_video(skeleton=POSETRACK18):
    rng = np.random.default_rng(0)
    frames = []
    for i in range(3):
        persons = []
        for t in range(2):
            kps = np.column_stack([rng.uniform(0, 500, (skeleton.num_joints, 2)),
                                   np.ones(skeleton.num_joints)])
            kps[list(skeleton.placeholders)] = 0
            persons.append(PersonGT(kps, track_id=t, box=[1, 2, 300, 400], head_box=[5, 6, 50, 70]))
        frames.append(FrameGT(index=i, file_name=f"images/val/000001_mpii_test/{i:06d}.jpg",
                              persons=persons if i != 1 else [], is_labeled=i != 1,
                              ignore_regions=[np.array([[0.0, 0], [10, 0], [10, 10]])]))
    return VideoGT("000001_mpii_test", skeleton, frames, meta={"vid_id": "000001"})


def test_annotation_round_trip(tmp_path):
    video = _gt_video()
    write_annotations(video, tmp_path / "v.json")
    back = read_annotations(tmp_path / "v.json")
    assert [f.is_labeled for f in back.frames] == [True, False, True]
    assert back.frames[0].frame_id == 10000010000
    for a, b in zip(video.frames, back.frames):
        assert a.file_name == b.file_name
        np.testing.assert_allclose(a.ignore_regions[0], b.ignore_regions[0])
        for p, q in zip(a.persons, b.persons):
            np.testing.assert_allclose(p.keypoints, q.keypoints)
            np.testing.assert_allclose(p.box, q.box)
            np.testing.assert_allclose(p.head_box, q.head_box)
            assert p.track_id == q.track_id


def test_other_skeleton_declared_in_categories(tmp_path):
    video = _gt_video(JHMDB)
    write_annotations(video, tmp_path / "clip.json")
    assert read_annotations(tmp_path / "clip.json").skeleton is JHMDB
    with pytest.raises(UserError, match="does not match"):
        read_annotations(tmp_path / "clip.json", skeleton=POSETRACK18)


def test_prediction_round_trip(tmp_path):
    kps = np.array([[10.0, 20.0, 0.9]] * 17)
    kps[3:5] = np.nan
    frames = [FramePred(0, "a.jpg", [PersonPred(kps, 3, score=0.5)]), FramePred(1, "b.jpg", [])]
    write_predictions(VideoPred("v", POSETRACK18, frames), tmp_path / "v.json")
    doc = json.loads((tmp_path / "v.json").read_text())
    assert doc["annotations"][0]["keypoints"][9:15] == [0, 0, 0, 0, 0, 0]
    back = read_predictions(tmp_path / "v.json").frames[0].persons[0]
    np.testing.assert_allclose(back.keypoints[:, :2], kps[:, :2])  # NaN where not predicted
    np.testing.assert_allclose(back.keypoints[back.predicted, 2], 0.9)
    assert back.track_id == 3


def test_duplicate_track_ids_refused_when_writing(tmp_path):
    kps = np.ones((17, 3))
    frames = [FramePred(0, "a.jpg", [PersonPred(kps, 1), PersonPred(kps, 1)])]
    with pytest.raises(ValueError, match="duplicate track id"):
        write_predictions(VideoPred("v", POSETRACK18, frames), tmp_path / "v.json")
    assert not (tmp_path / "v.json").exists()


def _doc():
    return {
        "images": [{"id": 1, "file_name": "a.jpg", "is_labeled": True}],
        "annotations": [{"image_id": 1, "track_id": 0, "keypoints": [1.0] * 51,
                         "bbox_head": [0, 0, 10, 10]}],
    }


@pytest.mark.parametrize("mutate, field, message", [
    (lambda d: d["annotations"][0].update(keypoints=[1.0] * 50), "annotations[0].keypoints", "expected 51 numbers"),
    (lambda d: d["annotations"][0]["keypoints"].__setitem__(4, "2.5"), "annotations[0].keypoints", "list of numbers"),
    (lambda d: d["annotations"][0]["keypoints"].__setitem__(4, float("nan")), "annotations[0].keypoints", "NaN"),
    (lambda d: d["annotations"][0].update(track_id="7"), "annotations[0].track_id", "integer"),
    (lambda d: d["annotations"][0].update(image_id=2), "annotations[0].image_id", "no image with id 2"),
    (lambda d: d["images"][0].pop("file_name"), "images[0].file_name", "missing field"),
    (lambda d: d["annotations"][0].update(bbox_head=[0, 0, 10]), "annotations[0].bbox_head", "expected 4"),
    (lambda d: d["images"].append(dict(d["images"][0])), "images[1].id", "duplicate image id"),
])
def test_malformed_fields_name_file_and_field(tmp_path, mutate, field, message):
    doc = _doc()
    mutate(doc)
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(doc))
    with pytest.raises(UserError) as info:
        read_annotations(path)
    assert info.value.path == str(path) and info.value.field == field
    assert message in info.value.message


def test_file_level_errors(tmp_path):
    with pytest.raises(UserError, match="file not found"):
        read_annotations(tmp_path / "missing.json")
    (tmp_path / "trunc.json").write_text('{"images": [{"id": 1, ')
    with pytest.raises(UserError, match="invalid JSON at line 1"):
        read_annotations(tmp_path / "trunc.json")
    (tmp_path / "other.json").write_text("[1, 2]")
    with pytest.raises(UserError, match="not a PoseTrack file"):
        read_annotations(tmp_path / "other.json")
    with pytest.raises(UserError, match="folder not found"):
        list_video_files(tmp_path / "nope")
    (tmp_path / "empty").mkdir()
    with pytest.raises(UserError, match="no .json files"):
        list_video_files(tmp_path / "empty")


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=5),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=20,
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(key_path=st.sampled_from([
    ("images",), ("images", 0), ("images", 0, "id"), ("images", 0, "is_labeled"),
    ("annotations",), ("annotations", 0), ("annotations", 0, "keypoints"),
    ("annotations", 0, "track_id"), ("annotations", 0, "bbox_head"), ("annotations", 0, "image_id"),
]), value=json_values)
def test_any_malformed_value_is_a_user_error_or_accepted(tmp_path, key_path, value):
    doc = _doc()
    target = doc
    for key in key_path[:-1]:
        target = target[key]
    target[key_path[-1]] = value
    path = tmp_path / "fuzz.json"
    path.write_text(json.dumps(doc))
    for reader in (read_annotations, read_predictions):
        try:
            reader(path)
        except UserError as exc:
            assert exc.path == str(path)


def test_flat_arrays_agree_with_objects(conformance_dir):
    from vposebench.formats import read_file

    for case in ("v01_basic18", "v04_basic17"):
        for kind, reader in (("gt", read_annotations), ("pred", read_predictions)):
            for path in sorted((conformance_dir / "cases" / case / kind).glob("*.json")):
                flat = read_file(path, kind)
                video = reader(path)
                offsets = flat.frame_offsets()
                assert len(flat.frames) == len(video.frames)
                for i, frame in enumerate(video.frames):
                    rows = range(offsets[i], offsets[i + 1])
                    assert len(rows) == len(frame.persons)
                    for r, person in zip(rows, frame.persons):
                        np.testing.assert_array_equal(flat.keypoints[r], person.keypoints)
                        assert flat.track_ids[r] == person.track_id


def test_annotations_out_of_frame_order_are_grouped_by_frame(tmp_path):
    from vposebench.formats import read_file

    doc = {"images": [{"id": 1, "file_name": "a"}, {"id": 2, "file_name": "b"}],
           "annotations": [{"image_id": 2, "track_id": 5, "keypoints": [1.0] * 51},
                           {"image_id": 1, "track_id": 6, "keypoints": [2.0] * 51},
                           {"image_id": 2, "track_id": 7, "keypoints": [3.0] * 51}]}
    (tmp_path / "v.json").write_text(json.dumps(doc))
    flat = read_file(tmp_path / "v.json", "gt")
    assert flat.person_frame.tolist() == [0, 1, 1] and flat.track_ids.tolist() == [6, 5, 7]
    assert flat.frame_offsets().tolist() == [0, 1, 3]
