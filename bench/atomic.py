"""Atomic file writes: every file the suite writes appears whole or not at all.

Data is written to a hidden temporary file in the target's folder, flushed and fsynced, then
renamed over the target (``os.replace`` is atomic on POSIX and Windows). An exception or an
interrupt inside the ``with`` block removes the temporary file and leaves any old file intact.
Files and folders end up with the ordinary permissions of the user's umask (0644 and 0755 with
the usual 022), not the private ones of the temporary they started as; the renames that
publish a folder hold Ctrl-C until they are done.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from .interrupts import deferred_interrupts

TMP_SUFFIX = ".tmp"
DIR_SUFFIX = ".partial"


def current_umask() -> int:
    """The process umask (reading it means setting it; it is set straight back)."""
    umask = os.umask(0o022)
    os.umask(umask)
    return umask


@contextlib.contextmanager
def atomic_write(
    path: str | os.PathLike[str], mode: str = "w", *, durable: bool = True, **open_kwargs: Any
) -> Iterator[IO]:
    """Open a temporary file next to `path`; on a clean exit rename it onto `path`.

    `durable=False` skips the fsync: for the many files written inside an
    `atomic_directory` staging folder, which is synced once as a whole.
    """
    if mode not in ("w", "wb", "wt"):
        raise ValueError(f"atomic_write supports only write modes, got {mode!r}")
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    if "b" not in mode:
        open_kwargs.setdefault("encoding", "utf-8")
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=TMP_SUFFIX, dir=target.parent)
    try:
        os.fchmod(fd, 0o666 & ~current_umask())  # mkstemp makes it private; the result is an ordinary file
        with os.fdopen(fd, mode, **open_kwargs) as handle:
            yield handle
            handle.flush()
            if durable:
                os.fsync(handle.fileno())
        os.replace(tmp_name, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp_name)
        raise


@contextlib.contextmanager
def atomic_directory(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Build a folder in a hidden sibling; on a clean exit it replaces `path` as a whole.

    For outputs made of many files (a generated dataset): an exception or an interrupt inside
    the ``with`` block removes the partial folder and leaves any old `path` untouched. Files
    inside may be written with ``atomic_write(..., durable=False)``; the folder is synced
    once before it is renamed into place.
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=DIR_SUFFIX, dir=target.parent))
    try:
        os.chmod(staging, 0o777 & ~current_umask())  # mkdtemp makes it private; the result is an ordinary folder
        yield staging
        if hasattr(os, "sync"):
            os.sync()  # one flush for every file written into the staging folder
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    with deferred_interrupts():  # the swap happens as a whole; Ctrl-C is taken after it
        old = None
        if target.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{target.name}.old.", suffix=DIR_SUFFIX, dir=target.parent))
            os.replace(target, old)
        try:
            os.replace(staging, target)
        except BaseException:
            if old is not None:
                os.replace(old, target)
            shutil.rmtree(staging, ignore_errors=True)
            raise
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)


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
