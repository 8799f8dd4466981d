"""Atomic file writes: every file the suite writes appears whole or not at all.

Data is written to a hidden temporary file in the target's folder, flushed and fsynced, then
renamed over the target (``os.replace`` is atomic on POSIX and Windows). An exception or an
interrupt inside the ``with`` block removes the temporary file and leaves any old file intact.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

TMP_SUFFIX = ".tmp"


@contextlib.contextmanager
def atomic_write(path: str | os.PathLike[str], mode: str = "w", **open_kwargs: Any) -> Iterator[IO]:
    """Open a temporary file next to `path`; on a clean exit rename it onto `path`."""
    if mode not in ("w", "wb", "wt"):
        raise ValueError(f"atomic_write supports only write modes, got {mode!r}")
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    if "b" not in mode:
        open_kwargs.setdefault("encoding", "utf-8")
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=TMP_SUFFIX, dir=target.parent)
    try:
        with os.fdopen(fd, mode, **open_kwargs) as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp_name, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp_name)
        raise


def _nan_to_none(obj: Any) -> Any:
    """JSON has no NaN: write it as null (the design's convention for metric files)."""
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    if isinstance(obj, dict):
        return {k: _nan_to_none(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_nan_to_none(v) for v in obj]
    return obj


def write_json(path: str | os.PathLike[str], obj: Any, *, indent: int | None = 2) -> None:
    """Write `obj` as JSON atomically; non-finite floats become null."""
    with atomic_write(path, "w") as handle:
        json.dump(_nan_to_none(obj), handle, indent=indent, allow_nan=False, default=_json_default)
        handle.write("\n")


def _json_default(obj: Any) -> Any:
    """Serialise numpy scalars/arrays and paths, which json does not know."""
    if hasattr(obj, "tolist"):
        return _nan_to_none(obj.tolist())
    if isinstance(obj, os.PathLike):
        return os.fspath(obj)
    raise TypeError(f"{type(obj).__name__} is not JSON serialisable")


def remove_stale_temporaries(folder: str | os.PathLike[str]) -> list[Path]:
    """Delete temporary files that a killed writer left in `folder`; return what was removed."""
    removed = []
    for tmp in Path(folder).glob(f".*{TMP_SUFFIX}"):
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
            removed.append(tmp)
    return removed
