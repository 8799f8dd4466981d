"""The producing stages of `vposebench run`, as job functions: data, training, GT conversion,
prediction and timing (evaluation and records: `vposebench.evaluation`, `vposebench.assembly`).

Each function runs in an engine's worker process: it reads its inputs from the cache, writes
its output there atomically (a folder is complete when its marker file exists) and returns
a small picklable value. Each is idempotent: an output already there is returned at once.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .atomic import atomic_write, write_json
from .formats import load_json
from .plan import COMPLETE, EvaluationPlan, ModelPlan, RunOptions
from .protocols import TrackerSettings

if TYPE_CHECKING:
    from vposebench.datasets.synthetic.config import SynthConfig


def generate_data(root: str, synth: SynthConfig, workers: int) -> str:
    """The synthetic benchmark of config `synth` under `root` (reused when it is there)."""
    from vposebench.datasets.synthetic.generator import generate

    generate(root, synth, workers=workers)
    return root


def weights_digest(model: dict[str, Any]) -> str:
    """sha256 over a state dict's names, dtypes, shapes and bytes (the weights' identity)."""
    import torch

    digest = hashlib.sha256()
    for name in sorted(model):
        tensor = model[name].detach().cpu().contiguous()
        digest.update(f"{name}:{tensor.dtype}:{tuple(tensor.shape)}".encode())
        digest.update(tensor.reshape(-1).view(torch.uint8).numpy().tobytes())
    return digest.hexdigest()


def _final_loss(losses: list[float]) -> float | None:
    return float(np.mean(losses[-20:])) if losses else None


def train_model(model: ModelPlan, init: ModelPlan | None, options: RunOptions) -> dict:
    """Train one model (resuming a partial run); write the checkpoint and its report."""
    import torch

    from .checkpoint import load_checkpoint
    from .training import TrainConfig, train

    torch.set_num_threads(options.threads)
    if model.checkpoint.is_file() and load_checkpoint(model.checkpoint).complete:
        checkpoint = load_checkpoint(model.checkpoint)
        report = {"steps": checkpoint.step, "resumed_from": None, "seconds": None,
                  "final_loss": _final_loss(checkpoint.losses), "idle_steps": None}
    else:
        result = train(model.spec.method, model.train_data.open(), model.checkpoint,
                       method_settings=dict(model.spec.settings),
                       config=TrainConfig.from_dict(model.train_settings), device=options.device,
                       init_file=None if init is None else init.checkpoint)
        report = {"steps": result.steps, "resumed_from": result.resumed_from,
                  "seconds": result.seconds, "final_loss": _final_loss(result.losses),
                  "idle_steps": result.idle_steps}
    write_json(model.stats, report)
    return report


def export_model(model: ModelPlan, source: ModelPlan) -> str:
    """Export `source`'s per-frame network (`TrainableMethod.per_frame_network`, on crops of its
    `sample_geometry`) to ONNX with a dynamic batch, the file of `model` (written atomically)."""
    import torch

    from .checkpoint import load_checkpoint

    path = model.exported
    if path.is_file():
        return str(path)
    method = load_checkpoint(source.checkpoint).build(source=source.checkpoint)
    network = method.per_frame_network()
    width, height = method.sample_geometry().crop_size
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.partial")
    torch.onnx.export(network.eval(), (torch.zeros(1, 3, height, width),), str(partial), dynamo=False,
                      input_names=["input"], output_names=["heatmaps"],
                      dynamic_axes={"input": {0: "batch"}, "heatmaps": {0: "batch"}})
    partial.replace(path)
    return str(path)


def convert_gt(ev: EvaluationPlan) -> str:
    """The test split as PoseTrack'18-format GT files (temporal stride applied)."""
    from vposebench.datasets.convert import convert_dataset
    from vposebench.datasets.views import subsample_video

    marker = ev.gt / COMPLETE
    if not marker.is_file():
        stride = ev.dataset.stride
        convert_dataset(ev.dataset.open(), ev.gt,
                        transform=(lambda v: subsample_video(v, stride)) if stride > 1 else None)
        with atomic_write(marker) as handle:
            handle.write("ok")
    return str(ev.gt)


def read_marker(folder: Path) -> dict[str, Any]:
    """What a finished prediction folder says about how it was made."""
    return load_json(folder / COMPLETE)


def model_summary(ev: EvaluationPlan, method: Any) -> dict[str, Any]:
    """What a prediction marker says of the model. A trained model: its checkpoint's configs,
    step, final loss and weights digest. A checkpoint file or an untrained method: the config
    it ran with (inference-time overrides applied, files by content) and its weights digest
    (None for a method without torch weights)."""
    from .checkpoint import load_checkpoint
    from .plan import described_config

    if ev.model.trained:
        checkpoint = load_checkpoint(ev.model.checkpoint)
        return {"file": ev.model.checkpoint.name, "config": checkpoint.config,
                "train_config": checkpoint.train_config, "step": checkpoint.step,
                "final_loss": _final_loss(checkpoint.losses),
                "weights_sha256": weights_digest(checkpoint.model)}
    state = method.state_dict()
    return {"file": None if ev.model.checkpoint is None else ev.model.checkpoint.name,
            "config": described_config(ev.model, method.config.to_dict()),
            "train_config": ev.model.train_config, "step": None, "final_loss": None,
            "weights_sha256": weights_digest(state) if state else None}


def predict(ev: EvaluationPlan, options: RunOptions) -> dict[str, Any]:
    """Predict the test split with the model (built once) under the evaluation's protocol.

    The marker written last records the model's configs (a checkpoint's step, final loss and
    weights digest), and the tracker and box source the runner really used, so the record
    stage never opens the checkpoint. With the protocol's shuffled temporal input each video
    runs as the shuffled control (`vposebench.shuffle`).
    """
    import torch

    from .runner import donors_for, run_shard

    marker = ev.predictions / COMPLETE
    if marker.is_file():
        return read_marker(ev.predictions)
    torch.set_num_threads(options.threads)
    spec = ev.run_spec(options)
    method = spec.method.build()
    tracker = spec.tracker()
    names = spec.dataset.open().video_names()
    # the protocol's temporal input: "shuffled" runs each video with its donor's temporal state
    stats = run_shard(spec, names, donors=donors_for(spec, names), method=method)
    summary = {
        "checkpoint": model_summary(ev, method),
        "overrides": ev.overrides,
        "used": {"tracker": dataclasses.asdict(TrackerSettings.of(tracker)),
                 "boxes": spec.boxes().describe(), "temporal_stride": spec.dataset.stride,
                 "temporal_input": spec.protocol.temporal_input},
        "videos": stats.videos, "frames": stats.frames,
    }
    with atomic_write(marker) as handle:
        json.dump(summary, handle, indent=1, sort_keys=True)
    return summary


def time_method(ev: EvaluationPlan, options: RunOptions) -> str:
    """Time the method alone in a fresh process on the protocol's first test videos."""
    from .speed import measure_speed

    videos = tuple(ev.dataset.open().video_names()[: ev.protocol.speed.videos])
    spec = ev.speed_spec(options, videos)
    speed = measure_speed(spec)
    write_json(ev.speed, {"speed": speed.to_dict(), "videos": list(videos),
                          "protocol": ev.protocol.timing_part()})
    return str(ev.speed)
