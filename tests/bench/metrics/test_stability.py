"""Stability (acceleration error, jitter) against values computed by hand in the comments."""

from __future__ import annotations

import numpy as np
import pytest

from vposebench import cli
from vposebench.bootstrap import bootstrap
from vposebench.formats import write_annotations, write_predictions
from vposebench.metrics.stability import StabilityMetric
from vposebench.skeleton import JHMDB, POSETRACK18
from vposebench.structures import FrameGT, FramePred, PersonGT, PersonPred, VideoGT, VideoPred

HEAD = np.array([0.0, 0.0, 30.0, 40.0])  # head size 0.6 * 50 = 30 px


def _pose(x: float, y: float, skeleton=POSETRACK18) -> np.ndarray:
    n = skeleton.num_joints
    kps = np.column_stack([x + 12.0 * np.arange(n), y + 25.0 * np.arange(n), np.ones(n)])
    kps[list(skeleton.placeholders)] = 0
    return kps


def _write(root, name, gt_tracks, pred_tracks, *, labeled=None, skeleton=POSETRACK18, box=None):
    """gt_tracks / pred_tracks: track id -> list over frames of (J, 2) positions or None."""
    n_frames = len(next(iter(gt_tracks.values())))
    labeled = [True] * n_frames if labeled is None else labeled
    gts, preds = [], []
    for f in range(n_frames):
        persons = []
        for track, poses in gt_tracks.items():
            if poses[f] is not None:
                kps = np.column_stack([poses[f], np.ones(len(poses[f]))])
                kps[list(skeleton.placeholders)] = 0
                persons.append(PersonGT(kps, track, box=box, head_box=None if box is not None else HEAD))
        gts.append(FrameGT(f, f"{name}/{f:06d}.jpg", persons if labeled[f] else [], is_labeled=labeled[f]))
        found = [PersonPred(np.column_stack([poses[f], np.full(len(poses[f]), 0.8)]), track)
                 for track, poses in pred_tracks.items() if poses[f] is not None]
        preds.append(FramePred(f, f"{name}/{f:06d}.jpg", found))
    write_annotations(VideoGT(name, skeleton, gts), root / "gt" / f"{name}.json")
    write_predictions(VideoPred(name, skeleton, preds), root / "pred" / f"{name}.json")


def _static(n_frames: int, x: float = 100.0, y: float = 100.0):
    return [_pose(x, y)[:, :2] for _ in range(n_frames)]


def _spike(poses, frame: int, joint_offset=(3.0, 4.0)):
    out = [p.copy() for p in poses]
    out[frame] = out[frame] + np.asarray(joint_offset)  # every joint 5 px off in one frame
    return out


def test_one_spike_by_hand(tmp_path):
    """Static GT; the prediction is 5 px off in frame 2 of 0..4. Second differences of the error
    at t = 1, 2, 3: 5, 10, 5 px -> mean 20/3 px = 22.2 % of the 30 px head size. The GT does not
    move, so jitter is the same and the GT acceleration 0."""
    gt = _static(5)
    _write(tmp_path, "v", {0: gt}, {7: _spike(gt, 2)})
    result = StabilityMetric().evaluate(tmp_path / "gt", tmp_path / "pred")
    cells = result.headline()
    assert cells["AccelErr/Mean"] == pytest.approx(100 * 20 / 3 / 30)
    assert cells["Jitter/Mean"] == pytest.approx(100 * 20 / 3 / 30)
    summary = result.summary()
    assert summary["GTAccel"]["Mean"] == 0.0
    assert summary["counts"]["triples"]["nose"] == 3 and "left_ear" not in summary["counts"]["triples"]
    assert summary["counts"]["gt_tracks"] == summary["counts"]["matched_tracks"] == 1


def test_constant_velocity_and_offset_are_perfectly_stable(tmp_path):
    """GT moving 7 px per frame, prediction = GT + a constant 4 px: every second difference is 0
    for the error and for the GT; jitter is 0 too (the prediction has no acceleration)."""
    gt = [_pose(100 + 7 * f, 100)[:, :2] for f in range(6)]
    _write(tmp_path, "v", {0: gt}, {1: [p + 4 for p in gt]})
    cells = StabilityMetric().evaluate(tmp_path / "gt", tmp_path / "pred").headline()
    assert cells["AccelErr/Mean"] == pytest.approx(0, abs=1e-12)
    assert cells["Jitter/Mean"] == pytest.approx(0, abs=1e-12)


