"""JSON files with errors a user can act on: loading, and typed field access naming the field.

Every malformed input raises :class:`~vposebench.errors.UserError` naming the file and the
field (``annotations[3].keypoints``), never a bare exception.
"""

from __future__ import annotations

import contextlib
import gc
import json
import math
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import orjson

from ..errors import UserError

PathLike = str | os.PathLike[str]
#: the range a JSON integer must fit to become an int64 array entry
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1


@contextlib.contextmanager
def collector_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector: a parsed document is millions of new lists and
    dicts (no cycles), and the collections they trigger would otherwise take ~3/4 of the time."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def load_json(path: PathLike) -> Any:
    """Parse a JSON file; a missing or truncated file is a UserError naming it."""
    p = Path(path)
    try:
        with open(p, "rb") as handle:
            raw = handle.read()
    except FileNotFoundError:
        raise UserError("file not found", path=p) from None
    except IsADirectoryError:
        raise UserError("expected a file, found a folder", path=p) from None
    except OSError as exc:
        raise UserError(f"cannot read file ({exc.strerror})", path=p) from None
    if not raw.strip():
        raise UserError("file is empty", path=p)
    try:
        with collector_paused():
            return orjson.loads(raw)
    except orjson.JSONDecodeError:
        pass  # NaN literals or a real error: the standard parser accepts the one, explains the other
    try:
        return json.loads(raw)
    except json.JSONDecodeError as exc:
        raise UserError(
            f"invalid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}", path=p
        ) from None
    except UnicodeDecodeError:
        raise UserError("not UTF-8 text", path=p) from None



class Fields:
    """Typed access to JSON fields with errors that name the file and the field."""

    def __init__(self, path: PathLike) -> None:
        self.path = str(path)

    def fail(self, field: str, message: str) -> UserError:
        return UserError(message, path=self.path, field=field)

    def get(self, obj: dict, key: str, field: str, *, required: bool = True) -> Any:
        if not isinstance(obj, dict):
            raise self.fail(field, f"expected an object, got {type(obj).__name__}")
        if key not in obj:
            if required:
                raise self.fail(f"{field}.{key}", "missing field")
            return None
        return obj[key]

    def object_(self, value: Any, field: str) -> dict:
        if not isinstance(value, dict):
            raise self.fail(field, f"expected an object, got {type(value).__name__}")
        return value

    def list_(self, value: Any, field: str) -> list:
        if not isinstance(value, list):
            raise self.fail(field, f"expected a list, got {type(value).__name__}")
        return value

    def int_(self, value: Any, field: str) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            if not (isinstance(value, float) and value.is_integer()):
                raise self.fail(field, f"expected an integer, got {value!r}")
            value = int(value)
        if not INT64_MIN <= value <= INT64_MAX:
            raise self.fail(field, f"integer {value} is out of the 64-bit range")
        return value

    def bool_(self, value: Any, field: str) -> bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, int) and value in (0, 1):
            return bool(value)
        raise self.fail(field, f"expected true/false, got {value!r}")

    def number(self, value: Any, field: str, *, finite: bool = True) -> float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise self.fail(field, f"expected a number, got {value!r}")
        if finite and not math.isfinite(value):
            raise self.fail(field, f"expected a finite number, got {value!r}")
        return float(value)

    def numbers(self, value: Any, field: str, *, length: int | None = None, finite: bool = True) -> np.ndarray:
        """A list of numbers as float64 (strings, nulls, bools and NaN are refused)."""
        seq = self.list_(value, field)
        try:
            arr = np.asarray(seq) if seq else np.zeros(0)
        except (ValueError, TypeError):  # ragged nesting
            arr = np.zeros((0, 0))
        if arr.dtype.kind not in "iuf" or arr.ndim != 1:
            bad = next((v for v in seq if isinstance(v, bool) or not isinstance(v, (int, float))), None)
            raise self.fail(field, f"expected a list of numbers, found {bad!r}")
        arr = arr.astype(np.float64)
        if length is not None and len(arr) != length:
            raise self.fail(field, f"expected {length} numbers, got {len(arr)}")
        if finite and not np.isfinite(arr).all():
            raise self.fail(field, "contains NaN or infinite values")
        return arr


def unwrap(value: Any) -> Any:
    """PT17 wraps scalars in one-element lists: [x] -> x."""
    while isinstance(value, list) and len(value) == 1:
        value = value[0]
    return value
