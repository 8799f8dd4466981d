"""A third-party method package (tests/helpers/plugin.py, registered through its entry points)
goes through `run --plan`, `leaderboard` and `check` with no workaround: an untrained plugin
method (settings only, one entry with an inference-time override) and a trainable one trained
by the plan, on the tiny synthetic JHMDB-layout split."""

from __future__ import annotations

import json
import shutil
import textwrap

import pytest
from helpers.tiny_preset import PRESET

from vposebench import cli
from vposebench.plan import make_plan

#: one torch thread (helpers.torch_threads)
pytestmark = pytest.mark.usefixtures("one_torch_thread")

PLAN = textwrap.dedent("""
    name = "plugins"
    description = "plugin methods on the tiny synthetic JHMDB split"

    [synthetic]
    preset = "quick"
    overrides = {OVERRIDES}

    [datasets.jhmdb]
    adapter = "jhmdb"
    synthetic = "jhmdb"

    [protocols.jhmdb]
    dataset = "jhmdb"
    train_split = "sub-train1"
    test_split = "sub-test1"
    metric = "pck"
    metric_options = {alpha = 0.2, normaliser = "box", visibility = "auto", all_joints = false}
    tracker = {iou_threshold = 0.0}
    intervals = {resamples = 20}
    speed = {videos = 1, warmup_frames = 2, repeats = 1}

    [[models]]
    name = "boxpose"
    method = "plugin_boxpose"
    protocol = "jhmdb"
    settings = {spread = 1.0}

    [[models]]
    name = "plugin-cpm"
    method = "plugin_baseline"
    protocol = "jhmdb"
    settings = {preset = "tiny", backbone = "cpm"}
    train = {iterations = 2, batch_size = 4}

    [[entries]]
    label = "Box pose"
    model = "boxpose"

    [[entries]]
    label = "Box pose, narrow"
    model = "boxpose"
    overrides = {spread = 0.2}
    compare_to = "Box pose"
    timed = false

    [[entries]]
    label = "Plugin CPM"
    model = "plugin-cpm"
""")


def _overrides() -> str:
    """The tiny plan's synthetic overrides, so the data is the tiny run's (copied, not made)."""
    items = ", ".join(f"{k} = {json.dumps(list(v) if isinstance(v, tuple) else v)}"
                      for k, v in PRESET.synthetic.overrides)
    return "{" + items + "}"


@pytest.mark.slow
def test_plugin_methods_go_through_run_plan_leaderboard_and_check(method_plugin, tiny_run, tmp_path,
                                                                   monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    plan = tmp_path / "plans" / "plugins.toml"
    plan.parent.mkdir()
    plan.write_text(PLAN.replace("{OVERRIDES}", _overrides()))
    data = make_plan(PRESET, tiny_run.options).data_root
    shutil.copytree(data, tmp_path / "cache" / "synthetic" / data.name)

    assert cli.main(["run", "--plan", str(plan), "--cache", "cache", "--workers", "1", "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "3 records written" in out and "runs/plugins/records" in out
    manifest = json.loads((tmp_path / "runs" / "plugins" / "run.json").read_text())
    assert manifest["plan"] == "../../plans/plugins.toml" and manifest["seeds"] == [0]

    records = {json.loads(p.read_text())["label"]: json.loads(p.read_text())
               for p in (tmp_path / "runs" / "plugins" / "records").glob("*.json")}
    box, narrow, cpm = records["Box pose"], records["Box pose, narrow"], records["Plugin CPM"]
    assert box["method"] == "plugin_boxpose" and box["config"]["spread"] == 1.0
    assert box["training"] is None and box["config"]["train"] is None
    assert narrow["config"]["spread"] == 0.2 and narrow["comparisons"][0]["other"] == box["key"]
    assert box["speed"]["pose"]["n"] >= 1 and box["speed"]["runtime"] == "numpy"
    assert narrow["speed"] is None
    assert cpm["method"] == "plugin_baseline" and cpm["training"]["steps"] == 2
    assert box["metrics"]["PCK"]["Mean"]["value"] != narrow["metrics"]["PCK"]["Mean"]["value"]

    assert cli.main(["leaderboard", "--results", "runs/plugins"]) == 0
    lines = [[cell.strip() for cell in line.split("|")] for line in capsys.readouterr().out.splitlines()
             if line.startswith("|")]
    header, rows = lines[0], {row[2]: dict(zip(lines[0], row)) for row in lines[2:]}
    assert set(rows) == {"Box pose", "Box pose, narrow", "Plugin CPM"} and "FPS" in header
    assert float(rows["Box pose"]["FPS"]) > 0 and float(rows["Plugin CPM"]["FPS"]) > 0
    assert rows["Box pose, narrow"]["FPS"] == "-"

    # check finds the plan through run.json, re-computes and compares every record
    assert cli.main(["check", "--results", "runs/plugins", "--cache", "cache", "--reuse-cache",
                     "--skip-speed", "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "no regression: 3 within their bands" in out and "FAIL" not in out
    assert len(list((tmp_path / "runs" / "check-plugins" / "records").glob("*.json"))) == 3
