"""`vposebench evaluate`: the JSON contract, the tables, and one-line errors for bad input."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from vposebench import cli
from vposebench.errors import UserError
from vposebench.metrics.posetrack import PoseTrackMetric

GROUPS = ["Head", "Shou", "Elb", "Wri", "Hip", "Knee", "Ankl", "Total"]
VIDEO = "000342_mpii_test.json"


@pytest.fixture
def case(tmp_path, conformance_dir):
    """A writable copy of conformance case v01 (PoseTrack'18)."""
    dest = tmp_path / "case"
    shutil.copytree(conformance_dir / "cases" / "v01_basic18", dest)
    return dest


def _edit(path, change) -> None:
    doc = json.loads(path.read_text())
    change(doc)
    path.write_text(json.dumps(doc))


def _drop_last_frame(doc: dict) -> None:
    last = doc["images"].pop()["id"]
    doc["annotations"] = [a for a in doc["annotations"] if a["image_id"] != last]


def _run(case, *extra: str) -> int:
    return cli.main(["evaluate", "--gt", str(case / "gt"), "--pred", str(case / "pred"), *extra])


def test_json_follows_the_design_contract(case, capsys):
    out = case / "out.json"
    assert _run(case, "--json", str(out), "--bootstrap", "100", "--per-video") == 0
    doc = json.loads(out.read_text())
    assert doc["metric"] == "posetrack"
    assert list(doc["AP"]) == GROUPS and list(doc["MOTA"]) == GROUPS
    assert set(doc["MOTP"]) == set(doc["Prec"]) == set(doc["Rec"]) == {"Total"}
    assert len(doc["per_joint"]["AP"]) == len(doc["per_joint"]["MOTA"]) == 15
    assert "head_top" in doc["per_joint"]["AP"]
    result = PoseTrackMetric().evaluate(case / "gt", case / "pred")
    assert doc["AP"]["Total"] == result.headline()["AP/Total"]  # full precision
    iv = doc["bootstrap"]["intervals"]["MOTA/Total"]
    assert iv["lo"] <= iv["value"] <= iv["hi"] and doc["bootstrap"]["resamples"] == 100
    assert set(doc["per_video"]) == {"000342_mpii_test", "001001_mpii_test", "009607_mpii_test"}
    assert doc["provenance"]["packages"]["motmetrics"]
    printed = capsys.readouterr().out
    assert "| AP " in printed and "95% CI" in printed


def test_nan_is_written_as_null(case):
    # a joint nobody annotates or predicts: AP 0 (no predictions), MOTA NaN (no objects)
    def drop_nose(doc):
        for ann in doc["annotations"]:
            ann["keypoints"][0:3] = [0, 0, 0]
    for folder in ("gt", "pred"):
        for path in (case / folder).iterdir():
            _edit(path, drop_nose)
    out = case / "out.json"
    assert _run(case, "--json", str(out)) == 0
    doc = json.loads(out.read_text())
    assert doc["per_joint"]["MOTA"]["nose"] is None and doc["per_joint"]["AP"]["nose"] == 0
    assert doc["MOTA"]["Head"] is None and doc["MOTA"]["Total"] is not None


def test_latex_and_comparison(case, capsys):
    assert _run(case, "--format", "latex", "--compare-pred", str(case / "pred"), "--bootstrap", "50") == 0
    printed = capsys.readouterr().out
    assert "\\begin{tabular}" in printed and "difference" in printed


def _error(case, capsys, *extra: str) -> str:
    out = case / "never.json"
    assert _run(case, "--json", str(out), *extra) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert not out.exists()  # nothing half-written
    return err


@pytest.mark.parametrize("name, folder, change, expected", [
    ("wrong keypoint count", "pred", lambda d: d["annotations"][3]["keypoints"].pop(),
     "annotations[3].keypoints: expected 51 numbers, got 50"),
    ("string for a number", "pred", lambda d: d["annotations"][2]["keypoints"].__setitem__(4, "12.5"),
     "annotations[2].keypoints: expected a list of numbers, found '12.5'"),
    ("missing head box", "gt", lambda d: d["annotations"][1].pop("bbox_head"),
     "annotations[1].bbox_head: missing head box"),
    ("frame count mismatch", "pred", _drop_last_frame,
     "images: 13 frames, but the GT file has 14"),
    ("track id too large", "pred", lambda d: d["annotations"][5].__setitem__("track_id", 10000),
     "annotations[5].track_id: track id 10000 is not below 10000"),
    ("track id not an integer", "pred", lambda d: d["annotations"][5].__setitem__("track_id", "7"),
     "annotations[5].track_id: expected an integer, got '7'"),
    ("duplicate track id", "pred", lambda d: d["annotations"][1].__setitem__("track_id", d["annotations"][0]["track_id"]),
     "images[0]: non-unique track id"),
    ("GT without track id", "gt", lambda d: d["annotations"][0].pop("track_id"),
     "annotations[0].track_id: GT track id missing"),
])
def test_malformed_input_is_one_line_and_exit_2(case, capsys, name, folder, change, expected):
    _edit(case / folder / VIDEO, change)
    err = _error(case, capsys)
    assert expected in err, name
    assert f"{folder}/{VIDEO}" in err


def test_missing_prediction_file_and_wrong_joint_set(case, capsys):
    (case / "pred" / VIDEO).unlink()
    assert "no prediction file" in _error(case, capsys)
    shutil.copy(case / "gt" / VIDEO, case / "pred" / VIDEO)
    _edit(case / "gt" / VIDEO, lambda d: d["categories"][0].__setitem__("keypoints", ["x"] * 17))
    assert "unknown joint set" in _error(case, capsys)


def test_bad_options(case, capsys):
    assert "--bootstrap" in _error(case, capsys, "--bootstrap", "-1")
    assert "--pck-alpha" in _error(case, capsys, "--metric", "pck", "--pck-alpha", "0")


_JUNK = st.one_of(st.text(max_size=3), st.none(), st.booleans(), st.floats(allow_nan=True),
                  st.integers(-5, 20000), st.lists(st.integers(), max_size=3),
                  st.dictionaries(st.text(max_size=2), st.integers(), max_size=2))


def _field_paths(obj, prefix=()):
    """Every key / index path in a JSON document (the first three items of each list)."""
    items = obj.items() if isinstance(obj, dict) else enumerate(obj[:3]) if isinstance(obj, list) else ()
    for key, value in items:
        yield (*prefix, key)
        yield from _field_paths(value, (*prefix, key))


@pytest.mark.parametrize("source", ["v01_basic18", "v04_basic17"])
@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_any_junk_field_is_a_user_error_or_scores(tmp_path, conformance_dir, source, data):
    """Replace any one field of a GT or prediction file (PT18 or PT17) with junk: the result is
    a score or a UserError naming the file, never another exception."""
    case = tmp_path / source
    if not case.exists():
        shutil.copytree(conformance_dir / "cases" / source, case)
    folder = data.draw(st.sampled_from(["gt", "pred"]))
    path = sorted((case / folder).iterdir())[0]
    original = path.read_text()
    doc = json.loads(original)
    where = data.draw(st.sampled_from(list(_field_paths(doc))))
    parent = doc
    for key in where[:-1]:
        parent = parent[key]
    parent[where[-1]] = data.draw(_JUNK)
    path.write_text(json.dumps(doc))
    try:
        PoseTrackMetric().evaluate(case / "gt", case / "pred")
    except UserError as exc:
        assert str(case) in str(exc)
    finally:
        path.write_text(original)


def test_console_script_reports_without_traceback(case):
    _edit(case / "pred" / VIDEO, _drop_last_frame)
    proc = subprocess.run([sys.executable, "-m", "vposebench", "evaluate", "--gt", str(case / "gt"),
                           "--pred", str(case / "pred")], capture_output=True, text=True)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr and proc.stdout == ""


def test_a_prediction_file_without_a_gt_video_is_named_in_a_warning(case, capsys):
    extra = case / "pred" / "999999_mpii_test.json"
    shutil.copyfile(case / "pred" / VIDEO, extra)
    assert _run(case) == 0
    err = capsys.readouterr().err
    assert err == f"vposebench evaluate: warning: {extra}: no GT video of this name; not evaluated\n"
    # videos left out with --videos are chosen, not unmatched: no warning for them
    extra.unlink()
    assert _run(case, "--videos", "000342_mpii_test") == 0
    assert capsys.readouterr().err == ""
