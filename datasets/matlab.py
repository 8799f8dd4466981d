"""MATLAB ``.mat`` reading for the adapters: load errors as UserErrors, structs as plain Python.

JHMDB, Penn Action and the PoseTrack'17 ``.mat`` variant are MATLAB v5 files. Everything here
turns what :func:`scipy.io.loadmat` returns into checked float arrays or into the plain
dict/list/scalar tree that the JSON readers understand, and reports problems as
:class:`~vposebench.errors.UserError` naming the file and the variable.

A v5 file's structure is checked before scipy reads it (:mod:`vposebench.datasets.mat_v5`):
scipy's compiled reader can crash the interpreter on a damaged file, and it stops quietly at the
end of a file cut inside a variable it was not asked for.
"""

from __future__ import annotations

import io
import os
from pathlib import Path
from typing import Any

import numpy as np
import scipy.io
from scipy.io.matlab import mat_struct

from vposebench.datasets.mat_v5 import check_v5_file
from vposebench.errors import UserError
from vposebench.formats.jsonfile import check_input_file


def load_mat(path: str | os.PathLike[str], *, structs: bool = False,
             variables: list[str] | None = None) -> dict[str, Any]:
    """Load a MATLAB v5 file; any failure is a UserError naming it.

    ``structs=True`` loads with ``squeeze_me=True, struct_as_record=False`` (struct arrays
    become :class:`mat_struct` objects, one-element arrays become scalars or bare structs).
    """
    p = Path(path)
    check_input_file(p)
    if p.stat().st_size == 0:
        raise UserError("file is empty", path=p)
    raw = p.read_bytes()  # read once: checked, then parsed from memory
    check_v5_file(p, raw)
    kwargs = {"squeeze_me": True, "struct_as_record": False} if structs else {}
    try:
        data = scipy.io.loadmat(io.BytesIO(raw), variable_names=variables, **kwargs)
    except NotImplementedError:  # scipy's answer to v7.3 files
        raise UserError("MATLAB v7.3 (HDF5) files are not supported; save with -v7", path=p) from None
    except Exception as exc:  # scipy raises many types on corrupt or truncated files
        raise UserError(f"cannot read MATLAB file ({type(exc).__name__}: {exc})", path=p) from None
    return {k: v for k, v in data.items() if not k.startswith("__")}


def variable(data: dict[str, Any], name: str, path: str | os.PathLike[str]) -> Any:
    """`data[name]`, or a UserError saying the variable is missing."""
    if name not in data:
        raise UserError("missing variable", path=path, field=name)
    return data[name]


def float_array(value: Any, path: str | os.PathLike[str], field: str, *,
                ndim: int | None = None, finite: bool = True) -> np.ndarray:
    """A numeric MATLAB array as float64 (uint8/uint16 files are cast before any arithmetic)."""
    arr = np.asarray(value)
    if arr.dtype.kind not in "iuf" or arr.dtype == bool:
        raise UserError(f"expected a numeric array, got {arr.dtype}", path=path, field=field)
    if ndim is not None and arr.ndim != ndim:
        raise UserError(f"expected {ndim} dimensions, got shape {arr.shape}", path=path, field=field)
    arr = arr.astype(np.float64)
    if finite and not np.isfinite(arr).all():
        where = tuple(int(i) for i in np.argwhere(~np.isfinite(arr))[0])
        raise UserError(f"contains NaN or infinite values (first at index {where})",
                        path=path, field=field)
    return arr


def scalar(value: Any, path: str | os.PathLike[str], field: str) -> float:
    """A one-element numeric MATLAB value as a float."""
    arr = float_array(value, path, field)
    if arr.size != 1:
        raise UserError(f"expected one number, got shape {arr.shape}", path=path, field=field)
    return float(arr.reshape(-1)[0])


def text(value: Any, path: str | os.PathLike[str], field: str) -> str:
    """A MATLAB char array (loaded as a str or a one-element str array) as a str."""
    if isinstance(value, str):
        return value
    arr = np.asarray(value)
    if arr.dtype.kind == "U" and arr.size == 1:
        return str(arr.reshape(-1)[0])
    raise UserError(f"expected text, got {arr.dtype} of shape {arr.shape}", path=path, field=field)


def to_python(value: Any) -> Any:
    """A struct-mode loadmat value as plain Python: dicts, lists, str, int and float.

    Struct fields holding an empty array are left out (MATLAB's way of saying "absent"),
    numeric scalars become int or float, other arrays become (nested) lists.
    """
    if isinstance(value, mat_struct):
        out = {}
        for name in value._fieldnames:
            field = getattr(value, name)
            if isinstance(field, np.ndarray) and field.size == 0:
                continue
            out[name] = to_python(field)
        return out
    if isinstance(value, np.ndarray):
        if value.ndim == 0:
            return to_python(value[()])
        return [to_python(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    return value
