"""The leaderboard: every record, grouped by dataset, best first."""

from __future__ import annotations

import pandas as pd

from ..records import Estimate, ResultRecord
from ..registry import register_table
from .base import Table
from .common import SPEED_NOTE, speed_cells


def _dataset_label(record: ResultRecord) -> str:
    ds = record.dataset
    parts = [ds["name"], ds["split"]]
    if ds.get("subset"):
        parts.append(ds["subset"])
    return "/".join(parts)


def _primary(record: ResultRecord) -> dict[str, Estimate | None]:
    if record.protocol.metric == "pck":
        return {"AP": None, "MOTA": None, "PCK": record.metric("PCK", "Mean")}
    return {"AP": record.metric("AP", "Total"), "MOTA": record.metric("MOTA", "Total"), "PCK": None}


@register_table("leaderboard")
def leaderboard(records: list[ResultRecord]) -> Table:
    """Methods x datasets: AP, MOTA or PCK with 95 % intervals, FPS, memory, parameters, FLOPs."""
    rows = []
    for record in records:
        if record.protocol.options.get("temporal_stride", 1) != 1:
            continue  # downsampled test videos are a robustness curve (tfc-fig3), not a ranking
        primary = _primary(record)
        score = next((m.value for m in primary.values() if m is not None and m.value is not None), None)
        rows.append({"Dataset": _dataset_label(record), "Method": record.label, **primary,
                     **speed_cells(record), "_score": -1e9 if score is None else score})
    frame = pd.DataFrame(rows)
    if not frame.empty:
        frame = frame.sort_values(["Dataset", "_score"], ascending=[True, False], kind="stable")
        frame = frame.drop(columns="_score")
        frame = frame.dropna(axis=1, how="all")
    return Table("leaderboard", "Leaderboard", frame.reset_index(drop=True),
                 notes=["AP / MOTA: PoseTrack Total (official rules); PCK: Mean pooled over the "
                        "table joints; [95 % bootstrap interval over videos].", SPEED_NOTE])
