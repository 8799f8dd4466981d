"""The leaderboard: every record, grouped by dataset, best first."""

from __future__ import annotations

import pandas as pd

from ..records import Estimate, ResultRecord
from ..registry import register_table
from .base import Table
from .common import FRAME_GROUPS, SPEED_NOTE, seed_note, speed_cells


def _dataset_label(record: ResultRecord) -> str:
    ds = record.dataset
    parts = [ds["name"], ds["split"]]
    if ds.get("subset"):
        parts.append(ds["subset"])
    return "/".join(parts)


def _headline(record: ResultRecord) -> tuple[str, str]:
    """The (table, column) a record is ranked by: PCK Mean, else AP Total."""
    return ("PCK", "Mean") if record.protocol.metric == "pck" else ("AP", "Total")


def _primary(record: ResultRecord) -> dict[str, Estimate | None]:
    if record.protocol.metric == "pck":
        cells: dict[str, Estimate | None] = {"AP": None, "MOTA": None, "HOTA": None,
                                             "PCK": record.metric("PCK", "Mean")}
    else:
        cells = {"AP": record.metric("AP", "Total"), "MOTA": record.metric("MOTA", "Total"),
                 "HOTA": record.metric("HOTA", "Total"), "PCK": None}
    return {k: (None if v is not None and v.value is None else v) for k, v in cells.items()}


def _groups_and_stability(record: ResultRecord) -> dict[str, Estimate | None]:
    """The headline metric on each frame group, acceleration error and jitter (Mean)."""
    table, column = _headline(record)
    cells = {g: record.metric(table, column, g) for g in FRAME_GROUPS}
    cells.update({"AccelErr": record.metric("AccelErr", "Mean"), "Jitter": record.metric("Jitter", "Mean")})
    return {k: (None if v.value is None else v) for k, v in cells.items()}


@register_table("leaderboard")
def leaderboard(records: list[ResultRecord]) -> Table:
    """Methods x datasets: AP, MOTA or PCK with 95 % intervals, FPS, memory, parameters, FLOPs."""
    rows, ranked = [], []
    for record in records:
        if record.protocol.temporal_stride != 1:
            continue  # downsampled test videos are a robustness curve (tfc-fig3), not a ranking
        ranked.append(record)
        primary = _primary(record)
        score = next((m.value for m in primary.values() if m is not None and m.value is not None), None)
        rows.append({"Dataset": _dataset_label(record), "Method": record.label, **primary,
                     **_groups_and_stability(record), **speed_cells(record),
                     "_score": -1e9 if score is None else score})
    frame = pd.DataFrame(rows)
    if not frame.empty:
        frame = frame.sort_values(["Dataset", "_score"], ascending=[True, False], kind="stable")
        frame = frame.drop(columns="_score")
        frame = frame.dropna(axis=1, how="all")
    return Table("leaderboard", "Leaderboard", frame.reset_index(drop=True),
                 notes=["AP / MOTA: PoseTrack Total (official rules); HOTA: keypoint HOTA Total "
                        "(PoseTrack21 kit); PCK: Mean pooled over the table joints; [95 % bootstrap "
                        "interval over videos].",
                        "degraded / recovery / clean: AP Total (PCK Mean) on that frame group only "
                        "(inside a burst; the first frames after one; the rest). AccelErr / Jitter: "
                        "temporal stability, Mean, % of the person size per frame^2, lower is better.",
                        SPEED_NOTE, *filter(None, [seed_note(ranked, differences=False)])])
