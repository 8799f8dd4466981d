"""The main job: generate the synthetic benchmark, train every method, evaluate, time, write
result records and print the leaderboard and the paper tables.

Every stage is cached (data by config hash, checkpoints and predictions by what they depend
on, records by their key), so interrupting and running again resumes where it stopped.
Records go to RESULTS/records/, rendered tables (Markdown, LaTeX, CSV) and the Fig. 3 plot to
RESULTS/tables/ (RESULTS defaults to results/<preset>).

Presets: quick (a smoke run of everything, a few minutes), default (every table at small
scale), full (longer training).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from ..errors import UserError
from ..experiments import PRESETS, get_preset
from ..outputs import check_output_folder
from ..pipeline import Pipeline, Progress, RunOptions

NAME = "run"
DEFAULT_CACHE = ".vposebench-cache"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--preset", default="default", choices=sorted(PRESETS),
                        help="which experiments (default: default)")
    parser.add_argument("--methods", help="comma-separated methods to run (default: all of the preset)")
    parser.add_argument("--dataset", default="synthetic", help="only the embedded 'synthetic' "
                        "benchmark is run end to end; use train/predict/evaluate for others")
    parser.add_argument("--device", default="cpu", choices=("cpu", "cuda"))
    parser.add_argument("--workers", type=int, default=min(2, os.cpu_count() or 1),
                        help="parallel processes for training and prediction (default: 2)")
    parser.add_argument("--threads", type=int, default=1, help="torch threads per process (default: 1)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--cache", type=Path,
                        default=Path(os.environ.get("VPOSEBENCH_CACHE", DEFAULT_CACHE)),
                        help=f"data, checkpoints and predictions (default: $VPOSEBENCH_CACHE or {DEFAULT_CACHE})")
    parser.add_argument("--results", type=Path, help="records and tables (default: results/<preset>)")
    parser.add_argument("--force", action="store_true",
                        help="recompute every record (speed included) from cached models and predictions")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")


class TqdmProgress(Progress):
    """A tqdm bar over the run's estimated seconds (elapsed < time left), with the current
    stage as its text; without a terminal, one line per stage instead."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self.tty = sys.stderr.isatty()
        self.bar = None
        self.started = time.monotonic()

    def begin(self, total: float) -> None:
        from tqdm import tqdm

        self.bar = tqdm(total=round(total), unit="s~", disable=not (self.enabled and self.tty),
                        dynamic_ncols=True,
                        bar_format="{desc} {percentage:3.0f}%|{bar}| [{elapsed}<{remaining}]")

    def advance(self, amount: float) -> None:
        if self.bar is not None:
            self.bar.update(min(amount, max(0.0, self.bar.total - self.bar.n)))

    def stage(self, text: str) -> None:
        if self.bar is not None and self.tty:
            self.bar.set_description_str(text[:60])
        elif self.enabled:
            print(f"run: [{time.monotonic() - self.started:5.0f} s] {text}", file=sys.stderr, flush=True)

    def message(self, text: str) -> None:
        if not self.enabled:
            return
        if self.bar is not None and self.tty:
            self.bar.write(text)
        else:
            print(f"run: {text}", file=sys.stderr, flush=True)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def run(args: argparse.Namespace) -> int:
    if args.dataset != "synthetic":
        raise UserError(f"`run` trains and evaluates on the embedded synthetic benchmark, not "
                        f"{args.dataset!r}; use train, predict and evaluate for other datasets",
                        field="--dataset")
    for name in ("workers", "threads"):
        if getattr(args, name) < 1:
            raise UserError("must be >= 1", field=f"--{name}")
    if args.seed < 0:
        raise UserError(f"must be 0 or more, got {args.seed}", field="--seed")
    if args.device == "cuda":
        import torch

        if not torch.cuda.is_available():
            raise UserError("CUDA was asked for but torch sees no GPU", field="--device")
    preset = get_preset(args.preset)
    if args.methods:
        preset = preset.select_methods([m.strip() for m in args.methods.split(",") if m.strip()])
    results = args.results or Path("results") / preset.name
    check_output_folder(results, "--results")
    check_output_folder(args.cache, "--cache")
    options = RunOptions(cache=args.cache, results=results,
                         device=args.device, threads=args.threads, workers=args.workers,
                         force=args.force, seed=args.seed)
    progress = TqdmProgress(enabled=not args.quiet)
    try:
        result = Pipeline(preset, options, progress).run()
    finally:
        progress.close()
    for markdown in result.tables.values():
        print(markdown)
    print(f"{len(result.written)} records written, {len(result.records) - len(result.written)} "
          f"reused; tables in {options.results / 'tables'}")
    if result.pruned:
        print(f"removed {len(result.pruned)} records of an earlier version of this preset")
    return 0
