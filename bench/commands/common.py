"""Helpers shared by the subcommands that open datasets and pick devices."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

import torch

from ..errors import UserError
from ..registry import DATASETS

if TYPE_CHECKING:
    from vposebench.datasets.base import VideoDataset


def add_device_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--device", default="cpu", choices=("cpu", "cuda"),
                        help="where the network runs (default: cpu)")
    parser.add_argument("--threads", type=int, default=None,
                        help="torch CPU threads (default: torch's choice)")


def apply_threads(threads: int | None) -> None:
    if threads is not None:
        if threads < 1:
            raise UserError(f"must be >= 1, got {threads}", field="--threads")
        torch.set_num_threads(threads)


def open_dataset(name: str, root: str | None, split: str | None, preferred: str) -> VideoDataset:
    """A registered dataset; `split` None picks `preferred` when the dataset has it."""
    cls = DATASETS.get(name)
    if root is None:
        default = getattr(cls, "default_root", None)
        if default is None:
            raise UserError(f"dataset {name!r} needs --root", field="--root")
        root = default()
    if split is None and preferred in getattr(cls, "splits", ()):
        split = preferred
    if split is not None and cls.splits and split not in cls.splits:
        raise UserError(f"dataset {name!r} has no split {split!r} (it has "
                        f"{', '.join(cls.splits)})", field="--split")
    return cls(root, split)
