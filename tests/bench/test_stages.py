"""The predict stage honours the protocol's temporal input: a "shuffled" evaluation predicts
what `predict_dataset` predicts for the shuffled control, not the method's own output."""

from __future__ import annotations

import dataclasses

from helpers.tiny_preset import PRESET

from vposebench.plan import make_plan
from vposebench.runner import predict_dataset
from vposebench.stages import predict


def _files(folder):
    return {p.name: p.read_bytes() for p in sorted(folder.glob("*.json"))}


def test_a_shuffled_protocol_predicts_the_shuffled_control(tiny_run, tmp_path):
    options = tiny_run.options
    own = next(ev for ev in make_plan(PRESET, options).evaluations if ev.label == "PTM")
    # write every frame into the memory (a model trained for 2 steps scores below the gate)
    own = dataclasses.replace(own, overrides={"write_threshold": 0.0}, predictions=tmp_path / "own")
    shuffled = dataclasses.replace(own, protocol=dataclasses.replace(own.protocol, temporal_input="shuffled"),
                                   predictions=tmp_path / "stage")
    predict(shuffled, options)
    predict_dataset(dataclasses.replace(shuffled.run_spec(options), out_dir=str(tmp_path / "direct")))
    predict_dataset(own.run_spec(options))
    stage, direct = _files(tmp_path / "stage"), _files(tmp_path / "direct")
    assert stage == direct and len(stage) == 2
    assert stage != _files(tmp_path / "own")  # another video's memory changes the output
