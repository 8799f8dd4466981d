"""`vposebench run`: experiment plan -> run plans -> graph of jobs -> engine -> records -> tables.

An experiment plan (`vposebench.experiments`, read from a plan file) becomes one run plan per
seed (`vposebench.plan`), which fixes every cache key, path, protocol and record key before
anything runs; the graph (`vposebench.graph`) holds the jobs whose outputs the cache lacks:
generate, train, predict, evaluate, time, record (`vposebench.stages`, `.evaluation`,
`.assembly`); an engine (`vposebench.jobs`: `LocalEngine`, worker processes on this machine)
runs them, each after the jobs it needs, timing jobs alone. Every output is written atomically
under a content key, so an interrupted or repeated run redoes only what is missing; `force`
recomputes the records (evaluation and speed) from the cached checkpoints and predictions.
The seeds' graphs run as one graph. Afterwards this module prunes records the plan no longer
makes, renders the tables and writes `run.json` (which names the plan file, relative to the
results folder, so that `vposebench check --results DIR` finds it).
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path
from typing import Any

from .atomic import write_json
from .errors import UserError
from .experiments import ExperimentPlan
from .graph import build_graph
from .hashing import file_digest
from .jobs import Engine, LocalEngine
from .plan import RunOptions, RunPlan, make_plan
from .progress import Progress
from .records import ResultRecord
from .results_store import ResultsStore
from .tables.output import render_tables
from .tables.sensitivity import POSITIVE, failure_line, sensitivity_failures, sensitivity_rows

__all__ = ["DEFAULT_CACHE", "Pipeline", "RunOptions", "RunResult"]

#: where data, checkpoints, predictions and stage outputs are cached (git ignores it)
DEFAULT_CACHE = ".vposebench-cache"


@dataclasses.dataclass
class RunResult:
    """What a run left in its results folder."""

    records: list[ResultRecord]
    tables: dict[str, str]  # table name -> Markdown
    written: list[str]  # keys of the records made in this run
    pruned: list[str]  # "label (key)" of each record of an earlier version of the plan, removed
    #: datasets whose positive control is not above 0 on degraded frames (`tables.sensitivity`)
    sensitivity_failures: list[str] = dataclasses.field(default_factory=list)


class Pipeline:
    """Runs one experiment plan; see the module docstring."""

    def __init__(self, experiments: ExperimentPlan, options: RunOptions,
                 progress: Progress | None = None, engine: Engine | None = None) -> None:
        self.experiments = experiments
        self.options = options
        self.progress = progress or Progress()
        self.engine = engine or LocalEngine(options.workers, gpus=1 if options.device == "cuda" else 0)
        self.store = ResultsStore(options.results)

    def plans(self) -> list[RunPlan]:
        """One run plan per seed of the experiment plan."""
        return [make_plan(self.experiments, dataclasses.replace(self.options, seed=seed))
                for seed in self.experiments.seeds]

    def run(self) -> RunResult:
        plans = self.plans()
        evaluations = [ev for plan in plans for ev in plan.evaluations]
        jobs = []
        kept = []
        for plan in plans:
            graph = build_graph(plan, self.store)
            jobs += graph.jobs
            kept += graph.kept
        for ev in kept:
            self.progress.message(f"record up to date: {ev.label} ({ev.record_key})")
        self.engine.run(jobs, self.progress)
        written = [ev.record_key for ev in evaluations if ev not in kept]
        wanted = {ev.record_key for ev in evaluations}
        pruned = [] if self.experiments.narrowed else self.prune(wanted)
        records = [self.store.load(ev.record_key) for ev in evaluations]
        tables = render_tables(records, self.options.results / "tables")
        failures = sensitivity_failures(records)
        write_json(self.options.results / "run.json",
                   {**self.manifest(plans), "sensitivity": sensitivity_verdict(records, failures)})
        return RunResult(records, tables, written, pruned, failures)

    def manifest(self, plans: list[RunPlan]) -> dict[str, Any]:
        """`run.json`: the plan (its file relative to the results folder, None for a built-in
        preset, and its content hash), the records, the data and how the run ran."""
        source = self.experiments.source
        return {
            "preset": self.experiments.name,
            "plan": None if source is None else os.path.relpath(source, self.options.results.resolve()),
            "plan_sha256": None if source is None else file_digest(source),
            "records": sorted(ev.record_key for plan in plans for ev in plan.evaluations),
            "data": None if plans[0].synth is None else plans[0].synth.to_dict(),
            "seeds": list(self.experiments.seeds), "workers": self.options.workers,
            "threads": self.options.threads, "device": self.options.device,
        }

    def prune(self, wanted: set[str]) -> list[str]:
        """Remove the records this plan no longer makes; return "label (key)" of each (the
        caller says which)."""
        removed = []
        for key in self.store.keys():
            if key not in wanted:
                try:
                    label = self.store.load(key).label
                except UserError:
                    label = "unreadable record"
                self.store.path_for(key).unlink()
                removed.append(f"{label} ({key})")
        return removed


def sensitivity_verdict(records: list[ResultRecord], failures: list[str]) -> dict:
    """What run.json says about the sensitivity check: "passed", "failed" (with the failing
    datasets and the line the run printed) or "not run" (no hold - baseline comparison)."""
    checked = any((r.first, r.second) == POSITIVE for r in sensitivity_rows(records))
    if not checked:
        return {"status": "not run"}
    if failures:
        return {"status": "failed", "failures": failures, "line": failure_line(failures)}
    return {"status": "passed"}


def reference_folder(preset: str) -> Path:
    """The committed reference records of a preset."""
    return Path("results") / preset


def run_folder(preset: str) -> Path:
    """Where `vposebench run` writes by default (git ignores `runs/`)."""
    return Path("runs") / preset
