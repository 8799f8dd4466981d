"""Rendering tables to text and files, shared by `vposebench run` and `vposebench leaderboard`."""

from __future__ import annotations

from pathlib import Path

from ..atomic import atomic_write
from ..records import ResultRecord
from ..registry import TABLES
from .base import FORMATS, Table

SUFFIX = {"markdown": "md", "latex": "tex", "csv": "csv"}


def build_tables(records: list[ResultRecord], name: str = "all") -> list[Table]:
    """The named table, or every non-empty one for "all" (unknown names fail first)."""
    if name != "all":
        return [TABLES.get(name)(records)]
    tables = [TABLES.get(n)(records) for n in TABLES.names()]
    return [t for t in tables if not t.empty]


def render_tables(records: list[ResultRecord], out: Path,
                  formats: tuple[str, ...] = FORMATS) -> dict[str, str]:
    """Write every non-empty table in every format (and the Fig. 3 plot) under `out`;
    return the Markdown of each."""
    from .tfc import plot_downsampling

    shown: dict[str, str] = {}
    for table in build_tables(records):
        for fmt in formats:
            with atomic_write(out / f"{table.name}.{SUFFIX[fmt]}") as handle:
                handle.write(table.render(fmt))
        shown[table.name] = table.render("markdown")
    if "tfc-fig3" in shown:
        plot_downsampling(records, out / "tfc-fig3.png")
    return shown
