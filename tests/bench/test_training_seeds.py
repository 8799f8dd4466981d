"""Training seeds: a plan that `extends` the tiny plan with `train_seeds = 2` trains each model
twice (the second training from its start model's second training), scores both and writes one
record per entry whose intervals pool the seeds and whose `training_seeds` block keeps each
seed's numbers."""

from __future__ import annotations

import numpy as np
import pytest
from helpers.tiny_preset import PLAN_FILE, PRESET

from vposebench.errors import UserError
from vposebench.pipeline import Pipeline, RunOptions
from vposebench.plan import make_plan, replica_name
from vposebench.plan_file import load_plan


def _seed_plan(tmp_path, extra: str = "train_seeds = 2\n"):
    path = tmp_path / "seeds.toml"
    path.write_text(f'extends = "{PLAN_FILE.as_posix()}"\nname = "seeds"\n{extra}', encoding="utf-8")
    return load_plan(path)


def test_extends_keeps_the_base_and_sets_training_seeds_on_trained_models(tmp_path):
    plan = _seed_plan(tmp_path)
    assert plan.name == "seeds" and plan.description == PRESET.description
    assert [m.name for m in plan.models] == [m.name for m in PRESET.models]
    assert plan.entries == PRESET.entries and plan.protocols == PRESET.protocols
    assert {m.train_seeds for m in plan.models} == {2}
    assert {m.train_seeds for m in PRESET.models} == {1}


def test_plan_trains_each_model_per_seed_from_the_same_seed_of_its_start_model(tmp_path):
    plan = make_plan(_seed_plan(tmp_path), RunOptions(tmp_path / "c", tmp_path / "r", seed=3))
    assert set(plan.models) == {n for m in PRESET.models for n in (m.name, replica_name(m.name, 1))}
    ptm, ptm1 = plan.models["ptm"], plan.models["ptm~seed1"]
    assert (ptm.train_config["seed"], ptm1.train_config["seed"]) == (3, 1003)
    assert (ptm.init, ptm1.init) == ("sb", "sb~seed1")
    assert ptm1.train_config["init_checkpoint"] == plan.models["sb~seed1"].reference
    assert ptm1.checkpoint.name.startswith("ptm~seed1-") and ptm1.key != ptm.key
    single = make_plan(PRESET, RunOptions(tmp_path / "c", tmp_path / "r", seed=3))
    # the first training is the one-seed plan's model; the pooled record has a key of its own
    assert ptm.key == single.models["ptm"].key
    pooled = {ev.label: ev for ev in plan.evaluations if ev.protocol.temporal_stride == 1}
    one = {ev.label: ev for ev in single.evaluations if ev.protocol.temporal_stride == 1}
    assert pooled["TFC"].key == one["TFC"].key and pooled["TFC"].record_key != one["TFC"].record_key
    assert pooled["TFC"].training_seeds == [3, 1003] and len(pooled["TFC"].replicas) == 1
    assert pooled["TFC"].config["training_seeds"] == [3, 1003]


EXTRA_ENTRIES = """
[[entries]]
label = "TFC, temporal input off"
model = "tfc"
overrides = {temporal_input = false}
tags = ["tfc-table1"]
timed = false

[[entries]]
label = "TFC"
model = "tfc"
tags = ["tfc-table1"]
compare_to = ["CPM", "TFC, temporal input off"]
timed = false
"""


def test_a_pooled_record_means_the_seeds_and_keeps_each(tmp_path):
    experiments = _seed_plan(tmp_path, "train_seeds = 2\n" + EXTRA_ENTRIES).select_methods(["baseline", "tfc"])
    options = RunOptions(cache=tmp_path / "cache", results=tmp_path / "results", workers=2)
    result = Pipeline(experiments, options).run()
    by_label = {(r.label, r.protocol.temporal_stride): r for r in result.records}
    assert len(list((tmp_path / "cache" / "checkpoints").glob("*.ckpt"))) == 6  # 3 models x 2 seeds
    tfc, cpm = by_label[("TFC", 1)], by_label[("CPM", 1)]
    for record in (tfc, cpm):
        seeds = record.training_seeds
        assert seeds is not None and seeds.seeds == [0, 1000] and seeds.interval == "seed+video"
        per_seed = seeds.per_seed["PCK/Mean"]
        assert len(per_seed) == 2
        estimate = record.metric("PCK", "Mean")
        assert estimate.value == pytest.approx(np.mean(per_seed))
        assert estimate.ci_low <= estimate.value <= estimate.ci_high
    # the paired difference pools both sides' seeds: its point is the difference of the means
    diff = next(c.difference for c in tfc.comparisons
                if c.other == cpm.key and c.table == "PCK" and c.column == "Mean")
    assert diff.value == pytest.approx(np.mean(tfc.training_seeds.per_seed["PCK/Mean"])
                                       - np.mean(cpm.training_seeds.per_seed["PCK/Mean"]))
    # an entry repeating a base entry's label and model adds its comparisons to that record
    off = by_label[("TFC, temporal input off", 1)]
    assert {c.other for c in tfc.comparisons} == {cpm.key, off.key}
    assert "Δ TFC − TFC, temporal input off" in result.tables["tfc-table1"]
    assert "Training seeds: every row pools 2 trainings" in result.tables["tfc-table1"]
    assert "two-level bootstrap" in result.tables["tfc-fig3"]
    assert "every row pools 2 trainings with different seeds (mean over seeds); their intervals are" \
        in result.tables["leaderboard"]  # no Δ rows there


@pytest.mark.parametrize("extra, field, message", [
    ("train_seeds = 0\n", "train_seeds", "must be >= 1"),
    ('train_seeds = "2"\n', "train_seeds", "expected an integer"),
    ("[[models]]\nname = \"f\"\nmethod = \"baseline\"\nprotocol = \"posetrack\"\n"
     "checkpoint = \"given.ckpt\"\ntrain_seeds = 2\n", "models[4].train_seeds", "only a trained model"),
])
def test_bad_training_seeds_are_refused(tmp_path, extra, field, message):
    (tmp_path / "given.ckpt").write_bytes(b"not read while the plan is parsed")
    with pytest.raises(UserError) as info:
        _seed_plan(tmp_path, extra)
    assert info.value.field == field and message in info.value.message


def test_extends_errors_name_the_field(tmp_path):
    (tmp_path / "a.toml").write_text('extends = "b.toml"\n', encoding="utf-8")
    (tmp_path / "b.toml").write_text('extends = "a.toml"\n', encoding="utf-8")
    with pytest.raises(UserError) as info:
        load_plan(tmp_path / "a.toml")
    assert info.value.field == "extends" and "cycle" in info.value.message
    (tmp_path / "c.toml").write_text('extends = "nowhere"\n', encoding="utf-8")
    with pytest.raises(UserError) as info:
        load_plan(tmp_path / "c.toml")
    assert info.value.field == "extends" and "neither a built-in plan" in info.value.message


def test_a_built_in_preset_can_be_extended(tmp_path):
    path = tmp_path / "more.toml"
    path.write_text('extends = "quick"\nname = "more"\ntrain_seeds = 3\n', encoding="utf-8")
    plan = load_plan(path)
    assert plan.name == "more" and len(plan.entries) > 0
    trained = [m for m in plan.models if m.kind == "train"]
    assert trained and {m.train_seeds for m in trained} == {3}
