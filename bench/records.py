"""Result records: the versioned, documented schema of one benchmark result.

One record per (method config, dataset, split, protocol, seed), stored as JSON under
``results/`` (see :mod:`vposebench.results_store`). Leaderboards, paper tables and the
regression check are views over records; nothing else is read to make them.

Schema version 2: the JSON keys of :meth:`ResultRecord.to_dict`, in order, one per line. Every
key is a dataclass field of :class:`ResultRecord` except the two marked "derived", which are
computed from the fields when written (a stored key must match). Accuracies are in percent.
Schema-1 records are still read: their protocol block is converted, their stored key kept::

    schema_version  int, = SCHEMA_VERSION
    key             str, derived: "<method>-<dataset>-<split>-<metric>-<protocol hash>-<config hash>-s<seed>"
    method          str, registered name
    config          dict, the method's full config (every default made explicit); its `train`
                    block names a start checkpoint by content (``checkpoint:<recipe>``), never a path
    config_hash     str, derived: sha256 of the canonical JSON of `config` (first 12 hex digits)
    dataset         dict: name, split, videos, and what the data was made from (the run pipeline
                    writes generator, synth_preset_seed, and frame_groups where the data has burst
                    flags; tables read an optional subset)
    protocol        vposebench.protocols.Protocol: metric and its options, boxes, tracker,
                    temporal stride, interval and speed settings
    seed            int
    metrics         {table: {column: Estimate}}; e.g. {"AP": {"Total": ...}, "MOTA": {...}, "HOTA": {...}}
    breakdowns      {condition: {table: {column: Estimate}}}; the same, on a slice (subset, occluded
                    joints, frame group: degraded, recovery, clean)
    comparisons     [Comparison]: paired-bootstrap differences against another record's key
                    (column "<column>:<condition>" on a breakdown)
    speed           Speed or null: latency, FPS, memory, parameters, FLOPs (see docs/measurement.md)
    training        dict or null: how the checkpoint was trained (job, checkpoint: its content
                    reference, init_from, steps, final_loss, weights_sha256, seconds, ...)
    training_seeds  TrainingSeeds or null: the seeds of a model trained several times, each
                    seed's headline numbers; its intervals then cover seeds and videos
    provenance      dict, see vposebench.provenance.Provenance
    notes           [str], anything a reader must know (e.g. a metric rule applied)
    label           str, display name in tables (e.g. "PTM (CoDA, capacity 16)")
    tags            [str], the experiments this record belongs to (e.g. "ptm-table1")
    created         str, ISO time

Over 400 lines on purpose: the schema dataclasses with their field documentation (the
record docs are checked against them) and the schema-1 reader; one schema, one file.
"""

from __future__ import annotations

import dataclasses
import math
import types
import typing
from typing import Any

from .errors import UserError
from .formats.jsonfile import Fields
from .hashing import content_hash
from .protocols import Protocol, from_v1, v1_protocol_hash

#: 2: the protocol block is `vposebench.protocols.Protocol`; checkpoints in `config.train` are
#: content references. Schema-1 records are still read (their protocol converted).
SCHEMA_VERSION = 2
READABLE_VERSIONS = (1, 2)


def config_hash(config: dict[str, Any]) -> str:
    """Short content hash of a config (12 hex digits of sha256)."""
    return content_hash(config)


def _opt_float(value: Any) -> float | None:
    if value is None:
        return None
    value = float(value)
    return value if math.isfinite(value) else None


@dataclasses.dataclass(frozen=True)
class Estimate:
    """A value with its 95 % bootstrap interval (None where undefined)."""

    value: float | None
    ci_low: float | None = None
    ci_high: float | None = None

    def __post_init__(self) -> None:
        for name in ("value", "ci_low", "ci_high"):
            object.__setattr__(self, name, _opt_float(getattr(self, name)))

    def to_dict(self) -> dict[str, float | None]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any] | float | None) -> Estimate:
        if data is None or isinstance(data, (int, float)):
            return cls(data)
        return cls(data.get("value"), data.get("ci_low"), data.get("ci_high"))

    def contains(self, value: float | None) -> bool:
        """True when `value` lies inside the interval (or both are undefined)."""
        if value is None or self.value is None:
            return value is None and self.value is None
        if self.ci_low is None or self.ci_high is None:
            return value == self.value
        # floating-point noise: a bootstrap bound equal to the value may differ in the last bits
        # across numpy versions (seen with numpy 1.26: value 8.77 "below" its bound 8.77)
        slack = 1e-9 * max(1.0, abs(value))
        return self.ci_low - slack <= value <= self.ci_high + slack


