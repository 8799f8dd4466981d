"""Helpers shared by the table views: selecting records and building cells."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import pandas as pd

from ..records import Estimate, ResultRecord

#: the PoseTrack table's group columns (the JSON keys of `vposebench evaluate --json`, docs/evaluation.md)
POSETRACK_GROUPS = ("Head", "Shou", "Elb", "Wri", "Hip", "Knee", "Ankl", "Total")
#: the PCK table's columns
PCK_COLUMNS = ("Head", "Sho", "Elb", "Wri", "Hip", "Knee", "Ank", "Mean")


#: the frame groups a record breaks its metrics down into (``vposebench.metrics.frame_groups``)
FRAME_GROUPS = ("degraded", "recovery", "clean")


def group_columns(table: str, column: str, suffix: str = "") -> dict[str, tuple[str, str, str | None]]:
    """Columns "<group><suffix>" showing `table`/`column` on each frame group's breakdown."""
    return {f"{group}{suffix}": (table, column, group) for group in FRAME_GROUPS}


GROUP_NOTE = ("degraded / recovery / clean: the same metric on that frame group only (inside a "
              "burst; the first frames after one; the rest; docs/evaluation.md, Frame groups).")


def tagged(records: Iterable[ResultRecord], tag: str) -> list[ResultRecord]:
    """The records that belong to experiment `tag`, in a stable order."""
    return sorted((r for r in records if tag in r.tags), key=lambda r: (r.label, r.key))


def metric_on(record: ResultRecord, table: str, column: str, condition: str | None = None) -> Estimate:
    """A metric overall, or on a condition: a breakdown, or the whole record if its dataset
    *is* that subset."""
    if condition is None or record.dataset.get("subset") == condition:
        return record.metric(table, column)
    return record.metric(table, column, condition)


def difference_rows(records: list[ResultRecord], columns: dict[str, tuple[str, str, str | None]],
                    label_of: Callable[[ResultRecord], str] = lambda r: r.label) -> list[dict[str, Any]]:
    """Rows "Δ A − B", one for every pair of records shown in a table that has a paired
    comparison.

    `columns` maps a table column to the (metric table, metric column, condition) it shows;
    a comparison is stored on the record as table "AP", column "Total", with the condition
    appended after a colon when it is a breakdown (e.g. "Total:crowd").
    """
    by_key = {r.key: r for r in records}
    rows = []
    for record in records:
        found: dict[str, dict[str, Estimate]] = {}  # other key -> column -> difference
        for comp in record.comparisons:
            if comp.other not in by_key or comp.other == record.key:
                continue
            for name, (table, column, condition) in columns.items():
                wanted = column if condition is None else f"{column}:{condition}"
                if comp.table == table and comp.column == wanted:
                    found.setdefault(comp.other, {})[name] = comp.difference
        for other_key, diffs in found.items():
            row: dict[str, Any] = {name: diffs.get(name) for name in columns}
            row["_label"] = f"Δ {label_of(record)} − {label_of(by_key[other_key])}"
            rows.append(row)
    return rows


def metric_rows(records: list[ResultRecord], columns: dict[str, tuple[str, str, str | None]],
                label: Callable[[ResultRecord], str] = lambda r: r.label) -> list[dict[str, Any]]:
    """One row per record (`columns` as in :func:`difference_rows`), then its difference rows."""
    rows = [{"_label": label(r), **{name: metric_on(r, *spec) for name, spec in columns.items()}}
            for r in records]
    return rows + difference_rows(records, columns, label)


def labelled_frame(rows: list[dict[str, Any]], first: str) -> pd.DataFrame:
    """The rows as a frame whose first column, named `first`, holds each row's label."""
    for row in rows:
        row[first] = row.pop("_label")
    frame = pd.DataFrame(rows)
    if frame.empty:
        return frame
    return frame[[first, *[c for c in frame.columns if c != first]]]


def speed_cells(record: ResultRecord) -> dict[str, Any]:
    """FPS, latency, memory, state, parameters and FLOPs of a record as table cells."""
    speed = record.speed
    if speed is None:
        return {"FPS": None, "Latency ms": None, "Memory MB": None, "State KB": None,
                "Params M": None, "GFLOPs": None}
    if speed.gpu_max_allocated_bytes is not None:
        memory = f"{speed.gpu_max_allocated_bytes / 2**20:.0f} (GPU)"
    elif speed.peak_rss_bytes is not None:
        memory = f"{speed.peak_rss_bytes / 2**20:.0f} (RSS)"
    else:
        memory = None
    return {
        "FPS": f"{speed.fps:.1f}",
        "Latency ms": f"{speed.pose.median_ms:.1f} ± {speed.pose.iqr_ms / 2:.1f}",
        "Memory MB": memory,
        "State KB": f"{speed.state_bytes / 1024:.0f}",
        "Params M": None if speed.parameters is None else f"{speed.parameters / 1e6:.2f}",
        "GFLOPs": None if speed.flops_per_person is None else f"{speed.flops_per_person / 1e9:.3f}",
    }


SPEED_NOTE = ("FPS = 1 / median per-frame `pose` latency (crop warp + network + decoding + state "
              "update; online, batch = persons of one frame); Latency = median ± IQR/2; Memory = "
              "peak GPU allocation on CUDA, else process peak RSS; GFLOPs per person.")

DIFF_NOTE = "Δ rows: paired bootstrap over the same videos (95 % interval)."


def seed_note(records: Iterable[ResultRecord], *, differences: bool = True) -> str | None:
    """What the intervals of rows that pool several training seeds cover (None: no such row);
    `differences`: the table has Δ rows."""
    records = list(records)
    pooled = [r for r in records if r.training_seeds is not None]
    if not pooled:
        return None
    counts = sorted({len(r.training_seeds.seeds) for r in pooled})  # type: ignore[union-attr]
    which = "every row pools" if len(pooled) == len(records) else \
        "rows " + ", ".join(sorted({r.label for r in pooled})) + " pool"
    intervals = "their intervals, Δ rows included," if differences else "their intervals"
    return (f"Training seeds: {which} {'/'.join(map(str, counts))} trainings with different "
            f"seeds (mean over seeds); {intervals} are a two-level bootstrap over training seeds "
            "and test videos (vposebench.seed_bootstrap), so they cover training noise as well as "
            "test sampling.")


def interval_notes(records: list[ResultRecord]) -> list[str]:
    """The notes on what a table's intervals cover: the Δ rows, and training seeds if pooled."""
    note = seed_note(records)
    return [DIFF_NOTE] if note is None else [DIFF_NOTE, note]
