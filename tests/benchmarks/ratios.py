"""Compare pytest-benchmark results as ratios to the calibration benchmark of the same run.

Absolute times depend on the machine; the ratio median(benchmark) / median(calibration), both
measured in one run, is what the committed baseline (`baseline.json`) stores and what a new
run is compared with. `PAIRED` are ratios a benchmark measured itself, two workloads side by
side in each round (the memory's cost over its baseline), read from its extra_info; those
with a `LIMITS` entry fail above that limit instead of against the baseline's value.

    pytest tests/benchmarks --benchmark-enable --benchmark-json run.json
    python tests/benchmarks/ratios.py compare run.json tests/benchmarks/baseline.json
    python tests/benchmarks/ratios.py save run.json tests/benchmarks/baseline.json  # new baseline
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

REFERENCE = "test_calibration"
DEFAULT_TOLERANCE = 0.5  # a ratio may grow by 50 % before it counts as a regression

#: name -> (benchmark, extra_info key): ratios measured pairwise inside one benchmark
PAIRED = {f"ptm_overhead[{preset}]": (f"test_bench_memory_overhead[{preset}]", "ptm_over_baseline")
          for preset in ("small", "paper")}
#: upper limits of paired ratios (issue 13: the memory adds at most 10 % per frame at capacity 16)
LIMITS = {name: 1.10 for name in PAIRED}


def medians(run: dict) -> dict[str, float]:
    """Benchmark name (with parameters) -> median seconds, from pytest-benchmark's JSON."""
    return {b["name"]: float(b["stats"]["median"]) for b in run["benchmarks"]}


def ratios(run: dict, reference: str = REFERENCE) -> dict[str, float]:
    """Every benchmark over the reference, and the `PAIRED` ratios present in the run."""
    values = medians(run)
    if reference not in values:
        raise SystemExit(f"the run has no {reference!r} benchmark to divide by")
    out = {name: value / values[reference] for name, value in values.items() if name != reference}
    info = {b["name"]: b.get("extra_info", {}) for b in run["benchmarks"]}
    out.update({name: float(info[bench][key]) for name, (bench, key) in PAIRED.items()
                if key in info.get(bench, {})})
    return out


def compare(current: dict[str, float], baseline: dict[str, float],
            tolerance: float = DEFAULT_TOLERANCE) -> tuple[list[list[str]], bool]:
    """Rows (status, name, baseline ratio, current ratio, change) and whether all passed."""
    rows, ok = [], True
    for name in sorted(set(current) | set(baseline)):
        if name in LIMITS and name in current:
            over = current[name] > LIMITS[name]
            ok &= not over
            rows.append(["OVER" if over else "ok", name, f"<= {LIMITS[name]:.4g}",
                         f"{current[name]:.4g}", "-"])
            continue
        if name not in baseline:
            rows.append(["new", name, "-", f"{current[name]:.4g}", "-"])
            continue
        if name not in current:
            rows.append(["missing", name, f"{baseline[name]:.4g}", "-", "-"])
            ok = False
            continue
        change = current[name] / baseline[name] - 1
        slower = change > tolerance
        ok &= not slower
        rows.append(["SLOWER" if slower else "ok", name, f"{baseline[name]:.4g}",
                     f"{current[name]:.4g}", f"{change:+.0%}"])
    return rows, ok


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("action", choices=("compare", "save"))
    parser.add_argument("run", type=Path, help="pytest-benchmark --benchmark-json output")
    parser.add_argument("baseline", type=Path, help="committed ratios (baseline.json)")
    parser.add_argument("--tolerance", type=float, default=DEFAULT_TOLERANCE)
    args = parser.parse_args(argv)
    run = json.loads(args.run.read_text())
    current = ratios(run)
    if args.action == "save":
        doc = {"reference": REFERENCE, "machine": run.get("machine_info", {}).get("cpu", {}).get("brand_raw"),
               "ratios": current}
        args.baseline.write_text(json.dumps(doc, indent=2, sort_keys=True) + "\n")
        print(f"saved {len(current)} ratios to {args.baseline}")
        return 0
    baseline = json.loads(args.baseline.read_text())["ratios"]
    rows, ok = compare(current, baseline, args.tolerance)
    width = max(len(r[1]) for r in rows) if rows else 0
    for status, name, before, after, change in rows:
        print(f"{status:8s} {name:<{width}}  {before:>10}  {after:>10}  {change:>6}")
    print("benchmarks: ok" if ok else f"benchmarks: regression beyond +{args.tolerance:.0%}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