MetricTable = dict[str, dict[str, Estimate]]


def metric_table_to_dict(table: MetricTable) -> dict[str, dict[str, dict]]:
    return {t: {c: m.to_dict() for c, m in cols.items()} for t, cols in table.items()}


def metric_table_from_dict(data: dict[str, Any]) -> MetricTable:
    return {t: {c: Estimate.from_dict(m) for c, m in cols.items()} for t, cols in data.items()}


@dataclasses.dataclass(frozen=True)
class LatencyStats:
    """Per-frame latency distribution in milliseconds."""

    median_ms: float
    q1_ms: float
    q3_ms: float
    n: int

    @property
    def iqr_ms(self) -> float:
        return self.q3_ms - self.q1_ms

    @property
    def fps(self) -> float:
        return 1000.0 / self.median_ms if self.median_ms > 0 else math.inf


@dataclasses.dataclass(frozen=True)
class Speed:
    """Speed and memory figures, each saying what it timed (docs/measurement.md)."""

    mode: str  # "online" (batch = persons of one frame) | "offline"
    device: str  # "cpu" | "cuda:<name>"
    threads: int
    precision: str  # "fp32" | "bf16" | "fp16"
    warmup_frames: int
    repeats: int
    pose: LatencyStats  # crop warp + network + decoding + state update
    end_to_end: LatencyStats  # decoded frame -> written prediction, tracker included
    loading: LatencyStats | None  # image read + decode, timed separately
    harness_overhead: float  # (end_to_end - pose) / pose, median over frames
    repeat_pose_medians_ms: tuple[float, ...]  # one per repeat, to show stability
    peak_rss_bytes: int | None
    gpu_max_allocated_bytes: int | None
    gpu_max_reserved_bytes: int | None
    state_bytes: int  # the method's own state at its peak, from tensor sizes
    parameters: int | None  # None: the method cannot count them
    flops_per_person: int | None  # None: unknown (e.g. a model behind another runtime)
    offline_crops_per_s: float | None = None
    offline_batch: int | None = None
    cudnn_benchmark: bool | None = None
    runtime: str | None = None  # what ran the method (e.g. "torch 2.13.0"); None in old records

    @property
    def fps(self) -> float:
        return self.pose.fps

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Speed:
        data = dict(data)
        for key in ("pose", "end_to_end", "loading"):
            if data.get(key) is not None:
                data[key] = LatencyStats(**data[key])
        data["repeat_pose_medians_ms"] = tuple(data.get("repeat_pose_medians_ms", ()))
        return cls(**data)


@dataclasses.dataclass(frozen=True)
class Comparison:
    """Paired-bootstrap difference (this record minus `other`) on the same videos."""

    other: str  # key of the other record
    table: str
    column: str
    difference: Estimate


