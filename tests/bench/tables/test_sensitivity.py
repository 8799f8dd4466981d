"""The sensitivity table and the run's sensitivity check, on hand-made records: the rows it
derives from comparisons (own − shuffled negated), the "(oracle)" mark, the reviewed renderings
in expected/, and the one failure line when the positive control is not above 0."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest
from helpers.record_fixtures import pck_record, posetrack_record

from vposebench.pipeline import sensitivity_verdict
from vposebench.records import Comparison, Estimate
from vposebench.registry import TABLES
from vposebench.tables.base import format_cell
from vposebench.tables.sensitivity import failure_line, sensitivity_failures, sensitivity_rows

EXPECTED = Path(__file__).parent / "expected"
GROUPS = ("", ":degraded", ":recovery", ":clean")


def _diffs(other, table: str, column: str, values: tuple[float, ...], half: float = 0.5) -> list[Comparison]:
    """Comparisons with `other` overall and per frame group, each value ± `half`."""
    return [Comparison(other.key, table, column + suffix, Estimate(v, v - half, v + half))
            for suffix, v in zip(GROUPS, values)]


def sensitivity_records(hold_degraded: float = 2.0):
    """A baseline and PTM, their controls and shuffled variants on posetrack; CPM, TFC and the
    shuffled TFC on a PCK dataset (no hold there: the check looks at posetrack only)."""
    base = posetrack_record("baseline", "Baseline", 60.0, 50.0)
    ptm = posetrack_record("ptm", "PTM", 58.0, 49.0)
    hold = posetrack_record("hold", "Hold", 60.5, 50.0, tags=["sensitivity"],
                            comparisons=_diffs(base, "AP", "Total", (0.5, hold_degraded, 0.0, 0.0)))
    oracle = posetrack_record("oracle-hold", "Oracle-hold (oracle)", 61.0, 50.0, tags=["sensitivity"],
                              comparisons=_diffs(base, "AP", "Total", (1.0, 4.0, 0.0, 0.0)))
    prior = posetrack_record("prior", "Prior", 60.2, 50.0, tags=["sensitivity"],
                             comparisons=_diffs(base, "AP", "Total", (0.2, 0.75, 0.0, 0.1)))
    shuffled = dataclasses.replace(posetrack_record("ptm", "PTM, shuffled", 57.0, 48.0, tags=["sensitivity"],
                                                    comparisons=_diffs(ptm, "AP", "Total", (-1.0, -3.0, -1.5, -0.25))))
    shuffled.protocol = dataclasses.replace(shuffled.protocol, temporal_input="shuffled")
    cpm, tfc = pck_record("CPM", 80.0), pck_record("TFC", 82.0)
    tfc_shuffled = pck_record("TFC", 81.0, tags=["sensitivity"])
    tfc_shuffled.protocol = dataclasses.replace(tfc_shuffled.protocol, temporal_input="shuffled")
    tfc_shuffled.comparisons = _diffs(tfc, "PCK", "Mean", (-1.0, -2.0, 0.0, -0.75), half=0.0)
    return [base, ptm, hold, oracle, prior, shuffled, cpm, tfc, tfc_shuffled]


@pytest.mark.parametrize("fmt", ["markdown", "latex", "csv"])
def test_sensitivity_table_renders_as_reviewed(fmt, request):
    text = TABLES.get("sensitivity")(sensitivity_records()).render(fmt)
    path = EXPECTED / f"sensitivity.{ {'markdown': 'md', 'latex': 'tex', 'csv': 'csv'}[fmt]}"
    if request.config.getoption("--update-expected", default=False):  # pragma: no cover
        path.write_text(text)
    assert text == path.read_text()


def test_rows_negate_shuffled_comparisons_and_mark_the_oracle():
    rows = {(r.dataset, r.label): r for r in sensitivity_rows(sensitivity_records())}
    assert list(rows) == [
        ("synthetic/val", "hold − baseline"), ("synthetic/val", "oracle-hold − baseline (oracle)"),
        ("synthetic/val", "prior − baseline"), ("synthetic/val", "ptm − ptm shuffled"),
        ("synthetic_jhmdb/test", "tfc − tfc shuffled")]
    own = rows[("synthetic/val", "ptm − ptm shuffled")].cells["degraded"]
    assert (own.value, own.ci_low, own.ci_high) == (3.0, 2.5, 3.5)  # shuffled − own = -3 [-3.5, -2.5]
    tfc = rows[("synthetic_jhmdb/test", "tfc − tfc shuffled")]
    assert tfc.metric == "PCK Mean"
    assert "-" not in format_cell(tfc.cells["recovery"], 1)  # a zero difference is not shown as -0.0
    # a record tagged sensitivity whose compared record is not among the records: no row
    assert [r.label for r in sensitivity_rows(sensitivity_records()[2:3])] == []


def test_a_positive_control_not_above_zero_fails_the_check_with_one_line():
    passing = sensitivity_records(hold_degraded=2.0)
    assert sensitivity_failures(passing) == []
    assert sensitivity_verdict(passing, []) == {"status": "passed"}
    table = TABLES.get("sensitivity")(passing)
    assert table.notes[-1].startswith("Sensitivity check passed")

    failing = sensitivity_records(hold_degraded=0.25)  # 0.25 [-0.25, 0.75]: contains 0
    failures = sensitivity_failures(failing)
    assert failures == ["synthetic/val: +0.2 [-0.2, +0.8] (AP Total)"]
    line = failure_line(failures)
    assert "\n" not in line and line.startswith("The benchmark FAILED its sensitivity check")
    assert TABLES.get("sensitivity")(failing).notes[-1] == line
    verdict = sensitivity_verdict(failing, failures)
    assert verdict["status"] == "failed" and verdict["line"] == line
    json.dumps(verdict)
    # no hold − baseline row: the check is not run and nothing fails
    no_hold = [r for r in failing if r.method != "hold"]
    assert sensitivity_failures(no_hold) == [] and sensitivity_verdict(no_hold, []) == {"status": "not run"}


def test_run_prints_the_failure_line_after_its_tables():
    """`vposebench run` ends its printed tables with the failure line, only when it failed."""
    from vposebench.commands.run_cmd import printed_tables
    from vposebench.pipeline import RunResult

    for hold, fails in ((0.25, True), (2.0, False)):
        records = sensitivity_records(hold_degraded=hold)
        failures = sensitivity_failures(records)
        tables = {"leaderboard": TABLES.get("leaderboard")(records).render("markdown"),
                  "sensitivity": TABLES.get("sensitivity")(records).render("markdown")}
        text = printed_tables(RunResult(records, tables, [], [], failures))
        assert text.startswith(tables["leaderboard"])
        last = text.rstrip("\n").splitlines()[-1]
        assert (last == failure_line(failures)) is fails
        assert text.count("FAILED its sensitivity check") == (2 if fails else 0)  # note + last line
