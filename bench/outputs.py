"""Output targets, checked before a command does any work.

A command that will write a file (``--json``, a checkpoint) or a folder (``--out``,
``--results``) checks the target first, so that a target that cannot be written is refused
in one line before minutes of evaluation or training, not after. Nothing is created here.
Folders that are replaced as a whole (`convert`, `predict`) are also checked for files that
are not the command's own.
"""

from __future__ import annotations

import os
from pathlib import Path

from .errors import UserError

PathLike = str | os.PathLike[str]


def _nearest_existing(path: Path) -> Path:
    while not (path.exists() or path.is_symlink()) and path.parent != path:
        path = path.parent
    return path


def _check_writable(start: Path, target: Path, flag: str) -> None:
    """The nearest existing folder at or above `start` must be a folder this process may
    write in (a file or a broken link there means `target` can never be made)."""
    ancestor = _nearest_existing(start)
    if not ancestor.is_dir():
        what = "a file" if ancestor.exists() else "a broken link"
        raise UserError(f"cannot be created: {ancestor} is {what}, not a folder", path=target, field=flag)
    if not os.access(ancestor, os.W_OK | os.X_OK):
        raise UserError(f"cannot write in {ancestor} (permission denied)", path=target, field=flag)


def check_output_file(path: PathLike, flag: str) -> Path:
    """`path` can be written as a file: it is not a folder and its folder can be made."""
    target = Path(path)
    if target.is_dir():
        raise UserError("is a folder; expected a file name", path=target, field=flag)
    _check_writable(target.parent, target, flag)
    return target


def check_output_folder(path: PathLike, flag: str) -> Path:
    """`path` can be (or already is) a folder to write in."""
    target = Path(path)
    if target.exists() and not target.is_dir():
        raise UserError("is a file; expected a folder", path=target, field=flag)
    _check_writable(target, target, flag)
    return target


def check_replaceable_folder(path: PathLike, names: list[str]) -> Path:
    """A folder that will be replaced as a whole (built beside it, then renamed): it may be
    new, empty, or hold exactly files named in `names` (an earlier run's); anything else
    there would be lost, so it is refused."""
    target = Path(path)
    if target.exists() and not target.is_dir():
        raise UserError("expected an output folder, found a file", path=target)
    if not target.exists():
        return target
    ours = set(names)
    others = sorted(p.name for p in target.iterdir() if p.name not in ours)
    if others:
        raise UserError(f"the output folder holds {len(others)} other file(s) (e.g. {others[0]}) "
                        "that are not this run's; use an empty folder", path=target)
    return target
