"""The experiment plans behind `vposebench run`: data, training jobs and evaluation entries.

A *job* trains one model (a method config on one protocol's training split, optionally
initialised from another job's checkpoint). An *entry* evaluates one job's model on the
protocol's test split, possibly with inference-time config changes (memory capacity,
keypoint feature replacement) or temporal downsampling, and becomes one result record; its
tags place it in the paper tables. `compare_to` names the entry a paired-bootstrap difference
is computed against.

Presets: `quick` (a smoke run of everything, minutes), `default` (the leaderboard and every
paper table at small scale) and `full` (the default experiments with about 5x longer training
and more downsampling rates). Every preset trains one seed per model (`vposebench run --seed`
picks it); none of them repeats the sweeps over several seeds.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from .errors import UserError
from .protocols import IntervalSettings, Protocol, SpeedSettings, TrackerSettings


@dataclasses.dataclass(frozen=True)
class ProtocolPlan:
    """Where a protocol trains and tests (paths relative to the synthetic root) and how it
    scores (`protocol`: the temporal stride, intervals and speed settings are set per preset
    and entry, see `Preset.protocol`)."""

    dataset: str  # registered dataset name
    subdir: str  # dataset root inside the synthetic root
    train_split: str
    test_split: str
    protocol: Protocol

    @property
    def metric(self) -> str:
        return self.protocol.metric


#: the official PoseTrack rules, GT boxes, the tracker's default association (IoU 0.3)
POSETRACK = Protocol("posetrack", {"mode": "official"})
#: PCK@0.2 with the GT box normaliser. The PCK protocols have one person per frame, whose
#: per-track state must carry through the video whatever the box overlap (in a temporally
#: downsampled fast clip the box moves past IoU 0.3 between kept frames, and a new track would
#: give tfc/refine zero maps there): the tracker associates at IoU 0.
PCK = Protocol("pck", {"alpha": 0.2, "normaliser": "box", "visibility": "auto", "all_joints": False},
               tracker=TrackerSettings(iou_threshold=0.0))

PROTOCOLS: dict[str, ProtocolPlan] = {
    "posetrack": ProtocolPlan("synthetic", "", "train", "val", POSETRACK),
    "jhmdb": ProtocolPlan("jhmdb", "jhmdb", "sub-train1", "sub-test1", PCK),
    "penn": ProtocolPlan("penn_action", "penn_action", "train", "test", PCK),
}


@dataclasses.dataclass(frozen=True)
class TrainJob:
    """One model to train."""

    name: str
    method: str
    protocol: str
    settings: dict[str, Any] = dataclasses.field(default_factory=dict)  # method config
    train: dict[str, Any] = dataclasses.field(default_factory=dict)  # TrainConfig fields
    init_from: str | None = None  # job whose checkpoint initialises this one


@dataclasses.dataclass(frozen=True)
class Entry:
    """One evaluation (one result record)."""

    label: str
    job: str
    overrides: dict[str, Any] = dataclasses.field(default_factory=dict)  # inference-time config
    stride: int = 1  # temporal downsampling of the test videos
    tags: tuple[str, ...] = ()
    compare_to: str | None = None
    timed: bool = True
    #: "own" | "shuffled": the method's own temporal input, or the shuffled control's
    temporal_input: str = "own"


@dataclasses.dataclass(frozen=True)
class Preset:
    name: str
    description: str
    synth: str  # `vposebench synth` preset of the data
    jobs: tuple[TrainJob, ...]
    entries: tuple[Entry, ...]
    bootstrap: int = 1000  # resamples of the bootstrap intervals
    speed: SpeedSettings = SpeedSettings()
    #: changes to the synthetic preset's config (e.g. fewer videos in tests)
    synth_overrides: tuple[tuple[str, Any], ...] = ()
    #: True when --methods dropped entries (a narrowed run never prunes other records)
    narrowed: bool = False

    def protocol(self, name: str, stride: int = 1, temporal_input: str = "own") -> Protocol:
        """The full protocol of an evaluation on protocol `name` at temporal stride `stride`
        with `temporal_input` ("own" or "shuffled")."""
        return dataclasses.replace(PROTOCOLS[name].protocol, temporal_stride=stride,
                                   temporal_input=temporal_input,
                                   intervals=IntervalSettings(self.bootstrap), speed=self.speed)

    def job(self, name: str) -> TrainJob:
        for job in self.jobs:
            if job.name == name:
                return job
        raise KeyError(name)

    def select_methods(self, methods: list[str]) -> Preset:
        """Only the entries of these methods, and the jobs they need (with their init jobs)."""
        known = sorted({j.method for j in self.jobs})
        unknown = [m for m in methods if m not in known]
        if unknown:
            raise UserError(f"preset {self.name!r} has no method {', '.join(unknown)} "
                            f"(it runs {', '.join(known)})", field="--methods")
        entries = tuple(e for e in self.entries if self.job(e.job).method in methods)
        needed: set[str] = set()
        for entry in entries:
            name: str | None = entry.job
            while name is not None and name not in needed:
                needed.add(name)
                name = self.job(name).init_from
        labels = {e.label for e in entries}
        entries = tuple(e if e.compare_to in labels else dataclasses.replace(e, compare_to=None)
                        for e in entries)
        return dataclasses.replace(self, jobs=tuple(j for j in self.jobs if j.name in needed),
                                   entries=entries, narrowed=len(entries) < len(self.entries))


# ----------------------------------------------------------------------------- presets
#: W_V starts as the identity, so the first read is a plain mix of stored maps and the frozen
#: head sees features it knows (vanilla PTM from a random W_V: 48.7 AP
#: after 300 steps, from the identity: 49.4; README, Methods).
PTM_VALUE_INIT = "identity"
#: the 64x64 tiny CPM at the paper's stride 8 has an 8x8 heatmap, too coarse for wrists and
#: elbows under PCK@0.2; stride 4 (16x16) is the small-input adaptation (README, Methods).
PCK_CPM_STRIDE = 4


def _pose_jobs(size: str, iters: int, ptm_iters: int, backbones: tuple[str, ...],
               attentions: tuple[str, ...], ptm_clip: int | None = None) -> list[TrainJob]:
    """Per backbone: a baseline, and PTM models (one per attention) started from it; PTM
    trains on clips of `ptm_clip` frames (None: the method's default, capacity + 1)."""
    clip = {} if ptm_clip is None else {"clip_length": ptm_clip}
    jobs = []
    for backbone in backbones:
        base = f"{backbone}-baseline"
        jobs.append(TrainJob(base, "baseline", "posetrack", {"preset": size, "backbone": backbone},
                             {"iterations": iters}))
        for attention in attentions if backbone == backbones[0] else ("auto",):
            jobs.append(TrainJob(f"{backbone}-ptm-{attention}", "ptm", "posetrack",
                                 {"preset": size, "backbone": backbone, "attention": attention,
                                  "value_init": PTM_VALUE_INIT, **clip},
                                 {"iterations": ptm_iters, "lr": 1e-3}, init_from=base))
    return jobs


def _pck_jobs(protocol: str, size: str, iters: int, temporal_iters: int) -> list[TrainJob]:
    """The TFC paper's trio on one protocol: CPM baseline, then tfc and refine from it."""
    base = f"{protocol}-cpm"
    model = {"preset": size, "backbone": "cpm", "cpm_stride": PCK_CPM_STRIDE}
    return [
        TrainJob(base, "baseline", protocol, model, {"iterations": iters}),
        *(TrainJob(f"{protocol}-{m}", m, protocol, model,
                   {"iterations": temporal_iters, "train_scope": "all"}, init_from=base)
          for m in ("tfc", "refine")),
    ]


_BACKBONE_LABEL = {"simplebaseline": "SimpleBaseline", "cpn": "CPN"}


def _pose_entries(backbones: tuple[str, ...], attentions: tuple[str, ...],
                  capacities: tuple[int, ...]) -> list[Entry]:
    entries = []
    first = backbones[0]
    for backbone in backbones:
        name = _BACKBONE_LABEL[backbone]
        entries.append(Entry(f"Baseline-{name}", f"{backbone}-baseline", tags=("ptm-table3",)))
        entries.append(Entry(f"PTM-{name}", f"{backbone}-ptm-auto", tags=("ptm-table3",),
                             compare_to=f"Baseline-{name}"))
    for attention in attentions:
        if attention == "auto":
            continue
        label = {"vanilla": "vanilla attention", "coda": "CoDA"}[attention]
        entries.append(Entry(f"PTM-{_BACKBONE_LABEL[first]} ({label})", f"{first}-ptm-{attention}",
                             tags=("ptm-table2",),
                             compare_to=None if attention == "vanilla"
                             else f"PTM-{_BACKBONE_LABEL[first]} (vanilla attention)"))
    if len(attentions) > 1:
        entries.append(Entry(f"PTM-{_BACKBONE_LABEL[first]} (auto)", f"{first}-ptm-auto",
                             tags=("ptm-table2",), timed=False,
                             compare_to=f"PTM-{_BACKBONE_LABEL[first]} (vanilla attention)"))
    entries.append(Entry(f"PTM-{_BACKBONE_LABEL[first]} without KFR", f"{first}-ptm-auto",
                         overrides={"kfr": False}, tags=("ptm-kfr",), timed=False))
    entries.append(Entry(f"PTM-{_BACKBONE_LABEL[first]} with KFR", f"{first}-ptm-auto",
                         tags=("ptm-kfr",), timed=False,
                         compare_to=f"PTM-{_BACKBONE_LABEL[first]} without KFR"))
    cap_backbone = backbones[-1]
    for capacity in capacities:
        entries.append(Entry(f"PTM-{_BACKBONE_LABEL[cap_backbone]} capacity {capacity}",
                             f"{cap_backbone}-ptm-auto", overrides={"capacity": capacity},
                             tags=("ptm-table1",), timed=False,
                             compare_to=None if capacity == capacities[0]
                             else f"PTM-{_BACKBONE_LABEL[cap_backbone]} capacity {capacities[0]}"))
    return entries


def _pck_entries(protocol: str, table: str, strides: tuple[int, ...]) -> list[Entry]:
    names = {"cpm": "CPM", "refine": "Refine", "tfc": "TFC"}
    entries = []
    for key, label in names.items():
        job = f"{protocol}-{key}"
        base = f"{names['cpm']} ({protocol})"
        compare = None if key == "cpm" else base
        entries.append(Entry(f"{label} ({protocol})", job, tags=(table,) + (("tfc-fig3",) if 1 in strides and protocol == "jhmdb" else ()),
                             compare_to=compare))
        if protocol == "jhmdb":
            for stride in strides:
                if stride == 1:
                    continue
                entries.append(Entry(f"{label} ({protocol})", job, stride=stride, tags=("tfc-fig3",),
                                     timed=False,
                                     compare_to=None if key == "cpm" else base))
    return entries


#: the controls of the sensitivity check (issue 11), fitted from a protocol's per-frame model,
#: and their labels; the oracle (`describe().oracle`) is labelled "(oracle)" wherever it appears
CONTROLS = {"hold": ("Hold", False), "oracle-hold": ("Oracle-hold", True), "prior": ("Prior", False)}
#: the tag of the sensitivity table's entries
SENSITIVITY = "sensitivity"


def _control_jobs(prefix: str, base: TrainJob) -> list[TrainJob]:
    """The controls wrapping `base` (no gradient steps; `vposebench.fitting`)."""
    return [TrainJob(f"{prefix}-{control}", control, base.protocol, base.settings, init_from=base.name)
            for control in CONTROLS]


def _sensitivity_entries(prefix: str, label: str, base_label: str,
                         temporal: tuple[tuple[str, str], ...]) -> list[Entry]:
    """Each control against the per-frame model (`label` formats a row name), and the shuffled
    variant of each temporal method (own label, job) and of hold against its own self."""
    tags = (SENSITIVITY,)
    entries = [Entry(label.format(name) + (" (oracle)" if oracle else ""), f"{prefix}-{control}", tags=tags,
                     compare_to=base_label, timed=False)
               for control, (name, oracle) in CONTROLS.items()]
    for own, job in (*temporal, (label.format(CONTROLS["hold"][0]), f"{prefix}-hold")):
        entries.append(Entry(f"{own}, shuffled", job, tags=tags, compare_to=own, timed=False,
                             temporal_input="shuffled"))
    return entries


def _preset(name: str, description: str, synth: str, size: str, *, pose_iters: int, ptm_iters: int,
            pck_iters: int, temporal_iters: int, backbones: tuple[str, ...],
            attentions: tuple[str, ...], capacities: tuple[int, ...], strides: tuple[int, ...],
            penn: bool, bootstrap: int, speed_videos: int = 2, ptm_clip: int | None = None) -> Preset:
    jobs = _pose_jobs(size, pose_iters, ptm_iters, backbones, attentions, ptm_clip)
    jobs += _pck_jobs("jhmdb", size, pck_iters, temporal_iters)
    entries = _pose_entries(backbones, attentions, capacities)
    entries += _pck_entries("jhmdb", "tfc-table1", strides)
    first, sb = backbones[0], _BACKBONE_LABEL[backbones[0]]
    jobs += _control_jobs(first, jobs[0]) + _control_jobs("jhmdb", next(j for j in jobs if j.name == "jhmdb-cpm"))
    entries += _sensitivity_entries(first, "{}-" + sb, f"Baseline-{sb}",
                                    ((f"PTM-{sb}", f"{first}-ptm-auto"),))
    entries += _sensitivity_entries("jhmdb", "{} (jhmdb)", "CPM (jhmdb)",
                                    (("TFC (jhmdb)", "jhmdb-tfc"), ("Refine (jhmdb)", "jhmdb-refine")))
    if penn:
        jobs += _pck_jobs("penn", size, pck_iters, temporal_iters)
        entries += _pck_entries("penn", "tfc-table2", (1,))
    return Preset(name, description, synth, tuple(jobs), tuple(entries), bootstrap=bootstrap,
                  speed=SpeedSettings(videos=speed_videos))


PRESETS: dict[str, Preset] = {
    "quick": _preset(
        "quick", "smoke run of the whole pipeline on tiny data and tiny models (minutes)",
        "quick", "tiny", pose_iters=100, ptm_iters=40, pck_iters=100, temporal_iters=50,
        backbones=("simplebaseline",), attentions=("auto",), capacities=(1, 4), strides=(1, 4),
        penn=False, bootstrap=200, speed_videos=1,
        ptm_clip=8),  # the quick videos have 16 frames: no track has capacity + 1 = 17
    "default": _preset(
        "default", "leaderboard and every paper table on the default synthetic benchmark",
        "default", "tiny", pose_iters=1200, ptm_iters=240, pck_iters=800, temporal_iters=400,
        backbones=("simplebaseline", "cpn"), attentions=("auto", "vanilla", "coda"),
        capacities=(1, 2, 4, 8, 16), strides=(1, 2, 4, 8), penn=True, bootstrap=1000),
    "full": _preset(
        "full", "the default experiments with longer training (hours on a CPU)",
        "default", "tiny", pose_iters=6000, ptm_iters=1500, pck_iters=4000, temporal_iters=2000,
        backbones=("simplebaseline", "cpn"), attentions=("auto", "vanilla", "coda"),
        capacities=(1, 2, 4, 8, 16), strides=(1, 2, 3, 4, 6, 8), penn=True, bootstrap=2000),
}


def get_preset(name: str) -> Preset:
    if name not in PRESETS:
        raise UserError(f"unknown preset {name!r} (known: {', '.join(PRESETS)})", field="--preset")
    return PRESETS[name]
