"""The TFC paper's tables and Fig. 3 (Li, Xu, Zhang, ICIP 2019) as views over tagged records."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from ..records import ResultRecord
from ..registry import register_table
from .base import Table
from .common import (
    DIFF_NOTE,
    GROUP_NOTE,
    PCK_COLUMNS,
    group_columns,
    interval_notes,
    labelled_frame,
    metric_on,
    metric_rows,
    seed_note,
    tagged,
)

if TYPE_CHECKING:
    from ..metrics.pck import PCKOptions

NORMALISER_TEXT = {"box": "max(w, h) of the GT person box", "torso": "the GT torso length"}


def pck_options(record: ResultRecord) -> PCKOptions:
    """The PCK options a record was scored with (the metric's defaults where unset)."""
    from ..metrics.pck import PCKOptions  # the metrics render through tables.base: import late

    return PCKOptions(**record.protocol.metric_options)


def pck_note(records: list[ResultRecord]) -> str:
    """What PCK means in these records, from their protocols' metric options."""
    options = [pck_options(r) for r in records]
    settings = sorted({(o.alpha, o.normaliser, o.all_joints) for o in options})
    parts = [f"PCK@{alpha:g}: distance <= {alpha:g} * {NORMALISER_TEXT.get(norm, norm)}; group = "
             f"mean of the pair; Mean = hits / trials pooled over "
             f"{'all joints' if every else 'the 13 table joints'}." for alpha, norm, every in settings]
    return " | ".join(parts) or "PCK: no records."


def _pck_table(records: list[ResultRecord], tag: str, title: str) -> Table:
    chosen = tagged(records, tag)
    columns = {**{c: ("PCK", c, None) for c in PCK_COLUMNS}, **group_columns("PCK", "Mean", " Mean")}
    return Table(tag, title, labelled_frame(metric_rows(chosen, columns), "method"),
                 notes=[pck_note(chosen), *interval_notes(chosen), GROUP_NOTE])


@register_table("tfc-table1")
def jhmdb_table(records: list[ResultRecord]) -> Table:
    """TFC Table 1 layout: per-joint PCK on the sub-JHMDB-style protocol."""
    return _pck_table(records, "tfc-table1", "TFC Table 1 layout: PCK, sub-JHMDB protocol")


@register_table("tfc-table2")
def penn_table(records: list[ResultRecord]) -> Table:
    """TFC Table 2 layout: per-joint PCK on the Penn-Action-style protocol."""
    return _pck_table(records, "tfc-table2", "TFC Table 2 layout: PCK, Penn Action protocol")


def downsampling_rate(record: ResultRecord) -> int:
    return record.protocol.temporal_stride


@register_table("tfc-fig3")
def downsampling_table(records: list[ResultRecord]) -> Table:
    """TFC Fig. 3 as a table: PCK Mean per temporal downsampling rate and method."""
    chosen = tagged(records, "tfc-fig3")
    rates = sorted({downsampling_rate(r) for r in chosen})
    labels = sorted({r.label for r in chosen})
    rows = []
    for label in labels:
        row: dict = {"method": label}
        for rate in rates:
            match = [r for r in chosen if r.label == label and downsampling_rate(r) == rate]
            row[f"{rate}x"] = metric_on(match[0], "PCK", "Mean") if match else None
        rows.append(row)
    rows += _rate_differences(chosen, rates)
    notes = [pck_note(chosen), *filter(None, [seed_note(chosen)])]
    if len(rows) > len(labels):
        notes.insert(1, DIFF_NOTE)
    return Table("tfc-fig3", "TFC Fig. 3: PCK Mean under temporal downsampling",
                 pd.DataFrame(rows), notes=notes)


def _rate_differences(records: list[ResultRecord], rates: list[int]) -> list[dict]:
    """One "Δ A − B" row per pair of labels with a paired PCK Mean difference, per rate."""
    by_key = {r.key: r for r in records}
    found: dict[tuple[str, str], dict[str, object]] = {}
    for record in records:
        for comp in record.comparisons:
            other = by_key.get(comp.other)
            if other is None or comp.table != "PCK" or comp.column != "Mean":
                continue
            row = found.setdefault((record.label, other.label), {})
            row[f"{downsampling_rate(record)}x"] = comp.difference
    return [{"method": f"Δ {a} − {b}", **{f"{rate}x": cells.get(f"{rate}x") for rate in rates}}
            for (a, b), cells in sorted(found.items())]


def plot_downsampling(records: list[ResultRecord], out: str | os.PathLike[str]) -> Path:
    """Write the Fig. 3 curve (PCK Mean vs downsampling rate, 95 % bands) as a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from ..atomic import atomic_write

    chosen = tagged(records, "tfc-fig3")
    fig, ax = plt.subplots(figsize=(5, 3.5), dpi=120)
    for label in sorted({r.label for r in chosen}):
        points = sorted((downsampling_rate(r), metric_on(r, "PCK", "Mean")) for r in chosen if r.label == label)
        xs = [x for x, _ in points]
        ys = [m.value for _, m in points]
        ax.plot(xs, ys, marker="o", label=label)
        lows = [m.ci_low if m.ci_low is not None else m.value for _, m in points]
        highs = [m.ci_high if m.ci_high is not None else m.value for _, m in points]
        ax.fill_between(xs, lows, highs, alpha=0.2)
    ax.set_xlabel("temporal downsampling rate")
    alphas = sorted({pck_options(r).alpha for r in chosen})
    ax.set_ylabel(f"PCK@{'/'.join(f'{a:g}' for a in alphas) or 'alpha'} Mean (%)")
    ax.set_title("Robustness to temporal downsampling")
    ax.grid(alpha=0.3)
    if chosen:
        ax.legend()
    fig.tight_layout()
    path = Path(out)
    with atomic_write(path, "wb") as handle:
        fig.savefig(handle, format="png")
    plt.close(fig)
    return path
