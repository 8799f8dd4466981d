"""What an experiment plan holds: data, protocols, models and evaluation entries.

An experiment plan is data: a TOML file (`vposebench.plan_file` reads it; docs/plans.md
describes the format). The built-in presets `quick`, `default` and `full` are plan files
shipped with the package (``vposebench/plans/<name>.toml``); `vposebench run --preset NAME`
and `--plan FILE` load the same way.

A *model* is trained (a method config on a protocol's training split, optionally initialised
from another model: the controls and ``prior`` are fitted this way from a baseline), loaded
from a checkpoint file, exported (an ``onnx`` model the run exports from another model's
per-frame network), or built from its settings alone (a method that needs no training, e.g.
``blazepose``, or ``onnx`` with its model file). An *entry* evaluates one model on its
protocol's test split, possibly with inference-time config changes, temporal downsampling or
the shuffled temporal input, and becomes one result record; its tags place it in the paper
tables and `compare_to` names the entry a paired-bootstrap difference is computed against.
"""

from __future__ import annotations

import dataclasses
import importlib.resources
from pathlib import Path
from typing import Any

from .errors import UserError
from .protocols import Protocol

#: the folder of the built-in plans inside the package
PRESET_PACKAGE = "vposebench.plans"
#: training seed i of a model in a run with seed s is s + TRAIN_SEED_STEP * i (i = 0: the run
#: seed itself, so a model's first training seed is the one a one-seed plan trains)
TRAIN_SEED_STEP = 1000


def training_seed(run_seed: int, index: int) -> int:
    """The training seed of a model's `index`-th training in a run with `run_seed`."""
    return run_seed + TRAIN_SEED_STEP * index


@dataclasses.dataclass(frozen=True)
class SyntheticData:
    """The embedded synthetic benchmark a plan generates (per seed: its seed is the run's)."""

    preset: str  # `vposebench synth` preset
    #: changes to the preset's config (e.g. fewer videos in tests)
    overrides: tuple[tuple[str, Any], ...] = ()


@dataclasses.dataclass(frozen=True)
class DatasetPlan:
    """A registered dataset adapter on its data: a folder of the embedded synthetic
    benchmark (`synthetic`) or a folder the user has (`root`, absolute)."""

    adapter: str  # registered dataset name
    synthetic: str | None = None  # folder inside the synthetic benchmark ("" = its root)
    root: str | None = None
    #: the adapter's reading options (its `options_class` fields)
    options: tuple[tuple[str, Any], ...] = ()


@dataclasses.dataclass(frozen=True)
class ProtocolPlan:
    """Where a protocol trains and tests and how it scores (`protocol`; an entry may change
    its temporal stride and temporal input)."""

    dataset: str  # name of the plan's dataset
    train_split: str | None
    test_split: str | None
    protocol: Protocol

    @property
    def metric(self) -> str:
        return self.protocol.metric


@dataclasses.dataclass(frozen=True)
class ModelSpec:
    """One model of a plan: trained (`train`, optionally from `init_from`), loaded from a
    `checkpoint` file, or built from its settings (neither)."""

    name: str
    method: str
    protocol: str  # the protocol whose skeleton it predicts (and whose training split it learns)
    settings: dict[str, Any] = dataclasses.field(default_factory=dict)  # method config
    #: TrainConfig fields; None: the model is not trained here
    train: dict[str, Any] | None = None
    init_from: str | None = None  # model whose checkpoint initialises this one
    checkpoint: str | None = None  # a checkpoint file (absolute path), keyed by its content
    #: settings that name files (e.g. onnx `model`): absolute paths, keyed by content
    files: dict[str, str] = dataclasses.field(default_factory=dict)
    #: an `onnx` model whose file the run exports from this model's per-frame network
    export_from: str | None = None
    #: training seeds: a trained model is trained this many times (seed i of run seed s is
    #: s + TRAIN_SEED_STEP * i), and its records pool them (`vposebench.seed_bootstrap`)
    train_seeds: int = 1

    @property
    def kind(self) -> str:
        """"train", "checkpoint", "export" or "untrained"."""
        if self.checkpoint is not None:
            return "checkpoint"
        if self.export_from is not None:
            return "export"
        return "train" if self.train is not None else "untrained"

    @property
    def source(self) -> str | None:
        """The model this one is made from (trained from or exported from)."""
        return self.init_from or self.export_from


