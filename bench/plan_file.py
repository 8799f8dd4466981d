"""Read an experiment plan file (TOML) into an `ExperimentPlan`, checking every field.

The format is in docs/plans.md. Every error is a `UserError` naming the plan file and the
field (``models[2].train.iterations``), raised before anything runs. Paths in the file
(dataset roots, checkpoint files, `files` of a model) are relative to the file's folder.

Over 400 lines on purpose: one checker per plan section (data, datasets, protocols, models,
entries) sharing the field-path error helpers; one format stays in one file.
"""

from __future__ import annotations

import dataclasses
import re
import sys
from pathlib import Path
from typing import Any

from .errors import UserError
from .experiments import DatasetPlan, Entry, ExperimentPlan, ModelSpec, ProtocolPlan, SyntheticData
from .protocols import Protocol

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

#: names of datasets, protocols and models (they become parts of cache file names)
NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.+-]*$")
TOP_LEVEL = ("extends", "name", "description", "seeds", "train_seeds", "synthetic", "datasets",
             "protocols", "models", "entries")
#: sections an extending plan merges into its base's by name (the others it replaces or, for
#: the arrays, appends to)
MERGED_TABLES = ("datasets", "protocols")
APPENDED_ARRAYS = ("models", "entries")
#: protocol table keys that are not fields of the protocol object
PROTOCOL_PLACE = ("dataset", "train_split", "test_split")
#: training settings a plan states another way (`seeds`, `init_from`)
PLAN_OWNED_TRAIN = {"seed": "seeds", "init_checkpoint": "init_from"}
TEMPORAL_INPUTS = ("own", "shuffled")


