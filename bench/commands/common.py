"""Helpers shared by the subcommands that open datasets, pick devices and build methods.

torch is imported only by the helpers that need it, so that e.g. `convert` does not load it.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from ..config import parse_assignments
from ..errors import UserError
from ..registry import DATASETS
from ..skeleton import Skeleton

if TYPE_CHECKING:
    import torch

    from vposebench.datasets.base import VideoDataset

    from ..interface import TemporalPoseMethod


def add_device_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--device", default="cpu", choices=("cpu", "cuda"),
                        help="where the network runs (default: cpu)")
    parser.add_argument("--threads", type=int, default=None,
                        help="torch CPU threads (default: torch's choice)")


def apply_threads(threads: int | None) -> None:
    if threads is not None:
        if threads < 1:
            raise UserError(f"must be >= 1, got {threads}", field="--threads")
        import torch

        torch.set_num_threads(threads)


def add_dataset_option_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--dataset-option", action="append", default=[], metavar="KEY=VALUE",
                        help="an option of the dataset adapter (repeatable), e.g. for jhmdb "
                        "box_from_joints=true")


def parse_dataset_options(items: list[str] | None) -> dict[str, str]:
    """`--dataset-option` items -> {key: value}."""
    return parse_assignments(items, field="--dataset-option")


def open_dataset(name: str, root: str | None, split: str | None, preferred: str,
                 options: dict[str, Any] | None = None) -> VideoDataset:
    """A registered dataset; `split` None picks `preferred` when the dataset has it;
    `options` go to the adapter (see its `options_class`)."""
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
    return instantiate_dataset(cls, root, split, options)


def instantiate_dataset(cls: type[VideoDataset], root: Any, split: str | None,
                        options: dict[str, Any] | None) -> VideoDataset:
    """`cls(root, split, **options)`, refusing options a dataset does not declare."""
    if options and getattr(cls, "options_class", None) is None:
        raise UserError(f"dataset {cls.name!r} takes no options (got {', '.join(sorted(options))})",
                        field="--dataset-option")
    return cls(root, split, **(options or {}))


def build_predictor(name: str, checkpoint_path: str | None, skeleton: Skeleton,
                    overrides: dict[str, Any], device: torch.device) -> TemporalPoseMethod:
    """The method that predicts `skeleton`'s joints, in eval mode on `device`: from a
    checkpoint (checked against the method and the joint set; `overrides` change its config),
    or built from `overrides` when the method is not trained (a trained one needs its
    checkpoint)."""
    from ..checkpoint import load_checkpoint
    from ..interface import build_method, is_trainable, method_class

    if checkpoint_path is None:
        if is_trainable(method_class(name)):
            raise UserError(f"method {name!r} learns its weights in training: give --checkpoint "
                            "(written by vposebench train)", field="--checkpoint")
        return build_method(name, skeleton, **overrides).to(device).eval()
    checkpoint = load_checkpoint(checkpoint_path)
    if checkpoint.method != name:
        raise UserError(f"the checkpoint holds method {checkpoint.method!r}, not {name!r}",
                        path=checkpoint_path, field="method")
    if not checkpoint.complete:
        raise UserError(f"training stopped at step {checkpoint.step}; finish it first",
                        path=checkpoint_path, field="complete")
    if skeleton.joints != checkpoint.skeleton.joints:
        raise UserError(f"the checkpoint was trained on joint set {checkpoint.skeleton.name!r}, "
                        f"the data uses {skeleton.name!r}", path=checkpoint_path, field="skeleton")
    return checkpoint.build(device, source=checkpoint_path, **overrides)