@dataclasses.dataclass(frozen=True)
class TrainingSeeds:
    """How a record pools its model's trainings: the seeds, each one's headline numbers, and
    what its intervals cover."""

    seeds: list[int]  # the training seeds, first the run's seed
    #: "<table>/<column>" -> each training's number on the whole test split, in `seeds` order
    per_seed: dict[str, list[float]]
    #: what the intervals of `metrics`, `breakdowns` and `comparisons` resample: "seed+video"
    interval: str = "seed+video"

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TrainingSeeds:
        return cls([int(s) for s in data["seeds"]],
                   {k: [float(v) for v in vs] for k, vs in data["per_seed"].items()},
                   str(data.get("interval", "seed+video")))

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclasses.dataclass
class ResultRecord:
    """One benchmark result. See the module docstring for the schema."""

    method: str
    config: dict[str, Any]
    dataset: dict[str, Any]
    protocol: Protocol
    seed: int
    metrics: MetricTable
    provenance: dict[str, Any]
    created: str
    breakdowns: dict[str, MetricTable] = dataclasses.field(default_factory=dict)
    comparisons: list[Comparison] = dataclasses.field(default_factory=list)
    speed: Speed | None = None
    training: dict[str, Any] | None = None
    #: set when the model was trained with several seeds, pooled into this record
    training_seeds: TrainingSeeds | None = None
    notes: list[str] = dataclasses.field(default_factory=list)
    label: str = ""
    tags: list[str] = dataclasses.field(default_factory=list)
    schema_version: int = SCHEMA_VERSION

    def __post_init__(self) -> None:
        if not self.label:
            self.label = self.method

    @property
    def config_hash(self) -> str:
        return config_hash(self.config)

    @property
    def key(self) -> str:
        """The record's file stem; a schema-1 record keeps the key it was stored under (its
        comparisons refer to other records by those keys)."""
        return self.__dict__.get("_schema1_key") or record_key(
            self.method, self.config, self.dataset["name"], self.dataset["split"], self.protocol,
            self.seed)

    def metric(self, table: str, column: str, condition: str | None = None) -> Estimate:
        source = self.metrics if condition is None else self.breakdowns.get(condition, {})
        return source.get(table, {}).get(column, Estimate(None))

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema_version": self.schema_version,
            "key": record_key(self.method, self.config, self.dataset["name"], self.dataset["split"],
                              self.protocol, self.seed),
            "method": self.method,
            "config": self.config,
            "config_hash": self.config_hash,
            "dataset": self.dataset,
            "protocol": self.protocol.to_dict(),
            "seed": self.seed,
            "metrics": metric_table_to_dict(self.metrics),
            "breakdowns": {k: metric_table_to_dict(v) for k, v in self.breakdowns.items()},
            "comparisons": [
                {"other": c.other, "table": c.table, "column": c.column,
                 "difference": c.difference.to_dict()}
                for c in self.comparisons
            ],
            "speed": None if self.speed is None else self.speed.to_dict(),
            "training": self.training,
            "training_seeds": None if self.training_seeds is None else self.training_seeds.to_dict(),
            "provenance": self.provenance,
            "notes": list(self.notes),
            "label": self.label,
            "tags": sorted(set(self.tags)),
            "created": self.created,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any], *, source: str | None = None) -> ResultRecord:
        """Parse a record dict; a wrong version, a missing field or a value of the wrong type
        is a UserError naming the field."""
        if not isinstance(data, dict):
            raise UserError(f"expected a record object, got {type(data).__name__}", path=source)
        version = data.get("schema_version")
        if version not in READABLE_VERSIONS:
            raise UserError(f"unsupported record schema version {version!r} "
                            f"(this vposebench reads {', '.join(map(str, READABLE_VERSIONS))})",
                            path=source, field="schema_version")
        raw = data
        if version != SCHEMA_VERSION:  # a schema-1 protocol block is checked as converted
            data = {**data, "protocol": _converted_v1_protocol(data, source).to_dict()}
        check_record_document(data, source)
        try:
            record = cls(
                method=data["method"],
                config=data["config"],
                dataset=data["dataset"],
                protocol=Protocol.from_dict(data["protocol"]),
                seed=int(data["seed"]),
                metrics=metric_table_from_dict(data["metrics"]),
                provenance=data["provenance"],
                created=data["created"],
                breakdowns={k: metric_table_from_dict(v) for k, v in data.get("breakdowns", {}).items()},
                comparisons=[
                    Comparison(c["other"], c["table"], c["column"], Estimate.from_dict(c["difference"]))
                    for c in data.get("comparisons", [])
                ],
                speed=None if data.get("speed") is None else Speed.from_dict(data["speed"]),
                training=data.get("training"),
                training_seeds=None if data.get("training_seeds") is None
                else TrainingSeeds.from_dict(data["training_seeds"]),
                notes=list(data.get("notes", [])),
                label=data.get("label", ""),
                tags=list(data.get("tags", [])),
            )
        except KeyError as exc:
            raise UserError("missing field", path=source, field=str(exc.args[0])) from None
        except (TypeError, ValueError) as exc:
            raise UserError(f"malformed record: {exc}", path=source) from None
        stored = record.key if version == SCHEMA_VERSION else _v1_key(raw)
        if "key" in data and data["key"] != stored:
            raise UserError(f"key {data['key']!r} does not match the record's content "
                            f"({stored!r}); was it edited by hand?", path=source, field="key")
        if version != SCHEMA_VERSION:
            record.__dict__["_schema1_key"] = stored
        return record


