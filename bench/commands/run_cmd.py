"""The main job: run an experiment plan (a built-in preset or a plan file): generate the
synthetic benchmark, train the plan's models, evaluate, time, write result records and print
the leaderboard and the paper tables.

Every stage is cached under content keys (data, checkpoints, predictions, evaluations), so
interrupting and running again resumes where it stopped. Records go to RESULTS/records/,
rendered tables (Markdown, LaTeX, CSV) and the Fig. 3 plot to RESULTS/tables/. RESULTS is
runs/<plan name> (ignored by git) unless --results says otherwise; --write-reference writes the
committed reference results/<plan name> instead.

Presets (plan files shipped with the package): quick (a smoke run of everything, a few
minutes), default (every table at small scale), full (longer training). --plan FILE runs any
plan file (docs/plans.md).
"""

from __future__ import annotations

import argparse
import dataclasses
import os
from pathlib import Path

from ..engines import add_engine_arguments, engine_for, validate_cluster
from ..errors import UserError
from ..experiments import ExperimentPlan, get_preset, preset_names
from ..outputs import check_output_folder
from ..pipeline import DEFAULT_CACHE, Pipeline, RunOptions, RunResult, reference_folder, run_folder
from ..progress import TqdmProgress
from ..tables.sensitivity import failure_line

NAME = "run"


def configure(parser: argparse.ArgumentParser) -> None:
    add_plan_arguments(parser, "which experiments: a built-in plan (default: default)")
    parser.add_argument("--methods", help="comma-separated methods to run (default: all of the plan)")
    parser.add_argument("--device", default="cpu", choices=("cpu", "cuda"))
    parser.add_argument("--workers", type=int, default=min(2, os.cpu_count() or 1),
                        help="parallel worker processes (default: 2)")
    parser.add_argument("--threads", type=int, default=1, help="torch threads per process (default: 1)")
    parser.add_argument("--seed", type=int, help="run this seed only (default: the plan's seeds)")
    parser.add_argument("--cache", type=Path,
                        default=Path(os.environ.get("VPOSEBENCH_CACHE", DEFAULT_CACHE)),
                        help=f"data, checkpoints and predictions (default: $VPOSEBENCH_CACHE or {DEFAULT_CACHE})")
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--results", type=Path,
                       help="records and tables (default: runs/<plan name>, which git ignores)")
    where.add_argument("--write-reference", action="store_true",
                       help="write the committed reference results/<plan name> (lists every record it removes)")
    parser.add_argument("--force", action="store_true",
                        help="recompute every record (speed included) from cached models and predictions")
    add_engine_arguments(parser)
    parser.add_argument("--quiet", action="store_true", help="no progress output")


def add_plan_arguments(parser: argparse.ArgumentParser, preset_help: str) -> None:
    """--preset NAME | --plan FILE, shared by run and check."""
    which = parser.add_mutually_exclusive_group()
    which.add_argument("--preset", choices=preset_names(), help=preset_help)
    which.add_argument("--plan", type=Path, help="an experiment plan file (TOML; docs/plans.md)")


def load_experiments(args: argparse.Namespace, default: str | None = "default") -> ExperimentPlan | None:
    """The plan --plan or --preset names (the `default` preset when neither; None if no default)."""
    from ..plan_file import load_plan

    if getattr(args, "plan", None) is not None:
        return load_plan(args.plan)
    name = args.preset or default
    return None if name is None else get_preset(name)


def narrowed(experiments: ExperimentPlan, args: argparse.Namespace) -> ExperimentPlan:
    """The plan narrowed by --methods and --seed."""
    if args.methods:
        experiments = experiments.select_methods([m.strip() for m in args.methods.split(",") if m.strip()])
    if getattr(args, "seed", None) is not None:  # the plan's other seeds' records stay
        experiments = dataclasses.replace(experiments, seeds=(args.seed,),
                                          narrowed=experiments.narrowed or experiments.seeds != (args.seed,))
    return experiments


def validate(args: argparse.Namespace) -> None:
    """User errors in the shared options of run and check."""
    for name in ("workers", "threads"):
        value = getattr(args, name, None)
        if value is not None and value < 1:
            raise UserError("must be >= 1", field=f"--{name}")
    if (getattr(args, "seed", None) or 0) < 0:
        raise UserError(f"must be 0 or more, got {args.seed}", field="--seed")
    if getattr(args, "device", "cpu") == "cuda":
        import torch

        if not torch.cuda.is_available():
            raise UserError("CUDA was asked for but torch sees no GPU", field="--device")
    validate_cluster(getattr(args, "cluster", None))


def printed_tables(result: RunResult) -> str:
    """What the run prints after it finished: every table in Markdown, then, when the
    sensitivity check failed, the one line that says so (`tables.sensitivity`)."""
    parts = list(result.tables.values())
    if result.sensitivity_failures:
        parts.append(failure_line(result.sensitivity_failures) + "\n")
    return "\n".join(parts)


def run(args: argparse.Namespace) -> int:
    validate(args)
    experiments = narrowed(load_experiments(args), args)
    results = (reference_folder(experiments.name) if args.write_reference
               else args.results or run_folder(experiments.name))
    check_output_folder(results, "--results")
    check_output_folder(args.cache, "--cache")
    options = RunOptions(cache=args.cache, results=results, device=args.device, threads=args.threads,
                         workers=args.workers, force=args.force)
    progress = TqdmProgress(enabled=not args.quiet)
    try:
        with engine_for(args.cluster, args.workers, args.device) as engine:
            result = Pipeline(experiments, options, progress, engine).run()
    finally:
        progress.close()
    print(printed_tables(result))
    print(f"{len(result.written)} records written, {len(result.records) - len(result.written)} "
          f"up to date; records in {results / 'records'}, tables in {results / 'tables'}")
    if result.pruned:
        print(f"removed {len(result.pruned)} records this plan no longer makes:")
        for item in result.pruned:
            print(f"  {item}")
    if args.write_reference:
        print(f"wrote the reference {results}: review it (git diff --stat {results}) and commit it")
    return 0
