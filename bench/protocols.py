"""The evaluation protocol: one object for everything that defines how predictions are made
and scored.

The experiment plan builds one :class:`Protocol` per evaluation. The runner takes its box
source and tracker from it (``RunSpec.protocol``), the speed pass its tracker and measurement
settings (``SpeedSpec.protocol``), the metric is built from its options under the names the
metric takes (``Protocol.build_metric``), the bootstrap reads its interval settings, the tables
read its temporal stride and metric options, and a result record stores it as its ``protocol``
block, whose hash is part of the record key. No other place states a protocol setting.
"""

from __future__ import annotations

import dataclasses
import re
from typing import TYPE_CHECKING, Any

from .errors import UserError
from .hashing import canonical_json, content_hash
from .tracker import DEFAULT_MAX_AGE, IoUTracker

if TYPE_CHECKING:
    from .box_sources import BoxSource
    from .metrics.base import Metric


@dataclasses.dataclass(frozen=True)
class BoxSettings:
    """Where the runner's person boxes come from (see `vposebench.box_sources`)."""

    source: str = "gt"  # "gt" | "gt-jitter" | "detections"
    jitter: dict[str, float] | None = None  # JitterConfig fields, for "gt-jitter"
    detections: str | None = None  # "<file name>:<content fingerprint>", for "detections"
    score_threshold: float = 0.0  # detections scored below it are dropped

    def build(self, detections_path: str | None = None) -> BoxSource:
        """The box source; a detections file must be the one this protocol names."""
        from .box_sources import DetectionBoxes, GTBoxes, JitterConfig, JitteredGTBoxes

        if self.source == "gt":
            return GTBoxes()
        if self.source == "gt-jitter":
            return JitteredGTBoxes(JitterConfig(**(self.jitter or {})))
        if self.source == "detections":
            if detections_path is None:
                raise UserError("this protocol's boxes come from a detections file; give its path",
                                field="detections")
            boxes = DetectionBoxes(detections_path, self.score_threshold)
            found = boxes.describe()["detections"]
            if self.detections is not None and found != self.detections:
                raise UserError(f"is {found}, the protocol names {self.detections}",
                                path=detections_path, field="detections")
            return boxes
        raise UserError(f"unknown box source {self.source!r} (known: gt, gt-jitter, detections)",
                        field="boxes.source")


@dataclasses.dataclass(frozen=True)
class TrackerSettings:
    """The IoU tracker that associates each frame's boxes with the previous frame's."""

    matching: str = "greedy"  # "greedy" | "hungarian"
    iou_threshold: float = 0.3  # smallest IoU that continues a track
    #: frames a track survives without a box (its method state with it); 0: a track ends in the
    #: first frame without its box
    max_age: int = DEFAULT_MAX_AGE

    def __post_init__(self) -> None:
        object.__setattr__(self, "iou_threshold", float(self.iou_threshold))
        object.__setattr__(self, "max_age", int(self.max_age))

    def build(self) -> IoUTracker:
        return IoUTracker(self.iou_threshold, self.matching, max_age=self.max_age)

    @classmethod
    def of(cls, tracker: IoUTracker) -> TrackerSettings:
        """The settings a built tracker really has (to show what a run used)."""
        return cls(tracker.matching, float(tracker.threshold), int(tracker.max_age))


@dataclasses.dataclass(frozen=True)
class IntervalSettings:
    """Percentile bootstrap intervals over videos (`vposebench.bootstrap`)."""

    resamples: int = 1000
    level: float = 0.95


@dataclasses.dataclass(frozen=True)
class SpeedSettings:
    """How the speed pass times a method (docs/measurement.md)."""

    videos: int = 2  # the first videos of the test split
    warmup_frames: int = 10
    repeats: int = 3
    offline_batch: int = 32
    precision: str = "fp32"


_PARTS = {"boxes": BoxSettings, "tracker": TrackerSettings, "intervals": IntervalSettings,
          "speed": SpeedSettings}


