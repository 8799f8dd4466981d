"""Training a registered method on a registered dataset: the loop, the schedule, resuming.

`train()` builds the method for the dataset's skeleton, optionally starts its network from
ImageNet weights (`pretrained`) or from another checkpoint (`init_checkpoint`: a `baseline`
checkpoint for `ptm`, an official SimpleBaseline state dict, ...), samples the clips the
method asks for (`datasets.clips`), and optimises `method.loss` with a step schedule. Every
`save_every` steps (and on interruption) it writes a partial checkpoint next to the target;
a new run with the same settings resumes from it and sees exactly the batches an
uninterrupted run would. Seeds fix the weight initialisation and every batch.

Inside a torch.distributed process group (`bench.data_parallel`) every rank trains on its
share of each global batch through DistributedDataParallel with synchronised BatchNorm; rank 0
writes the checkpoints and reports progress.

Over 400 lines on purpose: one job (the training loop) whose resume and data-parallel paths
share the loop's state; split apart they would pass that state around.
"""

from __future__ import annotations

import dataclasses
import difflib
import logging
import math
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

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
from .data_parallel import Ranks, all_reduce_sum, barrier, current_ranks, shard
from .errors import UserError
from .interface import (
    ClipBatch,
    TemporalPoseMethod,
    TrainableMethod,
    build_method,
    is_control,
    is_trainable,
    method_class,
)
from .interrupts import deferred_interrupts
from .provenance import collect
from .structures import VideoGT
from .sync_batchnorm import synchronise_batchnorm

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
    #: learning rate of the modules a method adds to its network (ptm's memory, tfc's scale
    #: layer; None: lr) and of a method's mixing weight (ptm's alpha; None: temporal_lr).
    #: Adam moves a parameter by about lr per step whatever its gradient, so alpha needs a
    #: larger rate than the network to move far in a few hundred steps
    temporal_lr: float | None = None
    alpha_lr: float | None = None
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
        for name in ("temporal_lr", "alpha_lr"):
            if getattr(self, name) is not None:
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
    """Map-style view of a sampler: item `step` is that step's batch, or this rank's `slots`
    of it (for DataLoader workers)."""

    def __init__(self, sampler: ClipSampler, slots: range) -> None:
        self.sampler = sampler
        self.slots = slots

    def __len__(self) -> int:
        return 2**62

    def __getitem__(self, step: int) -> ClipBatch:
        return self.sampler.batch(step, self.slots)


class _LossOf(torch.nn.Module):
    """The method's loss as a module's forward, for DistributedDataParallel.

    Returns (loss, whether any trainable parameter took part). Every trainable parameter is
    tied into the loss with weight 0, so each rank's backward reaches all of them (DDP then
    needs no search for unused parameters, and a rank whose share trained nothing still joins
    the gradient all-reduce); the gradients do not change, except that a parameter no rank
    used gets 0 instead of None.
    """

    def __init__(self, method: TemporalPoseMethod, params: list[torch.nn.Parameter]) -> None:
        super().__init__()
        self.method = method
        self.trainable = params

    def forward(self, batch: ClipBatch) -> tuple[torch.Tensor, bool]:
        loss = self.method.loss(batch)
        used = loss.requires_grad
        return loss + 0.0 * sum(p.sum() for p in self.trainable), used


def _as_is(batch: ClipBatch) -> ClipBatch:
    return batch


@dataclasses.dataclass
class StepLoss:
    """One training step's loss."""

    loss: torch.Tensor  # what backward runs on (this rank's share of the batch)
    value: float  # the loss of the whole (global) batch
    trained: bool  # a trainable parameter took part (on some rank): the optimizer steps
    stop: bool  # an interrupt had arrived (on some rank): every rank stops after this step


