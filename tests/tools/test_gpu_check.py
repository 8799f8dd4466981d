"""tools/gpu_check.py in its CPU dry-run mode (no GPU here): two models through the step
timing and the speed pass on a tiny synthetic root, records and table written."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "tools" / "gpu_check.py"


@pytest.fixture(scope="module")
def gpu_check():
    spec = importlib.util.spec_from_file_location("gpu_check", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules["gpu_check"] = module  # its dataclasses look their module up there
    spec.loader.exec_module(module)
    yield module
    del sys.modules["gpu_check"]


@pytest.mark.slow
def test_dry_run_writes_step_times_speed_and_table(gpu_check, tiny_root, tmp_path):
    out = tmp_path / "out"
    code = gpu_check.main(["--dry-run", "--parts", "steps,speed", "--data", str(tiny_root),
                           "--model", "PTM-SimpleBaseline", "--model", "TFC", "--out", str(out)])
    assert code == 0
    steps = json.loads((out / "step_times.json").read_text())
    speeds = json.loads((out / "speed.json").read_text())
    assert [s["label"] for s in steps] == [s["label"] for s in speeds] == [
        "PTM-SimpleBaseline cap 16", "TFC (CPM-6 368x368)"]
    for step in steps:
        assert step["config"]["preset"] == "tiny" and step["device"] == "cpu"
        assert step["step"]["n"] == 2 and step["step"]["median_ms"] > 0 and step["batch_size"] == 4
        assert step["gpu_max_allocated_bytes"] is None and step["flops_per_person"] > 0
    ptm = steps[0]
    assert ptm["train_scope"] == "temporal" and 0 < ptm["trainable_parameters"] < ptm["parameters"]
    assert ptm["frames_per_sample"] == 4
    assert speeds[0]["config"]["write_threshold"] == 0.0 and speeds[0]["speed"]["state_bytes"] > 0
    provenance = json.loads((out / "provenance.json").read_text())
    assert provenance["plan"]["device"] == "cpu" and provenance["plan"]["tiny"]
    table = (out / "table.md").read_text().splitlines()
    assert len(table) == 2 + 2 and table[2].startswith("| PTM-SimpleBaseline cap 16 | tiny |")


def test_no_gpu_is_said_plainly(gpu_check, tmp_path, capsys):
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU")
    assert gpu_check.main(["--out", str(tmp_path)]) == 2
    assert "torch sees no GPU" in capsys.readouterr().err
