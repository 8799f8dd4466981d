import dataclasses

from helpers.record_fixtures import pck_record, posetrack_record, speed

from vposebench.records import Estimate
from vposebench.regression import BETTER, FAIL, OK, SKIP, check_records, render_report


def _pair():
    base = posetrack_record("baseline", "Baseline", 60.0, 50.0, fps_ms=10.0)
    ptm = posetrack_record("ptm", "PTM", 63.0, 52.0, fps_ms=12.0)
    return base, ptm


def test_identical_rerun_passes():
    committed = list(_pair())
    report = check_records(committed, list(_pair()))
    assert report.ok and [r.status for r in report.rows] == [OK] * 5  # 2 x (AP, MOTA) + 1 speed
    text = render_report(report)
    assert "no regression: 5 within their bands, 0 better, 0 not compared" in text
    assert "speed of 1 'baseline' records: not compared (the reference of the ratios)" in text


def test_lower_accuracy_fails_with_a_readable_diff_and_higher_is_noted():
    committed = list(_pair())
    base, ptm = _pair()
    ptm.metrics["AP"]["Total"] = Estimate(58.0, 57.0, 59.0)  # below [62, 64]
    base.metrics["AP"]["Total"] = Estimate(70.0, 69.0, 71.0)  # above [59, 61]
    report = check_records(committed, [base, ptm])
    assert not report.ok
    (row,) = report.failed
    assert row.quantity == "AP Total" and "outside" in row.why
    assert [r.record for r in report.having(BETTER)] == [f"Baseline ({base.key})"]
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
    assert check_records(committed, [base, ptm_slow], speed_tolerance=None).ok


def test_what_is_not_compared_is_said():
    base, ptm = _pair()
    report = check_records([base, ptm], [base])
    assert report.ok
    (row,) = report.having(SKIP)
    assert row.record.startswith("PTM") and "no longer makes" in row.why
    new = pck_record("CPM", 80.0)
    report = check_records([base], [base, new])
    assert [r.why for r in report.having(SKIP)] == ["no committed record of this key or label"]


def test_a_changed_key_is_compared_by_label():
    """A config default that moved changes the key; the same experiment is still compared."""
    base, ptm = _pair()
    moved = posetrack_record("ptm", "PTM", 63.0, 40.0, fps_ms=12.0,
                             config={"backbone": "resnet18", "capacity": 8})
    report = check_records([base, ptm], [base, moved])
    (row,) = report.failed
    assert row.quantity == "MOTA Total" and f"the key is now {moved.key}" in row.why
    assert moved.key != ptm.key
    assert FAIL in render_report(report)
