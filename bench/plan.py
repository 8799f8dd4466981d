"""The plan of a run: every model and evaluation of an experiment plan (one seed) with its
cache keys, paths, protocol and record key, computed before anything runs (nothing is written;
files a plan names are read for their content keys).

Keys depend on content only (`vposebench.hashing`): the synthetic data by its config hash, a
model by its *recipe* (method config, training config, protocol, data, the recipe of the model
it starts from, seed) and, for its cache file, the training code too; predictions by the model
key, the test data's content key, the inference-time changes, the protocol's prediction fields
and the prediction code. A model that starts from another one names it as
``checkpoint:<recipe>`` in its training config, never by a path, so record keys and cache keys
stay the same whatever the cache location, checkout, user or machine. Files a plan gives (a
checkpoint, an ONNX model, a dataset folder) are keyed by their content too
(`vposebench.hashing.file_digest`, `folder_fingerprint`). The recipe leaves the code out so that
a record's key survives a code change and the regression check can compare it with the
committed record of the same key.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .data_places import DataPlace, data_places, gt_folder, synth_config
from .experiments import DatasetPlan, Entry, ExperimentPlan, ModelSpec, training_seed
from .fingerprint import (
    EVALUATION_CODE,
    EXPORT_CODE,
    PREDICTION_CODE,
    TRAINING_CODE,
    code_fingerprint,
)
from .hashing import content_hash, file_digest
from .plan_file import EXPORT_SETTING
from .protocols import Protocol
from .records import record_key
from .runner import DatasetSpec, MethodSpec, RunSpec
from .speed import SpeedSpec

if TYPE_CHECKING:
    from vposebench.datasets.synthetic.config import SynthConfig

    from .skeleton import Skeleton

#: how a training config names the checkpoint it starts from (followed by the recipe key)
CHECKPOINT_REF = "checkpoint:"
#: how a record's config names a file a plan gave (followed by its sha256)
FILE_REF = "file:"
#: how it names a file the run exports (followed by the recipe of the exported model)
EXPORT_REF = "export:"
#: the marker a finished output folder holds (predictions, converted GT)
COMPLETE = ".complete"


@dataclasses.dataclass(frozen=True)
class RunOptions:
    """Where and how a plan runs (`seed`: the one seed this run plan is made for)."""

    cache: Path
    results: Path
    device: str = "cpu"
    threads: int = 1  # torch threads per worker process
    workers: int = 2  # worker processes of the engine
    force: bool = False  # recompute records (checkpoints and predictions stay cached)
    seed: int = 0



@dataclasses.dataclass(frozen=True)
class ModelPlan:
    """One model of the run: its keys, file and configs."""

    spec: ModelSpec
    recipe: str  # content key of what the model is made from (records refer to it)
    key: str  # cache key (a trained model's: the recipe and the training code)
    #: the checkpoint: a trained model's in the cache, or the plan's file; None: untrained
    checkpoint: Path | None
    method_config: dict[str, Any]  # the method's full config, as built (see `method_config`)
    #: TrainConfig as trained (a start checkpoint as checkpoint:<recipe>); for a checkpoint
    #: file {"checkpoint": "file:<sha256>"}; None for an untrained model
    train_config: dict[str, Any] | None
    init: str | None  # the model it starts from
    train_data: DatasetSpec  # the protocol's training split
    skeleton: str  # the built-in skeleton it predicts
    #: settings that name files, as records and keys give them: file:<sha256> for a plan's
    #: file, export:<recipe> for a file this run exports
    file_refs: dict[str, str] = dataclasses.field(default_factory=dict)
    #: the TrainConfig the train stage is given; equal to `train_config` except for a control,
    #: whose checkpoint states 0 iterations (it is fitted, `vposebench.fitting`)
    train_settings: dict[str, Any] | None = None
    #: which of the plan model's trainings this is (0: the first; see `ModelSpec.train_seeds`)
    seed_index: int = 0

    @property
    def spec_name(self) -> str:
        """The name under which the run's `models` hold it (a replica's carries its index)."""
        return replica_name(self.spec.name, self.seed_index)

    @property
    def exported(self) -> Path | None:
        """The file an export job writes (None unless the model is exported)."""
        return Path(self.spec.files[self.spec_setting]) if self.spec.kind == "export" else None

    @property
    def spec_setting(self) -> str:
        """The setting an exported model's file goes to."""
        return EXPORT_SETTING[self.spec.method]

    @property
    def trained(self) -> bool:
        """True when the run trains it (a train job makes its checkpoint)."""
        return self.spec.kind == "train"

    @property
    def stats(self) -> Path:
        """The training job's report beside the checkpoint (steps, seconds, final loss)."""
        assert self.checkpoint is not None
        return self.checkpoint.with_suffix(".json")

    @property
    def reference(self) -> str:
        return CHECKPOINT_REF + self.recipe

    def method_spec(self, overrides: dict[str, Any], options: RunOptions) -> MethodSpec:
        """How a worker builds the model with inference-time `overrides`: a checkpoint's
        config changed by them (a checkpoint file's by the model's settings too), or an
        untrained method from its settings, files and them."""
        if self.checkpoint is None:
            settings = {**self.spec.settings, **self.spec.files, **overrides}
            return MethodSpec(None, tuple(sorted(settings.items())), options.device, options.threads,
                              self.spec.method, self.skeleton)
        changes = {**self.spec.settings, **overrides} if self.spec.kind == "checkpoint" else overrides
        return MethodSpec(str(self.checkpoint), tuple(sorted(changes.items())), options.device,
                          options.threads)


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
    #: the same evaluation of the model's other trainings (`ModelSpec.train_seeds`): their
    #: predictions are scored with this one's and pooled into its one record
    replicas: tuple[EvaluationPlan, ...] = ()

    @property
    def training_seeds(self) -> list[int]:
        """The training seeds this evaluation pools (one for a model trained once)."""
        return [ev.model.train_config["seed"] for ev in (self, *self.replicas)
                if ev.model.train_config is not None and "seed" in ev.model.train_config]

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
        return self.model.method_spec(self.overrides, options)

    def run_spec(self, options: RunOptions) -> RunSpec:
        return RunSpec(self.method_spec(options), self.dataset, str(self.predictions), self.protocol)

    def speed_spec(self, options: RunOptions, videos: tuple[str, ...]) -> SpeedSpec:
        return SpeedSpec(self.method_spec(options), self.dataset, videos, self.protocol)


