"""Skipping the tests of an optional extra where it is not installed, except where CI says it
must be: `VPOSEBENCH_REQUIRE_EXTRAS=onnx,mediapipe` (set by the tox environments) turns a
missing extra into an error, so a broken install cannot pass as skipped tests."""

from __future__ import annotations

import os

import pytest


def required_extras() -> set[str]:
    """The extras the environment variable says must be installed."""
    return {e.strip() for e in os.environ.get("VPOSEBENCH_REQUIRE_EXTRAS", "").split(",") if e.strip()}


def needs_extra(name: str, available: bool, reason: str) -> pytest.MarkDecorator:
    """`skipif(not available)`, or an error at collection when `name` is required here."""
    if not available and name in required_extras():
        raise RuntimeError(f"the [{name}] extra must be installed here (VPOSEBENCH_REQUIRE_EXTRAS) "
                           f"but is not: {reason}")
    return pytest.mark.skipif(not available, reason=reason)
