"""The evaluate stage of `vposebench run`: score a prediction folder under its protocol.

Reads the GT folder and the predictions (never predicts or converts), builds the metric from
the protocol's options and its companion metrics (``COMPANIONS``: keypoint HOTA on the
PoseTrack protocols, temporal stability on every protocol), computes the bootstrap intervals,
the dataset's breakdowns (the parts of the split its adapter names: `VideoDataset.breakdowns`:
condition subsets, occluded joints, frame groups) and the paired differences against the
compared evaluations, overall and on each breakdown that is a result of its own, and writes
them as one JSON file in the cache.
"""

from __future__ import annotations

import dataclasses
import functools
from typing import Any

import numpy as np

from .atomic import write_json
from .bootstrap import BootstrapReport, bootstrap, paired_bootstrap
from .metrics.base import MetricResult
from .metrics.frame_groups import FrameGroups
from .plan import EvaluationPlan
from .records import Comparison, Estimate, MetricTable, metric_table_from_dict, metric_table_to_dict
from .seed_bootstrap import paired_seed_bootstrap, seed_bootstrap
from .structures import VideoGT

#: metrics scored beside the protocol's own, with their default options, and the headline
#: cells of each that a record keeps (`{protocol metric: {companion: cells}}`)
COMPANIONS: dict[str, dict[str, tuple[str, ...]]] = {
    "posetrack": {"hota": ("HOTA/Total", "DetA/Total", "AssA/Total", "LocA/Total"),
                  "stability": ("AccelErr/Mean", "Jitter/Mean")},
    "pck": {"stability": ("AccelErr/Mean", "Jitter/Mean")},
}


def estimates(report: BootstrapReport, cells: tuple[str, ...] | None = None) -> MetricTable:
    """A bootstrap report as a record's metric table (`{table: {column: value [lo, hi]}}`),
    only `cells` (``"<table>/<column>"``) when given."""
    table: MetricTable = {}
    for key, interval in report.intervals.items():
        if cells is not None and key not in cells:
            continue
        name, column = key.split("/", 1)
        table.setdefault(name, {})[column] = Estimate(interval.value, interval.lo, interval.hi)
    return table


@dataclasses.dataclass
class Scored:
    """One evaluation scored by the protocol's metric and its companions: per metric, the
    result of each of the model's trainings (one unless it has several training seeds) and the
    headline cells a record keeps (None for all). Several trainings are pooled by the
    two-level bootstrap over seeds and videos (`vposebench.seed_bootstrap`); one is the plain
    bootstrap over videos."""

    parts: list[tuple[list[MetricResult], tuple[str, ...] | None]]

    def map(self, change: Any) -> Scored:
        """The same metrics with every result replaced by ``change(result)``."""
        return Scored([([change(r) for r in results], cells) for results, cells in self.parts])

    def table(self, seed: int, ev: EvaluationPlan) -> MetricTable:
        """Values with bootstrap intervals, every metric's cells in one table."""
        out: MetricTable = {}
        resamples, level = ev.protocol.intervals.resamples, ev.protocol.intervals.level
        for results, cells in self.parts:
            report = bootstrap(results[0], resamples, seed=seed, level=level) if len(results) == 1 \
                else seed_bootstrap(results, resamples, seed=seed, level=level)
            out.update(estimates(report, cells))
        return out

    def paired(self, other: Scored, seed: int, ev: EvaluationPlan, paired_seeds: bool = False) -> MetricTable:
        """Paired differences (this minus `other`), metric by metric, same video draws (and the
        same seed draws when `paired_seeds`: both sides trained with the same seeds)."""
        out: MetricTable = {}
        resamples, level = ev.protocol.intervals.resamples, ev.protocol.intervals.level
        for (mine, cells), (theirs, _) in zip(self.parts, other.parts):
            if len(mine) == len(theirs) == 1:
                report = paired_bootstrap(mine[0], theirs[0], resamples, seed=seed, level=level)
            else:
                report = paired_seed_bootstrap(mine, theirs, resamples, seed=seed, level=level,
                                               paired_seeds=paired_seeds)
            out.update(estimates(report, cells))
        return out

    def per_seed(self) -> dict[str, list[float]]:
        """Each training's number of every kept headline cell (``"<table>/<column>"``)."""
        out: dict[str, list[float]] = {}
        for results, cells in self.parts:
            heads = [r.headline() for r in results]
            for key in heads[0]:
                if cells is None or key in cells:
                    out[key] = [float(h[key]) for h in heads]
        return out

    @property
    def trainings(self) -> int:
        return len(self.parts[0][0])

    @property
    def main(self) -> MetricResult:
        """The protocol metric's result of the first training."""
        return self.parts[0][0][0]