def step_loss(method: TemporalPoseMethod, params: list[torch.nn.Parameter],
               ranks: Ranks | None) -> Callable[[ClipBatch, bool], StepLoss]:
    """batch, interrupted -> StepLoss: the method's loss alone, or through
    DistributedDataParallel with the global loss and flags summed over the ranks. Keep the
    returned function alive until backward has run: it owns the DDP wrapper, whose hooks
    average the gradients."""
    if ranks is None:
        def alone(batch: ClipBatch, interrupted: bool) -> StepLoss:
            loss = method.loss(batch)
            return StepLoss(loss, float(loss.detach()), loss.requires_grad, interrupted)
        return alone
    from torch.nn.parallel import DistributedDataParallel

    # buffers (BatchNorm statistics) stay equal on every rank: synchronised BatchNorm
    model = DistributedDataParallel(_LossOf(method, params), forward_sync_buffers=False)

    def parallel(batch: ClipBatch, interrupted: bool) -> StepLoss:
        loss, used = model(batch)
        total, users, stops = all_reduce_sum([float(loss.detach()), float(used), float(interrupted)],
                                             loss.device)
        return StepLoss(loss, total / ranks.world_size, users > 0, stops > 0)
    return parallel


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


def _initialise(method: TrainableMethod, config: TrainConfig,
                init_file: str | os.PathLike[str] | None = None) -> str:
    """Apply `pretrained` / `init_checkpoint` (read from `init_file` when given); return the
    resolved train scope."""
    if config.pretrained:
        method.load_imagenet_state(read_state_dict(config.pretrained), config.pretrained)
    if config.init_checkpoint:
        source = init_file if init_file is not None else config.init_checkpoint
        method.load_network_state(network_weights(source), str(source))
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


def parameter_groups(method: TemporalPoseMethod, config: TrainConfig) -> list[dict[str, Any]]:
    """The trainable parameters in groups with their own base learning rate: "network" (lr),
    "temporal" (the method's added modules: temporal_lr) and "alpha" (its mixing weights:
    alpha_lr). Empty groups are left out."""
    alpha = {id(p) for p in method.alpha_parameters()} if hasattr(method, "alpha_parameters") else set()
    temporal = {id(p) for m in method.temporal_modules() for p in m.parameters()} - alpha
    temporal_lr = config.temporal_lr or config.lr
    rates = {"network": config.lr, "temporal": temporal_lr, "alpha": config.alpha_lr or temporal_lr}
    members: dict[str, list[torch.nn.Parameter]] = {name: [] for name in rates}
    for p in method.parameters():
        if p.requires_grad:
            kind = "alpha" if id(p) in alpha else "temporal" if id(p) in temporal else "network"
            members[kind].append(p)
    return [{"params": params, "lr": rates[name], "base_lr": rates[name], "name": name}
            for name, params in members.items() if params]


def _optimizer(groups: list[dict[str, Any]], config: TrainConfig) -> torch.optim.Optimizer:
    if config.optimizer == "sgd":
        return torch.optim.SGD(groups, lr=config.lr, momentum=config.momentum,
                               weight_decay=config.weight_decay)
    return torch.optim.Adam(groups, lr=config.lr, weight_decay=config.weight_decay)


def _resume_point(out: Path, method: str, method_config: dict, train_config: dict,
                  dataset: dict) -> Checkpoint | None:
    partial = partial_path(out)
    if not partial.exists():
        return None
    ckpt = load_checkpoint(partial)
    same = (ckpt.method == method and ckpt.config == method_config
            and ckpt.train_config == train_config
            and _without_root(ckpt.dataset) == _without_root(dataset))
    if not same:
        raise UserError("a partial run with other settings is here; remove it or train with "
                        "--no-resume", path=partial)
    return ckpt


def _without_root(data: dict) -> dict:
    """A checkpoint's dataset block without where the data lay (a moved folder is the same
    data: its annotation fingerprint says so)."""
    out = {k: v for k, v in data.items() if k != "root"}
    if isinstance(out.get("description"), dict):
        out["description"] = {k: v for k, v in out["description"].items() if k != "root"}
    return out


