"""Regression check: re-run the configurations of the committed records and compare.

Reads RESULTS/run.json (which preset made the records), runs that preset again (or only
--methods) in a fresh cache, so models are retrained with the current code, and compares
each new record with the committed one of the same key: a headline accuracy (AP and MOTA
Total, PCK Mean) outside the committed 95 % interval fails, and so does a speed ratio
against the `baseline` method, measured in the same run, that drops by more than
--speed-tolerance. Prints a readable diff; exit status 1 when anything failed.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
from pathlib import Path

from ..errors import UserError
from ..experiments import get_preset
from ..formats import load_json
from ..pipeline import Pipeline, RunOptions
from ..regression import DEFAULT_SPEED_TOLERANCE, check_records, render_report
from ..results_store import ResultsStore, require_records
from .run_cmd import DEFAULT_CACHE, TqdmProgress

NAME = "check"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--results", type=Path, default=Path("results/default"),
                        help="committed results folder (default: results/default)")
    parser.add_argument("--methods", help="comma-separated methods to check (default: all)")
    parser.add_argument("--speed-tolerance", type=float, default=DEFAULT_SPEED_TOLERANCE,
                        help=f"allowed drop of FPS / baseline FPS (default: {DEFAULT_SPEED_TOLERANCE})")
    parser.add_argument("--cache", type=Path, default=Path(DEFAULT_CACHE) / "check",
                        help="where the re-run trains (emptied first unless --reuse-cache)")
    parser.add_argument("--reuse-cache", action="store_true",
                        help="keep cached data, models and predictions (checks evaluation and speed only)")
    parser.add_argument("--workers", type=int, help="processes (default: as the committed run)")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")


def run(args: argparse.Namespace) -> int:
    committed = require_records(ResultsStore(args.results))
    manifest_path = args.results / "run.json"
    manifest = load_json(manifest_path)
    if not isinstance(manifest, dict) or "preset" not in manifest:
        raise UserError("not a run manifest (no 'preset')", path=manifest_path, field="preset")
    preset = get_preset(manifest["preset"])
    if args.methods:
        methods = [m.strip() for m in args.methods.split(",") if m.strip()]
        preset = preset.select_methods(methods)
        committed = [r for r in committed if r.method in methods]
    if not 0 <= args.speed_tolerance < 1:
        raise UserError("must be in [0, 1)", field="--speed-tolerance")
    if args.cache.exists() and not args.reuse_cache:
        shutil.rmtree(args.cache)
    with tempfile.TemporaryDirectory(prefix="vposebench-check-") as fresh:
        options = RunOptions(cache=args.cache, results=Path(fresh), device=manifest.get("device", "cpu"),
                             threads=manifest.get("threads", 1),
                             workers=args.workers or manifest.get("workers", 2),
                             force=True, seed=manifest.get("seed", 0))
        progress = TqdmProgress(enabled=not args.quiet)
        try:
            current = Pipeline(preset, options, progress).run().records
        finally:
            progress.close()
    report = check_records(committed, current, speed_tolerance=args.speed_tolerance)
    print(render_report(report), end="")
    return 0 if report.ok else 1
