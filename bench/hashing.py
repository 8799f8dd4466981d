"""The one content hash of the suite: canonical JSON, then a sha256 prefix.

Record keys, config hashes, protocol hashes and every cache key are made with
:func:`content_hash`, so they depend on content only: never on a path, a user, a machine or
the order of dict keys. A path must never be hashed; a file is referenced by the content key of
what it was made from.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any


def canonical_json(obj: Any) -> str:
    """Sorted-keys, no-whitespace JSON: the same content always gives the same text."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), default=str)


def content_hash(obj: Any, length: int = 12) -> str:
    """The first `length` hex digits of the sha256 of `obj`'s canonical JSON."""
    return hashlib.sha256(canonical_json(obj).encode()).hexdigest()[:length]
