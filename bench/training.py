"""Training a registered method on a registered dataset: the loop, the schedule, resuming.

`train()` builds the method for the dataset's skeleton, optionally starts its network from
ImageNet weights (`pretrained`) or from another checkpoint (`init_checkpoint`: a `baseline`
checkpoint for `ptm`, an official SimpleBaseline state dict, ...), samples the clips the
method asks for (`datasets.clips`), and optimises `method.loss` with a step schedule. Every
`save_every` steps (and on interruption) it writes a partial checkpoint next to the target;
a new run with the same settings resumes from it and sees exactly the batches an
uninterrupted run would. Seeds fix the weight initialisation and every batch.
"""

from __future__ import annotations

import contextlib
import dataclasses
import difflib
import logging
import math
import os
import signal
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import torch
from torch.utils.data import DataLoader, Dataset

from .checkpoint import (
    Checkpoint,
    load_checkpoint,
    network_weights,
    partial_path,
    read_state_dict,
    save_checkpoint,
)
from .config import ConfigBase, choice, positive
from .errors import UserError
from .interface import (
    ClipBatch,
    TemporalPoseMethod,
    TrainableMethod,
    build_method,
    is_trainable,
    method_class,
)
from .provenance import collect
from .structures import VideoGT

if TYPE_CHECKING:  # for annotations; at run time the datasets package loads lazily (build_sampler)
    from vposebench.datasets.base import VideoDataset
    from vposebench.datasets.clips import ClipSampler

log = logging.getLogger(__name__)


@dataclasses.dataclass
class TrainConfig(ConfigBase):
    """Everything about a training run that is not the method itself."""

    iterations: int = 1000
    batch_size: int = 32
    #: adam (SimpleBaseline's) or sgd (with momentum, the TFC paper's)
    optimizer: str = "adam"
    lr: float = 1e-3
    momentum: float = 0.9
    weight_decay: float = 0.0
    #: step (x lr_gamma at each milestone, given as fractions of the iterations), cosine or
    #: constant; after `warmup` linear warm-up steps
    lr_schedule: str = "step"
    lr_milestones: tuple[float, ...] = (0.65, 0.85)
    lr_gamma: float = 0.1
    warmup: int = 0
    seed: int = 0
    #: augmentation: scale ~ U[1 - s, 1 + s], rotation ~ U[-r, r] with probability p, flip
    scale_factor: float = 0.3
    rotation_factor: float = 40.0
    rotation_prob: float = 0.6
    flip_prob: float = 0.5
    #: joints with a loss: auto (by the dataset's protocol), annotated or visible
    train_joints: str = "auto"
    #: consecutive clips: largest frame-index step between clip frames
    max_gap: int = 1
    #: persons with fewer trained joints are skipped
    min_joints: int = 1
    #: dataset split to train on (None: "train" when the dataset has it)
    split: str | None = None
    #: start the network from this checkpoint (vposebench or a bare pose state dict)
    init_checkpoint: str | None = None
    #: start the ResNet from this torchvision ImageNet state dict
    pretrained: str | None = None
    #: what trains: all, temporal (only the method's added modules), auto (temporal when
    #: starting from init_checkpoint and the method adds modules, else all)
    train_scope: str = "auto"
    save_every: int = 100
    num_workers: int = 0
    image_cache: int = 64

    def validate(self) -> None:
        for name in ("iterations", "batch_size", "lr", "save_every", "image_cache"):
            positive(getattr(self, name), name)
        for name in ("momentum", "weight_decay", "warmup", "num_workers", "scale_factor",
                     "rotation_factor", "min_joints"):
            positive(getattr(self, name), name, zero=True)
        choice(self.optimizer, ("adam", "sgd"), "optimizer")
        choice(self.lr_schedule, ("step", "cosine", "constant"), "lr_schedule")
        choice(self.train_scope, ("auto", "all", "temporal"), "train_scope")
        choice(self.train_joints, ("auto", "annotated", "visible"), "train_joints")
        if not all(0 < m < 1 for m in self.lr_milestones):
            raise UserError("milestones are fractions of the iterations in (0, 1)",
                            field="lr_milestones")
        if self.max_gap < 1:
            raise UserError("must be >= 1", field="max_gap")


def trainable_class(method: str) -> type[TemporalPoseMethod]:
    """The registered method class `method`, or a UserError when it cannot be trained."""
    cls = method_class(method)
    if not is_trainable(cls):
        raise UserError(f"method {method!r} cannot be trained: it does not declare the training "
                        "capability (vposebench.interface.TrainableMethod)", field="--method")
    return cls


