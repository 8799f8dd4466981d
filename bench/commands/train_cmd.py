"""Train a method on a dataset and write a checkpoint.

Settings go with --set key=value: method config fields (e.g. preset=small, backbone=cpn,
capacity=8) and training fields (e.g. iterations=2000, batch_size=16, lr=1e-3, seed=1,
init_checkpoint=baseline.ckpt). An interrupted run keeps CKPT.partial and resumes from it
when started again with the same settings.

Example:
  vposebench train --method baseline --dataset synthetic --root data/synth \\
      --set preset=small --set iterations=2000 --out baseline.ckpt
"""

from __future__ import annotations

import argparse

from ..config import parse_assignments
from ..training import TrainConfig, split_settings, train
from .common import (
    add_dataset_option_argument,
    add_device_arguments,
    apply_threads,
    open_dataset,
    parse_dataset_options,
)

NAME = "train"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--method", required=True, help="registered method name")
    parser.add_argument("--dataset", required=True, help="registered dataset name")
    parser.add_argument("--root", help="dataset folder")
    add_dataset_option_argument(parser)
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="a method or training setting (repeatable)")
    parser.add_argument("--out", required=True, help="checkpoint file to write")
    parser.add_argument("--no-resume", action="store_true",
                        help="ignore a partial run of the same checkpoint")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    add_device_arguments(parser)


def run(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    apply_threads(args.threads)
    method_settings, train_settings = split_settings(args.method, parse_assignments(args.set))
    config = TrainConfig.from_dict(train_settings, source="--set")
    dataset = open_dataset(args.dataset, args.root, config.split, "train",
                           parse_dataset_options(args.dataset_option))
    bar = None

    def progress(step: int, total: int, loss: float) -> None:
        nonlocal bar
        if args.quiet:
            return
        if bar is None:
            bar = tqdm(total=total, initial=step - 1, desc=f"train {args.method}", unit="step")
        bar.update(1)
        bar.set_postfix(loss=f"{loss:.3g}", refresh=False)

    try:
        result = train(args.method, dataset, args.out, method_settings=method_settings,
                       config=config, device=args.device, resume=not args.no_resume,
                       progress=progress)
    finally:
        if bar is not None:
            bar.close()
    resumed = f", resumed at step {result.resumed_from}" if result.resumed_from else ""
    final = f"{result.losses[-1]:.4g}" if result.losses else "n/a"
    print(f"wrote {result.checkpoint} ({result.steps} steps{resumed}, final loss {final}, "
          f"{result.seconds:.1f} s)")
    if result.idle_steps:
        print(f"note: in {result.idle_steps} steps nothing trainable took part in the loss "
              "(ptm: no stored map passed the write threshold; see train_quality_gate)")
    return 0
