"""A tiny generated root shared by the synthetic tests (generated once per session)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from vposebench.datasets.synthetic import SynthConfig, generate

#: one val video per profile (base, crowd, occlusion, fast), short clips
TINY = SynthConfig(train_videos=2, val_videos=4, frames=8, jhmdb_clips=4, penn_clips=4,
                   clip_frames=(6, 8), seed=11)


@pytest.fixture(scope="session")
def tiny_config() -> SynthConfig:
    return TINY


@pytest.fixture(scope="session")
def tiny_root(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("synthetic") / "root"
    generate(root, TINY, workers=1)
    return root


@pytest.fixture(scope="session")
def small_config():
    """A factory of even smaller configs, for tests that generate several roots."""

    def make(**changes) -> SynthConfig:
        base = dataclasses.replace(TINY, train_videos=1, val_videos=2, frames=4, jhmdb_clips=1,
                                   penn_clips=1, clip_frames=(4, 4))
        return dataclasses.replace(base, **changes)

    return make
