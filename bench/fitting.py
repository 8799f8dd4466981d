"""Fitting a control (`hold`, `oracle-hold`, `prior`): a checkpoint without gradient steps.

`vposebench train --method hold --set init_checkpoint=BASE.ckpt` ends here (`training.train`
hands controls over). The wrapped checkpoint must be a complete `baseline` checkpoint of the
dataset's skeleton. The control is built with the wrapped network's config (settings given
with `--set` win), its network gets the wrapped weights, and its `fit` sees the training
split's ground truth and, when it asks (`score_videos()`), the wrapped model's predictions on
that many training videos, run online with ground-truth boxes by the runner: the control never
reads a file. The checkpoint is written complete at step 0 with `iterations` 0 in its training
config; its provenance names the wrapped checkpoint (method, step, SHA-256 of the file).
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch

from .checkpoint import Checkpoint, load_checkpoint, network_weights, save_checkpoint
from .errors import UserError
from .hashing import file_digest
from .interface import build_method
from .provenance import collect
from .registry import METHODS
from .runner import run_video
from .structures import VideoGT, VideoPred

if TYPE_CHECKING:
    from vposebench.datasets.base import VideoDataset

    from .training import TrainConfig, TrainResult

#: the method a control can wrap (a per-frame network with nothing temporal)
WRAPPED_METHOD = "baseline"


def evenly(names: list[str], count: int) -> list[str]:
    """`count` names spread evenly over `names` in order (all of them for 0 or more)."""
    if count <= 0 or count >= len(names):
        return list(names)
    return [names[i * len(names) // count] for i in range(count)]


def wrapped_checkpoint(path: str | None, dataset: VideoDataset) -> Checkpoint:
    """The per-frame checkpoint a control wraps, checked against the dataset."""
    if not path:
        raise UserError("a control wraps a trained per-frame checkpoint: give --set "
                        "init_checkpoint=BASELINE.ckpt", field="init_checkpoint")
    base = load_checkpoint(path)
    if base.method != WRAPPED_METHOD:
        raise UserError(f"a control wraps a {WRAPPED_METHOD!r} checkpoint, this one holds "
                        f"{base.method!r}", path=path, field="method")
    if not base.complete:
        raise UserError(f"training stopped at step {base.step}; finish it first", path=path,
                        field="complete")
    if base.skeleton.joints != dataset.skeleton.joints:
        raise UserError(f"the checkpoint was trained on joint set {base.skeleton.name!r}, the "
                        f"dataset uses {dataset.skeleton.name!r}", path=path, field="skeleton")
    return base


def wrapped_predictions(base: Checkpoint, videos: list[VideoGT], device: torch.device) -> list[VideoPred]:
    """The wrapped model's predictions on `videos` (ground-truth boxes, online)."""
    if not videos:
        return []
    model = base.build(device)
    with torch.no_grad():
        return [run_video(model, video) for video in videos]


def fitted_train_config(config: TrainConfig) -> dict[str, Any]:
    """The training config a control's checkpoint states: `config` with 0 iterations (it is
    fitted, not trained; the run's plan states the same)."""
    return {**config.to_dict(), "iterations": 0}


def fit_control(method_name: str, dataset: VideoDataset, out: str | os.PathLike[str], *,
                method_settings: dict[str, str], config: TrainConfig, device: str,
                init_file: str | os.PathLike[str] | None = None) -> TrainResult:
    """Write the checkpoint of control `method_name` wrapping `config.init_checkpoint` (read
    from `init_file` when that field is a content reference, see `training.train`)."""
    from vposebench.datasets.clips import joint_rule

    from .training import TrainResult, dataset_info, resolve_device

    began = time.perf_counter()
    dev = resolve_device(device)
    source = str(init_file) if init_file is not None else config.init_checkpoint
    base = wrapped_checkpoint(source, dataset)
    fields = set(METHODS.get(method_name).config_class.field_names())
    settings = {**{k: v for k, v in base.config.items() if k in fields}, **method_settings}
    method = build_method(method_name, dataset.skeleton, **settings)
    method.load_network_state(network_weights(source), source)
    names = dataset.video_names()
    videos = [dataset.load_video(name) for name in names]
    scored = evenly(names, method.score_videos()) if method.score_videos() else []
    by_name = dict(zip(names, videos))
    predictions = wrapped_predictions(base, [by_name[n] for n in scored], dev)
    method.fit(videos, predictions, joint_rule(dataset.protocol, config.train_joints))
    provenance = {**collect(config.seed).to_dict(),
                  "wraps": {"method": base.method, "step": base.step,
                            "sha256": file_digest(source)}}
    checkpoint = Checkpoint(method=method_name, config=method.config.to_dict(),
                            train_config=fitted_train_config(config),
                            skeleton=dataset.skeleton, model=method.state_dict(), step=0,
                            complete=True, dataset=dataset_info(dataset, videos), losses=[],
                            provenance=provenance)
    save_checkpoint(checkpoint, out)
    return TrainResult(Path(out), 0, 0, [], time.perf_counter() - began, 0)
