"""The evaluate stage of `vposebench run`: score a prediction folder under its protocol.

Reads the GT folder and the predictions (never predicts or converts), builds the metric from
the protocol's options, computes the bootstrap intervals, the dataset's breakdowns (the parts
of the split its adapter names: `VideoDataset.breakdowns`) and the paired differences against
the compared evaluations, and writes them as one JSON file in the cache.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .atomic import write_json
from .bootstrap import BootstrapReport, bootstrap, paired_bootstrap
from .plan import EvaluationPlan
from .records import Comparison, Estimate, MetricTable, metric_table_from_dict, metric_table_to_dict


def estimates(report: BootstrapReport) -> MetricTable:
    """A bootstrap report as a record's metric table (`{table: {column: value [lo, hi]}}`)."""
    table: MetricTable = {}
    for key, interval in report.intervals.items():
        name, column = key.split("/", 1)
        table.setdefault(name, {})[column] = Estimate(interval.value, interval.lo, interval.hi)
    return table


def joint_mask(result: Any, dataset: Any, ev: EvaluationPlan, flag: str) -> np.ndarray:
    """(N_gt, 15) internal-order mask of the GT joints whose person's per-joint `flag` is set
    (rows of `result.gt_persons()`; videos outside the result stay unselected)."""
    from .metrics.posetrack_data import to_internal_joints

    rows = result.gt_persons()
    names = result.data.videos
    videos = {name: ev.dataset.load(dataset, name) for name in result.videos}
    flags = np.zeros((len(rows["video"]), dataset.skeleton.num_joints), dtype=bool)
    for i, (v, f, p) in enumerate(zip(rows["video"], rows["frame"], rows["index_in_frame"])):
        video = videos.get(names[v])
        value = None if video is None else getattr(video.frames[f].persons[p], flag)
        if value is not None:
            flags[i] = value
    return to_internal_joints(flags)


def breakdown_tables(result: Any, dataset: Any, ev: EvaluationPlan, seed: int) -> tuple[dict, list[str]]:
    """Metric tables on each of the dataset's breakdowns, and notes on those left out."""
    out: dict[str, MetricTable] = {}
    notes = []
    for part in dataset.breakdowns():
        selected = result.subset(list(part.videos)) if part.videos is not None else result
        if part.joint_flag is None:
            out[part.name] = estimates(bootstrap(selected, ev.protocol.intervals.resamples, seed=seed,
                                                 level=ev.protocol.intervals.level))
        elif hasattr(selected, "select_gt_joints"):
            chosen = selected.select_gt_joints(joint_mask(selected, dataset, ev, part.joint_flag))
            out[part.name] = {"AP": {"Total": Estimate(chosen["AP"][-1])},
                              "TrackRec": {"Total": Estimate(chosen["tracking_recall"][-1])}}
        else:
            notes.append(f"breakdown {part.name!r} left out: the {ev.protocol.metric} metric "
                         "cannot select GT joints")
    return out, notes


def comparisons(result: Any, others: list[tuple[EvaluationPlan, Any]], dataset: Any,
                ev: EvaluationPlan, seed: int) -> list[Comparison]:
    """Paired differences (this minus each other) overall and on each video breakdown."""
    parts = [("", None)] + [(f":{b.name}", list(b.videos)) for b in dataset.breakdowns()
                            if b.videos is not None and b.joint_flag is None]
    out = []
    for other, theirs in others:
        for suffix, videos in parts:
            a, b = (result, theirs) if videos is None else (result.subset(videos), theirs.subset(videos))
            report = paired_bootstrap(a, b, ev.protocol.intervals.resamples, seed=seed,
                                      level=ev.protocol.intervals.level)
            for key, interval in report.intervals.items():
                table, column = key.split("/", 1)
                out.append(Comparison(other.record_key, table, column + suffix,
                                      Estimate(interval.value, interval.lo, interval.hi)))
    return out


def evaluate(ev: EvaluationPlan, compared: tuple[EvaluationPlan, ...], seed: int) -> str:
    """Score `ev` (and the compared evaluations, for the paired differences); write the output."""
    metric = ev.protocol.build_metric()
    result = metric.evaluate(ev.gt, ev.predictions)
    dataset = ev.dataset.open()
    breakdowns, notes = breakdown_tables(result, dataset, ev, seed)
    others = [(other, metric.evaluate(other.gt, other.predictions)) for other in compared]
    write_json(ev.evaluation, {
        "videos": len(result.videos),
        "metrics": metric_table_to_dict(estimates(bootstrap(
            result, ev.protocol.intervals.resamples, seed=seed, level=ev.protocol.intervals.level))),
        "breakdowns": {k: metric_table_to_dict(v) for k, v in breakdowns.items()},
        "comparisons": [{"other": c.other, "table": c.table, "column": c.column,
                         "difference": c.difference.to_dict()}
                        for c in comparisons(result, others, dataset, ev, seed)],
        "notes": list(result.summary().get("notes", [])) + notes,
    })
    return str(ev.evaluation)


def read_evaluation(data: dict[str, Any]) -> dict[str, Any]:
    """The evaluate stage's output with its tables parsed."""
    return {
        "videos": data["videos"],
        "metrics": metric_table_from_dict(data["metrics"]),
        "breakdowns": {k: metric_table_from_dict(v) for k, v in data["breakdowns"].items()},
        "comparisons": [Comparison(c["other"], c["table"], c["column"], Estimate.from_dict(c["difference"]))
                        for c in data["comparisons"]],
        "notes": list(data["notes"]),
    }