@dataclasses.dataclass(frozen=True)
class Entry:
    """One evaluation (one result record)."""

    label: str
    model: str
    overrides: dict[str, Any] = dataclasses.field(default_factory=dict)  # inference-time config
    temporal_stride: int = 1  # temporal downsampling of the test videos
    temporal_input: str = "own"  # "own" | "shuffled" (the shuffled control)
    tags: tuple[str, ...] = ()
    #: the label of the entry (or a tuple of the labels of the entries) a paired difference
    #: is computed against
    compare_to: str | tuple[str, ...] | None = None
    timed: bool = True

    @property
    def compared_labels(self) -> tuple[str, ...]:
        """Every label `compare_to` names."""
        if self.compare_to is None:
            return ()
        return (self.compare_to,) if isinstance(self.compare_to, str) else tuple(self.compare_to)


@dataclasses.dataclass(frozen=True)
class ExperimentPlan:
    """Everything a run makes (see the module docstring)."""

    name: str
    description: str
    datasets: dict[str, DatasetPlan]
    protocols: dict[str, ProtocolPlan]
    models: tuple[ModelSpec, ...]
    entries: tuple[Entry, ...]
    seeds: tuple[int, ...] = (0,)
    synthetic: SyntheticData | None = None
    #: the plan file it was read from (None: built in code)
    source: Path | None = None
    #: True when --methods dropped entries (a narrowed run never prunes other records)
    narrowed: bool = False

    def protocol(self, name: str, stride: int = 1, temporal_input: str = "own") -> Protocol:
        """The full protocol of an evaluation on protocol `name`."""
        return dataclasses.replace(self.protocols[name].protocol, temporal_stride=stride,
                                   temporal_input=temporal_input)

    def dataset_of(self, protocol: str) -> DatasetPlan:
        return self.datasets[self.protocols[protocol].dataset]

    def model(self, name: str) -> ModelSpec:
        for model in self.models:
            if model.name == name:
                return model
        raise KeyError(name)

    def select_methods(self, methods: list[str]) -> ExperimentPlan:
        """Only the entries of these methods, and the models they need (with the models they start or are exported from)."""
        known = sorted({m.method for m in self.models})
        unknown = [m for m in methods if m not in known]
        if unknown:
            raise UserError(f"plan {self.name!r} has no method {', '.join(unknown)} "
                            f"(it runs {', '.join(known)})", field="--methods")
        entries = tuple(e for e in self.entries if self.model(e.model).method in methods)
        needed: set[str] = set()
        for entry in entries:
            name: str | None = entry.model
            while name is not None and name not in needed:
                needed.add(name)
                name = self.model(name).source
        labels = {e.label for e in entries}
        entries = tuple(dataclasses.replace(e, compare_to=_kept(e.compare_to, labels)) for e in entries)
        return dataclasses.replace(self, models=tuple(m for m in self.models if m.name in needed),
                                   entries=entries, narrowed=len(entries) < len(self.entries))


def _kept(compare_to: str | tuple[str, ...] | None, labels: set[str]) -> str | tuple[str, ...] | None:
    """`compare_to` without the labels a narrowed plan dropped."""
    if isinstance(compare_to, str) or compare_to is None:
        return compare_to if compare_to in labels else None
    kept = tuple(label for label in compare_to if label in labels)
    return kept or None


def preset_names() -> list[str]:
    """The built-in plans (`vposebench/plans/*.toml`)."""
    folder = importlib.resources.files(PRESET_PACKAGE)
    return sorted(p.name.removesuffix(".toml") for p in folder.iterdir() if p.name.endswith(".toml"))


def preset_path(name: str) -> Path:
    """The file of built-in plan `name`; an unknown name is a UserError listing the known ones."""
    if name not in preset_names():
        raise UserError(f"unknown preset {name!r} (known: {', '.join(preset_names())})",
                        field="--preset")
    return Path(str(importlib.resources.files(PRESET_PACKAGE) / f"{name}.toml"))


def get_preset(name: str) -> ExperimentPlan:
    """The built-in plan `name`."""
    from .plan_file import load_plan

    plan = load_plan(preset_path(name))
    return dataclasses.replace(plan, source=None)
