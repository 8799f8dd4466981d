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
