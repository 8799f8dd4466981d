"""`vposebench run`: generate -> train -> predict -> evaluate -> time -> record -> tables.

Every stage leaves its output on disk, written atomically, under a key that hashes everything
it depends on: the synthetic data (by its config hash), checkpoints (method + training config +
data + the checkpoint it started from + seed), prediction folders (checkpoint + inference-time
changes + temporal stride, completed by a marker file), and result records. A run that was
interrupted, or is repeated, redoes only what is missing; `force` recomputes the records
(speed included) from the cached checkpoints and predictions.

Training jobs run in parallel worker processes (one torch thread each); speed is measured
afterwards, one method at a time, in a fresh process, with nothing else running.
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
import datetime as _dt
import hashlib
import multiprocessing
import os
import queue as _queue
from pathlib import Path
from typing import Any

import numpy as np

from .atomic import atomic_write, write_json
from .bootstrap import bootstrap, paired_bootstrap
from .experiments import PROTOCOLS, Entry, Preset, TrainJob
from .fingerprint import EVALUATION_CODE, PREDICTION_CODE, TRAINING_CODE, code_fingerprint
from .provenance import collect
from .records import (
    Comparison,
    Estimate,
    MetricTable,
    Protocol,
    ResultRecord,
    canonical_json,
    record_key,
)
from .registry import METRICS, TABLES
from .results_store import ResultsStore
from .runner import DatasetSpec, MethodSpec, RunSpec, predict_dataset, worker_pool
from .speed import SpeedSpec, measure_speed

SUBSETS = ("crowd", "occlusion", "fast")

def association_iou(protocol: str) -> dict[str, float]:
    """`{"iou_threshold": t}` when the protocol sets its own association, else {}."""
    iou = PROTOCOLS[protocol].association_iou
    return {} if iou is None else {"iou_threshold": iou}


#: rough seconds per unit on one 2-core CPU, only for the progress bar's time-left estimate
_TRAIN_STEP_SECONDS = {"baseline": 0.07, "ptm": 0.25, "tfc": 0.08, "refine": 0.08}
_PREDICT_FRAME_SECONDS = 0.03


def _digest(obj: Any) -> str:
    return hashlib.sha256(canonical_json(obj).encode()).hexdigest()[:12]


class Progress:
    """Callbacks through which the pipeline reports progress (the CLI draws a tqdm bar)."""

    def begin(self, total: float) -> None:
        """The whole run is estimated to take `total` units (about seconds)."""

    def advance(self, amount: float) -> None:
        """`amount` units of the estimate are done."""

    def stage(self, text: str) -> None:
        """What is running now."""

    def message(self, text: str) -> None:
        """A line for the user (cache hits, notes)."""


@dataclasses.dataclass
class RunOptions:
    """Where and how a preset runs."""

    cache: Path
    results: Path
    device: str = "cpu"
    threads: int = 1  # torch threads per worker process
    workers: int = 2  # processes for training jobs and prediction shards
    force: bool = False  # recompute records (checkpoints and predictions stay cached)
    seed: int = 0


@dataclasses.dataclass
class Evaluation:
    """Entries that share one model, config and stride: one prediction set, one record."""

    key: str
    job: TrainJob
    overrides: dict[str, Any]
    stride: int
    entries: list[Entry]

    @property
    def label(self) -> str:
        return self.entries[0].label

    @property
    def tags(self) -> list[str]:
        return sorted({t for e in self.entries for t in e.tags})

    @property
    def timed(self) -> bool:
        return any(e.timed for e in self.entries)


@dataclasses.dataclass
class RunResult:
    records: list[ResultRecord]
    tables: dict[str, str]  # table name -> Markdown
    written: list[Path]
    pruned: list[str]


# ----------------------------------------------------------------------------- workers
def _train_worker(job: TrainJob, root: str, out: str, init: str | None, seed: int,
                  device: str, threads: int, updates: Any) -> dict[str, Any]:
    """Train one job in a worker process; report steps through `updates` (a queue)."""
    import torch

    from .registry import DATASETS
    from .training import TrainConfig, train

    torch.set_num_threads(threads)
    plan = PROTOCOLS[job.protocol]
    dataset = DATASETS.get(plan.dataset)(os.path.join(root, plan.subdir), plan.train_split)
    config = TrainConfig(**{**job.train, "seed": seed, "init_checkpoint": init})
    last = [0]

    def progress(step: int, total: int, loss: float) -> None:
        if step - last[0] >= 10 or step == total:
            updates.put((job.name, step - last[0]))
            last[0] = step

    result = train(job.method, dataset, out, method_settings=job.settings, config=config,
                   device=device, progress=progress)
    return {"steps": result.steps, "resumed_from": result.resumed_from, "seconds": result.seconds,
            "final_loss": float(np.mean(result.losses[-20:])) if result.losses else None,
            "idle_steps": result.idle_steps}


# ----------------------------------------------------------------------------- pipeline
class Pipeline:
    """Runs one preset; see the module docstring."""

    def __init__(self, preset: Preset, options: RunOptions, progress: Progress | None = None) -> None:
        self.preset = preset
        self.options = options
        self.progress = progress or Progress()
        self.store = ResultsStore(options.results)
        self._results: dict[str, Any] = {}  # evaluation key -> MetricResult (memo)
        self._training: dict[str, dict[str, Any]] = {}

    # -- data --------------------------------------------------------------------------
    def synth_config(self):
        from vposebench.datasets.synthetic.config import preset as synth_preset

        return dataclasses.replace(synth_preset(self.preset.synth), seed=self.options.seed,
                                   **dict(self.preset.synth_overrides))

    def data_root(self) -> Path:
        return self.options.cache / "synthetic" / self.synth_config().config_hash()

    def generate_data(self) -> Path:
        from vposebench.datasets.synthetic.generator import cached_manifest, generate

        root = self.data_root()
        config = self.synth_config()
        if cached_manifest(root, config) is not None:
            self.progress.message(f"data: reusing {root}")
        else:
            self.progress.stage("generating the synthetic benchmark")
            generate(root, config, workers=self.options.workers)
        return root

    # -- training ----------------------------------------------------------------------
    def job_key(self, job: TrainJob) -> str:
        init = self.job_key(self.preset.job(job.init_from)) if job.init_from else None
        return _digest({"method": job.method, "settings": job.settings, "train": job.train,
                        "protocol": job.protocol, "data": self.synth_config().config_hash(),
                        "init": init, "seed": self.options.seed,
                        "code": code_fingerprint(TRAINING_CODE)})

    def checkpoint(self, job: TrainJob) -> Path:
        return self.options.cache / "checkpoints" / f"{job.name}-{self.job_key(job)}.ckpt"

    def _trained(self, job: TrainJob) -> bool:
        from .checkpoint import load_checkpoint

        path = self.checkpoint(job)
        return path.is_file() and load_checkpoint(path).complete

    def train_all(self, root: Path) -> None:
        """Train every job not yet cached on worker processes, each as soon as the job it
        starts from is done (longest jobs first among those ready)."""
        pending = [j for j in self.preset.jobs if not self._trained(j)]
        for job in self.preset.jobs:
            if job not in pending:
                self.progress.advance(self._train_estimate(job))
        if not pending:
            return
        done = {j.name for j in self.preset.jobs if j not in pending}
        context = multiprocessing.get_context("spawn")
        with context.Manager() as manager, concurrent.futures.ProcessPoolExecutor(
                max(1, min(self.options.workers, len(pending))), mp_context=context) as pool:
            updates = manager.Queue()
            running: dict[concurrent.futures.Future, TrainJob] = {}
            shown = ""
            while pending or running:
                ready = sorted((j for j in pending if j.init_from is None or j.init_from in done),
                               key=self._train_estimate, reverse=True)
                for job in ready[: max(0, self.options.workers - len(running))]:
                    init = self.checkpoint(self.preset.job(job.init_from)) if job.init_from else None
                    future = pool.submit(_train_worker, job, str(root), str(self.checkpoint(job)),
                                         None if init is None else str(init), self.options.seed,
                                         self.options.device, self.options.threads, updates)
                    running[future] = job
                    pending.remove(job)
                text = "training " + ", ".join(j.name for j in running.values())
                if text != shown:
                    self.progress.stage(text)
                    shown = text
                finished, _ = concurrent.futures.wait(
                    running, timeout=0.5, return_when=concurrent.futures.FIRST_COMPLETED)
                self._drain(updates)
                for future in finished:
                    job = running.pop(future)
                    self._training[job.name] = future.result()
                    done.add(job.name)
            self._drain(updates)

    def _drain(self, updates: Any) -> None:
        while True:
            try:
                name, steps = updates.get_nowait()
            except _queue.Empty:
                return
            self.progress.advance(steps * _TRAIN_STEP_SECONDS.get(self.preset.job(name).method, 0.1)
                                  / max(1, self.options.workers))

    def _train_estimate(self, job: TrainJob) -> float:
        steps = job.train.get("iterations", 1000)
        return steps * _TRAIN_STEP_SECONDS.get(job.method, 0.1) / max(1, self.options.workers)

    # -- evaluations -------------------------------------------------------------------
    def evaluations(self) -> list[Evaluation]:
        """The entries grouped by (model, effective inference changes, stride): one record each.

        An override equal to the model's own config value is no change, so "PTM" and
        "PTM capacity 16" (the default capacity) share one prediction set and one record.
        """
        from .registry import METHODS

        groups: dict[str, Evaluation] = {}
        for entry in self.preset.entries:
            job = self.preset.job(entry.job)
            config = METHODS.get(job.method).config_class.from_dict(dict(job.settings)).to_dict()
            changes = {k: v for k, v in entry.overrides.items() if config.get(k) != v}
            key = _digest({"job": self.job_key(job), "overrides": changes, "stride": entry.stride,
                           "code": code_fingerprint(PREDICTION_CODE),
                           **association_iou(job.protocol)})
            if key not in groups:
                groups[key] = Evaluation(key, job, changes, entry.stride, [])
            groups[key].entries.append(entry)
        return list(groups.values())

    def test_dataset(self, evaluation: Evaluation, root: Path) -> DatasetSpec:
        plan = PROTOCOLS[evaluation.job.protocol]
        return DatasetSpec(plan.dataset, str(root / plan.subdir), plan.test_split, evaluation.stride)

    def method_spec(self, evaluation: Evaluation) -> MethodSpec:
        return MethodSpec(str(self.checkpoint(evaluation.job)), tuple(sorted(evaluation.overrides.items())),
                          self.options.device, self.options.threads)

    def predictions(self, evaluation: Evaluation) -> Path:
        return self.options.cache / "predictions" / f"{evaluation.job.name}-{evaluation.key}"

    def predict(self, evaluation: Evaluation, root: Path, executor: Any = None) -> Path:
        out = self.predictions(evaluation)
        marker = out / ".complete"
        if marker.is_file():
            return out
        dataset = self.test_dataset(evaluation, root)
        spec = RunSpec(self.method_spec(evaluation), dataset, str(out),
                       **association_iou(evaluation.job.protocol))
        self.progress.stage(f"predicting {evaluation.label}")
        predict_dataset(spec, workers=self.options.workers, executor=executor)
        with atomic_write(marker) as handle:
            handle.write(canonical_json({"checkpoint": spec.method.checkpoint,
                                         "overrides": evaluation.overrides,
                                         "stride": evaluation.stride}))
        return out

    def gt_dir(self, evaluation: Evaluation, root: Path) -> Path:
        """The PoseTrack'18-format GT folder the evaluator reads."""
        plan = PROTOCOLS[evaluation.job.protocol]
        if plan.dataset == "synthetic" and evaluation.stride == 1:
            return root / "annotations" / plan.test_split
        out = (self.options.cache / "gt" / f"{evaluation.job.protocol}-s{evaluation.stride}-"
               f"{root.name}-{code_fingerprint(EVALUATION_CODE)}")
        if not (out / ".complete").is_file():
            from vposebench.datasets.convert import convert_dataset
            from vposebench.datasets.views import subsample_video

            spec = self.test_dataset(evaluation, root)
            stride = evaluation.stride
            convert_dataset(spec.open(), out, transform=(lambda v: subsample_video(v, stride))
                            if stride > 1 else None)
            with atomic_write(out / ".complete") as handle:
                handle.write("ok")
        return out

    def evaluate(self, evaluation: Evaluation, root: Path) -> Any:
        """The MetricResult of an evaluation (predicted if needed; memoised)."""
        if evaluation.key not in self._results:
            pred = self.predict(evaluation, root)
            gt = self.gt_dir(evaluation, root)
            metric = METRICS.get(PROTOCOLS[evaluation.job.protocol].metric)()
            self._results[evaluation.key] = metric.evaluate(gt, pred)
        return self._results[evaluation.key]

    # -- records -----------------------------------------------------------------------
    def protocol(self, evaluation: Evaluation) -> Protocol:
        plan = PROTOCOLS[evaluation.job.protocol]
        options: dict[str, Any] = {"bootstrap": self.preset.bootstrap, "ci_level": 0.95,
                                   "temporal_stride": evaluation.stride}
        if plan.metric == "pck":
            options.update({"alpha": 0.2, "normaliser": "bbox", "comparison": "<=",
                            "mean": "pooled over the 13 table joints",
                            "association_iou": plan.association_iou})
        else:
            options["mode"] = "official"
        return Protocol(metric=plan.metric, options=options)

    def config_of(self, evaluation: Evaluation) -> dict[str, Any]:
        from .checkpoint import load_checkpoint

        checkpoint = load_checkpoint(self.checkpoint(evaluation.job))
        return {**checkpoint.config, **evaluation.overrides, "train": checkpoint.train_config}

    def key_of(self, evaluation: Evaluation) -> str:
        plan = PROTOCOLS[evaluation.job.protocol]
        return record_key(evaluation.job.method, self.config_of(evaluation), plan.dataset,
                          plan.test_split, self.protocol(evaluation), self.options.seed)

    def _metrics(self, result: Any) -> MetricTable:
        report = bootstrap(result, self.preset.bootstrap, seed=self.options.seed)
        table: MetricTable = {}
        for key, interval in report.intervals.items():
            name, column = key.split("/", 1)
            table.setdefault(name, {})[column] = Estimate(interval.value, interval.lo, interval.hi)
        return table

    def _breakdowns(self, evaluation: Evaluation, result: Any, root: Path) -> dict[str, MetricTable]:
        if evaluation.job.protocol != "posetrack" or evaluation.stride != 1:
            return {}
        from vposebench.datasets.synthetic.dataset import SyntheticDataset

        out: dict[str, MetricTable] = {}
        for subset in SUBSETS:
            names = SyntheticDataset(root, "val", subset=subset).video_names()
            if names:
                out[subset] = self._metrics(result.subset(names))
        out["occluded joints"] = self._occluded_joints(result, root)
        return out

    def _occluded_joints(self, result: Any, root: Path) -> MetricTable:
        """AP and tracking recall on the GT joints hidden by another person or an occluder."""
        from vposebench.datasets.synthetic.dataset import SyntheticDataset
        from vposebench.metrics.posetrack_data import to_internal_joints

        dataset = SyntheticDataset(root, "val")
        rows = result.gt_persons()
        videos = {name: dataset.load_video(name) for name in result.videos}
        flags = np.zeros((len(rows["video"]), 17), dtype=bool)
        for i, (v, f, p) in enumerate(zip(rows["video"], rows["frame"], rows["index_in_frame"])):
            occluded = videos[result.videos[v]].frames[f].persons[p].occluded
            if occluded is not None:
                flags[i] = occluded
        selected = result.select_gt_joints(to_internal_joints(flags))
        return {"AP": {"Total": Estimate(selected["AP"][-1])},
                "TrackRec": {"Total": Estimate(selected["tracking_recall"][-1])}}

    def _comparisons(self, evaluation: Evaluation, by_label: dict[tuple[str, int], Evaluation],
                     root: Path) -> list[Comparison]:
        out = []
        for entry in evaluation.entries:
            if entry.compare_to is None:
                continue
            other = by_label[(entry.compare_to, evaluation.stride)]
            mine, theirs = self.evaluate(evaluation, root), self.evaluate(other, root)
            other_key = self.key_of(other)
            slices = [("", mine, theirs)]
            if evaluation.job.protocol == "posetrack" and evaluation.stride == 1:
                from vposebench.datasets.synthetic.dataset import SyntheticDataset

                for subset in SUBSETS:
                    names = SyntheticDataset(root, "val", subset=subset).video_names()
                    if names:
                        slices.append((f":{subset}", mine.subset(names), theirs.subset(names)))
            for suffix, a, b in slices:
                report = paired_bootstrap(a, b, self.preset.bootstrap, seed=self.options.seed)
                for key, interval in report.intervals.items():
                    table, column = key.split("/", 1)
                    out.append(Comparison(other_key, table, column + suffix,
                                          Estimate(interval.value, interval.lo, interval.hi)))
        return out

    def speed(self, evaluation: Evaluation, root: Path):
        dataset = self.test_dataset(evaluation, root)
        videos = tuple(dataset.open().video_names()[: self.preset.speed_videos])
        self.progress.stage(f"timing {evaluation.label}")
        return measure_speed(SpeedSpec(self.method_spec(evaluation), dataset, videos,
                                       repeats=self.preset.speed_repeats))

    def make_record(self, evaluation: Evaluation, by_label: dict[tuple[str, int], Evaluation],
                    root: Path, speed: Any) -> ResultRecord:
        from .checkpoint import load_checkpoint

        plan = PROTOCOLS[evaluation.job.protocol]
        result = self.evaluate(evaluation, root)
        checkpoint = load_checkpoint(self.checkpoint(evaluation.job))
        summary = result.summary()
        description = dataset_description(result, plan, evaluation, self.synth_config())
        training = {"job": evaluation.job.name, "steps": checkpoint.step,
                    "init_from": evaluation.job.init_from,
                    "final_loss": float(np.mean(checkpoint.losses[-20:])) if checkpoint.losses else None,
                    **({k: v for k, v in self._training.get(evaluation.job.name, {}).items()
                        if k in ("seconds", "resumed_from", "idle_steps")})}
        # the workers' thread count (training, prediction, timing), not this parent process's
        provenance = {**collect(self.options.seed).to_dict(), "code": self.code_versions(),
                      "torch_threads": self.options.threads}
        return ResultRecord(
            method=evaluation.job.method, config=self.config_of(evaluation), dataset=description,
            protocol=self.protocol(evaluation), seed=self.options.seed,
            metrics=self._metrics(result), provenance=provenance,
            created=_dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
            breakdowns=self._breakdowns(evaluation, result, root),
            comparisons=self._comparisons(evaluation, by_label, root), speed=speed,
            training=training, notes=list(summary.get("notes", [])), label=evaluation.label,
            tags=evaluation.tags,
        )

    @staticmethod
    def code_versions() -> dict[str, str]:
        """Fingerprints of the code behind a record (see `vposebench.fingerprint`)."""
        return {"training": code_fingerprint(TRAINING_CODE),
                "prediction": code_fingerprint(PREDICTION_CODE),
                "evaluation": code_fingerprint(EVALUATION_CODE)}

    def _record_is_current(self, key: str, evaluation: Evaluation) -> bool:
        """The record exists, came from this code, and this cache holds its predictions (so
        a fresh clone's committed records are recomputed, not trusted)."""
        if not self.store.has(key) or not (self.predictions(evaluation) / ".complete").is_file():
            return False
        return self.store.load(key).provenance.get("code") == self.code_versions()

    # -- the whole run -----------------------------------------------------------------
    def estimate(self, evaluations: list[Evaluation]) -> float:
        data = 30.0 if self.preset.synth != "quick" else 10.0
        train = sum(self._train_estimate(j) for j in self.preset.jobs)
        predict = len(evaluations) * 40 * 16 * _PREDICT_FRAME_SECONDS / max(1, self.options.workers)
        timing = sum(20.0 for e in evaluations if e.timed)
        return data + train + predict + timing + 2.0 * len(evaluations)

    def run(self) -> RunResult:
        evaluations = self.evaluations()
        self.progress.begin(self.estimate(evaluations))
        root = self.generate_data()
        self.progress.advance(30.0 if self.preset.synth != "quick" else 10.0)
        self.train_all(root)
        by_label = {(e.label, ev.stride): ev for ev in evaluations for e in ev.entries}
        keys = {ev.key: self.key_of(ev) for ev in evaluations}
        todo = [ev for ev in evaluations
                if self.options.force or not self._record_is_current(keys[ev.key], ev)]
        for ev in evaluations:
            if ev not in todo:
                self.progress.message(f"record cached: {ev.label} ({keys[ev.key]})")
        # predictions first (one pool of workers for all), so timing runs on an idle machine
        with worker_pool(self.options.workers) as pool:
            for ev in todo:
                self.predict(ev, root, pool)
                self.progress.advance(40 * 16 * _PREDICT_FRAME_SECONDS / max(1, self.options.workers))
        written = []
        for ev in todo:
            speed = self.speed(ev, root) if ev.timed else None
            self.progress.advance(20.0 if ev.timed else 0.0)
            self.progress.stage(f"evaluating {ev.label}")
            record = self.make_record(ev, by_label, root, speed)
            written.append(self.store.save(record))
            self.progress.advance(2.0)
        pruned = []
        if not self.preset.narrowed:
            wanted = set(keys.values())
            for key in self.store.keys():
                if key not in wanted:
                    self.store.path_for(key).unlink()
                    pruned.append(key)
        records = [self.store.load(keys[ev.key]) for ev in evaluations]
        tables = render_tables(records, self.options.results / "tables")
        write_json(self.options.results / "run.json", {
            "preset": self.preset.name, "records": sorted(keys.values()),
            "data": self.synth_config().to_dict(), "seed": self.options.seed,
            "workers": self.options.workers,
            "threads": self.options.threads, "device": self.options.device,
        })
        return RunResult(records, tables, written, pruned)


def dataset_description(result: Any, plan: Any, evaluation: Evaluation, synth: Any) -> dict[str, Any]:
    """The record's `dataset` block: name, split, sizes and what the data was made from."""
    return {"name": plan.dataset, "split": plan.test_split, "videos": len(result.videos),
            "generator": synth.config_hash(), "synth_preset_seed": synth.seed,
            "temporal_stride": evaluation.stride}


def render_tables(records: list[ResultRecord], out: Path,
                  formats: tuple[str, ...] = ("markdown", "latex", "csv")) -> dict[str, str]:
    """Write every non-empty table in every format (and the Fig. 3 plot) under `out`;
    return the Markdown of each."""
    from .tables.tfc import plot_downsampling

    suffix = {"markdown": "md", "latex": "tex", "csv": "csv"}
    shown: dict[str, str] = {}
    for name in TABLES.names():
        table = TABLES.get(name)(records)
        if table.empty:
            continue
        for fmt in formats:
            with atomic_write(out / f"{name}.{suffix[fmt]}") as handle:
                handle.write(table.render(fmt))
        shown[name] = table.render("markdown")
    if "tfc-fig3" in shown:
        plot_downsampling(records, out / "tfc-fig3.png")
    return shown