class _Reader:
    """Typed access to the parsed document; every error names the file and the field."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def error(self, field: str, message: str) -> UserError:
        return UserError(message, path=self.path, field=field)

    def table(self, data: Any, field: str) -> dict[str, Any]:
        if not isinstance(data, dict):
            raise self.error(field, f"expected a table, got {_type(data)}")
        return data

    def keys(self, data: dict[str, Any], field: str, known: tuple[str, ...],
             required: tuple[str, ...] = ()) -> None:
        for key in data:
            if key not in known:
                raise self.error(_join(field, key), f"unknown field (known: {', '.join(known)})")
        for key in required:
            if key not in data:
                raise self.error(_join(field, key), "missing field")

    def value(self, data: dict[str, Any], key: str, field: str, kind: type | tuple[type, ...],
              default: Any = None) -> Any:
        if key not in data:
            return default
        value = data[key]
        kinds = kind if isinstance(kind, tuple) else (kind,)
        if isinstance(value, bool) and bool not in kinds or not isinstance(value, kinds):
            raise self.error(_join(field, key), f"expected {_names(kinds)}, got {_type(value)}")
        return value

    def name(self, data: dict[str, Any], key: str, field: str) -> str:
        value = self.value(data, key, field, str)
        if value is None:
            raise self.error(_join(field, key), "missing field")
        if not NAME.match(value):
            raise self.error(_join(field, key), f"{value!r} is not a name (letters, digits, "
                             "and _ . + - after the first character)")
        return value

    def file(self, text: str, field: str, *, folder: bool = False) -> str:
        path = (self.path.parent / Path(text).expanduser()).resolve()
        if not (path.is_dir() if folder else path.is_file()):
            raise self.error(field, f"{'folder' if folder else 'file'} not found: {path}")
        return str(path)

    def wrap(self, error: UserError, field: str) -> UserError:
        """A UserError from a config parser, re-raised with this file and under `field`."""
        inner = error.field
        if not inner or inner in ("config", "--set", "--dataset-option"):
            return self.error(field, error.message)
        return self.error(inner if inner.startswith(field) else f"{field}.{inner}", error.message)


def _join(field: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{field}[{key}]"
    return f"{field}.{key}" if field else key


def _type(value: Any) -> str:
    return {bool: "a boolean", int: "an integer", float: "a number", str: "a string",
            list: "an array", dict: "a table"}.get(type(value), type(value).__name__)


def _names(kinds: tuple[type, ...]) -> str:
    return " or ".join(_type(k()) if k is not type(None) else "nothing" for k in kinds)


def load_plan(path: str | Path) -> ExperimentPlan:
    """The plan in the TOML file `path` (see the module docstring)."""
    path = Path(path)
    return parse_plan(_extended(_document(path), path, ()), path)


def _document(path: Path) -> dict[str, Any]:
    """The parsed TOML of one plan file."""
    if not path.is_file():
        raise UserError("plan file not found", path=path)
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError as exc:
        raise UserError(f"not UTF-8 text ({exc.reason})", path=path) from None
    except tomllib.TOMLDecodeError as exc:
        raise UserError(f"not valid TOML: {exc}", path=path) from None


def _extended(document: dict[str, Any], path: Path, chain: tuple[Path, ...]) -> dict[str, Any]:
    """`document` over the plan it `extends` (a built-in preset's name or a file relative to
    `path`): `datasets` and `protocols` merged by name, `models` and `entries` appended, every
    other field replaced."""
    from .experiments import preset_names, preset_path

    if "extends" not in document:
        return document
    base_name = document["extends"]
    if not isinstance(base_name, str):
        raise UserError(f"expected a string, got {_type(base_name)}", path=path, field="extends")
    base_path = preset_path(base_name) if base_name in preset_names() else \
        (path.parent / Path(base_name).expanduser()).resolve()
    if not base_path.is_file():
        raise UserError(f"neither a built-in plan ({', '.join(preset_names())}) nor a file: "
                        f"{base_path}", path=path, field="extends")
    here = path.resolve()
    if base_path in (*chain, here):
        raise UserError("plans extend each other in a cycle: " + " -> ".join(
            p.name for p in (*chain, here, base_path)), path=path, field="extends")
    merged = dict(_extended(_document(base_path), base_path, (*chain, here)))
    for key, value in document.items():
        if key == "extends":
            continue
        base = merged.get(key)
        if key in MERGED_TABLES and isinstance(value, dict) and isinstance(base, dict):
            merged[key] = {**base, **value}
        elif key in APPENDED_ARRAYS and isinstance(value, list) and isinstance(base, list):
            merged[key] = base + value
        else:
            merged[key] = value
    return merged


def parse_plan(document: dict[str, Any], path: Path) -> ExperimentPlan:
    """The plan a parsed TOML document describes (`path` names it in errors and anchors its
    relative paths)."""
    r = _Reader(path)
    r.keys(document, "", TOP_LEVEL, ("datasets", "protocols", "models", "entries"))
    name = r.name(document, "name", "") if "name" in document else path.stem
    description = r.value(document, "description", "", str, "")
    seeds = _seeds(r, document)
    train_seeds = _count(r, document, "train_seeds", "", 1)
    synthetic = _synthetic(r, document.get("synthetic"))
    datasets = {key: _dataset(r, value, f"datasets.{key}", synthetic)
                for key, value in _named_tables(r, document["datasets"], "datasets").items()}
    protocols = {key: _protocol(r, value, f"protocols.{key}", datasets)
                 for key, value in _named_tables(r, document["protocols"], "protocols").items()}
    models = _models(r, document["models"], protocols, datasets, train_seeds)
    entries = _entries(r, document["entries"], models)
    return ExperimentPlan(name, description, datasets, protocols, models, entries, seeds,
                          synthetic, source=path.resolve())


def _seeds(r: _Reader, document: dict[str, Any]) -> tuple[int, ...]:
    seeds = r.value(document, "seeds", "", list, [0])
    if not seeds:
        raise r.error("seeds", "needs at least one seed")
    for i, seed in enumerate(seeds):
        if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
            raise r.error(f"seeds[{i}]", f"expected an integer >= 0, got {seed!r}")
    if len(set(seeds)) != len(seeds):
        raise r.error("seeds", "a seed is listed twice")
    return tuple(seeds)


def _count(r: _Reader, data: dict[str, Any], key: str, field: str, default: int) -> int:
    value = r.value(data, key, field, int, default)
    if value < 1:
        raise r.error(_join(field, key), f"must be >= 1, got {value}")
    return value


def _named_tables(r: _Reader, data: Any, field: str) -> dict[str, dict[str, Any]]:
    data = r.table(data, field)
    if not data:
        raise r.error(field, "is empty")
    for key, value in data.items():
        if not NAME.match(key):
            raise r.error(_join(field, key), f"{key!r} is not a name")
        r.table(value, _join(field, key))
    return data


def _synthetic(r: _Reader, data: Any) -> SyntheticData | None:
    if data is None:
        return None
    from vposebench.datasets.synthetic.config import SYNTH_PRESETS, SynthConfig

    data = r.table(data, "synthetic")
    r.keys(data, "synthetic", ("preset", "overrides"), ("preset",))
    preset = r.value(data, "preset", "synthetic", str)
    if preset not in SYNTH_PRESETS:
        raise r.error("synthetic.preset", f"unknown synthetic preset {preset!r} "
                      f"(known: {', '.join(SYNTH_PRESETS)})")
    overrides = r.table(data.get("overrides", {}), "synthetic.overrides")
    fields = {f.name: f for f in dataclasses.fields(SynthConfig)}
    for key in overrides:
        if key not in fields or key == "seed":
            known = ", ".join(k for k in fields if k != "seed")
            raise r.error(f"synthetic.overrides.{key}", f"unknown field (known: {known}; the "
                          "seed is the run's)")
    converted = {k: _tuples(v) for k, v in overrides.items()}
    try:
        dataclasses.replace(SYNTH_PRESETS[preset], **converted).config_hash()
    except (TypeError, ValueError) as exc:
        raise r.error("synthetic.overrides", f"not a valid synthetic config ({exc})") from None
    return SyntheticData(preset, tuple(converted.items()))


def _tuples(value: Any) -> Any:
    """TOML arrays as tuples (the configs hold tuples)."""
    return tuple(_tuples(v) for v in value) if isinstance(value, list) else value


def _options(r: _Reader, data: Any, field: str, cls: Any, adapter: str) -> tuple[tuple[str, Any], ...]:
    options = r.table(data, field)
    if not options:
        return ()
    if cls is None:
        raise r.error(field, f"dataset {adapter!r} takes no options")
    try:
        cls.from_dict(options, source=field)
    except UserError as exc:
        raise r.wrap(exc, field) from None
    return tuple(sorted(options.items()))


def _dataset(r: _Reader, data: dict[str, Any], field: str,
             synthetic: SyntheticData | None) -> DatasetPlan:
    from .registry import DATASETS

    r.keys(data, field, ("adapter", "synthetic", "root", "options"), ("adapter",))
    adapter = r.value(data, "adapter", field, str)
    try:
        cls = DATASETS.get(adapter)
    except UserError as exc:
        raise r.error(f"{field}.adapter", exc.message) from None
    if ("synthetic" in data) == ("root" in data):
        raise r.error(field, "give exactly one of `synthetic` (a folder of the embedded "
                      "synthetic benchmark) and `root` (a folder you have)")
    sub = r.value(data, "synthetic", field, str)
    if sub is not None:
        if synthetic is None:
            raise r.error(f"{field}.synthetic", "the plan has no [synthetic] table")
        if Path(sub).is_absolute() or ".." in Path(sub).parts:
            raise r.error(f"{field}.synthetic", "must be a folder inside the synthetic benchmark")
    root = r.value(data, "root", field, str)
    if root is not None:
        root = r.file(root, f"{field}.root", folder=True)
    options = _options(r, data.get("options", {}), f"{field}.options", cls.options_class, adapter)
    return DatasetPlan(adapter, sub, root, options)


def _protocol(r: _Reader, data: dict[str, Any], field: str,
              datasets: dict[str, DatasetPlan]) -> ProtocolPlan:
    from .registry import DATASETS

    dataset = r.value(data, "dataset", field, str)
    if dataset is None:
        raise r.error(f"{field}.dataset", "missing field")
    if dataset not in datasets:
        raise r.error(f"{field}.dataset", f"no dataset {dataset!r} in the plan "
                      f"(it has {', '.join(datasets)})")
    splits = DATASETS.get(datasets[dataset].adapter).splits
    chosen = []
    for key in ("train_split", "test_split"):
        split = r.value(data, key, field, str)
        if split is not None and splits and split not in splits:
            raise r.error(f"{field}.{key}", f"dataset {datasets[dataset].adapter!r} has no split "
                          f"{split!r} (it has {', '.join(splits)})")
        chosen.append(split)
    if chosen[1] is None:
        raise r.error(f"{field}.test_split", "missing field")
    fields = {k: v for k, v in data.items() if k not in PROTOCOL_PLACE}
    for key in ("temporal_stride", "temporal_input"):
        if key in fields:
            raise r.error(f"{field}.{key}", "is set per entry (entries[].temporal_stride, "
                          "entries[].temporal_input)")
    protocol = _protocol_object(r, fields, field)
    return ProtocolPlan(dataset, chosen[0], chosen[1], protocol)


def _protocol_object(r: _Reader, fields: dict[str, Any], field: str) -> Protocol:
    """The protocol object, every field checked (the metric built with its options)."""
    from .registry import METRICS

    try:
        protocol = Protocol.from_dict(fields)
    except UserError as exc:
        raise r.error(field + (exc.field or "").removeprefix("protocol"), exc.message) from None
    except (TypeError, ValueError) as exc:
        raise r.error(field, f"not a valid protocol ({exc})") from None
    if protocol.metric not in METRICS:
        raise r.error(f"{field}.metric", f"unknown metric {protocol.metric!r} "
                      f"(known: {', '.join(METRICS.names())})")
    try:
        protocol.build_metric()
    except UserError as exc:
        raise r.error(f"{field}.metric_options", exc.message) from None
    except (TypeError, ValueError) as exc:
        raise r.error(f"{field}.metric_options", f"not options of metric {protocol.metric!r} "
                      f"({exc})") from None
    try:
        protocol.boxes.build() if protocol.boxes.source != "detections" else None
        protocol.tracker.build()
    except UserError as exc:
        raise r.error(f"{field}.{exc.field or 'boxes'}", exc.message) from None
    except (TypeError, ValueError) as exc:
        raise r.error(field, f"not a valid protocol ({exc})") from None
    return protocol


MODEL_KEYS = ("name", "method", "protocol", "settings", "train", "init_from", "checkpoint", "files",
              "export_from", "train_seeds")
#: methods a plan can export another model to: method -> the setting that names the file
EXPORT_SETTING = {"onnx": "model"}


def _models(r: _Reader, data: Any, protocols: dict[str, ProtocolPlan],
            datasets: dict[str, DatasetPlan], train_seeds: int = 1) -> tuple[ModelSpec, ...]:
    if not isinstance(data, list) or not data:
        raise r.error("models", "expected an array of tables ([[models]]), at least one")
    models: list[ModelSpec] = []
    for i, item in enumerate(data):
        model = _model(r, r.table(item, f"models[{i}]"), f"models[{i}]", protocols)
        if "train_seeds" in item and model.kind != "train":
            raise r.error(f"models[{i}].train_seeds", f"only a trained model has training seeds; "
                          f"{model.name!r} is {model.kind}")
        count = _count(r, item, "train_seeds", f"models[{i}]", train_seeds)
        models.append(dataclasses.replace(model, train_seeds=count if model.kind == "train" else 1))
    names = [m.name for m in models]
    for i, model in enumerate(models):
        if names.index(model.name) != i:
            raise r.error(f"models[{i}].name", f"{model.name!r} is used twice")
    for i, model in enumerate(models):
        if model.kind == "train" and protocols[model.protocol].train_split is None:
            raise r.error(f"models[{i}].protocol", f"protocol {model.protocol!r} has no "
                          "train_split to train on")
        key = "init_from" if model.init_from is not None else "export_from"
        seen = [model.name]
        current = model
        while current.source is not None:
            if current.source not in names:
                raise r.error(f"models[{names.index(current.name)}].{key}",
                              f"no model {current.source!r} in the plan")
            if current.source in seen:
                raise r.error(f"models[{i}].{key}", "models are made from each other in a "
                              f"cycle: {' -> '.join([*seen, current.source])}")
            seen.append(current.source)
            current = models[names.index(current.source)]
        if model.source is not None and models[names.index(model.source)].kind not in ("train", "checkpoint"):
            raise r.error(f"models[{i}].{key}", f"model {model.source!r} has no checkpoint to "
                          "start from (it is neither trained nor loaded)")
    return tuple(models)


def _model(r: _Reader, data: dict[str, Any], field: str,
           protocols: dict[str, ProtocolPlan]) -> ModelSpec:
    from .interface import is_trainable
    from .registry import METHODS
    from .training import TrainConfig

    r.keys(data, field, MODEL_KEYS, ("name", "method", "protocol"))
    name = r.name(data, "name", field)
    method = r.value(data, "method", field, str)
    try:
        cls = METHODS.get(method)
    except UserError as exc:
        raise r.error(f"{field}.method", exc.message) from None
    protocol = r.value(data, "protocol", field, str)
    if protocol not in protocols:
        raise r.error(f"{field}.protocol", f"no protocol {protocol!r} in the plan "
                      f"(it has {', '.join(protocols)})")
    settings = dict(r.table(data.get("settings", {}), f"{field}.settings"))
    files = {key: r.file(r.value(data["files"], key, f"{field}.files", str), f"{field}.files.{key}")
             for key in r.table(data.get("files", {}), f"{field}.files")}
    overlap = sorted(set(files) & set(settings))
    if overlap:
        raise r.error(f"{field}.files.{overlap[0]}", "is also in settings: give it once")
    export_from = r.value(data, "export_from", field, str)
    exported = {}
    if export_from is not None:
        if method not in EXPORT_SETTING:
            raise r.error(f"{field}.export_from", f"only {', '.join(EXPORT_SETTING)} models are "
                          f"exported, not {method!r}")
        for key in ("train", "init_from", "checkpoint", "files"):
            if key in data:
                raise r.error(f"{field}.{key}", "an exported model has its file from `export_from`")
        if EXPORT_SETTING[method] in settings:
            raise r.error(f"{field}.settings.{EXPORT_SETTING[method]}", "is the file the run "
                          "exports (export_from)")
        exported = {EXPORT_SETTING[method]: str(r.path)}  # a stand-in for the checks below
    config_class = getattr(cls, "config_class", None)
    if config_class is not None:
        known = config_class.field_names()
        for key in sorted({**settings, **files}):
            if key not in known:
                where = "files" if key in files else "settings"
                raise r.error(f"{field}.{where}.{key}", f"unknown setting of method {method!r} "
                              f"(known: {', '.join(known)})")
        try:
            config_class.build({**{k: _tuples(v) for k, v in settings.items()}, **files, **exported})
        except UserError as exc:
            raise r.wrap(exc, f"{field}.settings") from None
    train = data.get("train")
    checkpoint = r.value(data, "checkpoint", field, str)
    init_from = r.value(data, "init_from", field, str)
    if checkpoint is not None and (train is not None or init_from is not None):
        raise r.error(f"{field}.checkpoint", "a model is trained (train, init_from) or loaded "
                      "from a checkpoint, not both")
    if checkpoint is not None:
        checkpoint = r.file(checkpoint, f"{field}.checkpoint")
    if init_from is not None and train is None:
        train = {}
    if train is not None:
        train = dict(r.table(train, f"{field}.train"))
        if not is_trainable(cls) and init_from is None:
            raise r.error(f"{field}.train", f"method {method!r} cannot be trained (it does not "
                          "declare the training capability)")
        for key, instead in PLAN_OWNED_TRAIN.items():
            if key in train:
                raise r.error(f"{field}.train.{key}", f"is set by the plan's `{instead}`")
        try:
            TrainConfig.from_dict({k: _tuples(v) for k, v in train.items()}, source=f"{field}.train")
        except UserError as exc:
            raise r.wrap(exc, f"{field}.train") from None
        train = {k: _tuples(v) for k, v in train.items()}
    elif checkpoint is None and export_from is None and is_trainable(cls):
        raise r.error(field, f"method {method!r} learns its weights: give `train` (a training "
                      "recipe) or `checkpoint` (a file)")
    return ModelSpec(name, method, protocol, {k: _tuples(v) for k, v in settings.items()},
                     train, init_from, checkpoint, files, export_from)


def _shuffleable(r: _Reader, model: ModelSpec, field: str) -> None:
    """The shuffled control needs per-track temporal state and a checkpoint to build the donor
    method from."""
    from .interface import has_track_state, method_class

    if not has_track_state(method_class(model.method)):
        raise r.error(field, f"method {model.method!r} has no per-track temporal state to shuffle")
    if model.kind not in ("train", "checkpoint"):
        raise r.error(field, f"the shuffled control runs a trained or loaded model; "
                      f"{model.name!r} is {model.kind}")


ENTRY_KEYS = ("label", "model", "overrides", "temporal_stride", "temporal_input", "tags",
              "compare_to", "timed")


def _compare_to(r: _Reader, item: dict[str, Any], field: str) -> str | tuple[str, ...] | None:
    """An entry's `compare_to`: one label, or an array of labels."""
    value = r.value(item, "compare_to", field, (str, list))
    if not isinstance(value, list):
        return value
    if not value:
        raise r.error(f"{field}.compare_to", "is empty (leave it out to compare with nothing)")
    for j, label in enumerate(value):
        if not isinstance(label, str):
            raise r.error(f"{field}.compare_to[{j}]", f"expected a string, got {_type(label)}")
    return tuple(value)


