"""Shared fixtures: where the sample files and conformance cases live, and the helper fixtures.

`tests/data/` holds copies of the shared samples (`samples/`) and of the PoseTrack conformance
cases (`conformance/posetrack/`), each with its SOURCES.md, so the tests need no `../shared`.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

#: fixtures of the test helpers (tests/helpers), available to every test
pytest_plugins = [
    "helpers.checkpoints",
    "helpers.dataset_writers",
    "helpers.plugin",
    "helpers.sticks",
    "helpers.synthetic_roots",
    "helpers.tiny_run",
    "helpers.torch_threads",
    "helpers.trained",
]

DATA = Path(__file__).resolve().parent / "data"
#: the project's shared folder (design docs, conformance cases): `../shared` beside the checkout
#: (CI has it, a user's clone does not), or wherever VPOSEBENCH_SHARED points
SHARED = Path(os.environ.get("VPOSEBENCH_SHARED") or DATA.parents[2] / "shared")


@pytest.fixture(scope="session")
def samples_dir() -> Path:
    return DATA / "samples"


@pytest.fixture(scope="session")
def conformance_dir() -> Path:
    return DATA / "conformance" / "posetrack"


@pytest.fixture(scope="session")
def hota_conformance_dirs() -> list[Path]:
    """The copied keypoint-HOTA conformance cases, and the shared folder's when it exists (it
    may hold more cases than the copy)."""
    dirs = [DATA / "conformance" / "hota"]
    if (SHARED / "conformance" / "hota" / "expected").is_dir():
        dirs.append(SHARED / "conformance" / "hota")
    return dirs


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--update-expected", action="store_true",
                     help="rewrite golden files under tests/**/expected (review the diff!)")
