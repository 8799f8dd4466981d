"""The regression check: compare re-computed records with the committed ones.

Accuracy fails when a headline value moves outside the committed record's 95 % interval.
Speed is compared as a ratio against the reference method (``baseline``) measured in the same
run, never as absolute time: it fails when ``fps / reference fps`` drops by more than the
tolerance relative to the committed ratio.
"""

from __future__ import annotations

import dataclasses

from .records import Estimate, ResultRecord

#: (table, column) of the headline numbers checked for each protocol
HEADLINE = {
    "posetrack": (("AP", "Total"), ("MOTA", "Total")),
    "pck": (("PCK", "Mean"),),
}
DEFAULT_SPEED_TOLERANCE = 0.25


@dataclasses.dataclass(frozen=True)
class CheckRow:
    """One compared quantity of one record."""

    record: str  # label (key)
    quantity: str
    committed: str
    current: str
    ok: bool
    why: str = ""


@dataclasses.dataclass
class CheckReport:
    rows: list[CheckRow]

    @property
    def failed(self) -> list[CheckRow]:
        return [r for r in self.rows if not r.ok]

    @property
    def ok(self) -> bool:
        return not self.failed


def _fmt(m: Estimate) -> str:
    if m.value is None:
        return "n/a"
    if m.ci_low is None or m.ci_high is None:
        return f"{m.value:.2f}"
    return f"{m.value:.2f} [{m.ci_low:.2f}, {m.ci_high:.2f}]"


def compare_accuracy(old: ResultRecord, new: ResultRecord) -> list[CheckRow]:
    """Headline metrics of `new` must lie in the intervals of `old`."""
    rows = []
    name = f"{old.label} ({old.key})"
    for table, column in HEADLINE.get(old.protocol.metric, ()):
        before, after = old.metric(table, column), new.metric(table, column)
        ok = before.contains(after.value)
        why = "" if ok else "outside the committed 95 % interval"
        rows.append(CheckRow(name, f"{table} {column}", _fmt(before), _fmt(after), ok, why))
    return rows


def reference_for(record: ResultRecord, records: list[ResultRecord], method: str) -> ResultRecord | None:
    """The reference-method record timed on the same dataset, split and metric."""
    for other in records:
        if (other.method == method and other.dataset["name"] == record.dataset["name"]
                and other.dataset["split"] == record.dataset["split"]
                and other.protocol.metric == record.protocol.metric and other.speed is not None):
            return other
    return None


def compare_speed(old: ResultRecord, new: ResultRecord, old_ref: ResultRecord, new_ref: ResultRecord,
                  tolerance: float = DEFAULT_SPEED_TOLERANCE) -> CheckRow:
    """FPS relative to the reference method must not drop by more than `tolerance`."""
    name = f"{old.label} ({old.key})"
    before = old.speed.fps / old_ref.speed.fps
    after = new.speed.fps / new_ref.speed.fps
    ok = after >= before * (1 - tolerance)
    why = "" if ok else f"speed ratio fell by more than {tolerance:.0%}"
    return CheckRow(name, f"FPS / {old_ref.label} FPS", f"{before:.3f}", f"{after:.3f}", ok, why)


def check_records(committed: list[ResultRecord], current: list[ResultRecord], *,
                  reference_method: str = "baseline",
                  speed_tolerance: float = DEFAULT_SPEED_TOLERANCE) -> CheckReport:
    """Compare every committed record with the re-computed record of the same key."""
    by_key = {r.key: r for r in current}
    rows: list[CheckRow] = []
    for old in committed:
        new = by_key.get(old.key)
        if new is None:
            rows.append(CheckRow(f"{old.label} ({old.key})", "record", "present", "missing", False,
                                 "not re-computed"))
            continue
        rows.extend(compare_accuracy(old, new))
        if old.speed is None or new.speed is None or old.method == reference_method:
            continue
        old_ref = reference_for(old, committed, reference_method)
        new_ref = reference_for(new, current, reference_method)
        if old_ref is not None and new_ref is not None:
            rows.append(compare_speed(old, new, old_ref, new_ref, speed_tolerance))
    return CheckReport(rows)


def render_report(report: CheckReport) -> str:
    """A readable diff: every compared quantity, failures marked."""
    from tabulate import tabulate

    body = tabulate(
        [[("ok" if r.ok else "FAIL"), r.record, r.quantity, r.committed, r.current, r.why]
         for r in report.rows],
        headers=["", "record", "quantity", "committed", "now", "why"], tablefmt="simple",
        disable_numparse=True,
    )
    verdict = ("all within their bands" if report.ok
               else f"{len(report.failed)} of {len(report.rows)} checks failed")
    return f"{body}\n\n{verdict}\n"
