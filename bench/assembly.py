"""The record stage of `vposebench run`: one result record from the stages' outputs.

Reads the evaluation output, the speed output (timed evaluations), the prediction folder's
marker (the model's configs, a checkpoint's step and weights digest, and the tracker, box
source and temporal input the runner used) and the training report of a trained model, checks that what ran is what the plan says (a mismatch
is a bug, not a user error), and writes the record atomically into the results folder.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
from pathlib import Path
from typing import Any

from .evaluation import read_evaluation
from .formats import load_json
from .plan import EvaluationPlan, RunPlan
from .protocols import same_content
from .provenance import collect
from .records import ResultRecord, Speed, TrainingSeeds
from .results_store import ResultsStore
from .stages import read_marker


class PlanMismatch(RuntimeError):
    """A stage's output disagrees with the plan it was made for."""


def _check(what: str, planned: Any, found: Any) -> None:
    if not same_content(planned, found):
        raise PlanMismatch(f"{what}: the plan says {planned!r}, the output holds {found!r}")


def _speed(ev: EvaluationPlan) -> Speed | None:
    if not ev.timed:
        return None
    data = load_json(ev.speed)
    _check(f"{ev.speed.name} protocol", ev.protocol.timing_part(), data["protocol"])
    speed = Speed.from_dict(data["speed"])
    _check("speed settings", {"warmup_frames": ev.protocol.speed.warmup_frames,
                              "repeats": ev.protocol.speed.repeats,
                              "precision": ev.protocol.speed.precision},
           {"warmup_frames": speed.warmup_frames, "repeats": speed.repeats, "precision": speed.precision})
    return speed


def dataset_block(ev: EvaluationPlan, scored: dict[str, Any]) -> dict[str, Any]:
    """The record's `dataset` block: the plan's, the number of videos scored and, where the
    dataset has burst flags, its frame groups (recovery window, person-frames per group)."""
    block = {**ev.dataset_block, "videos": scored["videos"]}
    if scored.get("frame_groups") is not None:
        block["frame_groups"] = scored["frame_groups"]
    return block


def build_record(ev: EvaluationPlan, plan: RunPlan) -> ResultRecord:
    """The record of one evaluation from the outputs in the cache."""
    marker = read_marker(ev.predictions)
    checkpoint = marker["checkpoint"]
    planned = ev.model.method_config if ev.model.trained else {**ev.model.method_config, **ev.overrides}
    _check("method config", planned, checkpoint["config"])
    _check("training config", ev.model.train_config, checkpoint["train_config"])
    used = marker["used"]
    _check("tracker", dataclasses.asdict(ev.protocol.tracker), used["tracker"])
    _check("temporal stride", ev.protocol.temporal_stride, used["temporal_stride"])
    _check("temporal input", ev.protocol.temporal_input, used["temporal_input"])
    _check("box source", ev.protocol.boxes.source, used["boxes"]["box_source"])
    scored = read_evaluation(load_json(ev.evaluation))
    training = None
    if ev.model.checkpoint is not None:
        report = load_json(ev.model.stats) if ev.model.trained and ev.model.stats.is_file() else {}
        training = {"job": ev.model.spec.name,
                    "checkpoint": ev.model.reference if ev.model.trained
                    else ev.model.train_config["checkpoint"],
                    "init_from": ev.model.init, "steps": checkpoint["step"],
                    "final_loss": checkpoint["final_loss"],
                    "weights_sha256": checkpoint["weights_sha256"],
                    **{k: report.get(k) for k in ("seconds", "resumed_from", "idle_steps")}}
    options = plan.options
    # the workers' thread count (training, prediction, timing), not this process's
    provenance = {**collect(options.seed).to_dict(), "code": plan.code_versions(),
                  "torch_threads": options.threads}
    record = ResultRecord(
        method=ev.model.spec.method, config=ev.config,
        dataset=dataset_block(ev, scored), protocol=ev.protocol,
        seed=options.seed, metrics=scored["metrics"], provenance=provenance,
        created=_dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        breakdowns=scored["breakdowns"], comparisons=scored["comparisons"], speed=_speed(ev),
        training=training, notes=scored["notes"], label=ev.label, tags=ev.tags,
        training_seeds=None if scored.get("training_seeds") is None
        else TrainingSeeds.from_dict(scored["training_seeds"]),
    )
    if record.key != ev.record_key:
        raise PlanMismatch(f"record key {record.key} is not the planned {ev.record_key}")
    return record


def write_record(ev: EvaluationPlan, plan: RunPlan) -> str:
    """Build the record of `ev` and save it under the run's results folder; return its path."""
    path: Path = ResultsStore(plan.options.results).save(build_record(ev, plan))
    return str(path)
