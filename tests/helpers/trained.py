"""A tiny baseline trained for seconds on the shared synthetic root (session fixture), for the
tests that need real trained weights (ONNX export, the demo)."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from vposebench.registry import DATASETS
from vposebench.training import TrainConfig, train


@pytest.fixture(scope="session")
def tiny_baseline_checkpoint(tiny_root: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`baseline` (preset tiny) after 20 steps of batch 8 on the tiny root's train split."""
    out = tmp_path_factory.mktemp("trained") / "baseline.ckpt"
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        train("baseline", DATASETS.get("synthetic")(tiny_root, "train"), out,
              method_settings={"preset": "tiny"},
              config=TrainConfig(iterations=20, batch_size=8, save_every=1000))
    finally:
        torch.set_num_threads(before)
    return out