def _check_value(f: Fields, tp: Any, value: Any, field: str) -> None:
    """`value` (read from JSON) has type `tp` of the record schema; else a UserError naming
    the field. Knows the schema's types: str, int, float, bool, Any, Optional, dict[str, X],
    list[X], tuple[float, ...], Estimate and the record's dataclasses."""
    args = typing.get_args(tp)
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return
        tp = next(a for a in args if a is not type(None))
        args, origin = typing.get_args(tp), typing.get_origin(tp)
    if tp is Any:
        return
    if tp is Estimate:
        if isinstance(value, dict):
            for key, item in value.items():
                if key not in ("value", "ci_low", "ci_high"):
                    raise f.fail(field, f"unknown field {key!r} (an estimate has value, ci_low, ci_high)")
                _check_value(f, float | None, item, f"{field}.{key}")
        else:
            _check_value(f, float | None, value, field)
        return
    if dataclasses.is_dataclass(tp):
        obj = f.object_(value, field)
        hints = typing.get_type_hints(tp)
        for key in obj:
            if key not in hints:
                raise f.fail(field, f"unknown field {key!r}")
        for spec in dataclasses.fields(tp):
            if spec.name in obj:
                _check_value(f, hints[spec.name], obj[spec.name], f"{field}.{spec.name}")
            elif spec.default is dataclasses.MISSING and spec.default_factory is dataclasses.MISSING:
                raise f.fail(f"{field}.{spec.name}", "missing field")
        return
    if origin is dict or tp is dict:
        obj = f.object_(value, field)
        for key, item in obj.items() if args else ():
            _check_value(f, args[1], item, f"{field}.{key}")
        return
    if origin in (list, tuple) or tp in (list, tuple):
        items = value if isinstance(value, tuple) else f.list_(value, field)  # tuples: a dict made in memory
        for i, item in enumerate(items if args else ()):
            _check_value(f, args[0], item, f"{field}[{i}]")
        return
    if tp is str:
        f.str_(value, field)
    elif tp is bool:
        if not isinstance(value, bool):
            raise f.fail(field, f"expected true/false, got {value!r}")
    elif tp is int:
        f.int_(value, field)
        if isinstance(value, float):
            raise f.fail(field, f"expected an integer, got {value!r}")
    elif tp is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise f.fail(field, f"expected a number, got {value!r}")


#: keys of a record file that are written but not ResultRecord fields (checked on their own)
_DERIVED = {"key": str, "config_hash": str}


def check_record_document(data: Any, source: str | None) -> None:
    """A loaded record file has the schema's shape and types (module docstring); else a
    UserError naming the file and the field. Runs before a record is built, so that nothing
    of the wrong type reaches a table."""
    f = Fields(source)
    if not isinstance(data, dict):
        raise UserError(f"expected a record object, got {type(data).__name__}", path=source)
    hints = typing.get_type_hints(ResultRecord)
    for key, value in data.items():
        if key in _DERIVED:
            _check_value(f, _DERIVED[key], value, key)
        elif key not in hints:
            raise f.fail(key, "unknown field")
        else:
            _check_value(f, hints[key], value, key)
    for spec in dataclasses.fields(ResultRecord):
        if spec.name not in data and spec.default is dataclasses.MISSING \
                and spec.default_factory is dataclasses.MISSING:
            raise f.fail(spec.name, "missing field")
    for key in ("name", "split"):
        if key not in data["dataset"]:
            raise f.fail(f"dataset.{key}", "missing field")
    f.str_(data["dataset"]["name"], "dataset.name")


def record_key(method: str, config: dict[str, Any], dataset: str, split: str,
               protocol: Protocol, seed: int) -> str:
    """The file stem of a record: readable parts plus the content hashes that make it unique."""
    return f"{method}-{dataset}-{split}-{protocol.metric}-{protocol.hash()}-{config_hash(config)}-s{seed}"


def _converted_v1_protocol(data: dict[str, Any], source: str | None) -> Protocol:
    """The protocol a schema-1 record's block describes; a malformed block is a UserError."""
    try:
        return from_v1(data["protocol"], data.get("speed"))
    except KeyError as exc:
        raise UserError("missing field", path=source, field=f"protocol.{exc.args[0]}") from None
    except (AttributeError, TypeError, ValueError) as exc:
        raise UserError(f"malformed schema-1 protocol: {exc}", path=source, field="protocol") from None


def _v1_key(data: dict[str, Any]) -> str:
    """The key a schema-1 record was stored under (its protocol block hashed as written)."""
    return (f"{data['method']}-{data['dataset']['name']}-{data['dataset']['split']}-"
            f"{data['protocol']['metric']}-{v1_protocol_hash(data['protocol'])}-"
            f"{config_hash(data['config'])}-s{data['seed']}")
