"""The example plan docs/examples/real-models.toml on tiny data: the run exports the trained CPM
to ONNX (an export job) and evaluates it through onnxruntime beside the torch model, with the
same PCK (the export gives the torch keypoints up to float rounding) and measured FPS in the leaderboard; BlazePose
joins where mediapipe is installed. Skips where the [onnx] extra is not installed."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from helpers.extras import needs_extra
from helpers.tiny_preset import PRESET

from vposebench import cli
from vposebench.methods.blazepose import mediapipe_version
from vposebench.methods.onnx_model import onnxruntime_version
from vposebench.plan import make_plan

try:
    import onnx
except ImportError:
    onnx = None

EXAMPLE = Path(__file__).resolve().parents[3] / "docs" / "examples" / "real-models.toml"

pytestmark = [
    pytest.mark.usefixtures("one_torch_thread"),
    needs_extra("onnx", onnxruntime_version() is not None and onnx is not None,
                "onnxruntime or onnx is not installed (pip install 'vposebench[onnx]')"),
    pytest.mark.filterwarnings("ignore::DeprecationWarning"),  # the TorchScript exporter's notice
    pytest.mark.skipif(not EXAMPLE.is_file(), reason="docs/examples is not in this checkout"),
]


def _tiny(text: str) -> str:
    """The example on the tiny plan's data (copied from its run), trained for 3 steps."""
    overrides = ", ".join(f"{k} = {json.dumps(list(v) if isinstance(v, tuple) else v)}"
                          for k, v in PRESET.synthetic.overrides)
    text = text.replace('preset = "quick"\n', f'preset = "quick"\noverrides = {{{overrides}}}\n', 1)
    return text.replace("train = {iterations = 100}", "train = {iterations = 3, batch_size = 4}", 1)


@pytest.mark.slow
def test_example_plan_exports_and_times_the_onnx_model(tiny_run, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    plan = tmp_path / "real-models.toml"
    plan.write_text(_tiny(EXAMPLE.read_text()))
    data = make_plan(PRESET, tiny_run.options).data_root
    shutil.copytree(data, tmp_path / "cache" / "synthetic" / data.name)
    methods = [] if mediapipe_version() is not None else ["--methods", "baseline,onnx"]
    assert cli.main(["run", "--plan", str(plan), "--cache", "cache", "--workers", "1", "--quiet",
                     *methods]) == 0
    capsys.readouterr()
    exported = list((tmp_path / "cache" / "exports").glob("jhmdb-cpm-onnx-*.onnx"))
    assert len(exported) == 1

    records = {r["label"]: r for r in (json.loads(p.read_text())
                                       for p in (tmp_path / "runs" / "real-models" / "records").glob("*.json"))}
    torch_cpm, onnx_cpm = records["CPM (torch)"], records["CPM (ONNX export)"]
    assert onnx_cpm["config"]["model"] == "export:" + torch_cpm["training"]["checkpoint"].split(":")[1]
    assert onnx_cpm["training"] is None and onnx_cpm["speed"]["runtime"].startswith("onnxruntime")
    # the same keypoints up to float rounding (docs/methods.md, onnx: within 1e-3 px), so the
    # same PCK but for a joint that may sit on the threshold (quick data: 66.3 both, paired
    # difference 0.0 [-0.38, 0.45])
    mean = {r["label"]: r["metrics"]["PCK"]["Mean"]["value"] for r in (torch_cpm, onnx_cpm)}
    assert abs(mean["CPM (ONNX export)"] - mean["CPM (torch)"]) <= 1.0
    difference = next(c for c in onnx_cpm["comparisons"] if c["table"] == "PCK" and c["column"] == "Mean")
    interval = difference["difference"]
    assert difference["other"] == torch_cpm["key"] and interval["ci_low"] <= 0.0 <= interval["ci_high"]
    if mediapipe_version() is not None:
        assert records["BlazePose"]["speed"]["runtime"].startswith("mediapipe")

    assert cli.main(["leaderboard", "--results", "runs/real-models"]) == 0
    lines = [[c.strip() for c in line.split("|")] for line in capsys.readouterr().out.splitlines()
             if line.startswith("|")]
    rows = {row[2]: dict(zip(lines[0], row)) for row in lines[2:]}
    assert float(rows["CPM (ONNX export)"]["FPS"]) > 0 and float(rows["CPM (torch)"]["FPS"]) > 0
