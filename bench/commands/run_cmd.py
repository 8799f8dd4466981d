"""The main job: generate the synthetic benchmark, train every method, evaluate, time, write
result records and print the leaderboard and the paper tables.

Every stage is cached under content keys (data, checkpoints, predictions, evaluations), so
interrupting and running again resumes where it stopped. Records go to RESULTS/records/,
rendered tables (Markdown, LaTeX, CSV) and the Fig. 3 plot to RESULTS/tables/. RESULTS is
runs/<preset> (ignored by git) unless --results says otherwise; --write-reference writes the
committed reference results/<preset> instead.

Presets: quick (a smoke run of everything, a few minutes), default (every table at small
scale), full (longer training).
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from ..engines import add_engine_arguments, engine_for, validate_cluster
from ..errors import UserError
from ..experiments import PRESETS, get_preset
from ..outputs import check_output_folder
from ..pipeline import DEFAULT_CACHE, Pipeline, RunOptions, RunResult, reference_folder, run_folder
from ..progress import TqdmProgress
from ..tables.sensitivity import failure_line

NAME = "run"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--preset", default="default", choices=sorted(PRESETS),
                        help="which experiments (default: default)")
    parser.add_argument("--methods", help="comma-separated methods to run (default: all of the preset)")
    parser.add_argument("--dataset", default="synthetic", help="only the embedded 'synthetic' "
                        "benchmark is run end to end; use train/predict/evaluate for others")
    parser.add_argument("--device", default="cpu", choices=("cpu", "cuda"))
    parser.add_argument("--workers", type=int, default=min(2, os.cpu_count() or 1),
                        help="parallel worker processes (default: 2)")
    parser.add_argument("--threads", type=int, default=1, help="torch threads per process (default: 1)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--cache", type=Path,
                        default=Path(os.environ.get("VPOSEBENCH_CACHE", DEFAULT_CACHE)),
                        help=f"data, checkpoints and predictions (default: $VPOSEBENCH_CACHE or {DEFAULT_CACHE})")
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--results", type=Path,
                       help="records and tables (default: runs/<preset>, which git ignores)")
    where.add_argument("--write-reference", action="store_true",
                       help="write the committed reference results/<preset> (lists every record it removes)")
    parser.add_argument("--force", action="store_true",
                        help="recompute every record (speed included) from cached models and predictions")
    add_engine_arguments(parser)
    parser.add_argument("--quiet", action="store_true", help="no progress output")


def validate(args: argparse.Namespace) -> None:
    """User errors in the shared options of run and check."""
    for name in ("workers", "threads"):
        value = getattr(args, name, None)
        if value is not None and value < 1:
            raise UserError("must be >= 1", field=f"--{name}")
    if getattr(args, "seed", 0) < 0:
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
    if args.dataset != "synthetic":
        raise UserError(f"`run` trains and evaluates on the embedded synthetic benchmark, not "
                        f"{args.dataset!r}; use train, predict and evaluate for other datasets",
                        field="--dataset")
    validate(args)
    preset = get_preset(args.preset)
    if args.methods:
        preset = preset.select_methods([m.strip() for m in args.methods.split(",") if m.strip()])
    results = (reference_folder(preset.name) if args.write_reference
               else args.results or run_folder(preset.name))
    check_output_folder(results, "--results")
    check_output_folder(args.cache, "--cache")
    options = RunOptions(cache=args.cache, results=results, device=args.device, threads=args.threads,
                         workers=args.workers, force=args.force, seed=args.seed)
    progress = TqdmProgress(enabled=not args.quiet)
    try:
        with engine_for(args.cluster, args.workers, args.device) as engine:
            result = Pipeline(preset, options, progress, engine).run()
    finally:
        progress.close()
    print(printed_tables(result))
    print(f"{len(result.written)} records written, {len(result.records) - len(result.written)} "
          f"up to date; records in {results / 'records'}, tables in {results / 'tables'}")
    if result.pruned:
        print(f"removed {len(result.pruned)} records this preset no longer makes:")
        for item in result.pruned:
            print(f"  {item}")
    if args.write_reference:
        print(f"wrote the reference {results}: review it (git diff --stat {results}) and commit it")
    return 0
