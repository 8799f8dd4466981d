"""Regression check: re-compute a preset's committed records and compare.

The reference is results/<preset> (--preset) or any folder written by `vposebench run`
(--results); its run.json says which preset made it. The preset is run again in a fresh
cache (models retrained with the current code; --reuse-cache keeps cached models and
predictions and re-evaluates and re-times only), and every committed record is compared with
its re-computed counterpart: accuracy (AP and MOTA Total, PCK Mean) against the committed 95 %
interval, speed as the ratio FPS / reference-method FPS, both measured in this run. Prints one
table, including what was not compared and why; exit status 1 only on a regression.
"""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path

from ..engines import add_engine_arguments, engine_for
from ..errors import UserError
from ..experiments import PRESETS, get_preset
from ..formats import load_json
from ..outputs import check_output_folder
from ..pipeline import DEFAULT_CACHE, Pipeline, RunOptions, reference_folder, run_folder
from ..progress import TqdmProgress
from ..regression import DEFAULT_SPEED_TOLERANCE, REFERENCE_METHOD, check_records, render_report
from ..results_store import ResultsStore, require_records
from .run_cmd import validate

NAME = "check"


def configure(parser: argparse.ArgumentParser) -> None:
    which = parser.add_mutually_exclusive_group()
    which.add_argument("--preset", choices=sorted(PRESETS),
                       help="check the committed reference results/<preset> (default: default)")
    which.add_argument("--results", type=Path, help="check the records of this folder instead")
    parser.add_argument("--methods", help="comma-separated methods to check (default: all)")
    parser.add_argument("--speed-tolerance", type=float, default=DEFAULT_SPEED_TOLERANCE,
                        help=f"allowed drop of FPS / reference FPS (default: {DEFAULT_SPEED_TOLERANCE})")
    parser.add_argument("--skip-speed", action="store_true",
                        help="compare accuracy only (e.g. on a machine busy with other work)")
    parser.add_argument("--reference-method", default=REFERENCE_METHOD,
                        help=f"the method speed ratios are taken against (default: {REFERENCE_METHOD})")
    parser.add_argument("--cache", type=Path, default=Path(DEFAULT_CACHE) / "check",
                        help="where the re-run trains (emptied first unless --reuse-cache)")
    parser.add_argument("--reuse-cache", action="store_true",
                        help="keep cached data, models and predictions (checks evaluation and speed only)")
    parser.add_argument("--out", type=Path,
                        help="where the re-computed records go (default: runs/check-<preset>)")
    parser.add_argument("--workers", type=int, help="processes (default: as the committed run)")
    add_engine_arguments(parser)
    parser.add_argument("--quiet", action="store_true", help="no progress output")


def run(args: argparse.Namespace) -> int:
    validate(args)
    check_output_folder(args.cache, "--cache")
    folder = args.results or reference_folder(args.preset or "default")
    committed = require_records(ResultsStore(folder))
    manifest_path = folder / "run.json"
    manifest = load_json(manifest_path)
    if not isinstance(manifest, dict) or "preset" not in manifest:
        raise UserError("not a run manifest (no 'preset')", path=manifest_path, field="preset")
    if args.preset and manifest["preset"] != args.preset:
        raise UserError(f"was made by preset {manifest['preset']!r}, not {args.preset!r}",
                        path=manifest_path, field="preset")
    preset = get_preset(manifest["preset"])
    if args.methods:
        methods = [m.strip() for m in args.methods.split(",") if m.strip()]
        preset = preset.select_methods(methods)
        committed = [r for r in committed if r.method in methods]
    if not 0 <= args.speed_tolerance < 1:
        raise UserError("must be in [0, 1)", field="--speed-tolerance")
    out = args.out or run_folder(f"check-{preset.name}")
    check_output_folder(out, "--out")
    if out.resolve() == folder.resolve():
        raise UserError("must not be the checked folder", field="--out")
    for stale in (args.cache if not args.reuse_cache else None, out / "records"):
        if stale is not None and stale.exists():
            shutil.rmtree(stale)
    options = RunOptions(cache=args.cache, results=out, device=manifest.get("device", "cpu"),
                         threads=manifest.get("threads", 1),
                         workers=args.workers or manifest.get("workers", 2),
                         force=True, seed=manifest.get("seed", 0))
    progress = TqdmProgress(enabled=not args.quiet, prefix="check")
    try:
        with engine_for(args.cluster, options.workers, options.device) as engine:
            current = Pipeline(preset, options, progress, engine).run().records
    finally:
        progress.close()
    report = check_records(committed, current, reference_method=args.reference_method,
                           speed_tolerance=None if args.skip_speed else args.speed_tolerance)
    print(render_report(report), end="")
    print(f"re-computed records in {out / 'records'}")
    return 0 if report.ok else 1
