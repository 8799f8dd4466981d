"""The posetrack metric against the official evaluation's own output.

Two sources: the shared conformance cases (copied to ``tests/data/conformance/posetrack``) and the
randomized cases in ``data/official_cases`` (made by ``helpers/make_official_cases.py``, which runs
the official code). Every number must agree to 1e-9 and every printed cell exactly.
"""

from __future__ import annotations

import gzip
import json
import math
from pathlib import Path

import numpy as np
import pytest
from helpers.posetrack_cases import write_case

from vposebench import cli
from vposebench.errors import UserError
from vposebench.metrics.posetrack import GROUP_KEYS, PoseTrackMetric

OFFICIAL_CASES = sorted((Path(__file__).parent / "data" / "official_cases").glob("*.json.gz"))


def _array(values: list) -> np.ndarray:
    return np.array([np.nan if v is None else v for v in values], dtype=np.float64)


def assert_full_equal(mine: dict[str, np.ndarray], official: dict[str, list], what: str) -> None:
    for key, values in official.items():
        expected = _array(values)
        got = np.asarray(mine[key])
        assert np.array_equal(np.isnan(got), np.isnan(expected)), f"{what}.{key}: NaN pattern"
        np.testing.assert_allclose(got, expected, rtol=0, atol=1e-9, equal_nan=True, err_msg=f"{what}.{key}")


def _conformance_cases(conformance_dir: Path) -> list[tuple[Path, dict]]:
    cases = []
    for case in sorted((conformance_dir / "cases").iterdir()):
        expected = json.loads((conformance_dir / "expected" / f"{case.name}.json").read_text())
        cases.append((case, expected))
    assert len(cases) >= 5
    return cases


def test_every_shared_conformance_case(conformance_dir, capsys):
    """ap_full / mot_full to 1e-9, the printed cells, per-video values and event counts;
    refused cases exit with status 2 and one line."""
    for case, expected in _conformance_cases(conformance_dir):
        argv = ["evaluate", "--gt", str(case / "gt"), "--pred", str(case / "pred")]
        if expected["returncode"] != 0:
            assert cli.main(argv) == 2, case.name
            err = capsys.readouterr().err
            assert err.count("\n") == 1 and "Traceback" not in err
            assert "track id" in err and case.name in err
            continue
        result = PoseTrackMetric().evaluate(case / "gt", case / "pred")
        assert_full_equal(result.ap_full(), expected["ap_full"], f"{case.name} ap")
        assert_full_equal(result.mot_full(), expected["mot_full"], f"{case.name} mot")
        cells = result.headline()
        for key in (*GROUP_KEYS, "Total"):
            assert f"{cells[f'AP/{key}']:.1f}" == expected["ap_printed"][key], (case.name, key)
            assert f"{cells[f'MOTA/{key}']:.1f}" == expected["mot_printed"][f"MOTA_{key}"], (case.name, key)
        for key in ("MOTP", "Prec", "Rec"):
            assert f"{cells[f'{key}/Total']:.1f}" == expected["mot_printed"][f"{key}_Total"]
        per_video = result.per_video()
        for video, official in expected["per_sequence_full"].items():
            assert_full_equal({k: per_video[video][k] for k in official if k in per_video[video]},
                              {k: v for k, v in official.items() if k in per_video[video]},
                              f"{case.name} {video}")
        supplement = expected["supplementary_not_printed_by_poseval"]
        counts = result.event_counts()
        for key in ("num_misses", "num_switches", "num_false_positives", "num_objects",
                    "num_detections", "num_matches"):
            assert counts[key] == supplement[key], (case.name, key)
        classic = result.mot_full(classic_motp=True)["motp"]
        np.testing.assert_allclose(classic, supplement["motp_matched_only"], atol=1e-9)
        # the CLI prints the same cells
        assert cli.main(argv) == 0
        rows = {cells[1]: cells[2:] for line in capsys.readouterr().out.splitlines()
                if (cells := [c.strip() for c in line.split("|")])[0] == "" and len(cells) > 2}
        assert rows["AP"][:8] == [expected["ap_printed"][k] for k in (*GROUP_KEYS, "Total")]
        assert rows["MOT"][:11] == list(expected["mot_printed"].values())


@pytest.mark.parametrize("path", OFFICIAL_CASES, ids=[p.name.split(".")[0] for p in OFFICIAL_CASES])
def test_randomized_official_cases(path, tmp_path):
    doc = json.loads(gzip.decompress(path.read_bytes()))
    gt, pred = write_case(doc, tmp_path)
    official = doc["official"]
    if official["returncode"] != 0:
        # the official code crashed (repeated GT track ids that motmetrics cannot take)
        with pytest.raises(UserError, match="GT track id repeats"):
            PoseTrackMetric().evaluate(gt, pred)
        return
    result = PoseTrackMetric().evaluate(gt, pred)
    assert_full_equal(result.ap_full(), official["ap_full"], "ap")
    assert_full_equal(result.mot_full(), official["mot_full"], "mot")


def test_randomized_cases_cover_the_rules():
    """The stored cases hold what they are meant to exercise."""
    assert len(OFFICIAL_CASES) >= 30
    names = {p.name.split(".")[0] for p in OFFICIAL_CASES}
    assert any(n.startswith("r17_") for n in names) and any("noscore" in n for n in names)
    assert any("repeated_gt_ids" in n for n in names)
    doc = json.loads(gzip.decompress(OFFICIAL_CASES[0].read_bytes()))
    assert math.isfinite(doc["official"]["ap_full"]["ap"][15])
