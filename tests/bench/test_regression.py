import dataclasses

from helpers.record_fixtures import posetrack_record, speed

from vposebench.records import Estimate
from vposebench.regression import check_records, render_report


def _pair():
    base = posetrack_record("baseline", "Baseline", 60.0, 50.0, fps_ms=10.0)
    ptm = posetrack_record("ptm", "PTM", 63.0, 52.0, fps_ms=12.0)
    return base, ptm


def test_identical_rerun_passes():
    committed = list(_pair())
    report = check_records(committed, list(_pair()))
    assert report.ok and len(report.rows) == 2 * 2 + 1


def test_doctored_accuracy_fails_with_a_readable_diff():
    committed = list(_pair())
    base, ptm = _pair()
    ptm.metrics["AP"]["Total"] = Estimate(58.0, 57.0, 59.0)  # outside [62, 64]
    report = check_records(committed, [base, ptm])
    assert not report.ok
    (row,) = report.failed
    assert row.quantity == "AP Total" and "outside" in row.why
    text = render_report(report)
    assert "FAIL" in text and "63.00 [62.00, 64.00]" in text and "58.00 [57.00, 59.00]" in text
    assert "1 of 5 checks failed" in text


def test_speed_is_a_ratio_against_the_reference_in_the_same_run():
    committed = list(_pair())
    base, ptm = _pair()
    # everything twice as slow (a slower machine): the ratio holds, so it passes
    slow = [dataclasses.replace(r, speed=speed(r.speed.pose.median_ms * 2)) for r in (base, ptm)]
    assert check_records(committed, slow).ok
    # only the method got 2x slower: fails
    ptm_slow = dataclasses.replace(ptm, speed=speed(24.0))
    report = check_records(committed, [base, ptm_slow])
    assert [r.quantity for r in report.failed] == ["FPS / Baseline FPS"]


def test_missing_record_fails():
    base, ptm = _pair()
    report = check_records([base, ptm], [base])
    assert [r.why for r in report.failed] == ["not re-computed"]
