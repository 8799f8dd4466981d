"""The sensitivity table (issue 11): can the benchmark see a temporal gain when one exists?

Rows are paired differences with 95 % intervals on the headline metric (PoseTrack: AP Total;
PCK: Mean), overall and on each frame group (degraded, recovery, clean), per dataset:
``hold - baseline`` (the positive control), ``oracle-hold - baseline`` (an upper bound, marked
"(oracle)"), ``prior - baseline`` (a pose prior without temporal input), and ``own - shuffled``
for every temporal method with a shuffled variant. They come from the records tagged
``sensitivity``: each control's comparison with the per-frame model, each shuffled record's
comparison with its own method (negated: the shuffled record stores ``shuffled - own``).

The run checks its own sensitivity (:func:`sensitivity_failures`): wherever a ``hold -
baseline`` row exists, its interval on degraded frames must lie above 0.
"""

from __future__ import annotations

import dataclasses

import pandas as pd

from ..records import Estimate, ResultRecord
from ..registry import register_table
from .base import Table
from .common import seed_note

TAG = "sensitivity"
#: the headline cell of each metric: (metric table, column, how the table names it)
HEADLINE = {"posetrack": ("AP", "Total", "AP Total"), "pck": ("PCK", "Mean", "PCK Mean")}
#: the frame groups, in column order (``vposebench.metrics.frame_groups.GROUPS``)
GROUP_COLUMNS = ("degraded", "recovery", "clean")
#: how an oracle's label is marked (the preset plan files, `bench/plans/*.toml`, label it so)
ORACLE_MARK = "(oracle)"
#: the positive control and the method it is compared with
POSITIVE = ("hold", "baseline")


@dataclasses.dataclass(frozen=True)
class SensitivityRow:
    """One paired difference: `first - second` on one dataset, overall and per frame group."""

    dataset: str
    first: str
    second: str
    oracle: bool
    metric: str
    cells: dict[str, Estimate | None]  # "all" and each frame group

    @property
    def label(self) -> str:
        return f"{self.first} − {self.second}" + (" (oracle)" if self.oracle else "")

    @property
    def order(self) -> tuple:
        rank = {"hold": 0, "oracle-hold": 1, "prior": 2}
        return (self.dataset, self.second.endswith("shuffled"), rank.get(self.first, 9), self.first)


def is_oracle(record: ResultRecord) -> bool:
    """An oracle's record (it reads ground-truth flags): the plan labels it "(oracle)", so it
    is marked wherever it appears without loading the method registry."""
    return ORACLE_MARK in record.label


def _negated(value: Estimate | None) -> Estimate | None:
    """-value, its bounds swapped (exact for percentile intervals); 0 stays 0, not -0."""
    if value is None or value.value is None:
        return value

    def minus(x: float | None) -> float | None:
        return None if x is None else 0.0 - x

    return Estimate(minus(value.value), minus(value.ci_high), minus(value.ci_low))


def _dataset(record: ResultRecord) -> str:
    return f"{record.dataset['name']}/{record.dataset['split']}"


def sensitivity_rows(records: list[ResultRecord]) -> list[SensitivityRow]:
    """Every paired difference of the sensitivity records, in table order."""
    by_key = {r.key: r for r in records}
    rows = []
    for record in records:
        if TAG not in record.tags or record.protocol.metric not in HEADLINE:
            continue
        table, column, metric = HEADLINE[record.protocol.metric]
        wanted = {column: "all", **{f"{column}:{g}": g for g in GROUP_COLUMNS}}
        found: dict[str, dict[str, Estimate]] = {}
        for comp in record.comparisons:
            if comp.other in by_key and comp.table == table and comp.column in wanted:
                found.setdefault(comp.other, {})[wanted[comp.column]] = comp.difference
        for other_key, cells in found.items():
            other = by_key[other_key]
            shuffled = record.protocol.temporal_input == "shuffled"
            if shuffled:  # stored as shuffled - own; shown as own - shuffled
                first, second = other.method, f"{record.method} shuffled"
                cells = {k: _negated(v) for k, v in cells.items()}
            else:
                first, second = record.method, other.method
            rows.append(SensitivityRow(_dataset(record), first, second,
                                       is_oracle(record) and not shuffled, metric,
                                       {c: cells.get(c) for c in ("all", *GROUP_COLUMNS)}))
    return sorted(rows, key=lambda r: r.order)


def sensitivity_failures(records: list[ResultRecord]) -> list[str]:
    """The datasets whose positive control does not come out above zero on degraded frames
    (`hold - baseline`, interval above 0), each as "<dataset>: <difference> (<metric>)"."""
    out = []
    for row in sensitivity_rows(records):
        if (row.first, row.second) != POSITIVE:
            continue
        cell = row.cells["degraded"]
        if cell is None or cell.ci_low is None or not cell.ci_low > 0:
            shown = "no degraded frames" if cell is None or cell.value is None else (
                f"{cell.value:+.1f} [{_bound(cell.ci_low)}, {_bound(cell.ci_high)}]")
            out.append(f"{row.dataset}: {shown} ({row.metric})")
    return out


def _bound(value: float | None) -> str:
    return "-" if value is None else f"{value:+.1f}"


def failure_line(failures: list[str]) -> str:
    """The one line a run ends its tables with when the sensitivity check failed."""
    return ("The benchmark FAILED its sensitivity check: hold − baseline on degraded frames is not "
            "above 0 on " + "; ".join(failures) + ".")


@register_table(TAG)
def sensitivity_table(records: list[ResultRecord]) -> Table:
    """Paired differences of the controls and shuffled variants, overall and per frame group."""
    rows = [{"dataset": r.dataset, "difference": r.label, "metric": r.metric, **r.cells}
            for r in sensitivity_rows(records)]
    notes = ["Paired bootstrap over the same videos, 95 % interval; per frame group the "
             "evaluation is restricted to the group (docs/evaluation.md, Frame groups). "
             "own − shuffled: what a method gets from its own track's past rather than any "
             "plausible one. (oracle): switched by the ground-truth burst flags, an upper bound."]
    pooled = seed_note([r for r in records if TAG in r.tags])
    if pooled:
        notes.append(pooled)
    if rows:
        failures = sensitivity_failures(records)
        positives = [r for r in sensitivity_rows(records) if (r.first, r.second) == POSITIVE]
        if failures:
            notes.append(failure_line(failures))
        elif positives:
            notes.append("Sensitivity check passed: hold − baseline on degraded frames is above 0 "
                         "on every dataset.")
    return Table(TAG, "Sensitivity: controls and shuffled variants (paired differences)",
                 pd.DataFrame(rows), notes=notes)
