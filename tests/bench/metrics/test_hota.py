"""Keypoint HOTA against the PoseTrack21 kit's own output, its corrected mode by hand, and its result API.

Sources of truth: the shared conformance cases (copied to ``tests/data/conformance/hota``; the
shared folder itself is used too when present, with any further cases it holds) and the
randomized cases in ``data/hota_cases`` (made by ``helpers/make_hota_cases.py``, which runs the
kit). Every value must agree to 1e-9.
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import numpy as np
import pytest
from helpers.hota_cases import hand_video, person_keypoints
from helpers.posetrack_cases import write_case

from vposebench import cli
from vposebench.bootstrap import bootstrap
from vposebench.errors import UserError
from vposebench.metrics.hota import HOTAMetric
from vposebench.metrics.hota_data import KIT_JOINTS

KIT_CASES = sorted((Path(__file__).parent / "data" / "hota_cases").glob("*.json.gz"))
ATOL = 1e-9


def _close(mine, expected, what: str) -> None:
    np.testing.assert_allclose(np.asarray(mine, dtype=float), np.asarray(expected, dtype=float),
                               rtol=0, atol=ATOL, err_msg=what)


def _shared_cases(dirs: list[Path]) -> list[tuple[Path, dict]]:
    cases = []
    for root in dirs:
        for path in sorted((root / "expected").glob("*.json")):
            cases.append((root / "cases" / path.stem, json.loads(path.read_text())))
    return cases


def test_every_conformance_case_matches_the_kit(hota_conformance_dirs, tmp_path, capsys):
    """Totals, the 15 joints, every per-alpha row and the per-video results to 1e-9; the JSON
    that ``tools/check_hota.py`` reads; the printed cells (percent)."""
    cases = _shared_cases(hota_conformance_dirs)
    assert len(cases) >= 3
    for case, expected in cases:
        argv = ["evaluate", "--metric", "hota", "--gt", str(case / "gt"), "--pred", str(case / "pred")]
        if expected.get("returncode", 0) != 0:  # the kit could not evaluate it: we must not crash
            assert cli.main(argv) in (0, 2), case
            assert "Traceback" not in capsys.readouterr().err
            continue
        result = HOTAMetric().evaluate(case / "gt", case / "pred")
        values, per_alpha = result.values(), result.per_alpha()
        for key in ("HOTA", "DetA", "AssA", "LocA"):
            _close(values[key][15], expected[key]["Total"], f"{case.name} {key}")
        for key, total in expected["other_totals"].items():
            _close(values[key][15], total["Total"], f"{case.name} {key}")
        for key, joints in expected["full"].items():
            _close(values[key][:15], joints, f"{case.name} full {key}")
        for key, rows in expected["per_alpha"].items():
            _close(per_alpha[key], rows, f"{case.name} per_alpha {key}")
        per_video = result.per_video()
        for file, official in expected["per_sequence"].items():
            mine = per_video[Path(file).stem]
            for key, total in official["totals"].items():
                _close(mine["totals"][key], total, f"{case.name} {file} {key}")
            for key, joints in official["full"].items():
                _close(mine["full"][key], joints, f"{case.name} {file} full {key}")
        out = tmp_path / f"{case.name}.json"
        assert cli.main([*argv, "--json", str(out)]) == 0
        printed = capsys.readouterr().out
        doc = json.loads(out.read_text())
        for key in ("HOTA", "DetA", "AssA", "LocA"):
            _close(doc[key]["Total"], expected[key]["Total"], f"{case.name} json {key}")
            _close(doc["full"][key], expected["full"][key], f"{case.name} json full {key}")
        for key in ("DetRe", "DetPr", "AssRe", "AssPr", "FragA", "RHOTA", "FA-HOTA", "FA-RHOTA", "HOTA(0)",
                    "LocA(0)", "HOTALocA(0)"):
            _close(doc[key]["Total"], expected["other_totals"][key]["Total"], f"{case.name} json {key}")
        for key, rows in expected["per_alpha"].items():
            _close(np.array(doc["per_alpha"][key]), rows, f"{case.name} json per_alpha {key}")
        assert doc["joint_order"] == expected["joint_order"] == list(KIT_JOINTS)
        total_row = next(line for line in printed.splitlines() if line.startswith("| HOTA "))
        assert f"{100 * expected['HOTA']['Total']:.1f}" == total_row.split("|")[2].strip()


@pytest.mark.parametrize("path", KIT_CASES, ids=[p.name.split(".")[0] for p in KIT_CASES])
def test_randomized_kit_cases(path, tmp_path):
    doc = json.loads(gzip.decompress(path.read_bytes()))
    gt, pred = write_case(doc, tmp_path)
    result = HOTAMetric().evaluate(gt, pred)
    kit = doc["kit"]
    if kit["returncode"] != 0:  # the kit crashes on a labeled frame without a GT person
        assert any("the kit crashes on these" in note for note in result.notes)
        assert np.isfinite(result.values()["HOTA"]).all()
        return
    per_alpha, values = result.per_alpha(), result.values()
    for key, array in kit["combined"].items():
        array = np.asarray(array, dtype=float)
        _close(per_alpha[key] if array.ndim == 2 else values[key], array, key)
    per_video = result.per_video()
    for file, official in kit["per_sequence"].items():
        mine = per_video[Path(file).stem]
        for key, joints_and_total in official.items():
            _close([*mine["full"][key], mine["totals"][key]], joints_and_total, f"{file} {key}")


def test_randomized_cases_cover_the_rules(tmp_path):
    """The stored kit cases exercise what they are meant to: contested assignments (the
    solver), the kit's empty-frame rule, ignore regions, GT joints with v = 0 and the two inputs
    the kit crashes on."""
    assert len(KIT_CASES) >= 16
    docs = [json.loads(gzip.decompress(p.read_bytes())) for p in KIT_CASES]
    assert sorted(d["options"].get("crash", "") for d in docs if d["kit"]["returncode"] != 0) == [
        "all_gt_ignored", "no_gt_annotation"]
    solver = empty_frames = 0
    for k, doc in enumerate(docs):
        if doc["kit"]["returncode"] == 0:
            result = HOTAMetric().evaluate(*write_case(doc, tmp_path / str(k)))
            solver += result.solver_calls
            empty_frames += any("issue #10" in note for note in result.notes)
    assert solver > 100 and empty_frames >= 5
    gt_docs = [g for d in docs for g in d["gt"].values()]
    assert sum(bool(image["ignore_regions_x"]) for g in gt_docs for image in g["images"]) > 20
    triplets = np.array([a["keypoints"] for g in gt_docs for a in g["annotations"]]).reshape(-1, 3)
    assert ((triplets[:, 2] == 0) & (triplets[:, 0] > 0)).sum() > 10  # v = 0 with coordinates


# ----------------------------------------------------------------------------- by hand
HEAD_30 = [0, 0, 30, 40]  # a head box whose head size is 0.6 * 50 = 30 px


def _write(tmp_path: Path, frames: list[dict]) -> tuple[Path, Path]:
    gt, pred = hand_video(frames)
    return write_case({"gt": {"000001_hand_val.json": gt}, "pred": {"000001_hand_val.json": pred}}, tmp_path)


def test_empty_frame_counts_the_whole_video_officially_and_its_own_joints_when_corrected(tmp_path):
    """One person, exact predictions in frames 0 and 1, none in frame 2 (the kit's issue #10).

    official: frame 2 adds the video's 3 GT joints per joint to FN: DetA = 2 / (2 + 3);
    corrected: it adds its own 1: DetA = 2 / 3. AssA = M^2 / (gc + pc - M) / TP = 4 / 3 / 2."""
    kps = person_keypoints((400, 400))
    gt, pred = _write(tmp_path, [{"gt": [(0, kps)], "pred": [(7, kps)]}, {"gt": [(0, kps)], "pred": [(7, kps)]},
                                 {"gt": [(0, kps)]}])
    official, corrected = HOTAMetric().evaluate(gt, pred), HOTAMetric("corrected").evaluate(gt, pred)
    ass_a = 4 / 3 / 2
    for result, det_a in ((official, 2 / 5), (corrected, 2 / 3)):
        values = result.values()
        _close(values["DetA"], np.full(16, det_a), result.mode)
        _close(values["AssA"], np.full(16, ass_a), result.mode)
        _close(values["HOTA"], np.full(16, np.sqrt(det_a * ass_a)), result.mode)
        _close(values["LocA"], np.ones(16), result.mode)
    assert any("issue #10" in n for n in official.notes) and not corrected.notes


def test_corrected_similarity_is_not_clipped_at_half_a_head_size(tmp_path):
    """Every joint 0.62 head sizes off: the kit's similarity is 0 (nothing matches); corrected
    gives s = 0.38, a TP at the 7 alphas 0.05 ... 0.35 and nothing above."""
    gt_kps = person_keypoints((400, 400))
    pred_kps = person_keypoints((400, 400), offset=(0.62 * 30, 0))
    gt, pred = _write(tmp_path, [{"gt": [(0, gt_kps, HEAD_30)], "pred": [(3, pred_kps)]}])
    official, corrected = HOTAMetric().evaluate(gt, pred).values(), HOTAMetric("corrected").evaluate(gt, pred).values()
    _close(official["HOTA"], np.zeros(16), "official")
    _close(official["HOTA_FP"][:15], np.ones(15), "official FP")
    _close(corrected["HOTA"], np.full(16, 7 / 19), "corrected HOTA")  # 1 at 7 alphas, 0 at 12
    _close(corrected["LocA"], np.full(16, (7 * 0.38 + 12 * 1.0) / 19), "corrected LocA")
    _close(corrected["HOTA_TP(0)"], [*np.ones(15), 15], "corrected TP at alpha 0.05")


def test_frames_the_kit_crashes_on_count_their_own_predictions(tmp_path):
    """A labeled frame without GT (or whose ignore region swallows all GT) adds its own predicted
    joints to FP, in both modes, and says so."""
    kps = person_keypoints((400, 400))
    everything = [[-10, 3000, 3000, -10], [-10, -10, 3000, 3000]]
    for spec in ({"pred": [(7, kps)]}, {"gt": [(0, kps)], "pred": [(7, kps)], "regions": [everything]}):
        gt, pred = _write(tmp_path / str(len(spec)), [{"gt": [(0, kps)], "pred": [(7, kps)]}, spec])
        for mode in ("official", "corrected"):
            result = HOTAMetric(mode).evaluate(gt, pred)
            values = result.values()
            _close(values["HOTA_TP"][:15], np.ones(15), mode)
            # the swallowed prediction is gone too; the frame-without-GT one is a false positive
            _close(values["HOTA_FP"][:15], np.full(15, 0.0 if "regions" in spec else 1.0), mode)
            assert any("the kit crashes on these" in n for n in result.notes)


def test_ignore_filter_removes_joints_inside_and_keeps_the_boundary(tmp_path):
    """Joints strictly inside a polygon become (0, 0) on both sides; a joint on the edge stays."""
    kps = np.array(person_keypoints((400, 400))).reshape(17, 3)
    legs_y = kps[13:, 1].min() - 5
    below = [[0, 3000, 3000, 0], [legs_y, legs_y, 3000, 3000]]  # knees and ankles inside
    gt, pred = _write(tmp_path, [{"gt": [(0, kps.reshape(-1))], "pred": [(1, kps.reshape(-1))], "regions": [below]}])
    values = HOTAMetric().evaluate(gt, pred).values()
    assert values["HOTA_TP"][:15].tolist() == [1.0] * 11 + [0.0] * 4  # LK RK LA RA removed on both sides
    assert values["HOTA_FN"][:15].sum() == values["HOTA_FP"][:15].sum() == 0
    on_edge = [[0, 3000, 3000, 0], [kps[15, 1], kps[15, 1], 3000, 3000]]  # ankles exactly on the edge
    gt, pred = _write(tmp_path / "edge", [{"gt": [(0, kps.reshape(-1))], "pred": [(1, kps.reshape(-1))],
                                           "regions": [on_edge]}])
    assert HOTAMetric().evaluate(gt, pred).values()["HOTA_TP"][13:15].tolist() == [1.0, 1.0]


# ----------------------------------------------------------------------------- result API
@pytest.fixture(scope="module")
def kit_case(tmp_path_factory):
    doc = json.loads(gzip.decompress(KIT_CASES[2].read_bytes()))
    assert len(doc["gt"]) >= 2
    return write_case(doc, tmp_path_factory.mktemp("hota_case")), doc


def test_subset_and_weights_equal_evaluating_those_videos(kit_case, tmp_path):
    (gt, pred), doc = kit_case
    result = HOTAMetric().evaluate(gt, pred)
    first = result.videos[0]
    alone = HOTAMetric().evaluate(gt, pred, videos=[first])
    assert result.subset([first]).headline() == pytest.approx(alone.headline(), abs=1e-9)
    # a video counted twice = the folder with a renamed copy of it
    twice = {kind: {**docs, "999999_copy_val.json": docs[f"{first}.json"]} for kind, docs in
             (("gt", doc["gt"]), ("pred", doc["pred"]))}
    gt2, pred2 = write_case(twice, tmp_path)
    expected = HOTAMetric().evaluate(gt2, pred2).headline()
    weights = np.ones((1, len(result.videos)))
    weights[0, 0] = 2
    resampled = result.resample(weights)
    for key, value in expected.items():
        assert resampled[key][0] == pytest.approx(value, abs=1e-9), key


def test_bootstrap_intervals_contain_the_estimate(kit_case):
    (gt, pred), _ = kit_case
    report = bootstrap(HOTAMetric().evaluate(gt, pred), 100, seed=0)
    for key in ("HOTA/Total", "DetA/Total", "AssA/Total", "HOTA/Nose"):
        interval = report.intervals[key]
        assert interval.lo <= interval.value <= interval.hi, key


@pytest.mark.parametrize("change, message", [
    (lambda gt, pred: pred["annotations"][1].update(track_id=pred["annotations"][0]["track_id"]),
     "appears twice in this labeled frame"),
    (lambda gt, pred: gt["annotations"][0].pop("bbox_head"), "bbox_head: missing head box"),
    (lambda gt, pred: gt["annotations"][0].pop("track_id"), "missing GT track id"),
    (lambda gt, pred: pred["images"].pop(), "frames are paired by position"),
])
def test_input_errors_are_one_line_exit_2(tmp_path, capsys, change, message):
    kps = person_keypoints((400, 400))
    gt, pred = hand_video([{"gt": [(0, kps)], "pred": [(1, kps), (2, kps)]}, {"gt": [(0, kps)]}])
    change(gt, pred)
    gt_dir, pred_dir = write_case({"gt": {"000001_hand_val.json": gt}, "pred": {"000001_hand_val.json": pred}},
                                  tmp_path)
    code = cli.main(["evaluate", "--metric", "hota", "--gt", str(gt_dir), "--pred", str(pred_dir)])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and "Traceback" not in err and message in err, err
    with pytest.raises(UserError):
        HOTAMetric().evaluate(gt_dir, pred_dir)