def score(ev: EvaluationPlan) -> Scored:
    """The protocol's metric and its companions on the evaluation's prediction folder and on
    those of its replicas (the model's other trainings)."""
    from .registry import METRICS

    folders = [ev.predictions, *(replica.predictions for replica in ev.replicas)]
    metric = ev.protocol.build_metric()
    main = [metric.evaluate(ev.gt, folder) for folder in folders]
    companions = [([METRICS.get(name)().evaluate(ev.gt, folder) for folder in folders], cells)
                  for name, cells in COMPANIONS.get(ev.protocol.metric, {}).items()]
    return Scored([(main, None), *companions])


class GroundTruth:
    """The test split's videos as evaluated (temporal stride applied), each loaded once, and
    their frame groups."""

    def __init__(self, dataset: Any, ev: EvaluationPlan, videos: list[str]) -> None:
        self.dataset, self.ev, self.names = dataset, ev, videos
        self._videos: dict[str, VideoGT] = {}

    def video(self, name: str) -> VideoGT:
        if name not in self._videos:
            self._videos[name] = self.ev.dataset.load(self.dataset, name)
        return self._videos[name]

    @functools.cached_property
    def groups(self) -> FrameGroups:
        return FrameGroups.of(self.video(name) for name in self.names)

    @functools.cached_property
    def breakdowns(self) -> dict[str, Any]:
        """The dataset's breakdowns (`VideoDataset.breakdowns`) by name."""
        return {part.name: part for part in self.dataset.breakdowns()}


def joint_mask(result: Any, truth: GroundTruth, flag: str) -> np.ndarray:
    """(N_gt, 15) internal-order mask of the GT joints whose person's per-joint `flag` is set
    (rows of `result.gt_persons()`; videos outside the result stay unselected)."""
    from .metrics.posetrack_data import to_internal_joints

    rows = result.gt_persons()
    names = result.data.videos
    selected = set(result.videos)
    flags = np.zeros((len(rows["video"]), truth.dataset.skeleton.num_joints), dtype=bool)
    for i, (v, f, p) in enumerate(zip(rows["video"], rows["frame"], rows["index_in_frame"])):
        if names[v] not in selected:
            continue
        value = getattr(truth.video(names[v]).frames[f].persons[p], flag)
        if value is not None:
            flags[i] = value
    return to_internal_joints(flags)


def restricted(scored: Scored, part: Any, truth: GroundTruth) -> Scored | str:
    """`scored` on a video or frame-group breakdown; a reason text when it cannot be."""
    if part.videos is not None:
        return scored.map(lambda r: r.subset(list(part.videos)))
    if truth.groups.counts()[part.frame_group] == 0:
        return f"breakdown {part.name!r} left out: no GT person-frame in the group"
    try:
        return scored.map(lambda r: r.group(truth.groups, part.frame_group))
    except NotImplementedError as exc:
        return f"breakdown {part.name!r} left out: {exc}"


def result_parts(scored: Scored, truth: GroundTruth) -> tuple[dict[str, Scored], list[str]]:
    """`scored` on each of the dataset's video and frame-group breakdowns, and notes on those
    left out."""
    out, notes = {}, []
    for part in truth.breakdowns.values():
        if part.joint_flag is not None:
            continue
        found = restricted(scored, part, truth)
        if isinstance(found, str):
            notes.append(found)
        else:
            out[part.name] = found
    return out, notes


