"""The plan of a run: every model and evaluation of a preset with its cache keys, paths,
protocol and record key, computed before anything runs (no file is read or written).

Keys depend on content only (`vposebench.hashing`): the synthetic data by its config hash, a
model by its *recipe* (method config, training config, protocol, data, the recipe of the model
it starts from, seed) and, for its cache file, the training code too; predictions by the model
key, the inference-time changes, the protocol's prediction fields and the prediction code. A
model that starts from another one names it as ``checkpoint:<recipe>`` in its training config,
never by a path, so record keys and cache keys stay the same whatever the cache location,
checkout, user or machine. The recipe leaves the code out so that a record's key survives a code
change and the regression check can compare it with the committed record of the same key.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .experiments import PROTOCOLS, Entry, Preset, TrainJob
from .fingerprint import EVALUATION_CODE, PREDICTION_CODE, TRAINING_CODE, code_fingerprint
from .hashing import content_hash
from .protocols import Protocol
from .records import record_key
from .runner import DatasetSpec, MethodSpec, RunSpec
from .speed import SpeedSpec

if TYPE_CHECKING:
    from vposebench.datasets.synthetic.config import SynthConfig

#: how a training config names the checkpoint it starts from (followed by the recipe key)
CHECKPOINT_REF = "checkpoint:"
#: the marker a finished output folder holds (predictions, converted GT)
COMPLETE = ".complete"


@dataclasses.dataclass(frozen=True)
class RunOptions:
    """Where and how a preset runs."""

    cache: Path
    results: Path
    device: str = "cpu"
    threads: int = 1  # torch threads per worker process
    workers: int = 2  # worker processes of the engine
    force: bool = False  # recompute records (checkpoints and predictions stay cached)
    seed: int = 0


@dataclasses.dataclass(frozen=True)
class ModelPlan:
    """One model to train: its keys, file and configs."""

    job: TrainJob
    recipe: str  # content key of what the model is made from (records refer to it)
    key: str  # cache key: the recipe and the training code
    checkpoint: Path
    method_config: dict[str, Any]  # the method's full config, as built (see `method_config`)
    train_config: dict[str, Any]  # TrainConfig as trained; a start checkpoint as checkpoint:<recipe>
    init: str | None  # the job it starts from
    #: the TrainConfig the train stage is given; equal to `train_config` except for a control,
    #: whose checkpoint states 0 iterations (it is fitted, `vposebench.fitting`)
    train_settings: dict[str, Any]

    @property
    def stats(self) -> Path:
        """The training job's report beside the checkpoint (steps, seconds, final loss)."""
        return self.checkpoint.with_suffix(".json")

    @property
    def reference(self) -> str:
        return CHECKPOINT_REF + self.recipe


@dataclasses.dataclass(frozen=True)
class EvaluationPlan:
    """Entries that share one model, inference-time config and protocol: one prediction set,
    one result record."""

    key: str  # cache key of the predictions
    model: ModelPlan
    overrides: dict[str, Any]
    entries: tuple[Entry, ...]
    protocol: Protocol
    dataset: DatasetSpec  # the test split, as evaluated (temporal stride applied)
    predictions: Path
    gt: Path  # PoseTrack'18-format GT folder the metric reads
    gt_converted: bool  # True: the folder is converted from the test split (else it is generated)
    config: dict[str, Any]  # the record's config: method config, overrides, training config
    record_key: str
    evaluation: Path  # the evaluate stage's output
    speed: Path  # the time stage's output
    compared: tuple[str, ...]  # keys of the evaluations this one is compared with (paired)
    dataset_block: dict[str, Any]  # the record's `dataset` block (videos added when scored)

    @property
    def label(self) -> str:
        return self.entries[0].label

    @property
    def tags(self) -> list[str]:
        return sorted({t for e in self.entries for t in e.tags})

    @property
    def timed(self) -> bool:
        return any(e.timed for e in self.entries)

    def method_spec(self, options: RunOptions) -> MethodSpec:
        return MethodSpec(str(self.model.checkpoint), tuple(sorted(self.overrides.items())),
                          options.device, options.threads)

    def run_spec(self, options: RunOptions) -> RunSpec:
        return RunSpec(self.method_spec(options), self.dataset, str(self.predictions), self.protocol)

    def speed_spec(self, options: RunOptions, videos: tuple[str, ...]) -> SpeedSpec:
        return SpeedSpec(self.method_spec(options), self.dataset, videos, self.protocol)


@dataclasses.dataclass(frozen=True)
class RunPlan:
    """Everything a run of `preset` will make, and where."""

    preset: Preset
    options: RunOptions
    synth: SynthConfig
    data_root: Path
    models: dict[str, ModelPlan]
    evaluations: tuple[EvaluationPlan, ...]

    def evaluation(self, key: str) -> EvaluationPlan:
        return next(ev for ev in self.evaluations if ev.key == key)

    @staticmethod
    def code_versions() -> dict[str, str]:
        """Fingerprints of the code behind a record (see `vposebench.fingerprint`)."""
        return {"training": code_fingerprint(TRAINING_CODE),
                "prediction": code_fingerprint(PREDICTION_CODE),
                "evaluation": code_fingerprint(EVALUATION_CODE)}


def synth_config(preset: Preset, seed: int) -> SynthConfig:
    """The synthetic data config of a preset run with `seed`."""
    from vposebench.datasets.synthetic.config import preset as synth_preset

    return dataclasses.replace(synth_preset(preset.synth), seed=seed, **dict(preset.synth_overrides))


