"""PCK@alpha against tables computed by hand (in the comments), on tiny real-format folders."""

from __future__ import annotations

import json

import numpy as np
import pytest

from vposebench import cli
from vposebench.bootstrap import bootstrap
from vposebench.formats import write_annotations, write_predictions
from vposebench.metrics.pck import PCKMetric, PCKOptions
from vposebench.skeleton import JHMDB, PENN_ACTION
from vposebench.structures import FrameGT, FramePred, PersonGT, PersonPred, VideoGT, VideoPred

NAN = np.nan


def _write(root, name, skeleton, frames):
    """frames: (box xyxy or None, GT v per joint, prediction offsets (J, 2) or None)."""
    n = skeleton.num_joints
    gts, preds = [], []
    for i, (box, vis, offsets) in enumerate(frames):
        kps = np.column_stack([10.0 * np.arange(n) + 7, np.full(n, 10.0), vis])
        gts.append(FrameGT(index=i, file_name=f"{name}/{i:05d}.png", persons=[PersonGT(kps, track_id=0, box=box)]))
        persons = []
        if offsets is not None:
            pred = np.column_stack([kps[:, :2] + offsets, np.full(n, 0.9)])
            persons.append(PersonPred(pred, track_id=3))
        preds.append(FramePred(index=i, file_name=f"{name}/{i:05d}.png", persons=persons))
    write_annotations(VideoGT(name, skeleton, gts), root / "gt" / f"{name}.json")
    write_predictions(VideoPred(name, skeleton, preds), root / "pred" / f"{name}.json")


def _jhmdb(tmp_path):
    n = JHMDB.num_joints
    j = JHMDB.index
    a0 = np.tile([3.0, 4.0], (n, 1))  # 5 px: a hit everywhere ...
    a0[j("head")] = [12, 16]  # exactly alpha * L = 0.2 * 100 = 20: a hit (inclusive)
    a0[j("right_shoulder")] = [12, 16.01]  # just beyond: a miss
    a0[j("left_shoulder")] = [0, 0]
    a0[j("right_wrist")] = [NAN, NAN]  # not predicted: a miss
    a1 = np.tile([12.0, 16.0], (n, 1))  # 20 px > 0.2 * 80: misses ...
    a1[j("neck")] = [0, 0]
    a1[j("right_ankle")] = [6, 8]  # 10 px: a hit
    b0 = np.tile([1.0, 0.0], (n, 1))  # degenerate box, L = 0: only exact predictions hit
    b0[j("head")] = [0, 0]
    ones = np.ones(n)
    _write(tmp_path, "clip_a", JHMDB, [([0, 0, 100, 50], ones, a0), ([0, 0, 40, 80], ones, a1)])
    _write(tmp_path, "clip_b", JHMDB, [([5, 5, 5, 5], ones, b0), ([0, 0, 100, 100], ones, None)])
    return tmp_path


def _evaluate(root, **options):
    """(result, hits per joint, trials per joint)."""
    result = PCKMetric(PCKOptions(**options)).evaluate(root / "gt", root / "pred")
    hits, trials = result.counts()
    return result, hits.tolist(), trials.tolist()


def test_jhmdb_table_by_hand(tmp_path):
    root = _jhmdb(tmp_path)
    # hits per joint out of 4 frames: neck 2, belly 1, head 2, r_sho 0, l_sho 1, hips/elbows/knees 1,
    # r_wri 0, l_wri 1, r_ank 2, l_ank 1
    result, hits, trials = _evaluate(root)
    assert trials == [4] * 15 and hits == [2, 1, 2, 0, 1, 1, 1, 1, 1, 1, 1, 0, 1, 2, 1]
    cells = result.headline()
    assert cells == {"PCK/Head": 50.0, "PCK/Sho": 12.5, "PCK/Elb": 25.0, "PCK/Wri": 12.5,
                     "PCK/Hip": 25.0, "PCK/Knee": 25.0, "PCK/Ank": 37.5,
                     "PCK/Mean": 25.0}  # 13 hits / 52 trials over the 13 table joints
    summary = result.summary()
    assert summary["alpha"] == 0.2 and summary["visibility"] == "every joint of every frame"
    assert summary["comparison"] == "distance <= alpha * L" and "table joints" in summary["mean"]
    assert summary["short_normalisers"]["count"] == 1  # the degenerate box, used as it is
    assert summary["counts"]["gt_persons_without_prediction"] == 1
    everything = result.select_gt_joints(np.ones_like(result.scores.counted))
    assert everything == cells
    first_frames = result.select_gt_joints(np.repeat((result.scores.frame == 0)[:, None], 15, axis=1))
    assert first_frames["PCK/Head"] == 100.0  # head: hit at exactly 20 px (clip_a) and at 0 px (clip_b)
    all15 = PCKMetric(PCKOptions(all_joints=True)).evaluate(root / "gt", root / "pred")
    assert all15.headline()["PCK/Mean"] == pytest.approx(100 * 16 / 60)


