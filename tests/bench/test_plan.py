"""The plan of the quick and default presets holds the sensitivity check's evaluations: each
control fitted from its protocol's baseline (0 iterations, as the fitted checkpoint states) and
compared with it, each shuffled variant run under a "shuffled" protocol and compared with its
own method; the oracle is labelled "(oracle)"."""

from __future__ import annotations

import pytest

from vposebench.experiments import get_preset
from vposebench.plan import RunOptions, make_plan
from vposebench.registry import METHODS


@pytest.mark.parametrize("name", ["quick", "default"])
def test_presets_plan_the_controls_and_shuffled_variants(name, tmp_path):
    plan = make_plan(get_preset(name), RunOptions(cache=tmp_path / "cache", results=tmp_path / "results"))
    by_key = {ev.key: ev for ev in plan.evaluations}
    rows = set()
    for ev in plan.evaluations:
        if "sensitivity" not in ev.tags:
            continue
        (other,) = (by_key[k] for k in ev.compared)
        method, theirs = ev.model.spec.method, other.model.spec.method
        if ev.protocol.temporal_input == "shuffled":
            assert other.protocol.temporal_input == "own" and ev.model is other.model
            assert ev.record_key != other.record_key and ev.predictions != other.predictions
            rows.add((ev.model.spec.protocol, f"{method} - {method} shuffled"))
        else:
            assert ev.model.train_config["iterations"] == 0  # fitted, not trained
            # an oracle (the method says so) is labelled "(oracle)" wherever it appears
            assert ("(oracle)" in ev.label) is METHODS.get(method).oracle
            assert ev.model.init == other.model.spec.name and theirs == "baseline"
            rows.add((ev.model.spec.protocol, f"{method} - {theirs}"))
    controls = {f"{c} - baseline" for c in ("hold", "oracle-hold", "prior")}
    assert {r for p, r in rows if p == "posetrack"} == controls | {"ptm - ptm shuffled", "hold - hold shuffled"}
    assert {r for p, r in rows if p == "jhmdb"} == controls | {
        "tfc - tfc shuffled", "refine - refine shuffled", "hold - hold shuffled"}
