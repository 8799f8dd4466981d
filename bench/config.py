"""Config dataclasses shared by methods and training: dicts, `key=value` overrides, checks.

A config is a dataclass of plain values (numbers, strings, booleans, tuples, None). It becomes
a dict for checkpoints and result records and comes back from one; strings given on the
command line (`--set key=value`) are parsed against the field's type; an unknown key or a bad
value is a UserError naming the key.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from typing import Any, TypeVar

from .errors import UserError

C = TypeVar("C", bound="ConfigBase")


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


def _coerce(tp: Any, value: Any, field: str) -> Any:
    """Strings (command line) are parsed; JSON/checkpoint values (lists for tuples) converted."""
    if isinstance(value, str):
        return parse_value(tp, value, field)
    inner, _ = _strip_optional(tp)
    if value is not None and typing.get_origin(inner) is tuple:
        return tuple(value)
    if value is not None and inner is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    return value


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
        kwargs = {k: _coerce(types_[k], v, k) for k, v in values.items()}
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
