"""The one content hash of the suite: canonical JSON, then a sha256 prefix.

Record keys, config hashes, protocol hashes and every cache key are made with
:func:`content_hash`, so they depend on content only: never on a path, a user, a machine or
the order of dict keys. A path must never be hashed; a file is referenced by the content key of
what it was made from.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any


def canonical_json(obj: Any) -> str:
    """Sorted-keys, no-whitespace JSON: the same content always gives the same text."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), default=str)


def content_hash(obj: Any, length: int = 12) -> str:
    """The first `length` hex digits of the sha256 of `obj`'s canonical JSON."""
    return hashlib.sha256(canonical_json(obj).encode()).hexdigest()[:length]


def file_digest(path: str | os.PathLike[str]) -> str:
    """sha256 hex digest of a file's bytes (how a plan refers to a file it was given)."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


#: files whose bytes a folder fingerprint reads (annotations); other files count by size only
ANNOTATION_SUFFIXES = (".json", ".mat", ".txt", ".csv", ".xml", ".npz", ".npy")


def folder_fingerprint(root: str | os.PathLike[str]) -> str:
    """The content key of a dataset folder: every file's relative path and size, and the
    bytes of its annotation files (images are counted by path and size, not read)."""
    base = Path(root)
    listing = []
    for path in sorted(p for p in base.rglob("*") if p.is_file()):
        relative = path.relative_to(base).as_posix()
        entry: list[Any] = [relative, path.stat().st_size]
        if path.suffix.lower() in ANNOTATION_SUFFIXES:
            entry.append(file_digest(path))
        listing.append(entry)
    return content_hash(listing)
