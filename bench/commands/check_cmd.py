"""Regression check: re-compute a plan's committed records and compare.

The reference is results/<preset> (--preset), results/<plan name> (--plan FILE) or any folder
written by `vposebench run` (--results DIR); its run.json says which plan made it (a built-in
preset by name, a plan file by its path relative to the folder), so `--results DIR` alone
finds the plan; --plan FILE names it explicitly. The plan is run again in a fresh
cache (models retrained with the current code; --reuse-cache keeps cached models and
predictions and re-evaluates and re-times only), and every committed record is compared with
its re-computed counterpart: accuracy (AP and MOTA Total, PCK Mean) against the committed 95 %
interval, speed as the ratio FPS / reference-method FPS, both measured in this run. Prints one
table, including what was not compared and why; exit status 1 only on a regression.
"""

from __future__ import annotations

import argparse
import dataclasses
import shutil
from pathlib import Path

from ..engines import add_engine_arguments, engine_for
from ..errors import UserError
from ..experiments import ExperimentPlan, get_preset
from ..formats import load_json
from ..hashing import file_digest
from ..outputs import check_output_folder
from ..pipeline import DEFAULT_CACHE, Pipeline, RunOptions, reference_folder, run_folder
from ..progress import TqdmProgress
from ..regression import DEFAULT_SPEED_TOLERANCE, REFERENCE_METHOD, check_records, render_report
from ..results_store import ResultsStore, require_records
from .run_cmd import add_plan_arguments, load_experiments, validate

NAME = "check"


def configure(parser: argparse.ArgumentParser) -> None:
    add_plan_arguments(parser, "check the committed reference results/<preset> (default: default, "
                       "or the plan the --results folder names)")
    parser.add_argument("--results", type=Path, help="check the records of this folder "
                        "(default: results/<preset or plan name>)")
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
                        help="where the re-computed records go (default: runs/check-<plan name>)")
    parser.add_argument("--workers", type=int, help="processes (default: as the committed run)")
    add_engine_arguments(parser)
    parser.add_argument("--quiet", action="store_true", help="no progress output")


def manifest_plan(manifest: dict, manifest_path: Path) -> ExperimentPlan:
    """The plan a results folder's run.json names: its plan file (relative to the folder) or
    its built-in preset."""
    from ..plan_file import load_plan

    if manifest.get("plan"):
        path = manifest_path.parent / manifest["plan"]
        if not path.is_file():
            raise UserError(f"names the plan file {path}, which is not there (give --plan FILE)",
                            path=manifest_path, field="plan")
        return load_plan(path)
    return get_preset(manifest["preset"])


def run(args: argparse.Namespace) -> int:
    validate(args)
    check_output_folder(args.cache, "--cache")
    given = load_experiments(args, default=None if args.results else "default")
    folder = args.results or reference_folder(given.name)
    committed = require_records(ResultsStore(folder))
    manifest_path = folder / "run.json"
    manifest = load_json(manifest_path)
    if not isinstance(manifest, dict) or "preset" not in manifest:
        raise UserError("not a run manifest (no 'preset')", path=manifest_path, field="preset")
    if given is not None and manifest["preset"] != given.name:
        kind = "preset" if args.plan is None else "plan"
        raise UserError(f"was made by plan {manifest['preset']!r}, not the {kind} {given.name!r}",
                        path=manifest_path, field="preset")
    experiments = given or manifest_plan(manifest, manifest_path)
    if experiments.source is not None and manifest.get("plan_sha256") not in (None, file_digest(experiments.source)):
        print(f"note: {experiments.source} changed since the run that made {folder}")
    seeds = manifest.get("seeds", [manifest.get("seed", 0)])
    experiments = dataclasses.replace(experiments, seeds=tuple(seeds))
    if args.methods:
        methods = [m.strip() for m in args.methods.split(",") if m.strip()]
        experiments = experiments.select_methods(methods)
        committed = [r for r in committed if r.method in methods]
    if not 0 <= args.speed_tolerance < 1:
        raise UserError("must be in [0, 1)", field="--speed-tolerance")
    out = args.out or run_folder(f"check-{experiments.name}")
    check_output_folder(out, "--out")
    if out.resolve() == folder.resolve():
        raise UserError("must not be the checked folder", field="--out")
    for stale in (args.cache if not args.reuse_cache else None, out / "records"):
        if stale is not None and stale.exists():
            shutil.rmtree(stale)
    options = RunOptions(cache=args.cache, results=out, device=manifest.get("device", "cpu"),
                         threads=manifest.get("threads", 1),
                         workers=args.workers or manifest.get("workers", 2), force=True)
    progress = TqdmProgress(enabled=not args.quiet, prefix="check")
    try:
        with engine_for(args.cluster, options.workers, options.device) as engine:
            current = Pipeline(experiments, options, progress, engine).run().records
    finally:
        progress.close()
    report = check_records(committed, current, reference_method=args.reference_method,
                           speed_tolerance=None if args.skip_speed else args.speed_tolerance)
    print(render_report(report), end="")
    print(f"re-computed records in {out / 'records'}")
    return 0 if report.ok else 1
