"""A run's plan as a graph of jobs (`vposebench.jobs`): what is missing, and what it needs.

A job whose output is already in the cache is left out: the data when its manifest matches,
a model when its training report exists (an exported model when its file exists), predictions and converted GT when their folder is
complete, an evaluation when its output exists (unless forced). A record is made again when
it is missing, was made by other code, or this cache lacks its predictions (so a fresh clone
recomputes committed records instead of trusting them), and always with `force`; a record
made again is timed again.
"""

from __future__ import annotations

import dataclasses

from .assembly import write_record
from .evaluation import evaluate
from .jobs import Job
from .plan import COMPLETE, EvaluationPlan, ModelPlan, RunPlan
from .results_store import ResultsStore
from .stages import convert_gt, export_model, generate_data, predict, time_method, train_model

#: rough seconds on one 2-core CPU with the tiny models, for the time-left estimate: per
#: training step, per predicted frame, and per job (a training job also loads its data)
TRAIN_STEP_S = {"baseline": 0.07, "ptm": 0.25, "tfc": 0.08, "refine": 0.08}
TRAIN_SETUP_S = 10.0
PREDICT_FRAME_S = 0.03
TIME_S, EVALUATE_S, COMPARE_S, RECORD_S, CONVERT_S, EXPORT_S = 10.0, 3.0, 2.0, 1.0, 2.0, 5.0


@dataclasses.dataclass
class Graph:
    """The jobs of a run, and the evaluations whose records are kept as they are."""

    jobs: list[Job]
    kept: list[EvaluationPlan]


def record_is_current(ev: EvaluationPlan, plan: RunPlan, store: ResultsStore) -> bool:
    """The record exists, came from this code, and this cache holds its predictions."""
    if not store.has(ev.record_key) or not all((one.predictions / COMPLETE).is_file()
                                               for one in (ev, *ev.replicas)):
        return False
    return store.load(ev.record_key).provenance.get("code") == plan.code_versions()


#: frames of a test split the time-left estimate assumes when the plan does not generate it
UNKNOWN_SPLIT_FRAMES = 500.0


def _frames(plan: RunPlan, ev: EvaluationPlan) -> float:
    synth = plan.synth
    if synth is None or not ev.dataset.root.startswith(str(plan.data_root)):
        frames = UNKNOWN_SPLIT_FRAMES
    elif ev.dataset.name == "synthetic":
        frames = synth.val_videos * synth.frames
    else:  # about a third of the clips are test clips
        frames = max(synth.jhmdb_clips, synth.penn_clips) / 3 * sum(synth.clip_frames) / 2
    return frames / ev.protocol.temporal_stride


def build_graph(plan: RunPlan, store: ResultsStore) -> Graph:
    """The jobs that make what `plan` needs and the cache lacks (see the module docstring)."""
    from vposebench.datasets.synthetic.generator import cached_manifest

    options = plan.options
    gpu = {"gpu": 1.0} if options.device == "cuda" else {}
    jobs: list[Job] = []
    keys: set[str] = set()

    def add(job: Job) -> str:
        jobs.append(dataclasses.replace(job, deps=tuple(d for d in job.deps if d in keys)))
        keys.add(job.key)
        return job.key

    synth = plan.synth
    data = "" if synth is None or cached_manifest(plan.data_root, synth) is not None else \
        add(Job(f"data:{plan.data_root.name}", "generate", generate_data,
                (str(plan.data_root), synth, options.workers),
                estimate_s=10.0 if synth.val_videos < 8 else 30.0,
                label=f"synthetic data (seed {synth.seed})"))

    def model_key(model: ModelPlan) -> str:
        """The job that makes the model's file (none for a file the plan gives)."""
        return f"{'export' if model.exported else 'train'}:{model.key}"

    for model in plan.models.values():  # start models come first in the plan
        if model.exported is not None and not model.exported.is_file():
            source = plan.models[model.init]
            add(Job(model_key(model), "export", export_model, (model, source),
                    deps=(model_key(source),), estimate_s=EXPORT_S, label=model.spec.name))
        if not model.trained or model.stats.is_file():
            continue
        init = plan.models[model.init] if model.init else None
        add(Job(model_key(model), "train", train_model, (model, init, options),
                deps=(data,) + ((model_key(init),) if init else ()),
                resources={"cpu": 1.0, **gpu},
                estimate_s=TRAIN_SETUP_S + model.train_config["iterations"]
                * TRAIN_STEP_S.get(model.spec.method, 0.1),
                label=model.spec_name))

    kept = [ev for ev in plan.evaluations
            if not options.force and record_is_current(ev, plan, store)]
    made = [ev for ev in plan.evaluations if ev not in kept]
    scored = {ev.key: ev for ev in made}
    for ev in made:  # the compared evaluations are scored again beside them
        scored.update({k: plan.evaluation(k) for k in ev.compared})
    for ev in scored.values():
        if ev.gt_converted and not (ev.gt / COMPLETE).is_file() and f"gt:{ev.gt.name}" not in keys:
            add(Job(f"gt:{ev.gt.name}", "generate", convert_gt, (ev,), deps=(data,),
                    estimate_s=CONVERT_S,
                    label=f"{ev.dataset.name} GT, stride {ev.protocol.temporal_stride}"))
        for one in (ev, *ev.replicas):
            if not (one.predictions / COMPLETE).is_file() and f"predict:{one.key}" not in keys:
                add(Job(f"predict:{one.key}", "predict", predict, (one, options),
                        deps=(model_key(one.model),), resources={"cpu": 1.0, **gpu},
                        estimate_s=_frames(plan, one) * PREDICT_FRAME_S,
                        label=one.label if one is ev else f"{one.label} (training {one.model.seed_index + 1})"))
    for ev in made:
        inputs = [ev] + [plan.evaluation(k) for k in ev.compared]
        needs = tuple(k for other in inputs for one in (other, *other.replicas)
                      for k in (f"predict:{one.key}", f"gt:{one.gt.name}"))
        if options.force or not ev.evaluation.is_file():
            add(Job(f"evaluate:{ev.key}", "evaluate", evaluate,
                    (ev, tuple(inputs[1:]), options.seed), deps=needs,
                    estimate_s=EVALUATE_S + COMPARE_S * len(ev.compared), label=ev.label))
        if ev.timed:
            add(Job(f"time:{ev.key}", "time", time_method, (ev, options),
                    deps=(model_key(ev.model),), resources={"exclusive": 1.0, **gpu},
                    estimate_s=TIME_S, label=ev.label))
        add(Job(f"record:{ev.key}", "record", write_record, (ev, plan),
                deps=(f"evaluate:{ev.key}", f"time:{ev.key}", f"predict:{ev.key}"),
                estimate_s=RECORD_S, label=ev.label))
    return Graph(jobs, kept)
