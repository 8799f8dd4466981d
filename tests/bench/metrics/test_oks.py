"""OKS AP: the suite's numbers are pycocotools' own on the COCO files it converts, and the
conversion (area from the box, per-skeleton sigmas, ignore regions) is checked by hand."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval

from vposebench import cli
from vposebench.bootstrap import bootstrap
from vposebench.formats import write_annotations, write_predictions
from vposebench.metrics.oks import STATS, OKSMetric
from vposebench.metrics.oks_sigmas import COCO_SIGMAS, sigmas_for
from vposebench.skeleton import JHMDB, PENN_ACTION, POSETRACK17, POSETRACK18, SKELETONS
from vposebench.structures import FrameGT, FramePred, PersonGT, PersonPred, VideoGT, VideoPred

POSETRACK_CASES = Path(__file__).resolve().parents[2] / "data" / "conformance" / "posetrack" / "cases"


def _pycocotools_directly(folder: Path, sigmas: np.ndarray) -> np.ndarray:
    """The textbook pycocotools run on the two files."""
    gt = COCO(str(folder / "gt.json"))
    dt = gt.loadRes(str(folder / "results.json"))
    evaluator = COCOeval(gt, dt, "keypoints")
    evaluator.params.kpt_oks_sigmas = sigmas
    evaluator.evaluate()
    evaluator.accumulate()
    evaluator.summarize()
    return np.asarray(evaluator.stats)


def _single_person_set(root: Path, skeleton, offsets: np.ndarray | None, box=(100.0, 50.0, 200.0, 250.0)) -> Path:
    """Two videos of 3 frames, one person each; predictions = GT + offsets (None: none)."""
    n = skeleton.num_joints
    for v in range(2):
        gts, preds = [], []
        for f in range(3):
            kps = np.column_stack([110.0 + 5 * np.arange(n) + v, 60.0 + 10 * np.arange(n) + f, np.ones(n)])
            gts.append(FrameGT(index=f, file_name=f"v{v}/{f:05d}.png", persons=[PersonGT(kps, 0, box=np.array(box))]))
            persons = [] if offsets is None else [PersonPred(np.column_stack([kps[:, :2] + offsets, np.full(n, 0.9)]),
                                                             track_id=1, score=0.5 + 0.1 * f + 0.01 * v)]
            preds.append(FramePred(index=f, file_name=f"v{v}/{f:05d}.png", persons=persons))
        write_annotations(VideoGT(f"clip_{v}", skeleton, gts), root / "gt" / f"clip_{v}.json")
        write_predictions(VideoPred(f"clip_{v}", skeleton, preds), root / "pred" / f"clip_{v}.json")
    return root


@pytest.fixture
def jhmdb_set(tmp_path):
    rng = np.random.default_rng(3)
    return _single_person_set(tmp_path / "jhmdb", JHMDB, rng.normal(0, 4, (JHMDB.num_joints, 2)))


@pytest.fixture
def penn_set(tmp_path):
    rng = np.random.default_rng(4)
    return _single_person_set(tmp_path / "penn", PENN_ACTION, rng.normal(0, 6, (PENN_ACTION.num_joints, 2)))


@pytest.mark.parametrize("source", ["v01_basic18", "v02_ignore18", "v03_tracks18", "v04_basic17", "jhmdb", "penn"])
def test_numbers_are_pycocotools_own_on_the_converted_files(source, tmp_path, capsys, request):
    if source in ("jhmdb", "penn"):
        root = request.getfixturevalue(f"{source}_set")
        gt, pred = root / "gt", root / "pred"
    else:
        gt, pred = POSETRACK_CASES / source / "gt", POSETRACK_CASES / source / "pred"
    out, coco = tmp_path / "out.json", tmp_path / "coco"
    assert cli.main(["evaluate", "--metric", "oks", "--gt", str(gt), "--pred", str(pred),
                     "--oks-coco-dir", str(coco), "--json", str(out)]) == 0
    capsys.readouterr()
    doc = json.loads(out.read_text())
    skeleton = SKELETONS[doc["skeleton"]]
    direct = _pycocotools_directly(coco, sigmas_for(skeleton))
    mine = np.array([doc["OKS"][name] for name in STATS], dtype=float)  # null -> NaN
    np.testing.assert_array_equal(np.where(direct < 0, np.nan, 100 * direct), mine)
    assert np.isfinite(mine[0]) and mine[0] > 0
    assert doc["sigmas"] == dict(zip(skeleton.joints, sigmas_for(skeleton).tolist()))


def test_sigmas_are_coco_values_by_name_and_defined_for_every_skeleton():
    for skeleton in SKELETONS.values():
        sigmas = sigmas_for(skeleton)
        assert len(sigmas) == skeleton.num_joints and (sigmas > 0).all()
    pt18 = dict(zip(POSETRACK18.joints, sigmas_for(POSETRACK18)))
    assert all(pt18[name] == COCO_SIGMAS[name] for name in pt18 if name in COCO_SIGMAS)
    assert pt18["head_top"] == pt18["head_bottom"] == 0.079
    assert dict(zip(POSETRACK17.joints, sigmas_for(POSETRACK17)))["neck"] == 0.079
    assert dict(zip(JHMDB.joints, sigmas_for(JHMDB)))["belly"] == 0.107


def test_ap_by_hand_area_from_the_box(tmp_path):
    """Every joint 6 px off, GT box 100 x 200 (area 20000): OKS = mean_j exp(-36 / (2 * 20000 *
    (2 sigma_j)^2)), the same for all six persons; a person counts at the thresholds <= OKS."""
    n = PENN_ACTION.num_joints
    root = _single_person_set(tmp_path, PENN_ACTION, np.tile([6.0, 0.0], (n, 1)))
    sigmas = sigmas_for(PENN_ACTION)
    oks = np.mean(np.exp(-36.0 / (2 * 20000.0 * (2 * sigmas) ** 2)))
    thresholds = np.linspace(0.5, 0.95, 10)
    assert np.abs(thresholds - oks).min() > 0.01  # not at a threshold
    values = OKSMetric().evaluate(root / "gt", root / "pred").headline()
    assert values["OKS/AP"] == pytest.approx(100 * np.mean(thresholds <= oks))
    assert values["OKS/AR"] == pytest.approx(100 * np.mean(thresholds <= oks))
    assert values["OKS/AP50"] == 100.0 and values["OKS/APl"] == values["OKS/AP"]  # area 20000 > 96^2
    assert np.isnan(values["OKS/APm"])  # no medium person
    exact = _single_person_set(tmp_path / "exact", PENN_ACTION, np.zeros((n, 2)))
    assert OKSMetric().evaluate(exact / "gt", exact / "pred").headline()["OKS/AP"] == pytest.approx(100.0)
    none = _single_person_set(tmp_path / "none", PENN_ACTION, None)
    assert OKSMetric().evaluate(none / "gt", none / "pred").headline()["OKS/AP"] == 0.0


def test_predictions_in_ignore_regions_are_left_out(tmp_path):
    """A false positive centred inside the frame's ignore polygon is neither TP nor FP."""
    n = POSETRACK18.num_joints
    kps = np.column_stack([300 + 10 * np.arange(n), 200 + 20 * np.arange(n), np.ones(n)])
    kps[[3, 4]] = 0
    region = np.array([[900.0, 0.0], [1200.0, 0.0], [1200.0, 600.0], [900.0, 600.0]])
    gt = VideoGT("vid", POSETRACK18, [FrameGT(0, "a.jpg", [PersonGT(kps, 0, box=np.array([290, 190, 480, 540.0]),
                                                                     head_box=np.array([0, 0, 30, 40.0]))],
                                              ignore_regions=[region])])
    good = np.column_stack([kps[:, :2], np.full(n, 0.5)])
    good[[3, 4]] = np.nan
    ghost = good.copy()
    ghost[:, 0] += 700  # centred at x = 1080, inside the region
    for name, persons in (("with", [PersonPred(good, 1, score=0.5), PersonPred(ghost, 2, score=0.9)]),
                          ("without", [PersonPred(good, 1, score=0.5)])):
        write_annotations(gt, tmp_path / name / "gt" / "vid.json")
        write_predictions(VideoPred("vid", POSETRACK18, [FramePred(0, "a.jpg", persons)]),
                          tmp_path / name / "pred" / "vid.json")
    with_ghost = OKSMetric().evaluate(tmp_path / "with/gt", tmp_path / "with/pred")
    assert with_ghost.summary()["counts"]["predictions_in_ignore_regions_left_out"] == 1
    without = OKSMetric().evaluate(tmp_path / "without/gt", tmp_path / "without/pred")
    np.testing.assert_equal(with_ghost.headline(), without.headline())  # NaN (no medium person) == NaN
    assert with_ghost.headline()["OKS/AP"] == pytest.approx(100.0)