#: a record note: the joint-flag breakdowns are computed on one training
JOINT_FLAG_NOTE = ("breakdowns on flagged joints (e.g. occluded) are of the first training seed "
                   "only, without intervals")


def joint_tables(scored: Scored, truth: GroundTruth) -> tuple[dict[str, MetricTable], list[str]]:
    """Metric tables on each joint-flag breakdown (no intervals), and notes on those left out."""
    out: dict[str, MetricTable] = {}
    notes = []
    result = scored.main
    for part in truth.breakdowns.values():
        if part.joint_flag is None:
            continue
        if hasattr(result, "select_gt_joints"):
            chosen = result.select_gt_joints(joint_mask(result, truth, part.joint_flag))
            out[part.name] = {"AP": {"Total": Estimate(chosen["AP"][-1])},
                              "TrackRec": {"Total": Estimate(chosen["tracking_recall"][-1])}}
        else:
            notes.append(f"breakdown {part.name!r} left out: the {result.metric} metric "
                         "cannot select GT joints")
    return out, notes


def comparisons(mine: Scored, my_parts: dict[str, Scored], others: list[tuple[EvaluationPlan, Scored]],
                truth: GroundTruth, ev: EvaluationPlan, seed: int) -> list[Comparison]:
    """Paired differences (this minus each other) overall and on each breakdown in `my_parts`
    (column ``<column>:<breakdown>``)."""
    out = []
    for other, theirs in others:
        pairs = [("", mine, theirs)]
        for name, part in my_parts.items():
            found = restricted(theirs, truth.breakdowns[name], truth)
            if not isinstance(found, str):
                pairs.append((f":{name}", part, found))
        # trained with the same seeds (training i of each from the same start): seeds paired
        paired_seeds = len(ev.training_seeds) > 1 and ev.training_seeds == other.training_seeds
        for suffix, a, b in pairs:
            for table, columns in a.paired(b, seed, ev, paired_seeds).items():
                for column, difference in columns.items():
                    out.append(Comparison(other.record_key, table, column + suffix, difference))
    return out


def evaluate(ev: EvaluationPlan, compared: tuple[EvaluationPlan, ...], seed: int) -> str:
    """Score `ev` (and the compared evaluations, for the paired differences); write the output."""
    scored = score(ev)
    truth = GroundTruth(ev.dataset.open(), ev, scored.main.videos)
    parts, notes = result_parts(scored, truth)
    joints, joint_notes = joint_tables(scored, truth)
    breakdowns = {name: part.table(seed, ev) for name, part in parts.items()}
    breakdowns.update(joints)
    others = [(other, score(other)) for other in compared]
    found = comparisons(scored, parts, others, truth, ev, seed)
    groups = truth.groups.to_dict() if any(p.frame_group for p in truth.breakdowns.values()) else None
    write_json(ev.evaluation, {
        "videos": len(scored.main.videos),
        "metrics": metric_table_to_dict(scored.table(seed, ev)),
        "breakdowns": {k: metric_table_to_dict(v) for k, v in breakdowns.items()},
        "comparisons": [{"other": c.other, "table": c.table, "column": c.column,
                         "difference": c.difference.to_dict()} for c in found],
        "frame_groups": groups,
        "training_seeds": None if scored.trainings == 1 else
        {"seeds": ev.training_seeds, "per_seed": scored.per_seed(), "interval": "seed+video"},
        "notes": list(scored.main.summary().get("notes", [])) + notes + joint_notes
        + ([] if scored.trainings == 1 else [JOINT_FLAG_NOTE] if joints else []),
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
        "frame_groups": data.get("frame_groups"),
        "training_seeds": data.get("training_seeds"),
        "notes": list(data["notes"]),
    }
