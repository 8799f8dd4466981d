"""The PTM paper's tables (Wang et al., ICASSP 2021) as views over tagged records.

A record joins a table through its tag (the table's name); the run presets set the tags.
"""

from __future__ import annotations

from ..records import ResultRecord
from ..registry import register_table
from .base import Table
from .common import (
    GROUP_NOTE,
    SPEED_NOTE,
    group_columns,
    interval_notes,
    labelled_frame,
    metric_rows,
    speed_cells,
    tagged,
)


@register_table("ptm-table1")
def capacity_table(records: list[ResultRecord]) -> Table:
    """PTM Table 1: memory capacity sweep (total AP, total MOTA)."""
    chosen = sorted(tagged(records, "ptm-table1"), key=lambda r: r.config.get("capacity", 0))
    columns = {"total AP": ("AP", "Total", None), "total MOTA": ("MOTA", "Total", None)}
    rows = metric_rows(chosen, columns, label=lambda r: str(r.config.get("capacity")))
    return Table("ptm-table1", "PTM Table 1: memory capacity", labelled_frame(rows, "capacity"),
                 notes=interval_notes(chosen))


@register_table("ptm-table2")
def attention_table(records: list[ResultRecord]) -> Table:
    """PTM Table 2: vanilla attention vs CoDA (and auto) on the crowd subset."""
    order = {"vanilla": 0, "coda": 1, "auto": 2}
    chosen = sorted(tagged(records, "ptm-table2"),
                    key=lambda r: (order.get(str(r.config.get("attention")), 9), _coda_normalise(r) != "none"))
    columns = {
        "crowd AP": ("AP", "Total", "crowd"), "crowd MOTA": ("MOTA", "Total", "crowd"),
        "all AP": ("AP", "Total", None), "all MOTA": ("MOTA", "Total", None),
    }
    rows = metric_rows(chosen, columns, label=_attention_label)
    return Table("ptm-table2", "PTM Table 2: attention on the crowd subset", labelled_frame(rows, "attention"),
                 notes=[*interval_notes(chosen), "auto: CoDA in frames with more than `crowd_threshold` "
                        "persons, vanilla attention otherwise."])


def _coda_normalise(record: ResultRecord) -> str:
    return str(record.config.get("coda_normalise", "none"))


def _attention_label(record: ResultRecord) -> str:
    """The attention and, where CoDA is in it, how its sum is normalised (literal: no suffix)."""
    attention = str(record.config.get("attention"))
    label = {"vanilla": "vanilla attention", "coda": "CoDA", "auto": "auto"}.get(attention, attention)
    if attention != "vanilla" and _coda_normalise(record) != "none":
        label += f", normalised ({_coda_normalise(record)})"
    return label


@register_table("ptm-kfr")
def kfr_table(records: list[ResultRecord]) -> Table:
    """Keypoint feature replacement on vs off, overall and on the occlusion subset."""
    chosen = sorted(tagged(records, "ptm-kfr"), key=lambda r: bool(r.config.get("kfr")))
    columns = {
        "total AP": ("AP", "Total", None), "total MOTA": ("MOTA", "Total", None),
        "occlusion AP": ("AP", "Total", "occlusion"), "occlusion MOTA": ("MOTA", "Total", "occlusion"),
    }
    rows = metric_rows(chosen, columns,
                        label=lambda r: "KFR on" if r.config.get("kfr") else "KFR off")
    return Table("ptm-kfr", "PTM: keypoint feature replacement", labelled_frame(rows, "replacement"),
                 notes=interval_notes(chosen))


@register_table("ptm-table3")
def baseline_table(records: list[ResultRecord]) -> Table:
    """PTM Table 3: baseline vs memory module per backbone (wrists/ankles/total AP, MOTA, FPS)."""
    chosen = tagged(records, "ptm-table3")
    columns = {
        "wrists AP": ("AP", "Wri", None), "ankles AP": ("AP", "Ankl", None),
        "total AP": ("AP", "Total", None), "total MOTA": ("MOTA", "Total", None),
        **group_columns("AP", "Total", " AP"),
    }
    rows = metric_rows(chosen, columns)
    for row, rec in zip(rows, chosen):  # the record rows come first, the Δ rows after
        cells = speed_cells(rec)
        row.update({k: cells[k] for k in ("FPS", "Memory MB", "State KB")})
    return Table("ptm-table3", "PTM Table 3: baseline vs pose temporal memory",
                 labelled_frame(rows, "method"), notes=[*interval_notes(chosen), GROUP_NOTE, SPEED_NOTE])


@register_table("ptm-table5")
def sota_layout_table(records: list[ResultRecord]) -> Table:
    """PTM Table 5 layout: wrists / ankles / total as AP and MOTA, and FPS."""
    chosen = tagged(records, "ptm-table3")
    columns = {
        "wrists AP": ("AP", "Wri", None), "wrists MOTA": ("MOTA", "Wri", None),
        "ankles AP": ("AP", "Ankl", None), "ankles MOTA": ("MOTA", "Ankl", None),
        "total AP": ("AP", "Total", None), "total MOTA": ("MOTA", "Total", None),
    }
    rows = metric_rows(chosen, columns)
    for row, rec in zip(rows, chosen):  # the record rows come first, the Δ rows after
        row["FPS"] = speed_cells(rec)["FPS"]
    return Table("ptm-table5", "PTM Table 5 layout: AP / MOTA and FPS", labelled_frame(rows, "method"),
                 notes=[*interval_notes(chosen), SPEED_NOTE])
