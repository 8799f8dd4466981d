"""Frame groups (degraded / recovery / clean): the labels, the group-restricted PCK and PoseTrack
results, their equality with scoring edited copies of the files, the partition, the bootstrap."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import numpy as np
import pytest
from helpers.jittered import write_jittered_predictions
from helpers.posetrack_cases import make_case, write_case

from vposebench.bootstrap import bootstrap, paired_bootstrap
from vposebench.datasets.convert import convert_dataset
from vposebench.datasets.synthetic import SyntheticDataset
from vposebench.metrics.frame_groups import (
    GROUPS,
    FrameGroups,
    frame_group,
    group_results,
    person_groups,
)
from vposebench.metrics.hota import HOTAMetric
from vposebench.metrics.pck import PCKMetric, PCKOptions
from vposebench.metrics.posetrack import PoseTrackMetric
from vposebench.metrics.stability import StabilityMetric
from vposebench.registry import DATASETS
from vposebench.skeleton import POSETRACK18
from vposebench.structures import FrameGT, PersonGT, VideoGT


def _video(rows):
    """rows: per frame, (track id, burst kind or None) per person."""
    frames = [FrameGT(index=f, file_name=f"{f}.jpg",
                      persons=[PersonGT(np.ones((17, 3)), track_id=t, degradation=k,
                                        burst_position=None if k is None else 0) for t, k in row])
              for f, row in enumerate(rows)]
    return VideoGT("v", POSETRACK18, frames)


def test_groups_follow_each_track_through_its_recovery_window():
    video = _video([[(1, None), (2, None)], [(1, "occluder"), (2, None)], [(1, "occluder"), (-1, "defocus")],
                    [(2, None), (-1, None)], [(1, None)], [(1, None), (2, "defocus")], [(1, None), (2, None)]])
    assert person_groups(video) == [["clean", "clean"], ["degraded", "clean"], ["degraded", "degraded"],
                                    ["clean", "clean"], ["recovery"], ["recovery", "degraded"],
                                    ["clean", "recovery"]]
    # frame 4 is 2 frames after track 1's burst, frame 5 is 3 frames after it; untracked: no recovery
    assert person_groups(video, recovery=1)[4] == ["clean"]
    assert [frame_group(g) for g in person_groups(video)] == [
        "clean", "degraded", "degraded", "clean", "recovery", "degraded", "recovery"]
    groups = FrameGroups.of([video])
    assert groups.counts() == {"degraded": 4, "recovery": 3, "clean": 6}
    assert groups.to_dict()["recovery_frames"] == 3
    with pytest.raises(ValueError, match="no frame groups for video 'w'"):
        groups.frame_mask(["w"], np.array([0]), np.array([0]), "clean")
    with pytest.raises(ValueError, match="no GT person 2 in frame 4"):
        groups.person_mask(["v"], np.array([0]), np.array([4]), np.array([2]), "clean")
    with pytest.raises(ValueError, match="unknown frame group"):
        groups.frame_mask(["v"], np.array([0]), np.array([0]), "blurry")


def _unlabel_other_frames(src: Path, dst: Path, keep: dict[str, set[int]]) -> None:
    """Copy a folder of PT17/PT18 files; every frame position not in keep[video] gets no GT
    person and is marked unlabeled (what the official code drops with its predictions)."""
    dst.mkdir(parents=True, exist_ok=True)
    for path in sorted(src.glob("*.json")):
        doc = json.loads(path.read_text())
        kept = keep.get(path.stem, set())
        if "annolist" in doc:
            for position, frame in enumerate(doc["annolist"]):
                if position not in kept:
                    frame["annorect"], frame["is_labeled"] = [], [0]
        else:
            dropped = {image["id"] for position, image in enumerate(doc["images"]) if position not in kept}
            for image in doc["images"]:
                if image["id"] in dropped:
                    image["is_labeled"] = False
            doc["annotations"] = [a for a in doc["annotations"] if a["image_id"] not in dropped]
        (dst / path.name).write_text(json.dumps(doc))


def _kept_positions(result, keep: np.ndarray) -> dict[str, set[int]]:
    keys = result.frame_keys()
    out: dict[str, set[int]] = {}
    for v, f in zip(keys["video"][keep], keys["frame"][keep]):
        out.setdefault(result.data.videos[v], set()).add(int(f))
    return out


def _assert_same_posetrack(a, b) -> None:
    np.testing.assert_array_equal(list(a.headline().values()), list(b.headline().values()))
    assert a.headline().keys() == b.headline().keys()
    for key, value in a.ap_full().items():
        np.testing.assert_array_equal(value, b.ap_full()[key])
    for key, value in a.mot_full().items():
        np.testing.assert_array_equal(value, b.mot_full()[key])
    assert a.event_counts() == b.event_counts()
    assert a.summary()["frames_evaluated"] == b.summary()["frames_evaluated"]
    assert a.videos == b.videos


@pytest.mark.parametrize("seed,fmt", [(1, "pt18"), (2, "pt18"), (3, "pt17"), (4, "pt18")])
def test_selecting_frames_equals_scoring_copies_with_the_other_frames_unlabeled(tmp_path, seed, fmt):
    """On random cases with every corner of the official rules (ignore regions, persons without
    joints, frames without predictions, identity swaps)."""
    gt, pred = write_case(make_case(seed, fmt=fmt, videos=3), tmp_path)
    whole = PoseTrackMetric().evaluate(gt, pred)
    keep = np.random.default_rng(seed).random(len(whole.frame_keys()["video"])) < 0.5
    _unlabel_other_frames(gt, tmp_path / "gt_copy", _kept_positions(whole, keep))
    _assert_same_posetrack(whole.select_frames(keep), PoseTrackMetric().evaluate(tmp_path / "gt_copy", pred))


@pytest.fixture(scope="module")
def synthetic_posetrack(tiny_root, tmp_path_factory):
    """(GT folder, two prediction folders, frame groups) of the tiny root's val split."""
    out = tmp_path_factory.mktemp("groups_posetrack")
    gt = tiny_root / "annotations" / "val"
    preds = [write_jittered_predictions(gt, out / f"pred{k}", seed=k, sigma=2.0 + 2 * k) for k in (0, 1)]
    dataset = SyntheticDataset(tiny_root, "val")
    groups = FrameGroups.of(dataset.load_video(name) for name in dataset.video_names())
    return gt, preds, groups