def test_frames_next_to_unannotated_ones_are_masked(tmp_path):
    """7 frames, frame 2 unlabeled, spike in frame 5: only t = 4 (5 px) and t = 5 (10 px) have
    three labeled neighbours -> 7.5 px = 25 % of 30 px. With the GT moving 6 px/frame^2 in
    acceleration (x = 3 f^2), the GT acceleration is 6/30 = 20 %, the error is unchanged."""
    gt = [_pose(100 + 3 * f * f, 100)[:, :2] for f in range(7)]
    labeled = [True, True, False, True, True, True, True]
    _write(tmp_path, "v", {0: gt}, {1: _spike(gt, 5)}, labeled=labeled)
    result = StabilityMetric().evaluate(tmp_path / "gt", tmp_path / "pred")
    assert result.headline()["AccelErr/Mean"] == pytest.approx(25.0)
    assert result.summary()["GTAccel"]["Mean"] == pytest.approx(20.0)
    assert result.summary()["counts"]["triples"]["nose"] == 2


def test_tracks_are_matched_globally_not_by_id(tmp_path):
    """Two GT persons far apart; predicted ids 5 and 9 follow GT 1 and GT 0, one false-positive
    track follows nobody. Only GT 0's prediction has a spike (frame 2 of 0..4): pooled over both
    matched tracks the error is (5 + 10 + 5 + 0 + 0 + 0) / 6 px."""
    a, b = _static(5, 100, 100), _static(5, 900, 100)
    ghost = _static(5, 1800, 900)
    _write(tmp_path, "v", {0: a, 1: b}, {5: b, 9: _spike(a, 2), 2: ghost})
    result = StabilityMetric().evaluate(tmp_path / "gt", tmp_path / "pred")
    assert result.headline()["AccelErr/Mean"] == pytest.approx(100 * 20 / 6 / 30)
    assert result.summary()["counts"]["matched_tracks"] == 2


def test_box_normaliser_and_joint_groups(tmp_path):
    """JHMDB GT with a 100 x 50 box: L = 100 (the larger side); a spike only on the head joint:
    Head = 20/3 %, every other group 0, Mean pools the table joints (1 of 13 spiked)."""
    n = JHMDB.num_joints
    gt = [_pose(100, 100, JHMDB)[:, :2] for _ in range(5)]
    pred = [p.copy() for p in gt]
    pred[2][JHMDB.index("head")] += [3.0, 4.0]
    _write(tmp_path, "clip", {0: gt}, {0: pred}, skeleton=JHMDB, box=np.array([0.0, 0.0, 100.0, 50.0]))
    result = StabilityMetric().evaluate(tmp_path / "gt", tmp_path / "pred")
    cells = result.headline()
    assert result.normaliser == "box"
    assert cells["AccelErr/Head"] == pytest.approx(100 * 20 / 3 / 100)
    assert cells["AccelErr/Sho"] == cells["AccelErr/Ank"] == 0.0
    table = len(JHMDB.table_joints)
    assert cells["AccelErr/Mean"] == pytest.approx(100 * 20 / 3 / 100 / table)
    assert n > table  # neck and belly are measured but not in Mean


def test_subset_resample_bootstrap_and_cli(tmp_path, capsys):
    gt = _static(5)
    _write(tmp_path, "a", {0: gt}, {1: _spike(gt, 2)})
    _write(tmp_path, "b", {0: gt}, {1: gt})
    result = StabilityMetric().evaluate(tmp_path / "gt", tmp_path / "pred")
    # a: 20/3 px over 3 triples, b: 0 over 3 -> pooled 20/6 px; a twice: 40/9 px
    assert result.headline()["AccelErr/Mean"] == pytest.approx(100 * 20 / 6 / 30)
    assert result.subset(["a"]).headline()["AccelErr/Mean"] == pytest.approx(100 * 20 / 3 / 30)
    assert result.resample(np.array([[2.0, 1.0]]))["AccelErr/Mean"][0] == pytest.approx(100 * 40 / 9 / 30)
    interval = bootstrap(result, 50, seed=0).intervals["AccelErr/Mean"]
    assert 0 <= interval.lo <= interval.value <= interval.hi
    assert cli.main(["evaluate", "--metric", "stability", "--gt", str(tmp_path / "gt"), "--pred",
                     str(tmp_path / "pred"), "--stability-norm", "head"]) == 0
    assert "AccelErr" in capsys.readouterr().out
