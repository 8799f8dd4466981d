"""Rules of the posetrack metric beyond the official outputs: the single-frame video the official
code crashes on, the corrected mode, video subsets, GT-joint selections, ignore-region
boundaries, and resampling weights (equal to literally repeating videos)."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
from helpers.posetrack_cases import make_case, pt18_document, write_case

from vposebench.bootstrap import bootstrap, paired_bootstrap, video_weights
from vposebench.metrics.posetrack import PoseTrackMetric
from vposebench.metrics.posetrack_data import NUM_JOINTS, to_internal_joints

HEAD = np.array([0.0, 0.0, 30.0, 40.0])  # diagonal 50: head size exactly 30, match radius 15 px


def gt_person(x: float, y: float, track: int, annotated=None) -> dict:
    xy = np.array([[x + 40 * j, y] for j in range(NUM_JOINTS)], dtype=np.float64)
    return {"xy": xy, "annotated": np.ones(NUM_JOINTS, bool) if annotated is None else annotated,
            "head": HEAD + [x, y, x, y], "track": track, "pt17_style": 0}


def pred_person(x: float, y: float, track: int, score: float = 0.5, predicted=None) -> dict:
    p = gt_person(x, y, track)
    return {"xy": p["xy"], "predicted": np.ones(NUM_JOINTS, bool) if predicted is None else predicted,
            "track": track, "no_scores": False, "scores": np.full(NUM_JOINTS, score) + np.arange(NUM_JOINTS) * 1e-3}


def write_video(root, name: str, frames: list[dict]) -> None:
    for kind in ("gt", "pred"):
        (root / kind).mkdir(parents=True, exist_ok=True)
        (root / kind / f"{name}.json").write_text(json.dumps(pt18_document(name, frames, kind)))


def frame(gt: list, pred: list, region=None, labeled: bool = True) -> dict:
    return {"labeled": labeled, "gt": gt, "pred": pred, "region": region}


def test_single_labeled_frame_video_does_not_crash(tmp_path):
    case = make_case(7, videos=2, single_frame_video=True)
    gt, pred = write_case(case, tmp_path)
    result = PoseTrackMetric().evaluate(gt, pred)
    single = result.data.videos.index(next(iter(case["gt"])).split(".")[0])  # made first
    assert any("single labeled frame" in n and "crashes" in n for n in result.notes)
    assert result.n_gt_video[single].sum() > 0  # counted for AP
    assert all(v[single].sum() == 0 for v in result.mot_video.values())  # nothing fed to MOTA
    corrected = PoseTrackMetric(mode="corrected").evaluate(gt, pred)
    assert corrected.mot_video["objects"][single].sum() > 0
    assert not any("single labeled frame" in n for n in corrected.notes)


def test_official_quirks_and_the_corrected_mode(tmp_path):
    """Frame 1: three GT persons, no predictions -> official: 1 miss + 1 FP per joint;
    corrected: 3 misses. The last frame is fed only in corrected mode."""
    people = [gt_person(100 + 700 * k, 200, k) for k in range(3)]
    preds = [pred_person(100 + 700 * k, 200, 50 + k) for k in range(3)]
    write_video(tmp_path, "000001_mpii_test", [frame(people, preds), frame(people, []),
                                               frame(people, preds), frame(people, preds[:1])])
    official = PoseTrackMetric().evaluate(tmp_path / "gt", tmp_path / "pred").event_counts()
    corrected = PoseTrackMetric(mode="corrected").evaluate(tmp_path / "gt", tmp_path / "pred").event_counts()
    assert official["num_objects"] == [3 + 1 + 3] * NUM_JOINTS
    assert official["num_misses"] == [1] * NUM_JOINTS and official["num_false_positives"] == [1] * NUM_JOINTS
    assert corrected["num_objects"] == [3 * 4] * NUM_JOINTS
    assert corrected["num_misses"] == [3 + 2] * NUM_JOINTS and corrected["num_false_positives"] == [0] * NUM_JOINTS


def test_distance_of_exactly_half_a_head_matches(tmp_path):
    g = gt_person(100, 200, 0)
    p = pred_person(100, 200, 0)
    p["xy"] = p["xy"] + [9.0, 12.0]  # 15 px = 0.5 * 30
    far = pred_person(100, 200, 0)
    far["xy"] = far["xy"] + [9.0, 12.01]
    for preds, expected in (([p], 100.0), ([far], 0.0)):
        write_video(tmp_path, "000001_mpii_test", [frame([g], preds), frame([g], preds)])
        result = PoseTrackMetric().evaluate(tmp_path / "gt", tmp_path / "pred")
        assert result.headline()["AP/Total"] == expected


def test_ignore_region_boundary_is_outside(tmp_path):
    """Joints strictly inside a region are removed; on its edge they stay (shapely contains)."""
    g = gt_person(100, 200, 0)  # joints at x = 100, 140, ..., y = 200
    region = [[90, 150], [140, 150], [140, 250], [90, 250]]  # joint 0 inside, joint 1 on the edge
    write_video(tmp_path, "000001_mpii_test", [frame([g], [pred_person(100, 200, 0)], region)] * 2)
    result = PoseTrackMetric().evaluate(tmp_path / "gt", tmp_path / "pred")
    n_gt = result.n_gt_video[0]
    assert n_gt[0] == 0 and n_gt[1] == 2 and n_gt[2:].tolist() == [2] * (NUM_JOINTS - 2)
    assert result.labels.joint_offsets[1] == 0  # the predicted joint inside is gone too


def test_subset_equals_evaluating_those_videos_alone(tmp_path):
    gt, pred = write_case(make_case(3, videos=3), tmp_path / "all")
    full = PoseTrackMetric().evaluate(gt, pred)
    keep = full.videos[1:]
    for kind, folder in (("gt", gt), ("pred", pred)):
        (tmp_path / "some" / kind).mkdir(parents=True)
        for v in keep:
            shutil.copy(folder / f"{v}.json", tmp_path / "some" / kind)
    alone = PoseTrackMetric().evaluate(tmp_path / "some" / "gt", tmp_path / "some" / "pred")
    assert full.subset(keep).headline() == alone.headline()
    only = PoseTrackMetric().evaluate(gt, pred, videos=keep)
    assert only.headline() == alone.headline()


def test_gt_joint_selection(tmp_path):
    gt, pred = write_case(make_case(5, videos=2), tmp_path)
    result = PoseTrackMetric().evaluate(gt, pred)
    everything = result.select_gt_joints(np.ones_like(result.data.gt.has))
    np.testing.assert_allclose(everything["AP"], result.ap_full()["ap"], atol=1e-12)
    assert everything["num_gt_joints"] == result.n_gt_video.sum(axis=0).tolist()
    counts = result.event_counts()
    fed, missed = np.array(everything["tracking_objects"]), np.array(everything["misses"])
    assert (fed - missed).tolist() == counts["num_detections"]  # every detection is a GT joint's event
    assert everything["id_switches"] == counts["num_switches"]
    # only the left ankles of track 0, given in PoseTrack'18 slot order (left_ankle = slot 15)
    rows = result.gt_persons()
    mask17 = np.zeros((len(rows["track_id"]), 17), dtype=bool)
    mask17[rows["track_id"] == 0, 15] = True
    mask = to_internal_joints(mask17)
    assert mask[:, 5].any() and not np.delete(mask, 5, axis=1).any()  # internal id 5 = left_ankle
    some = result.select_gt_joints(mask)
    assert some["num_gt_joints"][5] == int((result.data.gt.has[:, 5] & (rows["track_id"] == 0)).sum())
    assert sum(some["num_gt_joints"]) == some["num_gt_joints"][5]
    assert np.isnan(some["AP"][0])  # no selected GT joint, predictions remain: NaN, as officially


def test_weights_equal_repeating_videos(tmp_path):
    """Weight 2 on a video == the folder with that video twice (the bootstrap's premise)."""
    case = make_case(11, videos=2)
    gt, pred = write_case(case, tmp_path / "a")
    result = PoseTrackMetric().evaluate(gt, pred)
    first = sorted(case["gt"])[0]
    copy_name = "999999_mpii_test.json"
    for kind in ("gt", "pred"):
        doc = case[kind][first]
        (tmp_path / "a" / kind / copy_name).write_text(json.dumps(doc))
    doubled = PoseTrackMetric().evaluate(gt, pred)
    weights = np.zeros((1, 2))
    weights[0, result.videos.index(first[:-5])] = 2
    weights[0, 1 - result.videos.index(first[:-5])] = 1
    resampled = result.resample(weights)
    for key, value in doubled.headline().items():
        assert resampled[key][0] == pytest.approx(value, abs=1e-4), key
    ones = result.resample(np.ones((1, 2)))
    for key, value in result.headline().items():
        assert ones[key][0] == pytest.approx(value, abs=1e-4), key


def test_bootstrap_is_seeded_and_paired_difference_of_a_set_with_itself_is_zero(tmp_path):
    gt, pred = write_case(make_case(12, videos=3), tmp_path)
    result = PoseTrackMetric().evaluate(gt, pred)
    a = bootstrap(result, 50, seed=3)
    b = bootstrap(result, 50, seed=3)
    assert a.to_dict() == b.to_dict()
    assert bootstrap(result, 50, seed=4).to_dict() != a.to_dict()
    for key, iv in a.intervals.items():
        assert iv.value == result.headline()[key]
        assert iv.lo <= iv.hi
    diff = paired_bootstrap(result, result, 50, seed=3)
    assert all(iv.value == 0 and iv.lo == 0 and iv.hi == 0 for iv in diff.intervals.values())
    w = video_weights(3, 50, seed=3)
    assert w.shape == (50, 3) and (w.sum(axis=1) == 3).all()


def test_gt_person_without_joints_keeps_its_frame(tmp_path):
    """A PoseTrack'18 GT person without joints is not dropped: its frame counts as having GT.
    Frame 1 (only such a person, two predictions): two false positives per joint, not the
    one-miss-one-false-positive stand-in; frame 2 (no predictions): the stand-in. The counts
    were checked against the official code (objects 3, false positives 5, misses 1 per joint)."""
    empty = gt_person(100, 200, 1, annotated=np.zeros(NUM_JOINTS, bool))
    person = [gt_person(100, 200, 0)]
    preds = [pred_person(100, 200, 5), pred_person(900, 200, 6)]
    write_video(tmp_path, "000001_mpii_test", [frame(person, preds), frame([empty], preds), frame([empty], []),
                                               frame(person, preds), frame(person, preds)])
    counts = PoseTrackMetric().evaluate(tmp_path / "gt", tmp_path / "pred").event_counts()
    assert counts["num_objects"] == [3] * NUM_JOINTS
    assert counts["num_false_positives"] == [5] * NUM_JOINTS
    assert counts["num_misses"] == [1] * NUM_JOINTS
