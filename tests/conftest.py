"""Shared fixtures: where the shared samples and conformance cases live."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

#: fixtures of the test helpers (tests/helpers), available to every test
pytest_plugins = [
    "helpers.dataset_writers",
    "helpers.sticks",
    "helpers.synthetic_roots",
    "helpers.torch_threads",
]

REPO = Path(__file__).resolve().parents[1]
#: ../shared beside the checkout (the CI layout); VPOSEBENCH_SHARED overrides it
SHARED = Path(os.environ.get("VPOSEBENCH_SHARED", REPO.parent / "shared"))


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    if not SHARED.is_dir():
        pytest.fail(f"shared folder not found at {SHARED} (set VPOSEBENCH_SHARED)")
    return SHARED


@pytest.fixture(scope="session")
def samples_dir(shared_dir: Path) -> Path:
    return shared_dir / "samples"


@pytest.fixture(scope="session")
def conformance_dir(shared_dir: Path) -> Path:
    return shared_dir / "conformance" / "posetrack"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--update-expected", action="store_true",
                     help="rewrite golden files under tests/**/expected (review the diff!)")
