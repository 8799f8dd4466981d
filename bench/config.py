"""Config dataclasses shared by methods and training: dicts, `key=value` overrides, checks.

A config is a dataclass of plain values (numbers, strings, booleans, tuples, None). It becomes
a dict for checkpoints and result records and comes back from one; strings given on the
command line (`--set key=value`) are parsed against the field's type; an unknown key or a bad
value is a UserError naming the key.

Every number of every config (counts, rates, sizes, probabilities, seeds) is finite, 0 or more
and fits 64 bits: that is checked here, when a value is parsed or read back, for every field
of every config class at once (:func:`setting_value`). A field whose negative values mean
something (a threshold below every score: "always") says so with ``metadata=SIGNED``.
Tighter ranges are each config's `validate`.
"""

from __future__ import annotations

import dataclasses
import math
import types
import typing
from typing import Any, TypeVar

from .errors import UserError

C = TypeVar("C", bound="ConfigBase")
#: the largest integer a setting may hold (torch and numpy take seeds and counts as int64)
INT64_MAX = 2**63 - 1
#: `dataclasses.field` metadata of a setting that may be negative
SIGNED = {"signed": True}


def _field_types(cls: type) -> dict[str, Any]:
    hints = typing.get_type_hints(cls)
    return {f.name: hints[f.name] for f in dataclasses.fields(cls)}


def _strip_optional(tp: Any) -> tuple[Any, bool]:
    args = typing.get_args(tp)
    if typing.get_origin(tp) in (typing.Union, types.UnionType) and type(None) in args:
        rest = [a for a in args if a is not type(None)]
        return rest[0], True
    return tp, False


def parse_value(tp: Any, text: str, field: str) -> Any:
    """Parse a command-line string into a value of the field's type."""
    inner, optional = _strip_optional(tp)
    if optional and text.strip().lower() in ("none", "null", ""):
        return None
    try:
        if inner is bool:
            low = text.strip().lower()
            if low in ("1", "true", "yes", "on"):
                return True
            if low in ("0", "false", "no", "off"):
                return False
            raise ValueError(text)
        if inner in (int, float, str):
            return inner(text)
        if typing.get_origin(inner) is tuple:
            args = typing.get_args(inner)
            item = args[0]
            parts = [p for p in text.replace("x", ",").split(",") if p.strip()]
            values = tuple(item(p) for p in parts)
            if args[-1] is not Ellipsis and len(values) != len(args):
                raise ValueError(text)
            return values
    except ValueError:
        raise UserError(f"cannot parse {text!r} as {_type_name(tp)}", field=field) from None
    raise TypeError(f"unsupported config type {tp!r} for {field}")


def _type_name(tp: Any) -> str:
    inner, optional = _strip_optional(tp)
    name = getattr(inner, "__name__", str(inner))
    if typing.get_origin(inner) is tuple:
        name = "a comma-separated list of " + typing.get_args(inner)[0].__name__
    return f"{name} or none" if optional else name


def setting_value(value: Any, field: str, *, signed: bool = False) -> Any:
    """`value` if every number in it is finite, 0 or more (any sign with `signed`) and fits
    64 bits; else a UserError naming the field. Booleans, strings and None pass; tuples are
    checked item by item."""
    if isinstance(value, tuple):
        for item in value:
            setting_value(item, field, signed=signed)
    elif isinstance(value, float) and not math.isfinite(value):
        raise UserError(f"must be a finite number, got {value!r}", field=field)
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        if value < 0 and not signed:
            raise UserError(f"must be 0 or more, got {value!r}", field=field)
        if isinstance(value, int) and abs(value) > INT64_MAX:
            raise UserError(f"{value} does not fit 64 bits", field=field)
    return value


def _check_type(tp: Any, value: Any, field: str) -> None:
    """A value read back from a dict (checkpoint, record) must have the field's type."""
    inner, optional = _strip_optional(tp)
    if value is None:
        if not optional:
            raise UserError(f"expected {_type_name(tp)}, got null", field=field)
        return
    if typing.get_origin(inner) is tuple:
        item = typing.get_args(inner)[0]
        for v in value:
            _check_type(item, v, field)
        return
    wanted = {bool: (bool,), int: (int,), float: (int, float), str: (str,)}.get(inner)
    if wanted is None:
        return
    if (isinstance(value, bool) and inner is not bool) or not isinstance(value, wanted):
        what = {bool: "true/false", int: "an integer", float: "a number", str: "a string"}[inner]
        raise UserError(f"expected {what}, got {value!r}", field=field)


def _coerce(tp: Any, value: Any, field: str, signed: bool = False) -> Any:
    """Strings (command line) are parsed; JSON/checkpoint values (lists for tuples) converted
    and type-checked; every number is then checked by `setting_value`."""
    if isinstance(value, str):
        return setting_value(parse_value(tp, value, field), field, signed=signed)
    inner, _ = _strip_optional(tp)
    if value is not None and typing.get_origin(inner) is tuple:
        if not isinstance(value, (list, tuple)):
            raise UserError(f"expected a list, got {value!r}", field=field)
        value = tuple(value)
    _check_type(tp, value, field)
    if value is not None and inner is float and isinstance(value, int):
        value = float(value)
    return setting_value(value, field, signed=signed)


@dataclasses.dataclass
class ConfigBase:
    """Shared behaviour of the config dataclasses: dicts, overrides, validation, hashing."""

    def to_dict(self) -> dict[str, Any]:
        return {k: list(v) if isinstance(v, tuple) else v
                for k, v in dataclasses.asdict(self).items()}

    @classmethod
    def field_names(cls) -> list[str]:
        return [f.name for f in dataclasses.fields(cls)]

    @classmethod
    def from_dict(cls: type[C], values: dict[str, Any], *, source: str = "config") -> C:
        """Build from a dict, rejecting unknown keys with the known ones listed."""
        types_ = _field_types(cls)
        unknown = sorted(set(values) - set(types_))
        if unknown:
            raise UserError(f"unknown key {unknown[0]!r} (known: {', '.join(sorted(types_))})",
                            field=source)
        signed = {f.name for f in dataclasses.fields(cls) if f.metadata.get("signed")}
        kwargs = {k: _coerce(types_[k], v, k, k in signed) for k, v in values.items()}
        config = cls(**kwargs)
        config.validate()
        return config

    @classmethod
    def build(cls: type[C], overrides: dict[str, Any] | None = None) -> C:
        """Defaults changed by `overrides` (what a method's constructor calls; configs with
        named presets apply them here)."""
        return cls.from_dict(dict(overrides or {}), source="--set")

    def validate(self) -> None:
        """Raise UserError for values outside their allowed range."""


def parse_assignments(items: list[str] | None, *, field: str = "--set") -> dict[str, str]:
    """`["lr=0.01", "preset=small"]` -> {"lr": "0.01", "preset": "small"}."""
    out: dict[str, str] = {}
    for item in items or []:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise UserError(f"expected key=value, got {item!r}", field=field)
        out[key.strip()] = value.strip()
    return out


def choice(value: Any, allowed: tuple, field: str) -> None:
    """UserError unless `value` is one of `allowed`."""
    if value not in allowed:
        raise UserError(f"expected one of {', '.join(map(str, allowed))}, got {value!r}",
                        field=field)


def positive(value: float, field: str, *, zero: bool = False) -> None:
    """UserError unless `value` > 0 (or >= 0 with `zero`)."""
    if value < 0 or (value == 0 and not zero):
        raise UserError(f"must be {'>= 0' if zero else '> 0'}, got {value!r}", field=field)
