"""Train a method on a dataset and write a checkpoint.

Settings go with --set key=value: method config fields (e.g. preset=small, backbone=cpn,
capacity=8) and training fields (e.g. iterations=2000, batch_size=16, lr=1e-3, seed=1,
init_checkpoint=baseline.ckpt). An interrupted run keeps CKPT.partial and resumes from it
when started again with the same settings.

Data-parallel training: --nproc N starts N processes (gloo on the CPU, nccl and one GPU each
on CUDA), each on 1/N of every batch, with the batches of a one-process run; under torchrun
(`torchrun --nproc_per_node N -m vposebench train ...`) the ranks come from its environment.

Example:
  vposebench train --method baseline --dataset synthetic --root data/synth \\
      --set preset=small --set iterations=2000 --out baseline.ckpt
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
from collections.abc import Callable, Iterator
from typing import Any

from ..config import parse_assignments
from ..data_parallel import Ranks, environment_ranks, launch, process_group, shard
from ..errors import UserError
from ..outputs import check_output_file
from ..registry import METHODS
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
    parser.add_argument("--nproc", type=int, default=1,
                        help="data-parallel processes on this machine (default: 1)")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    add_device_arguments(parser)


@dataclasses.dataclass(frozen=True)
class TrainRequest:
    """What every training process needs (picklable: it travels to the --nproc processes)."""

    method: str
    dataset: str
    root: str | None
    out: str
    method_settings: dict[str, str]
    train_settings: dict[str, str]
    device: str
    threads: int | None
    resume: bool
    quiet: bool
    dataset_options: dict[str, str] = dataclasses.field(default_factory=dict)


def train_process(request: TrainRequest) -> dict[str, Any]:
    """Train in this process, as one rank when torchrun's variables say so; return a summary
    (rank 0's is printed), the user error that stopped it, or that Ctrl-C did."""
    try:
        apply_threads(request.threads)
        ranks = environment_ranks()
        config = TrainConfig.from_dict(request.train_settings, source="--set")
        with process_group(ranks, request.device):
            dataset = open_dataset(request.dataset, request.root, config.split, "train",
                                   request.dataset_options)
            show = not request.quiet and (ranks is None or ranks.is_main)
            with progress_bar(request.method, show) as progress:
                result = train(request.method, dataset, request.out,
                               method_settings=request.method_settings, config=config,
                               device=request.device, resume=request.resume, progress=progress)
    except UserError as exc:
        return {"error": [exc.message, exc.path, exc.field]}
    except KeyboardInterrupt as exc:  # a value, not an exception: torch's launcher would wait forever
        return {"interrupted": str(exc)}
    return {"checkpoint": str(result.checkpoint), "steps": result.steps,
            "resumed_from": result.resumed_from, "seconds": result.seconds,
            "final_loss": result.losses[-1] if result.losses else None,
            "idle_steps": result.idle_steps}


@contextlib.contextmanager
def progress_bar(method: str, show: bool) -> Iterator[Callable[[int, int, float], None] | None]:
    """A tqdm bar fed by train's progress callback (None when not shown)."""
    if not show:
        yield None
        return
    from tqdm import tqdm

    bar = None

    def update(step: int, total: int, loss: float) -> None:
        nonlocal bar
        if bar is None:
            bar = tqdm(total=total, initial=step - 1, desc=f"train {method}", unit="step")
        bar.update(1)
        bar.set_postfix(loss=f"{loss:.3g}", refresh=False)

    try:
        yield update
    finally:
        if bar is not None:
            bar.close()


def run(args: argparse.Namespace) -> int:
    check_output_file(args.out, "--out")
    apply_threads(args.threads)
    method_settings, train_settings = split_settings(args.method, parse_assignments(args.set))
    config = TrainConfig.from_dict(train_settings, source="--set")
    config_class = METHODS.get(args.method).config_class  # trainable: split_settings checked it
    if config_class is not None:
        config_class.build(method_settings)  # refused here, before the data is read
    dataset_options = parse_dataset_options(args.dataset_option)
    open_dataset(args.dataset, args.root, config.split, "train", dataset_options)  # fail here, not in N processes
    request = TrainRequest(args.method, args.dataset, args.root, args.out, method_settings,
                           train_settings, args.device, args.threads, not args.no_resume,
                           args.quiet, dataset_options)
    if args.nproc < 1:
        raise UserError(f"must be >= 1, got {args.nproc}", field="--nproc")
    if args.nproc > 1:
        if environment_ranks() is not None:
            raise UserError("torchrun started this process already; leave --nproc out",
                            field="--nproc")
        shard(config.batch_size, Ranks(0, args.nproc, 0))
        summary = launch(args.nproc, train_process, request)[0]
    else:
        summary = train_process(request)
    if "interrupted" in summary:
        raise KeyboardInterrupt(summary["interrupted"])
    if "error" in summary:
        message, path, field = summary["error"]
        raise UserError(message, path=path, field=field)
    if summary["steps"] == 0:  # a control: copied from its wrapped checkpoint and fitted
        print(f"wrote {summary['checkpoint']} (a control: 0 gradient steps, {summary['seconds']:.1f} s)")
        return 0
    resumed = f", resumed at step {summary['resumed_from']}" if summary["resumed_from"] else ""
    final = f"{summary['final_loss']:.4g}" if summary["final_loss"] is not None else "n/a"
    processes = f", {args.nproc} processes" if args.nproc > 1 else ""
    print(f"wrote {summary['checkpoint']} ({summary['steps']} steps{resumed}, final loss {final}, "
          f"{summary['seconds']:.1f} s{processes})")
    if summary["idle_steps"]:
        print(f"note: in {summary['idle_steps']} steps nothing trainable took part in the loss "
              "(ptm: no stored map passed the write threshold; see train_quality_gate)")
    return 0
