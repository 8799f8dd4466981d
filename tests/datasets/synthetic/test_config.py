import dataclasses

import pytest
from hypothesis import given
from hypothesis import strategies as st

from vposebench.datasets.synthetic import config as cfg
from vposebench.datasets.synthetic.config import SYNTH_PRESETS, SynthConfig, allot, preset
from vposebench.errors import UserError


def test_presets_are_valid_and_ordered_by_size():
    sizes = [(c.train_videos + c.val_videos) * c.frames for c in (SYNTH_PRESETS["quick"], SYNTH_PRESETS["default"], SYNTH_PRESETS["full"])]
    assert sizes == sorted(sizes) and len(set(sizes)) == 3
    assert preset("default") == SynthConfig()
    with pytest.raises(UserError, match="unknown preset 'huge'"):
        preset("huge")


def test_config_hash_is_the_cache_key(monkeypatch):
    a = SynthConfig(seed=1)
    assert a.config_hash() == SynthConfig(seed=1).config_hash()
    assert a.config_hash() != SynthConfig(seed=2).config_hash()
    assert a.config_hash() != dataclasses.replace(a, noise=0.0).config_hash()
    before = a.config_hash()
    monkeypatch.setattr(cfg, "GENERATOR_VERSION", cfg.GENERATOR_VERSION + 1)
    assert a.config_hash() != before  # a new generator invalidates old roots
    monkeypatch.undo()
    monkeypatch.setitem(cfg.PROFILES, "crowd", dataclasses.replace(cfg.PROFILES["crowd"], persons=(9, 9)))
    assert a.config_hash() != before  # so does a changed profile table


def test_dict_round_trip():
    c = SynthConfig(seed=5, clip_frames=(10, 12), mix=(("crowd", 1.0),))
    assert SynthConfig.from_dict(c.to_dict()) == c
    with pytest.raises(UserError, match="unknown config field"):
        SynthConfig.from_dict({"sede": 1})


def test_overrides_parse_every_field_kind():
    c = SynthConfig().with_overrides({"frames": "12", "noise": "0.5", "label_pattern": "posetrack",
                                       "clip_frames": "20,30", "mix": "base:1,fast:3"})
    assert (c.frames, c.noise, c.label_pattern, c.clip_frames) == (12, 0.5, "posetrack", (20, 30))
    assert c.mix == (("base", 1.0), ("fast", 3.0))
    for key, value in [("nope", "1"), ("frames", "x"), ("clip_frames", "1,2,3"), ("mix", "base")]:
        with pytest.raises(UserError) as err:
            SynthConfig().with_overrides({key: value})
        assert err.value.field == "--set"


@pytest.mark.parametrize("changes", [
    {"frames": 1}, {"frame_step": 0}, {"val_videos": 0}, {"label_pattern": "sparse"},
    {"blur_samples": 4}, {"mix": (("party", 1.0),)}, {"clip_frames": (9, 3)}, {"jpeg_quality": 0},
])
def test_invalid_configs_are_user_errors(changes):
    with pytest.raises(UserError):
        SynthConfig(**changes)


def test_allot_is_proportional_and_spread():
    mix = (("base", 0.4), ("crowd", 0.2), ("occlusion", 0.2), ("fast", 0.2))
    out = allot(mix, 10)
    assert [out.count(n) for n, _ in mix] == [4, 2, 2, 2]
    assert set(allot(mix, 4)) == {"base", "crowd", "occlusion", "fast"}  # every profile in a small split
    assert allot(mix, 10) == out  # no randomness


@given(st.lists(st.floats(0.05, 5.0), min_size=1, max_size=5), st.integers(0, 60))
def test_allot_counts_follow_the_shares(shares, count):
    mix = tuple((f"p{i}", s) for i, s in enumerate(shares))
    out = allot(mix, count)
    assert len(out) == count
    total = sum(shares)
    for name, share in mix:
        assert abs(out.count(name) - share / total * count) < 1.0 + 1e-9
