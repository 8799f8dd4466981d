"""Small checkpoints for tests: a tiny `baseline` trained for a few steps on the stick figures
(what the controls wrap), and any method saved with its fresh weights."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from vposebench.checkpoint import Checkpoint, save_checkpoint
from vposebench.interface import TemporalPoseMethod


def save_untrained(method: TemporalPoseMethod, path: Path) -> Path:
    """`method` with its current weights as a complete checkpoint (no training run)."""
    save_checkpoint(Checkpoint(method=method.name, config=method.config.to_dict(), train_config={},
                               skeleton=method.skeleton, model=method.state_dict(), step=0,
                               complete=True), path)
    return path


@pytest.fixture(scope="session")
def baseline_checkpoint(sticks_root, tmp_path_factory) -> Path:
    """A tiny SimpleBaseline trained for 2 steps on the stick-figure training split."""
    from helpers.sticks import StickDataset
    from vposebench.training import TrainConfig, train

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        out = tmp_path_factory.mktemp("baseline") / "baseline.ckpt"
        train("baseline", StickDataset(sticks_root, "train"), out,
              method_settings={"preset": "tiny"}, config=TrainConfig(iterations=2, batch_size=4))
    finally:
        torch.set_num_threads(before)
    return out
