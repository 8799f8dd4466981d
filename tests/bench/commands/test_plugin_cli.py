"""A third-party method package (tests/helpers/plugin.py), registered through its entry
points, goes through the commands exactly like a built-in: list, predict (with and without a
checkpoint, with --set), evaluate, train (or its refusal)."""

import json
import subprocess
import sys

import pytest

from vposebench import cli
from vposebench.checkpoint import load_checkpoint

#: one torch thread (helpers.torch_threads)
pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _jhmdb_gt(root, tmp_path):
    """The synthetic root's JHMDB-layout test split as GT files (convert)."""
    gt = tmp_path / "gt"
    assert cli.main(["convert", "--dataset", "jhmdb", "--root", str(root / "jhmdb"), "--split",
                     "test1", "--out", str(gt)]) == 0
    return gt


def test_plugin_goes_through_list_predict_and_evaluate(method_plugin, tiny_root, tmp_path, capsys):
    assert cli.main(["list", "methods"]) == 0
    listed = capsys.readouterr().out
    assert "plugin_boxpose" in listed and "joints at fixed places in each person box" in listed
    gt = _jhmdb_gt(tiny_root, tmp_path)
    scores = {}
    for spread in ("1", "0.2"):
        pred = tmp_path / f"pred{spread}"
        assert cli.main(["predict", "--method", "plugin_boxpose", "--set", f"spread={spread}",
                         "--dataset", "jhmdb", "--root", str(tiny_root / "jhmdb"), "--split",
                         "test1", "--out", str(pred)]) == 0
        assert sorted(p.name for p in pred.iterdir()) == sorted(p.name for p in gt.iterdir())
        assert cli.main(["evaluate", "--metric", "pck", "--gt", str(gt), "--pred", str(pred),
                         "--json", str(tmp_path / f"pck{spread}.json")]) == 0
        doc = json.loads((tmp_path / f"pck{spread}.json").read_text())
        scores[spread] = doc["PCK"]["Mean"]
    capsys.readouterr()
    # a fixed standing pose finds some joints, and the setting reached the method
    assert all(0 < v < 100 for v in scores.values()) and scores["1"] != scores["0.2"]


def test_plugin_settings_and_untrainable_methods_fail_in_one_line(method_plugin, tiny_root,
                                                                   tmp_path, capsys):
    common = ["--dataset", "jhmdb", "--root", str(tiny_root / "jhmdb"), "--split", "test1"]
    cases = [
        (["predict", "--method", "plugin_boxpose", "--set", "spread=wide", *common,
          "--out", str(tmp_path / "p")], "error: spread: cannot parse 'wide' as float"),
        (["predict", "--method", "plugin_boxpose", "--set", "sprad=1", *common,
          "--out", str(tmp_path / "p")], "unknown key 'sprad'"),
        (["train", "--method", "plugin_boxpose", *common[:4], "--out", str(tmp_path / "c.ckpt")],
         "--method: method 'plugin_boxpose' cannot be trained"),
        (["predict", "--method", "plugin_baseline", *common, "--out", str(tmp_path / "p")],
         "--checkpoint: method 'plugin_baseline' learns its weights in training"),
    ]
    for args, message in cases:
        assert cli.main(args) == 2
        err = capsys.readouterr().err
        assert message in err and len(err.strip().splitlines()) == 1, err
    assert not (tmp_path / "p").exists() and not (tmp_path / "c.ckpt").exists()


def test_trainable_plugin_trains_and_predicts_from_its_checkpoint(method_plugin, tiny_root,
                                                                   tmp_path, capsys):
    ckpt = tmp_path / "plugin.ckpt"
    data = ["--dataset", "jhmdb", "--root", str(tiny_root / "jhmdb")]
    assert cli.main(["train", "--method", "plugin_baseline", *data, "--set", "preset=tiny",
                     "--set", "iterations=3", "--set", "batch_size=4", "--out", str(ckpt),
                     "--quiet", "--threads", "1"]) == 0
    assert load_checkpoint(ckpt).method == "plugin_baseline"
    # --set on top of the checkpoint's config: an inference-time field
    pred = tmp_path / "pred"
    assert cli.main(["predict", "--method", "plugin_baseline", "--checkpoint", str(ckpt),
                     "--set", "box_padding=1.5", *data, "--split", "test1", "--out", str(pred)]) == 0
    assert len(list(pred.glob("*.json"))) == len(list(_jhmdb_gt(tiny_root, tmp_path).glob("*.json")))
    # a network-shape change does not fit the weights: one line
    assert cli.main(["predict", "--method", "plugin_baseline", "--checkpoint", str(ckpt),
                     "--set", "depth=34", *data, "--split", "test1", "--out", str(pred)]) == 2
    assert "weights do not fit" in capsys.readouterr().err


def test_installed_plugin_is_found_by_a_fresh_process(method_plugin, tiny_root, tmp_path):
    """The real route: a new interpreter scans the entry points of what is on its path."""
    pred = tmp_path / "pred"
    done = subprocess.run(
        [sys.executable, "-m", "vposebench", "predict", "--method", "plugin_boxpose",
         "--dataset", "jhmdb", "--root", str(tiny_root / "jhmdb"), "--split", "test1",
         "--out", str(pred)], capture_output=True, text=True, env=method_plugin.env())
    assert done.returncode == 0, done.stderr
    assert "prediction files" in done.stdout and list(pred.glob("*.json"))