def _penn(tmp_path):
    n = PENN_ACTION.num_joints
    j = PENN_ACTION.index
    vis0, vis1 = np.ones(n), np.ones(n)
    f0 = np.tile([3.0, 4.0], (n, 1))
    vis0[j("head")] = 0
    f0[j("head")] = [100, 0]  # invisible: not counted (it would miss)
    f0[j("left_shoulder")] = [12, 16]
    f0[j("right_shoulder")] = [30, 0]
    f1 = np.tile([0.0, 30.0], (n, 1))
    vis1[j("right_wrist")] = 0
    f1[j("right_wrist")] = [100, 0]  # invisible: not counted (it would miss)
    f1[j("left_wrist")] = [16, 12]
    _write(tmp_path, "0001", PENN_ACTION, [([0, 0, 100, 60], vis0, f0), ([0, 0, 60, 100], vis1, f1)])
    return tmp_path


def test_penn_visibility_by_hand(tmp_path):
    # head 0/1, l_sho 1/2, r_sho 0/2, elbows 1/2, l_wri 2/2, r_wri 1/1, hips/knees/ankles 1/2
    root = _penn(tmp_path)
    result, hits, trials = _evaluate(root)
    assert hits == [0, 1, 0, 1, 1, 2, 1, 1, 1, 1, 1, 1, 1]
    assert trials == [1, 2, 2, 2, 2, 2, 1, 2, 2, 2, 2, 2, 2]
    assert result.headline() == {"PCK/Head": 0.0, "PCK/Sho": 25.0, "PCK/Elb": 50.0, "PCK/Wri": 100.0,
                                 "PCK/Hip": 50.0, "PCK/Knee": 50.0, "PCK/Ank": 50.0, "PCK/Mean": 50.0}
    every, _, _ = _evaluate(root, visibility="all")
    assert every.headline()["PCK/Mean"] == pytest.approx(100 * 12 / 26)  # two more misses


def test_torso_normaliser_and_short_torsos_are_listed(tmp_path):
    root = _penn(tmp_path)
    result = PCKMetric(PCKOptions(normaliser="torso", alpha=0.5)).evaluate(root / "gt", root / "pred")
    # torso = right_shoulder to left_hip: joints 2 and 7 sit 50 px apart -> threshold 25 px
    assert result.scores.normaliser.tolist() == [50.0, 50.0]
    hits, _ = result.counts()
    assert hits[PENN_ACTION.index("right_shoulder")] == 0  # 30 px > 25
    assert "torso" in result.summary()["normaliser"] and result.flagged() == []
    # a GT with shoulder and hip on the same spot: L = 0, listed, used as it is
    n = PENN_ACTION.num_joints
    kps = np.column_stack([np.full(n, 5.0), np.full(n, 5.0), np.ones(n)])
    gt = VideoGT("0002", PENN_ACTION, [FrameGT(0, "f", [PersonGT(kps, track_id=0, box=[0, 0, 9, 9])])])
    pred = VideoPred("0002", PENN_ACTION, [FramePred(0, "f", [PersonPred(kps.copy(), track_id=0)])])
    write_annotations(gt, root / "gt" / "0002.json")
    write_predictions(pred, root / "pred" / "0002.json")
    result = PCKMetric(PCKOptions(normaliser="torso")).evaluate(root / "gt", root / "pred")
    assert result.flagged() == [{"video": "0002", "frame": 0, "normaliser_px": 0.0}]
    assert result.subset(["0002"]).headline()["PCK/Mean"] == 100.0  # exact predictions: 0 <= 0


def test_missing_box_is_excluded_and_listed(tmp_path):
    n = PENN_ACTION.num_joints
    _write(tmp_path, "0003", PENN_ACTION, [([0, 0, 50, 50], np.ones(n), np.zeros((n, 2))),
                                            (None, np.ones(n), np.zeros((n, 2)))])
    result = PCKMetric().evaluate(tmp_path / "gt", tmp_path / "pred")
    assert result.counts()[1].tolist() == [1] * n
    assert result.summary()["missing_normalisers"]["count"] == 1


def test_bootstrap_and_cli(tmp_path, capsys):
    root = _jhmdb(tmp_path)
    result = PCKMetric().evaluate(root / "gt", root / "pred")
    report = bootstrap(result, 200, seed=1)
    assert report.intervals["PCK/Mean"].value == 25.0
    # two videos: clip_a alone has 12/26 table hits, clip_b 1/26; resamples land in between
    iv = report.intervals["PCK/Mean"]
    assert 100 * 1 / 26 <= iv.lo < 25.0 < iv.hi <= 100 * 12 / 26
    out = tmp_path / "pck.json"
    assert cli.main(["evaluate", "--metric", "pck", "--gt", str(root / "gt"), "--pred", str(root / "pred"),
                     "--pck-alpha", "0.2", "--json", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "| PCK " in printed and "25.0" in printed
    doc = json.loads(out.read_text())
    assert doc["metric"] == "pck" and doc["alpha"] == 0.2
    assert list(doc["PCK"]) == ["Head", "Sho", "Elb", "Wri", "Hip", "Knee", "Ank", "Mean"]
    assert len(doc["per_joint"]["PCK"]) == 15 and doc["per_joint"]["PCK"]["neck"] == 50.0