def split_settings(method: str, settings: dict[str, str]) -> tuple[dict[str, str], dict[str, str]]:
    """`--set` items -> (method config overrides, training config overrides)."""
    config_class = trainable_class(method).config_class
    method_fields = set(config_class.field_names()) if config_class is not None else set()
    train_fields = set(TrainConfig.field_names())
    out_method, out_train = {}, {}
    for key, value in settings.items():
        if key in train_fields:
            out_train[key] = value
        elif key in method_fields:
            out_method[key] = value
        else:
            known = sorted(method_fields | train_fields)
            close = difflib.get_close_matches(key, known, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise UserError(f"unknown setting {key!r} for {method}{hint}", field="--set")
    return out_method, out_train


def lr_factor(step: int, config: TrainConfig) -> float:
    """Learning-rate multiplier at `step` (0-based)."""
    if config.warmup and step < config.warmup:
        return (step + 1) / config.warmup
    progress = step / config.iterations
    if config.lr_schedule == "step":
        return config.lr_gamma ** sum(progress >= m for m in config.lr_milestones)
    if config.lr_schedule == "cosine":
        return 0.5 * (1 + math.cos(math.pi * progress))
    return 1.0


class _Batches(Dataset):
    """Map-style view of a sampler: item `step` is that step's batch (for DataLoader workers)."""

    def __init__(self, sampler: ClipSampler) -> None:
        self.sampler = sampler

    def __len__(self) -> int:
        return 2**62

    def __getitem__(self, step: int) -> ClipBatch:
        return self.sampler.batch(step)


def _as_is(batch: ClipBatch) -> ClipBatch:
    return batch


@dataclasses.dataclass
class TrainResult:
    """What a training run did."""

    checkpoint: Path
    steps: int
    resumed_from: int
    losses: list[float]
    seconds: float
    samples: int
    #: steps whose loss involved no trainable parameter (no update was made)
    idle_steps: int = 0


def resolve_device(device: str) -> torch.device:
    if device == "cuda" and not torch.cuda.is_available():
        raise UserError("CUDA was asked for but torch sees no GPU", field="--device")
    if device not in ("cpu", "cuda"):
        raise UserError(f"expected cpu or cuda, got {device!r}", field="--device")
    return torch.device(device)


def _initialise(method: TrainableMethod, config: TrainConfig) -> str:
    """Apply `pretrained` / `init_checkpoint`; return the resolved train scope."""
    if config.pretrained:
        method.load_imagenet_state(read_state_dict(config.pretrained), config.pretrained)
    if config.init_checkpoint:
        method.load_network_state(network_weights(config.init_checkpoint), config.init_checkpoint)
    scope = config.train_scope
    if scope == "auto":
        scope = "temporal" if config.init_checkpoint and method.temporal_modules() else "all"
    if scope == "temporal":
        if not method.temporal_modules():
            raise UserError(f"{method.name} adds no temporal modules to train alone",
                            field="train_scope")
        network = method.per_frame_network()
        if network is None:
            raise UserError(f"{method.name} has no per-frame network to freeze", field="train_scope")
        for p in network.parameters():
            p.requires_grad_(False)
    return scope


def _optimizer(params: list[torch.nn.Parameter], config: TrainConfig) -> torch.optim.Optimizer:
    if config.optimizer == "sgd":
        return torch.optim.SGD(params, lr=config.lr, momentum=config.momentum,
                               weight_decay=config.weight_decay)
    return torch.optim.Adam(params, lr=config.lr, weight_decay=config.weight_decay)


def _resume_point(out: Path, method: str, method_config: dict, train_config: dict,
                  dataset: dict) -> Checkpoint | None:
    partial = partial_path(out)
    if not partial.exists():
        return None
    ckpt = load_checkpoint(partial)
    same = (ckpt.method == method and ckpt.config == method_config
            and ckpt.train_config == train_config and ckpt.dataset == dataset)
    if not same:
        raise UserError("a partial run with other settings is here; remove it or train with "
                        "--no-resume", path=partial)
    return ckpt


def build_sampler(method: TrainableMethod, dataset: VideoDataset, videos: list[VideoGT],
                  config: TrainConfig) -> ClipSampler:
    """The batches `method` trains on: its clip spec over the videos, its crop geometry."""
    from vposebench.datasets.clips import ClipIndex, ClipSampler, joint_rule
    from vposebench.datasets.transforms import AugmentationRanges

    trains_on = joint_rule(dataset.protocol, config.train_joints)
    geometry = method.sample_geometry()
    index = ClipIndex(videos, method.clip_spec(), trains_on=trains_on,
                      real=dataset.skeleton.evaluated, max_gap=config.max_gap,
                      min_joints=config.min_joints)
    ranges = AugmentationRanges(config.scale_factor, config.rotation_factor,
                                config.rotation_prob, config.flip_prob)
    return ClipSampler(videos, index, dataset.skeleton, geometry, ranges,
                       batch_size=config.batch_size, seed=config.seed, trains_on=trains_on,
                       image_cache=config.image_cache)


def train(method_name: str, dataset: VideoDataset, out: str | os.PathLike[str], *,
          method_settings: dict[str, str] | None = None, config: TrainConfig | None = None,
          device: str = "cpu", resume: bool = True,
          progress: Callable[[int, int, float], None] | None = None) -> TrainResult:
    """Train `method_name` on a `VideoDataset` instance and write the checkpoint to `out`.

    `progress(step, total, loss)` is called after every step (the CLI shows a tqdm bar).
    """
    config = config or TrainConfig()
    out = Path(out)
    dev = resolve_device(device)
    torch.manual_seed(config.seed)
    trainable_class(method_name)
    method = build_method(method_name, dataset.skeleton, **(method_settings or {}))
    scope = _initialise(method, config)
    method.to(dev)
    params = [p for p in method.parameters() if p.requires_grad]
    optimizer = _optimizer(params, config)
    data_info = {"name": dataset.name, "split": dataset.split, "root": str(dataset.root)}
    method_config, train_config = method.settings(), config.to_dict()

    videos = [dataset.load_video(name) for name in dataset.video_names()]
    if hasattr(dataset, "describe"):  # counts and the annotation fingerprint, for provenance
        data_info["description"] = dataset.describe(videos).to_dict()
    start, losses = 0, []
    if resume:
        ckpt = _resume_point(out, method_name, method_config, train_config, data_info)
        if ckpt is not None:
            method.load_state_dict(ckpt.model, strict=True)
            optimizer.load_state_dict(ckpt.optimizer)
            start, losses = ckpt.step, list(ckpt.losses)
            log.info("resuming %s from step %d", partial_path(out), start)

    sampler = build_sampler(method, dataset, videos, config)
    loader = DataLoader(_Batches(sampler), batch_size=None, sampler=range(start, config.iterations),
                        num_workers=config.num_workers, collate_fn=_as_is)

    def snapshot(step: int, complete: bool) -> Checkpoint:
        return Checkpoint(method=method_name, config=method_config, train_config=train_config,
                          skeleton=dataset.skeleton, model=method.state_dict(), step=step,
                          complete=complete, dataset=data_info, optimizer=optimizer.state_dict(),
                          losses=losses, provenance=collect(config.seed).to_dict())

    began = time.perf_counter()
    idle = 0
    with _interrupt_at_step_boundary() as interrupted:
        for step, batch in enumerate(loader, start=start):
            for group in optimizer.param_groups:
                group["lr"] = config.lr * lr_factor(step, config)
            method.train()
            if scope == "temporal":
                method.per_frame_network().eval()  # frozen: BatchNorm keeps its statistics
            loss = method.loss(batch.to(dev))
            optimizer.zero_grad(set_to_none=True)
            if loss.requires_grad:
                loss.backward()
                optimizer.step()
            else:  # e.g. ptm with a frozen network and no write past the quality gate yet
                idle += 1
                log.info("step %d: nothing trainable took part in the loss; no update", step)
            losses.append(float(loss.detach()))
            if not math.isfinite(losses[-1]):
                raise UserError(f"the loss became {losses[-1]} at step {step}; lower lr",
                                field="lr")
            if progress is not None:
                progress(step + 1, config.iterations, losses[-1])
            last = step + 1 == config.iterations
            if interrupted() or ((step + 1) % config.save_every == 0 and not last):
                save_checkpoint(snapshot(step + 1, False), partial_path(out))
            if interrupted():
                log.warning("interrupted after step %d; progress kept in %s", step + 1,
                            partial_path(out))
                raise KeyboardInterrupt
    save_checkpoint(snapshot(config.iterations, True), out)
    partial_path(out).unlink(missing_ok=True)
    method.eval()
    return TrainResult(out, config.iterations, start, losses, time.perf_counter() - began,
                       (config.iterations - start) * config.batch_size, idle)


@contextlib.contextmanager
def _interrupt_at_step_boundary() -> Iterator[Callable[[], bool]]:
    """Defer Ctrl-C (SIGINT) to the end of the current step, so the state saved is whole.

    Yields a function telling whether an interrupt arrived. A second Ctrl-C stops at once.
    Only the main thread can install signal handlers; elsewhere nothing is deferred.
    """
    if threading.current_thread() is not threading.main_thread():
        yield lambda: False
        return
    flag = {"set": False}
    previous = signal.getsignal(signal.SIGINT)

    def handler(signum, frame):  # noqa: ARG001
        if flag["set"]:
            raise KeyboardInterrupt
        flag["set"] = True

    signal.signal(signal.SIGINT, handler)
    try:
        yield lambda: flag["set"]
    finally:
        signal.signal(signal.SIGINT, previous)