def test_posetrack_groups_partition_the_frames_and_match_edited_copies(synthetic_posetrack, tmp_path):
    gt, (pred, _), groups = synthetic_posetrack
    whole = PoseTrackMetric().evaluate(gt, pred)
    parts = group_results(whole, groups)
    assert list(parts) == list(GROUPS)
    frames = {name: part.summary()["frames_evaluated"] for name, part in parts.items()}
    assert all(frames.values()) and sum(frames.values()) == whole.summary()["frames_evaluated"]
    gt_joints = np.sum([part.event_counts()["num_gt_joints"] for part in parts.values()], axis=0)
    assert gt_joints.tolist() == whole.event_counts()["num_gt_joints"] and gt_joints.sum() > 0
    keys = whole.frame_keys()
    degraded = groups.frame_mask(whole.data.videos, keys["video"], keys["frame"], "degraded")
    _unlabel_other_frames(gt, tmp_path / "gt_copy", _kept_positions(whole, degraded))
    _assert_same_posetrack(parts["degraded"], PoseTrackMetric().evaluate(tmp_path / "gt_copy", pred))


def test_group_results_bootstrap_and_pair_like_whole_ones(synthetic_posetrack):
    gt, (pred_a, pred_b), groups = synthetic_posetrack
    a = PoseTrackMetric().evaluate(gt, pred_a).group(groups, "clean")
    b = PoseTrackMetric().evaluate(gt, pred_b).group(groups, "clean")
    report = bootstrap(a, 50, seed=0)
    assert report.intervals.keys() == a.headline().keys()
    total = report.intervals["AP/Total"]
    assert total.value == a.headline()["AP/Total"] and total.lo < total.hi and total.undefined == 0
    diff = paired_bootstrap(a, b, 50, seed=0).intervals["AP/Total"]
    assert diff.value == pytest.approx(a.headline()["AP/Total"] - b.headline()["AP/Total"])
    assert diff.value > 0 and diff.lo < diff.hi and 0 <= diff.p_value <= 1  # sigma 2 px beats 4 px


