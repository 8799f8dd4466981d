"""The benchmark ratio comparison (tests/benchmarks/ratios.py) fails on a regression."""

import importlib.util
import json
from pathlib import Path

spec = importlib.util.spec_from_file_location(
    "ratios", Path(__file__).resolve().parent / "benchmarks" / "ratios.py")
ratios = importlib.util.module_from_spec(spec)
spec.loader.exec_module(ratios)


def _run(cal: float, step: float, score: float) -> dict:
    return {"benchmarks": [{"name": n, "stats": {"median": m}} for n, m in
                           (("test_calibration", cal), ("test_step", step), ("test_score", score))]}


def test_machine_speed_cancels_and_a_slower_path_fails(tmp_path, capsys):
    run = tmp_path / "run.json"
    base = tmp_path / "baseline.json"
    run.write_text(json.dumps(_run(1.0, 2.0, 0.5)))
    assert ratios.main(["save", str(run), str(base)]) == 0
    run.write_text(json.dumps(_run(3.0, 6.0, 1.5)))  # a 3x slower machine: same ratios
    assert ratios.main(["compare", str(run), str(base)]) == 0
    run.write_text(json.dumps(_run(1.0, 4.0, 0.5)))  # the step got 2x slower
    assert ratios.main(["compare", str(run), str(base)]) == 1
    out = capsys.readouterr().out
    assert "SLOWER   test_step" in out and "+100%" in out


def test_paired_ratios_come_from_extra_info_and_fail_above_their_limit(tmp_path, capsys):
    def run(small: float) -> dict:
        benches = [{"name": "test_calibration", "stats": {"median": 1.0}},
                   {"name": "test_bench_memory_overhead[small]", "stats": {"median": 5.0},
                    "extra_info": {"ptm_over_baseline": small}}]
        return {"benchmarks": benches}

    assert ratios.ratios(run(1.04))["ptm_overhead[small]"] == 1.04
    path, base = tmp_path / "run.json", tmp_path / "baseline.json"
    path.write_text(json.dumps(run(1.04)))
    assert ratios.main(["save", str(path), str(base)]) == 0
    assert ratios.main(["compare", str(path), str(base)]) == 0
    path.write_text(json.dumps(run(1.2)))  # over the 10 % limit, whatever the baseline says
    assert ratios.main(["compare", str(path), str(base)]) == 1
    assert "OVER     ptm_overhead[small]" in capsys.readouterr().out
