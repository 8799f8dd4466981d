"""Shared fixtures: where the sample files and conformance cases live, and the helper fixtures.

`tests/data/` holds copies of the shared samples (`samples/`) and of the PoseTrack conformance
cases (`conformance/posetrack/`), each with its SOURCES.md, so the tests need no `../shared`.
"""

from __future__ import annotations

from pathlib import Path

import pytest

#: fixtures of the test helpers (tests/helpers), available to every test
pytest_plugins = [
    "helpers.dataset_writers",
    "helpers.plugin",
    "helpers.sticks",
    "helpers.synthetic_roots",
    "helpers.torch_threads",
    "helpers.trained",
]

DATA = Path(__file__).resolve().parent / "data"


@pytest.fixture(scope="session")
def samples_dir() -> Path:
    return DATA / "samples"


@pytest.fixture(scope="session")
def conformance_dir() -> Path:
    return DATA / "conformance" / "posetrack"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--update-expected", action="store_true",
                     help="rewrite golden files under tests/**/expected (review the diff!)")
