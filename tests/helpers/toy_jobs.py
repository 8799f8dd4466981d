"""Module-level job functions for engine tests (workers import them by reference)."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path


def append(log: str, name: str, seconds: float = 0.0) -> str:
    """Record start and end of `name` in the file `log` (one JSON line each); return `name`."""
    with open(log, "a") as handle:
        handle.write(json.dumps({"job": name, "event": "start", "t": time.monotonic(), "pid": os.getpid()}) + "\n")
    time.sleep(seconds)
    with open(log, "a") as handle:
        handle.write(json.dumps({"job": name, "event": "end", "t": time.monotonic()}) + "\n")
    return name


def fail(message: str) -> None:
    raise ValueError(message)


def events(log: str | Path) -> list[dict]:
    return [json.loads(line) for line in Path(log).read_text().splitlines()]