@pytest.mark.parametrize("dataset,split", [("jhmdb", "sub-test1"), ("penn_action", "train")])
def test_pck_groups_partition_the_trials_and_match_edited_copies(tiny_root, tmp_path, dataset, split):
    """The single-person layouts' flags reach the adapters' videos; per person-frame groups add
    up to the whole and equal scoring a GT copy that keeps only the group's person-frames."""
    data = DATASETS.get(dataset)(tiny_root / dataset, split)
    convert_dataset(data, tmp_path / "gt")
    pred = write_jittered_predictions(tmp_path / "gt", tmp_path / "pred", seed=3, sigma=6.0, drop=0.0)
    groups = FrameGroups.of(data)
    metric = PCKMetric(PCKOptions(visibility="all"))  # a tiny Penn clip may show no joint at all
    whole = metric.evaluate(tmp_path / "gt", pred)
    hits, trials = whole.counts()
    parts = {name: whole.group(groups, name) for name in GROUPS}
    assert np.sum([p.counts()[1] for p in parts.values()], axis=0).tolist() == trials.tolist()
    assert np.sum([p.counts()[0] for p in parts.values()], axis=0).tolist() == hits.tolist()
    assert parts["degraded"].counts()[1].sum() > 0 and parts["clean"].counts()[1].sum() > 0
    for name, part in parts.items():
        copy_dir = tmp_path / f"gt_{name}"
        copy_dir.mkdir()
        for path in sorted((tmp_path / "gt").glob("*.json")):
            doc = json.loads(path.read_text())
            people = copy.deepcopy(doc["annotations"])
            positions = {image["id"]: k for k, image in enumerate(doc["images"])}
            frames = groups.persons[path.stem]
            index: dict[int, int] = {}
            kept = []
            for ann in people:  # persons of a frame in file order
                k = positions[ann["image_id"]]
                i = index[k] = index.get(k, -1) + 1
                if frames[k][i] == name:
                    kept.append(ann)
            doc["annotations"] = kept
            (copy_dir / path.name).write_text(json.dumps(doc))
        edited = metric.evaluate(copy_dir, pred)
        assert [c.tolist() for c in edited.counts()] == [c.tolist() for c in part.counts()]
        np.testing.assert_array_equal(list(edited.headline().values()), list(part.headline().values()))
    report = bootstrap(parts["degraded"], 50, seed=0)
    assert report.intervals.keys() == whole.headline().keys()


def test_hota_groups_match_edited_copies_and_partition_the_gt_joints(synthetic_posetrack, tmp_path):
    """A HOTA group is the kit's score of a copy whose other frames are unlabeled; in corrected
    mode (an empty frame counts its own joints) TP + FN of the groups add up to the whole's."""
    gt, (pred, _), groups = synthetic_posetrack
    whole = HOTAMetric().evaluate(gt, pred)
    keys = whole.data
    degraded = groups.frame_mask(keys.videos, keys.frame_video, keys.frame_position, "degraded")
    kept: dict[str, set[int]] = {}
    for v, f in zip(keys.frame_video[degraded], keys.frame_position[degraded]):
        kept.setdefault(keys.videos[v], set()).add(int(f))
    _unlabel_other_frames(gt, tmp_path / "gt_copy", kept)
    part = whole.group(groups, "degraded")
    edited = HOTAMetric().evaluate(tmp_path / "gt_copy", pred)
    assert part.videos == edited.videos == whole.videos
    for field, value in edited.values().items():
        np.testing.assert_allclose(part.values()[field], value, rtol=0, atol=1e-12, err_msg=field)
    corrected = HOTAMetric("corrected").evaluate(gt, pred)
    total = corrected.values()
    parts = [corrected.group(groups, name).values() for name in GROUPS]
    gt_joints = sum(p["HOTA_TP(0)"] + p["HOTA_FN(0)"] for p in parts)
    np.testing.assert_allclose(gt_joints, total["HOTA_TP(0)"] + total["HOTA_FN(0)"])
    assert bootstrap(part, 20, seed=0).intervals["HOTA/Total"].value == part.headline()["HOTA/Total"]


def test_stability_groups_partition_the_triples(synthetic_posetrack):
    """Each triple belongs to its middle person-frame's group: the groups' triples and sums add
    up to the whole; a group resamples and pairs over the same videos."""
    gt, (pred_a, pred_b), groups = synthetic_posetrack
    whole = StabilityMetric().evaluate(gt, pred_a)
    parts = {name: whole.group(groups, name) for name in GROUPS}
    np.testing.assert_array_equal(sum(p.counts for p in parts.values()), whole.counts)
    np.testing.assert_allclose(sum(p.sums for p in parts.values()), whole.sums)
    assert all(p.counts.sum() > 0 for p in parts.values())
    other = StabilityMetric().evaluate(gt, pred_b).group(groups, "clean")
    diff = paired_bootstrap(parts["clean"], other, 20, seed=0).intervals["AccelErr/Mean"]
    assert diff.value == pytest.approx(parts["clean"].headline()["AccelErr/Mean"]
                                       - other.headline()["AccelErr/Mean"])
    assert diff.value < 0  # sigma 2 px is steadier than 4 px
