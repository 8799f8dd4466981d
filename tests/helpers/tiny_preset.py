"""A plan small enough for tests (tests/data/plans/tiny.toml): four models trained for 2-3
steps on a few tiny videos, eight entries covering every table kind, one of them timed."""

from pathlib import Path

from vposebench.plan_file import load_plan

PLAN_FILE = Path(__file__).resolve().parents[1] / "data" / "plans" / "tiny.toml"
PRESET = load_plan(PLAN_FILE)


def plan_keys(plan) -> dict:
    """Every key and cache file name of a run plan (`vposebench.plan.RunPlan`)."""
    return {"data": plan.data_root.name,
            "models": {n: [m.recipe, m.key, m.checkpoint.name] for n, m in plan.models.items()},
            "evaluations": {ev.record_key: [ev.key, ev.predictions.name, ev.gt.name, ev.evaluation.name,
                                            ev.speed.name, ev.config["train"]["init_checkpoint"]]
                            for ev in plan.evaluations}}