@dataclasses.dataclass(frozen=True)
class RunPlan:
    """Everything a run of `experiments` with one seed will make, and where."""

    experiments: ExperimentPlan
    options: RunOptions
    synth: SynthConfig | None  # the embedded synthetic benchmark (None: the plan uses none)
    data_root: Path | None  # where it is generated
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


def skeleton_of(dataset: DatasetPlan) -> Skeleton:
    """The joint set of a plan's dataset (its adapter's)."""
    from .registry import DATASETS

    return DATASETS.get(dataset.adapter).skeleton


def method_config(spec: ModelSpec, dataset: DatasetPlan) -> dict[str, Any]:
    """The method's full config as the method itself sets it: defaults, its size preset and the
    values it derives when built (e.g. PTM's heads and embedding width). Built once on the
    protocol's skeleton, on the CPU (a tiny model in milliseconds, a paper-size one in about a
    second), because only the method knows what it derives. A checkpoint file's config is its
    own, changed by the model's settings."""
    from .checkpoint import load_checkpoint
    from .errors import UserError
    from .interface import build_method, method_class

    skeleton = skeleton_of(dataset)
    if spec.kind == "export":  # the file is made later: the config as the settings give it
        return method_class(spec.method).config_class.build({**spec.settings, **spec.files}).to_dict()
    if spec.kind != "checkpoint":
        return build_method(spec.method, skeleton, **{**spec.settings, **spec.files}).config.to_dict()
    checkpoint = load_checkpoint(spec.checkpoint)
    if checkpoint.method != spec.method:
        raise UserError(f"holds method {checkpoint.method!r}, the plan's model {spec.name!r} is "
                        f"{spec.method!r}", path=spec.checkpoint, field="method")
    if not checkpoint.complete:
        raise UserError(f"training stopped at step {checkpoint.step}; finish it first",
                        path=spec.checkpoint, field="complete")
    if checkpoint.skeleton.joints != skeleton.joints:
        raise UserError(f"trained on joint set {checkpoint.skeleton.name!r}, the plan's protocol "
                        f"{spec.protocol!r} uses {skeleton.name!r}", path=spec.checkpoint,
                        field="skeleton")
    return checkpoint.build("cpu", source=spec.checkpoint, **spec.settings).config.to_dict()


