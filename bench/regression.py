"""The regression check: compare re-computed records with the committed ones.

Each committed record is paired with the re-computed record of the same key, or, when the key
changed (a config or protocol default moved), with the re-computed record of the same method,
label, dataset, split, metric and temporal stride. Accuracy: a headline value below the
committed 95 % interval is a regression; above it, an improvement to note (the reference should
be renewed). Speed is compared as a ratio against the reference method (``baseline``, the same
backbone where there is one) measured in the same run, never as absolute time: a ratio that
drops by more than the tolerance is a regression. Whatever could not be compared is listed
with the reason.
"""

from __future__ import annotations

import dataclasses

from .records import Estimate, ResultRecord

#: (table, column) of the headline numbers checked for each protocol (higher is better)
HEADLINE = {
    "posetrack": (("AP", "Total"), ("MOTA", "Total")),
    "pck": (("PCK", "Mean"),),
}
DEFAULT_SPEED_TOLERANCE = 0.25
REFERENCE_METHOD = "baseline"

OK, FAIL, BETTER, SKIP = "ok", "FAIL", "better", "not compared"


@dataclasses.dataclass(frozen=True)
class CheckRow:
    """One compared (or not comparable) quantity of one record."""

    record: str  # label (key)
    quantity: str
    committed: str
    current: str
    status: str  # OK | FAIL | BETTER | SKIP
    why: str = ""

    @property
    def ok(self) -> bool:
        return self.status != FAIL


@dataclasses.dataclass
class CheckReport:
    rows: list[CheckRow]
    #: what was left out without a row, with the reason (e.g. speed of untimed records)
    notes: list[str] = dataclasses.field(default_factory=list)

    def having(self, status: str) -> list[CheckRow]:
        return [r for r in self.rows if r.status == status]

    @property
    def failed(self) -> list[CheckRow]:
        return self.having(FAIL)

    @property
    def ok(self) -> bool:
        return not self.failed


def _fmt(m: Estimate) -> str:
    if m.value is None:
        return "n/a"
    if m.ci_low is None or m.ci_high is None:
        return f"{m.value:.2f}"
    return f"{m.value:.2f} [{m.ci_low:.2f}, {m.ci_high:.2f}]"


def _name(record: ResultRecord) -> str:
    return f"{record.label} ({record.key})"


def identity(record: ResultRecord) -> tuple:
    """What makes two records the same experiment when their keys differ."""
    return (record.method, record.label, record.dataset["name"], record.dataset["split"],
            record.protocol.metric, record.protocol.temporal_stride)


def compare_accuracy(old: ResultRecord, new: ResultRecord, note: str = "") -> list[CheckRow]:
    """Headline metrics of `new` against the intervals of `old`."""
    rows = []
    for table, column in HEADLINE.get(old.protocol.metric, ()):
        before, after = old.metric(table, column), new.metric(table, column)
        if before.contains(after.value):
            status, why = OK, ""
        elif after.value is not None and before.ci_high is not None and after.value > before.ci_high:
            status, why = BETTER, "above the committed 95 % interval: renew the reference"
        else:
            status, why = FAIL, "outside the committed 95 % interval"
        rows.append(CheckRow(_name(old), f"{table} {column}", _fmt(before), _fmt(after), status,
                             "; ".join(w for w in (why, note) if w)))
    return rows


def reference_for(record: ResultRecord, records: list[ResultRecord],
                  method: str = REFERENCE_METHOD) -> ResultRecord | None:
    """The timed reference-method record on the same dataset, split and metric; one with the
    same backbone first."""
    found = [r for r in records
             if r.method == method and r.speed is not None
             and r.dataset["name"] == record.dataset["name"] and r.dataset["split"] == record.dataset["split"]
             and r.protocol.metric == record.protocol.metric]
    same_backbone = [r for r in found if r.config.get("backbone") == record.config.get("backbone")]
    return (same_backbone or found or [None])[0]