def method_config(job: TrainJob) -> dict[str, Any]:
    """The method's full config as the method itself sets it: defaults, its size preset and the
    values it derives when built (e.g. PTM's heads and embedding width). Built once on the
    protocol's skeleton, on the CPU (a tiny model in milliseconds, a paper-size one in about a
    second), because only the method knows what it derives."""
    from .interface import build_method
    from .registry import DATASETS

    skeleton = DATASETS.get(PROTOCOLS[job.protocol].dataset).skeleton
    return build_method(job.method, skeleton, **dict(job.settings)).config.to_dict()


def plan_models(preset: Preset, options: RunOptions, data_hash: str) -> dict[str, ModelPlan]:
    """Every training job with its recipe, cache key and configs (start models first)."""
    from .fitting import fitted_train_config
    from .interface import is_control, method_class
    from .training import TrainConfig

    models: dict[str, ModelPlan] = {}

    def plan(job: TrainJob) -> ModelPlan:
        if job.name in models:
            return models[job.name]
        init = plan(preset.job(job.init_from)) if job.init_from else None
        train = TrainConfig.from_dict({**job.train, "seed": options.seed,
                                       "init_checkpoint": None if init is None else init.reference})
        # a control is fitted from its start model, with no gradient steps (`vposebench.fitting`)
        train_config = fitted_train_config(train) if is_control(method_class(job.method)) else train.to_dict()
        config = method_config(job)
        recipe = content_hash({"method": job.method, "config": config,
                               "train": train_config, "protocol": job.protocol, "data": data_hash})
        key = content_hash({"recipe": recipe, "code": code_fingerprint(TRAINING_CODE)})
        models[job.name] = ModelPlan(
            job, recipe, key, options.cache / "checkpoints" / f"{job.name}-{key}.ckpt",
            config, train_config, job.init_from, train.to_dict())
        return models[job.name]

    for job in preset.jobs:
        plan(job)
    return models


def _gt_folder(options: RunOptions, data_root: Path, protocol_name: str, stride: int) -> tuple[Path, bool]:
    """Where the metric's GT lies, and whether it must be converted from the test split."""
    plan = PROTOCOLS[protocol_name]
    if plan.dataset == "synthetic" and stride == 1:
        return data_root / "annotations" / plan.test_split, False
    return (options.cache / "gt" / f"{protocol_name}-s{stride}-{data_root.name}-"
            f"{code_fingerprint(EVALUATION_CODE)}"), True


def make_plan(preset: Preset, options: RunOptions) -> RunPlan:
    """The run's plan; see the module docstring."""
    synth = synth_config(preset, options.seed)
    data_hash = synth.config_hash()
    data_root = options.cache / "synthetic" / data_hash
    models = plan_models(preset, options, data_hash)
    groups: dict[str, dict[str, Any]] = {}
    for entry in preset.entries:
        model = models[entry.job]
        protocol_name = model.job.protocol
        protocol = preset.protocol(protocol_name, entry.stride, entry.temporal_input)
        # an override equal to the model's own config value is no change, so "PTM" and "PTM
        # capacity 16" (the default capacity) share one prediction set and one record
        changes = {k: v for k, v in entry.overrides.items() if model.method_config.get(k) != v}
        key = content_hash({"model": model.key, "overrides": changes,
                            "protocol": protocol.prediction_part(),
                            "code": code_fingerprint(PREDICTION_CODE)})
        group = groups.setdefault(key, {"model": model, "changes": changes, "protocol": protocol,
                                        "name": protocol_name, "entries": []})
        group["entries"].append(entry)
    by_label = {(e.label, g["protocol"].temporal_stride): key
                for key, g in groups.items() for e in g["entries"]}
    evaluations = []
    for key, g in groups.items():
        model, protocol, name = g["model"], g["protocol"], g["name"]
        plan = PROTOCOLS[name]
        stride = protocol.temporal_stride
        compared = tuple(dict.fromkeys(by_label[(e.compare_to, stride)] for e in g["entries"]
                                       if e.compare_to is not None))
        config = {**model.method_config, **g["changes"], "train": model.train_config}
        gt, converted = _gt_folder(options, data_root, name, stride)
        evaluation_key = content_hash({"predictions": key, "protocol": protocol.to_dict(),
                                       "compared": compared, "seed": options.seed,
                                       "code": code_fingerprint(EVALUATION_CODE)})
        evaluations.append(EvaluationPlan(
            key=key, model=model, overrides=g["changes"], entries=tuple(g["entries"]),
            protocol=protocol,
            dataset=DatasetSpec(plan.dataset, str(data_root / plan.subdir), plan.test_split, stride),
            predictions=options.cache / "predictions" / f"{model.job.name}-{key}",
            gt=gt, gt_converted=converted,
            config=config,
            record_key=record_key(model.job.method, config, plan.dataset, plan.test_split, protocol,
                                  options.seed),
            evaluation=options.cache / "evaluations" / f"{key}-{evaluation_key}.json",
            speed=options.cache / "speed" / f"{key}-{content_hash(protocol.timing_part())}.json",
            compared=compared,
            dataset_block={"name": plan.dataset, "split": plan.test_split, "generator": data_hash,
                           "synth_preset_seed": synth.seed},
        ))
    return RunPlan(preset, options, synth, data_root, models, tuple(evaluations))