def described_config(model: ModelPlan, config: dict[str, Any]) -> dict[str, Any]:
    """`config` with each setting that names a file given by content (`ModelPlan.file_refs`),
    as records and keys hold it."""
    return {k: model.file_refs.get(k, v) for k, v in config.items()}


def plan_models(experiments: ExperimentPlan, options: RunOptions,
                places: dict[str, DataPlace]) -> dict[str, ModelPlan]:
    """Every model with its recipe, cache key and configs (start models first)."""
    from .fitting import fitted_train_config
    from .interface import is_control, method_class
    from .training import TrainConfig

    models: dict[str, ModelPlan] = {}

    def plan(spec: ModelSpec, index: int = 0) -> ModelPlan:
        name = replica_name(spec.name, index)
        if name in models:
            return models[name]
        protocol = experiments.protocols[spec.protocol]
        dataset = experiments.datasets[protocol.dataset]
        place = places[protocol.dataset]
        train_data = place.split(dataset, protocol.train_split)
        init = None
        if spec.init_from:  # training i starts from the start model's training i, if it has one
            start = experiments.model(spec.init_from)
            init = plan(start, index if index < start.train_seeds else 0)
        refs = {k: FILE_REF + file_digest(path) for k, path in spec.files.items()}
        if spec.kind == "export":
            source = plan(experiments.model(spec.export_from))
            setting = EXPORT_SETTING[spec.method]
            refs[setting] = EXPORT_REF + source.recipe
            recipe = content_hash({"method": spec.method, "settings": spec.settings,
                                   "export_from": source.recipe})
            key = content_hash({"recipe": recipe, "code": code_fingerprint(EXPORT_CODE)})
            spec = dataclasses.replace(spec, files={
                setting: str(options.cache / "exports" / f"{spec.name}-{key}.onnx")})
        config = {k: refs.get(k, v) for k, v in method_config(spec, dataset).items()}
        if spec.kind == "train":
            train = TrainConfig.from_dict({**spec.train, "seed": training_seed(options.seed, index),
                                           "init_checkpoint": None if init is None else init.reference})
            train_settings = train.to_dict()
            # a control is fitted from its start model, with no gradient steps (`vposebench.fitting`)
            train_config: dict[str, Any] | None = fitted_train_config(train) \
                if is_control(method_class(spec.method)) else train_settings
            recipe = content_hash({"method": spec.method, "config": config, "train": train_config,
                                   "protocol": spec.protocol, "data": place.content})
            key = content_hash({"recipe": recipe, "code": code_fingerprint(TRAINING_CODE)})
            checkpoint: Path | None = options.cache / "checkpoints" / f"{name}-{key}.ckpt"
        elif spec.kind == "checkpoint":
            train_settings = None
            train_config = {"checkpoint": FILE_REF + file_digest(spec.checkpoint)}
            recipe = key = content_hash({"method": spec.method, "config": config, **train_config})
            checkpoint = Path(spec.checkpoint)
        elif spec.kind == "export":
            train_config, train_settings, checkpoint = None, None, None
        else:
            train_config, train_settings, checkpoint = None, None, None
            recipe = key = content_hash({"method": spec.method, "config": config})
        models[name] = ModelPlan(spec, recipe, key, checkpoint, config, train_config,
                                 init.spec_name if init is not None else spec.source,
                                 train_data, skeleton_of(dataset).name, refs, train_settings, index)
        return models[name]

    for spec in experiments.models:
        for index in range(spec.train_seeds):
            plan(spec, index)
    return models


def replica_name(model: str, index: int) -> str:
    """The name of a plan model's `index`-th training ("~" is not allowed in a plan's names)."""
    return model if index == 0 else f"{model}~seed{index}"