def _entries(r: _Reader, data: Any, models: tuple[ModelSpec, ...]) -> tuple[Entry, ...]:
    if not isinstance(data, list) or not data:
        raise r.error("entries", "expected an array of tables ([[entries]]), at least one")
    names = [m.name for m in models]
    entries = []
    for i, item in enumerate(data):
        field = f"entries[{i}]"
        item = r.table(item, field)
        r.keys(item, field, ENTRY_KEYS, ("label", "model"))
        label = r.value(item, "label", field, str)
        if not label.strip():
            raise r.error(f"{field}.label", "is empty")
        model = r.value(item, "model", field, str)
        if model not in names:
            raise r.error(f"{field}.model", f"no model {model!r} in the plan")
        stride = r.value(item, "temporal_stride", field, int, 1)
        if stride < 1:
            raise r.error(f"{field}.temporal_stride", f"must be >= 1, got {stride}")
        temporal_input = r.value(item, "temporal_input", field, str, "own")
        if temporal_input not in TEMPORAL_INPUTS:
            raise r.error(f"{field}.temporal_input", f"expected one of {', '.join(TEMPORAL_INPUTS)}, "
                          f"got {temporal_input!r}")
        tags = r.value(item, "tags", field, list, [])
        for j, tag in enumerate(tags):
            if not isinstance(tag, str):
                raise r.error(f"{field}.tags[{j}]", f"expected a string, got {_type(tag)}")
        overrides = {k: _tuples(v) for k, v in r.table(item.get("overrides", {}),
                                                       f"{field}.overrides").items()}
        entries.append(Entry(label, model, overrides, stride, temporal_input, tuple(tags),
                             _compare_to(r, item, field),
                             r.value(item, "timed", field, bool, True)))
    for i, entry in enumerate(entries):
        if entry.temporal_input == "shuffled":
            _shuffleable(r, models[names.index(entry.model)], f"entries[{i}].temporal_input")
    labels = {(e.label, e.temporal_stride) for e in entries}
    for i, entry in enumerate(entries):
        for other in entry.compared_labels:
            if (other, entry.temporal_stride) in labels:
                continue
            raise r.error(f"entries[{i}].compare_to", f"no entry labelled {other!r} "
                          f"at temporal stride {entry.temporal_stride}")
    return tuple(entries)