@dataclasses.dataclass(frozen=True)
class Protocol:
    """Everything that defines an evaluation, other than the method and the data."""

    metric: str  # registered metric: "posetrack" | "pck" | ...
    #: the metric's options under the names its constructor takes (e.g. PCK `normaliser`)
    metric_options: dict[str, Any] = dataclasses.field(default_factory=dict)
    boxes: BoxSettings = BoxSettings()
    tracker: TrackerSettings = TrackerSettings()
    #: keep every `temporal_stride`-th frame of the test videos (temporal downsampling)
    temporal_stride: int = 1
    #: "own": the method's own past; "shuffled": the temporal state of a donor video's track at
    #: the same frame index (the shuffled control, `vposebench.shuffle`)
    temporal_input: str = "own"
    intervals: IntervalSettings = IntervalSettings()
    speed: SpeedSettings = SpeedSettings()

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Protocol:
        """Parse a `protocol` block; an unknown or missing field is a UserError naming it."""
        if not isinstance(data, dict):
            raise UserError("expected an object", field="protocol")
        values = _known(cls, data, "protocol")
        if "metric" not in values:
            raise UserError("missing field", field="protocol.metric")
        for name, part in _PARTS.items():
            if name in values:
                if not isinstance(values[name], dict):
                    raise UserError("expected an object", field=f"protocol.{name}")
                values[name] = part(**_known(part, values[name], f"protocol.{name}"))
        return cls(**values)

    def hash(self) -> str:
        """8 hex digits of the content hash (part of the record key)."""
        return content_hash(self.to_dict(), 8)

    def prediction_part(self) -> dict[str, Any]:
        """The fields that change predictions (the prediction cache key includes them)."""
        return {"boxes": dataclasses.asdict(self.boxes), "tracker": dataclasses.asdict(self.tracker),
                "temporal_stride": self.temporal_stride, "temporal_input": self.temporal_input}

    def timing_part(self) -> dict[str, Any]:
        """The fields the speed pass reads."""
        return {"boxes": dataclasses.asdict(self.boxes), "tracker": dataclasses.asdict(self.tracker),
                "temporal_stride": self.temporal_stride, "speed": dataclasses.asdict(self.speed)}

    def build_metric(self) -> Metric:
        """The registered metric, constructed with exactly these options."""
        from .registry import METRICS

        return METRICS.get(self.metric)(**self.metric_options)


def _known(cls: type, data: dict[str, Any], where: str) -> dict[str, Any]:
    names = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(data) - names)
    if unknown:
        raise UserError(f"unknown field (known: {', '.join(sorted(names))})", field=f"{where}.{unknown[0]}")
    return dict(data)


# ----------------------------------------------------------------------------- schema 1
_V1_TRACKER = re.compile(r"^(greedy|hungarian)-iou-([0-9.]+)$")
#: schema-1 PCK options that were descriptions, not options of the metric
_V1_DESCRIPTIONS = ("comparison", "mean", "association_iou")
_V1_OPTION_NAMES = {"bbox": "box"}


def v1_protocol_hash(block: dict[str, Any]) -> str:
    """The protocol hash schema-1 records were keyed with (the hash of the block as stored)."""
    return content_hash(block, 8)


def from_v1(block: dict[str, Any], speed: dict[str, Any] | None = None) -> Protocol:
    """The protocol a schema-1 record's block describes, in today's terms.

    Schema 1 wrote the tracker as text (``greedy-iou-0.3``) beside the PCK protocols' real
    association IoU (``options.association_iou``), the PCK normaliser as ``bbox`` (the option
    is ``box``), the stride and bootstrap among the metric options, and no speed settings (its
    speed block has warm-up and repeats; the number of videos was the default, 2). Its tracker
    ended a track in the first frame without a box (max_age 0).
    """
    options = dict(block.get("options") or {})
    match = _V1_TRACKER.match(str(block.get("tracker", "greedy-iou-0.3")))
    matching, iou = (match.group(1), float(match.group(2))) if match else ("greedy", 0.3)
    if options.get("association_iou") is not None:
        iou = float(options["association_iou"])
    stride = int(options.pop("temporal_stride", 1))
    intervals = IntervalSettings(int(options.pop("bootstrap", 1000)), float(options.pop("ci_level", 0.95)))
    for name in _V1_DESCRIPTIONS:
        options.pop(name, None)
    if "normaliser" in options:
        options["normaliser"] = _V1_OPTION_NAMES.get(options["normaliser"], options["normaliser"])
    timing = SpeedSettings(warmup_frames=int(speed["warmup_frames"]), repeats=int(speed["repeats"])) \
        if speed else SpeedSettings()
    return Protocol(
        metric=block["metric"], metric_options=options,
        boxes=BoxSettings(block.get("box_source", "gt"), block.get("box_jitter"), block.get("detections"),
                          float(block.get("score_threshold", 0.0))),
        tracker=TrackerSettings(matching, iou, 0), temporal_stride=stride, intervals=intervals,
        speed=timing)


def same_content(a: Any, b: Any) -> bool:
    """Equal as content: the same canonical JSON (dict order and tuple vs list aside)."""
    return canonical_json(a) == canonical_json(b)