def compare_speed(old: ResultRecord, new: ResultRecord, old_ref: ResultRecord, new_ref: ResultRecord,
                  tolerance: float = DEFAULT_SPEED_TOLERANCE) -> CheckRow:
    """FPS relative to the reference method must not drop by more than `tolerance`."""
    before = old.speed.fps / old_ref.speed.fps
    after = new.speed.fps / new_ref.speed.fps
    ok = after >= before * (1 - tolerance)
    why = "" if ok else f"speed ratio fell by more than {tolerance:.0%}"
    return CheckRow(_name(old), f"FPS / {old_ref.label} FPS", f"{before:.3f}", f"{after:.3f}",
                    OK if ok else FAIL, why)


def _speed_rows(old: ResultRecord, new: ResultRecord, committed: list[ResultRecord],
                current: list[ResultRecord], reference_method: str, tolerance: float) -> list[CheckRow]:
    if old.speed is None or old.method == reference_method:
        return []  # counted in the report's notes
    if new.speed is None:
        return [CheckRow(_name(old), "speed", "timed", "not timed", SKIP, "not timed in this run")]
    old_ref = reference_for(old, committed, reference_method)
    new_ref = reference_for(new, current, reference_method)
    if old_ref is None or new_ref is None:
        side = "committed" if old_ref is None else "re-computed"
        return [CheckRow(_name(old), "speed", "", "", SKIP,
                         f"no timed {reference_method!r} record among the {side} ones")]
    return [compare_speed(old, new, old_ref, new_ref, tolerance)]


def check_records(committed: list[ResultRecord], current: list[ResultRecord], *,
                  reference_method: str = REFERENCE_METHOD,
                  speed_tolerance: float | None = DEFAULT_SPEED_TOLERANCE) -> CheckReport:
    """Compare every committed record with its re-computed counterpart (see the module
    docstring); `speed_tolerance=None` leaves speed out."""
    by_key = {r.key: r for r in current}
    by_identity = {identity(r): r for r in current}
    rows: list[CheckRow] = []
    matched: set[str] = set()
    untimed = references = 0
    for old in committed:
        new, note = by_key.get(old.key), ""
        if new is None and identity(old) in by_identity:
            new = by_identity[identity(old)]
            note = f"compared by label: the key is now {new.key} (config or protocol changed)"
        if new is None:
            rows.append(CheckRow(_name(old), "record", "committed", "missing", SKIP,
                                 "the preset no longer makes this record (no record of this key "
                                 "or label was re-computed)"))
            continue
        matched.add(new.key)
        rows.extend(compare_accuracy(old, new, note))
        untimed += old.speed is None
        references += old.speed is not None and old.method == reference_method
        if speed_tolerance is not None:
            rows.extend(_speed_rows(old, new, committed, current, reference_method, speed_tolerance))
    for new in current:
        if new.key not in matched:
            rows.append(CheckRow(_name(new), "record", "none", "new", SKIP,
                                 "no committed record of this key or label"))
    notes = []
    if speed_tolerance is None:
        notes.append("speed: not compared (--skip-speed)")
    else:
        if untimed:
            notes.append(f"speed of {untimed} records: not compared (the preset does not time them)")
        if references:
            notes.append(f"speed of {references} {reference_method!r} records: not compared "
                         "(the reference of the ratios)")
    return CheckReport(rows, notes)


def render_report(report: CheckReport) -> str:
    """One table of every compared quantity, the notes, and the verdict."""
    from tabulate import tabulate

    body = tabulate(
        [[r.status, r.record, r.quantity, r.committed, r.current, r.why] for r in report.rows],
        headers=["", "record", "quantity", "committed", "now", "why"], tablefmt="simple",
        disable_numparse=True,
    )
    counts = {s: len(report.having(s)) for s in (OK, FAIL, BETTER, SKIP)}
    if report.ok:
        verdict = (f"no regression: {counts[OK]} within their bands, {counts[BETTER]} better, "
                   f"{counts[SKIP]} not compared")
    else:
        verdict = f"{counts[FAIL]} of {len(report.rows)} checks failed (regressions)"
    notes = "".join(f"{n}\n" for n in report.notes)
    return f"{body}\n\n{notes}{verdict}\n"