def dataset_info(dataset: VideoDataset, videos: list[VideoGT]) -> dict:
    """A checkpoint's `dataset` block: name, split, root, and the dataset's description
    (counts and the annotation fingerprint) when it has one."""
    info = {"name": dataset.name, "split": dataset.split, "root": str(dataset.root)}
    if hasattr(dataset, "describe"):
        info["description"] = dataset.describe(videos).to_dict()
    return info


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
          progress: Callable[[int, int, float], None] | None = None,
          init_file: str | os.PathLike[str] | None = None) -> TrainResult:
    """Train `method_name` on a `VideoDataset` instance and write the checkpoint to `out`.

    `progress(step, total, loss)` is called after every step (the CLI shows a tqdm bar).
    `init_file` is where the weights `config.init_checkpoint` names are read from, when that
    field holds a content reference rather than a path (`vposebench run` writes
    ``checkpoint:<recipe>`` there, so checkpoints and records do not depend on the cache's
    location).
    """
    config = config or TrainConfig()
    if is_control(method_class(method_name)):  # no gradient steps: copied and fitted
        from .fitting import fit_control

        return fit_control(method_name, dataset, out, method_settings=method_settings or {},
                           config=config, device=device, init_file=init_file)
    out = Path(out)
    dev = resolve_device(device)
    ranks = current_ranks()
    slots = shard(config.batch_size, ranks)
    if ranks is not None and dev.type == "cuda":
        dev = torch.device("cuda", ranks.local_rank)
    main = ranks is None or ranks.is_main
    torch.manual_seed(config.seed)
    trainable_class(method_name)
    method = build_method(method_name, dataset.skeleton, **(method_settings or {}))
    scope = _initialise(method, config, init_file)
    if ranks is not None:
        synchronise_batchnorm(method, dev)
    method.to(dev)
    groups = parameter_groups(method, config)
    optimizer = _optimizer(groups, config)
    params = [p for group in groups for p in group["params"]]
    method_config, train_config = method.settings(), config.to_dict()
    videos = [dataset.load_video(name) for name in dataset.video_names()]
    data_info = dataset_info(dataset, videos)
    start, losses = 0, []
    if resume:
        ckpt = _resume_point(out, method_name, method_config, train_config, data_info)
        if ckpt is not None:
            method.load_state_dict(ckpt.model, strict=True)
            optimizer.load_state_dict(ckpt.optimizer)
            start, losses = ckpt.step, list(ckpt.losses)
            log.info("resuming %s from step %d", partial_path(out), start)

    compute_loss = step_loss(method, params, ranks)
    sampler = build_sampler(method, dataset, videos, config)
    loader = DataLoader(_Batches(sampler, slots), batch_size=None, sampler=range(start, config.iterations),
                        num_workers=config.num_workers, collate_fn=_as_is)

    def snapshot(step: int, complete: bool) -> Checkpoint:
        return Checkpoint(method=method_name, config=method_config, train_config=train_config,
                          skeleton=dataset.skeleton, model=method.state_dict(), step=step,
                          complete=complete, dataset=data_info, optimizer=optimizer.state_dict(),
                          losses=losses, provenance=collect(config.seed).to_dict())

    began = time.perf_counter()
    idle = 0
    with deferred_interrupts(second_stops=True) as interrupted:  # Ctrl-C waits for the step to end
        for step, batch in enumerate(loader, start=start):
            for group in optimizer.param_groups:
                group["lr"] = group["base_lr"] * lr_factor(step, config)
            method.train()
            if scope == "temporal":
                method.per_frame_network().eval()  # frozen: BatchNorm keeps its statistics
            done = compute_loss(batch.to(dev), interrupted())
            optimizer.zero_grad(set_to_none=True)
            if done.loss.requires_grad:
                done.loss.backward()
            if done.trained:
                optimizer.step()
            else:  # e.g. ptm with a frozen network and no write past the quality gate yet
                idle += 1
                log.info("step %d: nothing trainable took part in the loss; no update", step)
            losses.append(done.value)
            if not math.isfinite(losses[-1]):
                raise UserError(f"the loss became {losses[-1]} at step {step}; lower lr",
                                field="lr")
            if progress is not None and main:
                progress(step + 1, config.iterations, losses[-1])
            last = step + 1 == config.iterations
            # ranks agree on stopping through the step's all-reduce; alone, an interrupt that
            # came at any time during the step counts
            stop = done.stop if ranks is not None else interrupted()
            if main and (stop or ((step + 1) % config.save_every == 0 and not last)):
                save_checkpoint(snapshot(step + 1, False), partial_path(out))
            if stop:
                raise KeyboardInterrupt(f"after step {step + 1}; progress kept in {partial_path(out)}")
    if main:
        save_checkpoint(snapshot(config.iterations, True), out)
        partial_path(out).unlink(missing_ok=True)
    barrier()
    method.eval()
    return TrainResult(out, config.iterations, start, losses, time.perf_counter() - began,
                       (config.iterations - start) * config.batch_size, idle)