def test_subset_resample_and_bootstrap(jhmdb_set, tmp_path):
    result = OKSMetric().evaluate(jhmdb_set / "gt", jhmdb_set / "pred")
    alone = OKSMetric().evaluate(jhmdb_set / "gt", jhmdb_set / "pred", videos=["clip_1"])
    np.testing.assert_equal(result.subset(["clip_1"]).headline(), alone.headline())
    # counting clip_0 twice = a folder holding a renamed copy of it
    for kind in ("gt", "pred"):
        (tmp_path / kind).mkdir()
        for name in ("clip_0", "clip_1"):
            (tmp_path / kind / f"{name}.json").write_bytes((jhmdb_set / kind / f"{name}.json").read_bytes())
        (tmp_path / kind / "clip_2.json").write_bytes((jhmdb_set / kind / "clip_0.json").read_bytes())
    expected = OKSMetric().evaluate(tmp_path / "gt", tmp_path / "pred").headline()
    resampled = result.resample(np.array([[2.0, 1.0]]))
    for key, value in expected.items():
        np.testing.assert_allclose(resampled[key][0], value, atol=1e-12, err_msg=key)
    report = bootstrap(result, 20, seed=1)
    assert report.intervals["OKS/AP"].lo <= result.headline()["OKS/AP"] <= report.intervals["OKS/AP"].hi


def test_detection_area_is_the_predicted_joints_extent(tmp_path):
    """Absent joints are written as (0, 0, 0); the result's bbox (the predicted joints' extent)
    is what pycocotools takes the detection area from, not an extent reaching the origin."""
    n = PENN_ACTION.num_joints
    offsets = np.zeros((n, 2))
    offsets[0] = np.nan  # head not predicted
    root = _single_person_set(tmp_path, PENN_ACTION, offsets)
    result = OKSMetric().evaluate(root / "gt", root / "pred")
    first = result.documents.results[0]
    assert first["keypoints"][:3] == [0.0, 0.0, 0.0]
    xy = np.array(first["keypoints"]).reshape(n, 3)[1:, :2]
    extent = (xy[:, 0].max() - xy[:, 0].min()) * (xy[:, 1].max() - xy[:, 1].min())
    assert result.evaluator.cocoDt.anns[1]["area"] == pytest.approx(extent)
