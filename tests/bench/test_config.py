"""Settings are checked when parsed: every numeric field of every method and training config
refuses NaN, infinities, negative values and integers beyond 64 bits, from the command line
(`--set`) and from stored dicts (checkpoints) alike."""

from __future__ import annotations

import dataclasses
import typing

import pytest

from vposebench.config import ConfigBase, setting_value
from vposebench.errors import UserError
from vposebench.registry import METHODS
from vposebench.training import TrainConfig

CONFIG_CLASSES = sorted({TrainConfig, *(METHODS.get(name).config_class for name in METHODS.names())},
                        key=lambda cls: cls.__name__)


def _number_type(tp) -> type | None:
    """int or float for a numeric field (optional, or a tuple of numbers), else None."""
    args = [a for a in typing.get_args(tp) if a is not type(None)] or [tp]
    inner = args[0]
    if typing.get_origin(inner) is tuple:
        inner = typing.get_args(inner)[0]
    return inner if inner in (int, float) else None


NUMERIC = [(cls, f.name) for cls in CONFIG_CLASSES
           for f in dataclasses.fields(cls) if _number_type(typing.get_type_hints(cls)[f.name])]


def test_every_config_class_is_covered():
    assert {cls.__name__ for cls in CONFIG_CLASSES} >= {"TrainConfig", "PoseConfig", "PTMConfig", "TFCConfig"}
    assert len(NUMERIC) > 40


@pytest.mark.parametrize(("cls", "name"), NUMERIC, ids=[f"{c.__name__}.{n}" for c, n in NUMERIC])
def test_non_finite_negative_and_huge_settings_are_refused_when_parsed(cls, name):
    is_int = _number_type(typing.get_type_hints(cls)[name]) is int
    signed = next(f for f in dataclasses.fields(cls) if f.name == name).metadata.get("signed", False)
    negative = () if signed else ("-1",)
    for text in ("nan", "inf", "-inf", *negative, *(("9" * 25,) if is_int else ())):
        with pytest.raises(UserError) as info:
            cls.build({name: text})
        assert info.value.field == name, (text, info.value.format())
    for value in (float("nan"), float("inf"), *(() if signed else (-3,)), *((2**64,) if is_int else ())):
        with pytest.raises(UserError) as info:
            cls.from_dict({name: value})
        assert info.value.field == name, (value, info.value.format())


#: settings without a default (the defaults of the other fields must pass the checks with them)
REQUIRED = {"OnnxConfig": {"model": "model.onnx"}}


@pytest.mark.parametrize("cls", CONFIG_CLASSES, ids=[c.__name__ for c in CONFIG_CLASSES])
def test_the_defaults_and_presets_pass_the_checks(cls):
    required = REQUIRED.get(cls.__name__, {})
    default = dataclasses.replace(cls(), **required)
    assert cls.from_dict(default.to_dict()) == default
    for preset in ("tiny", "small") if "preset" in cls.field_names() else ():
        built = cls.build({"preset": preset})
        assert cls.from_dict(built.to_dict()) == built


def test_a_signed_setting_takes_negative_values_and_no_other_does():
    ptm = METHODS.get("ptm").config_class
    assert ptm.build({"write_threshold": "-1e9"}).write_threshold == -1e9  # "write always"
    signed = [(c.__name__, f.name) for c in CONFIG_CLASSES for f in dataclasses.fields(c) if f.metadata.get("signed")]
    assert set(signed) == {("PTMConfig", "write_threshold"), ("OnnxConfig", "joint_map")}


def test_stored_values_of_the_wrong_type_are_refused():
    with pytest.raises(UserError, match="expected a number") as info:
        TrainConfig.from_dict({"lr": [0.1]})
    assert info.value.field == "lr"
    with pytest.raises(UserError, match="expected true/false"):
        METHODS.get("ptm").config_class.from_dict({"kfr": 3})
    with pytest.raises(UserError, match="expected an integer"):
        TrainConfig.from_dict({"iterations": 2.5})


def test_setting_value_accepts_what_the_configs_hold():
    assert setting_value(0, "x") == 0 and setting_value(1e-3, "lr") == 1e-3 and setting_value(True, "b") is True
    assert setting_value((0.5, 0.8), "m") == (0.5, 0.8) and setting_value(None, "n") is None
    assert issubclass(TrainConfig, ConfigBase)
