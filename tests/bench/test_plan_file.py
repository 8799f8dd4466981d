"""Experiment plan files: the shipped presets make the committed reference's record keys, files a
plan gives are keyed by content (never their path), seeds make one run plan each."""

from __future__ import annotations

import json
import shutil
import textwrap
from pathlib import Path

import pytest
from helpers.checkpoints import save_untrained
from helpers.tiny_preset import PLAN_FILE, PRESET

from vposebench.experiments import get_preset, preset_names
from vposebench.interface import build_method
from vposebench.pipeline import Pipeline
from vposebench.plan import FILE_REF, RunOptions, make_plan
from vposebench.plan_file import load_plan
from vposebench.skeleton import POSETRACK18

RESULTS = Path(__file__).resolve().parents[2] / "results"


def test_presets_are_the_shipped_plan_files(tmp_path):
    assert preset_names() == ["default", "fair", "full", "quick"]
    for name in preset_names():
        plan = get_preset(name)
        assert plan.name == name and plan.source is None and plan.seeds == (0,)
        assert {m.kind for m in plan.models} == {"train"}
    reference = RESULTS / "quick" / "run.json"
    if not reference.is_file():
        pytest.skip("no committed quick reference beside these tests")
    options = RunOptions(cache=tmp_path / "cache", results=tmp_path / "results")
    planned = {ev.record_key: ev for ev in make_plan(get_preset("quick"), options).evaluations}
    committed = set(json.loads(reference.read_text())["records"])
    assert committed <= set(planned)  # the plan file makes every committed record of the preset
    # a reference older than the sensitivity rows lacks only those
    assert all("sensitivity" in planned[key].tags for key in set(planned) - committed)


CHECKPOINT_PLAN = textwrap.dedent("""
    name = "given"
    [synthetic]
    preset = "quick"
    [datasets.posetrack]
    adapter = "synthetic"
    synthetic = ""
    [protocols.posetrack]
    dataset = "posetrack"
    test_split = "val"
    metric = "posetrack"
    [[models]]
    name = "sb"
    method = "baseline"
    protocol = "posetrack"
    checkpoint = "CHECKPOINT"
    settings = {box_padding = 1.4}
    [[entries]]
    label = "Given baseline"
    model = "sb"
""")


def _given(folder: Path, checkpoint: Path) -> list:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "plan.toml").write_text(CHECKPOINT_PLAN.replace("CHECKPOINT", str(checkpoint)))
    plan = make_plan(load_plan(folder / "plan.toml"), RunOptions(cache=folder / "cache", results=folder / "r"))
    (model,) = plan.models.values()
    (ev,) = plan.evaluations
    return [model.recipe, model.key, ev.key, ev.record_key, ev.config["train"], ev.config["box_padding"]]


def test_a_checkpoint_file_is_keyed_by_its_content_not_its_path(tmp_path):
    method = build_method("baseline", POSETRACK18, preset="tiny")
    first = save_untrained(method, tmp_path / "a" / "model.ckpt")
    keys = _given(tmp_path / "one", first)
    assert keys[4]["checkpoint"].startswith(FILE_REF) and keys[5] == 1.4  # settings change its config
    moved = tmp_path / "elsewhere" / "renamed.ckpt"
    moved.parent.mkdir()
    shutil.copy(first, moved)
    assert _given(tmp_path / "two", moved) == keys
    with __import__("torch").no_grad():
        next(method.parameters()).add_(1.0)
    other = save_untrained(method, tmp_path / "b" / "model.ckpt")
    changed = _given(tmp_path / "three", other)
    assert changed[0] != keys[0] and changed[3] != keys[3]


def test_each_seed_is_one_run_plan_with_its_own_data_and_records(tmp_path):
    plan = load_plan(PLAN_FILE)
    assert plan == PRESET and plan.source == PLAN_FILE
    options = RunOptions(cache=tmp_path / "cache", results=tmp_path / "results")
    seeded = Pipeline(__import__("dataclasses").replace(plan, seeds=(0, 3)), options).plans()
    assert [p.options.seed for p in seeded] == [0, 3]
    assert seeded[0].data_root != seeded[1].data_root
    zero, three = ({ev.record_key for ev in p.evaluations} for p in seeded)
    assert len(zero) == len(three) == 7 and not zero & three
    assert all(key.endswith("-s3") for key in three)


ROOT_PLAN = textwrap.dedent("""
    name = "own-folder"
    [datasets.clips]
    adapter = "jhmdb"
    root = "ROOT"
    [protocols.clips]
    dataset = "clips"
    test_split = "sub-test1"
    metric = "pck"
    [[models]]
    name = "box"
    method = "plugin_boxpose"
    protocol = "clips"
    [[entries]]
    label = "Box pose"
    model = "box"
""")


def _own_folder(folder: Path, root: Path) -> tuple[list, dict]:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "plan.toml").write_text(ROOT_PLAN.replace("ROOT", str(root)))
    plan = make_plan(load_plan(folder / "plan.toml"), RunOptions(cache=folder / "cache", results=folder / "r"))
    (ev,) = plan.evaluations
    return [ev.key, ev.record_key, ev.gt.name], ev.dataset_block


def test_a_dataset_on_a_folder_is_keyed_by_its_content(method_plugin, tiny_run, tmp_path):
    """A registered adapter on a folder the user has (here the tiny run's JHMDB-layout data, a
    plugin method that needs no training): moving the folder keeps every key, changing an
    annotation file changes the data fingerprint."""
    source = make_plan(PRESET, tiny_run.options).data_root / "jhmdb"
    first = shutil.copytree(source, tmp_path / "a" / "JHMDB")
    keys, block = _own_folder(tmp_path / "one", first)
    assert block["name"] == "jhmdb" and len(block["fingerprint"]) == 12 and "generator" not in block
    moved = shutil.copytree(source, tmp_path / "elsewhere" / "renamed")
    assert _own_folder(tmp_path / "two", moved) == (keys, block)
    split = next(p for p in sorted(moved.rglob("*.txt")))
    split.write_text(split.read_text() + "\n")
    changed = _own_folder(tmp_path / "three", moved)
    assert changed[1]["fingerprint"] != block["fingerprint"] and changed[0][2] != keys[2]


def test_a_shuffled_entry_is_its_own_evaluation(tmp_path):
    """`temporal_input = "shuffled"` (the shuffled control) makes another protocol, prediction
    set and record than the model's own temporal input."""
    text = PLAN_FILE.read_text() + '\n[[entries]]\nlabel = "PTM shuffled"\nmodel = "ptm"\ntemporal_input = "shuffled"\ntimed = false\n'
    (tmp_path / "plan.toml").write_text(text)
    plan = make_plan(load_plan(tmp_path / "plan.toml"), RunOptions(cache=tmp_path / "c", results=tmp_path / "r"))
    by_label = {ev.label: ev for ev in plan.evaluations if ev.protocol.temporal_stride == 1}
    own, shuffled = by_label["PTM"], by_label["PTM shuffled"]
    assert (own.protocol.temporal_input, shuffled.protocol.temporal_input) == ("own", "shuffled")
    assert own.key != shuffled.key and own.record_key != shuffled.record_key
    assert shuffled.run_spec(plan.options).protocol.temporal_input == "shuffled"