def make_plan(experiments: ExperimentPlan, options: RunOptions) -> RunPlan:
    """The run's plan for seed `options.seed`; see the module docstring."""
    synth = synth_config(experiments, options.seed)
    data_root = None if synth is None else options.cache / "synthetic" / synth.config_hash()
    places = data_places(experiments, synth, data_root)
    models = plan_models(experiments, options, places)
    groups: dict[str, dict[str, Any]] = {}

    def predictions_key(model: ModelPlan, changes: dict[str, Any], protocol: Protocol) -> str:
        # the test data by content: a model that is not trained here (a file, an untrained
        # method) says nothing of the data it predicts
        data = places[experiments.protocols[model.spec.protocol].dataset].content
        return content_hash({"model": model.key, "data": data, "overrides": changes,
                             "protocol": protocol.prediction_part(),
                             "code": code_fingerprint(PREDICTION_CODE)})

    for entry in experiments.entries:
        model = models[entry.model]
        protocol_name = model.spec.protocol
        protocol = experiments.protocol(protocol_name, entry.temporal_stride, entry.temporal_input)
        # an override equal to the model's own config value is no change, so "PTM" and "PTM
        # capacity 16" (the default capacity) share one prediction set and one record
        changes = {k: v for k, v in entry.overrides.items() if model.method_config.get(k) != v}
        key = predictions_key(model, changes, protocol)
        group = groups.setdefault(key, {"model": model, "changes": changes, "protocol": protocol,
                                        "name": protocol_name, "entries": []})
        group["entries"].append(entry)
    by_label = {(e.label, g["protocol"].temporal_stride): key
                for key, g in groups.items() for e in g["entries"]}
    evaluations = []
    for key, g in groups.items():
        model, protocol, name = g["model"], g["protocol"], g["name"]
        plan = experiments.protocols[name]
        dataset = experiments.datasets[plan.dataset]
        place = places[plan.dataset]
        stride = protocol.temporal_stride
        compared = tuple(dict.fromkeys(by_label[(label, stride)] for e in g["entries"]
                                       for label in e.compared_labels))
        config = {**model.method_config, **g["changes"], "train": model.train_config}
        trainings = [models[replica_name(model.spec.name, i)] for i in range(1, model.spec.train_seeds)]
        if trainings:  # a pooled record differs from the record of the first training alone
            config["training_seeds"] = [m.train_config["seed"] for m in (model, *trainings)]
        replica_keys = [predictions_key(m, g["changes"], protocol) for m in trainings]
        gt, converted = gt_folder(options.cache, experiments, place, name, stride)
        evaluation_key = content_hash({"predictions": key, "protocol": protocol.to_dict(),
                                       "compared": compared, "seed": options.seed,
                                       "replicas": replica_keys,
                                       "code": code_fingerprint(EVALUATION_CODE)})
        replicas = tuple(EvaluationPlan(
            key=k, model=m, overrides=g["changes"], entries=tuple(g["entries"]), protocol=protocol,
            dataset=place.split(dataset, plan.test_split, stride),
            predictions=options.cache / "predictions" / f"{m.spec_name}-{k}", gt=gt,
            gt_converted=converted, config={**m.method_config, **g["changes"], "train": m.train_config},
            record_key="", evaluation=Path(), speed=Path(), compared=(), dataset_block={})
            for m, k in zip(trainings, replica_keys))
        evaluations.append(EvaluationPlan(
            key=key, model=model, overrides=g["changes"], entries=tuple(g["entries"]),
            protocol=protocol, dataset=place.split(dataset, plan.test_split, stride),
            predictions=options.cache / "predictions" / f"{model.spec.name}-{key}",
            gt=gt, gt_converted=converted,
            config=config,
            record_key=record_key(model.spec.method, config, dataset.adapter, plan.test_split,
                                  protocol, options.seed),
            evaluation=options.cache / "evaluations" / f"{key}-{evaluation_key}.json",
            speed=options.cache / "speed" / f"{key}-{content_hash(protocol.timing_part())}.json",
            compared=compared,
            dataset_block={"name": dataset.adapter, "split": plan.test_split, **place.block},
            replicas=replicas,
        ))
    return RunPlan(experiments, options, synth, data_root, models, tuple(evaluations))
