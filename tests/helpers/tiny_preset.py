"""A preset small enough for tests: four models trained for 2-3 steps on a few tiny videos,
eight entries covering every table kind, one of them timed."""

from vposebench.experiments import Entry, Preset, TrainJob
from vposebench.protocols import SpeedSettings

TINY = {"preset": "tiny"}
PRESET = Preset(
    name="test", description="tiny", synth="quick",
    jobs=(
        TrainJob("sb", "baseline", "posetrack", TINY, {"iterations": 3, "batch_size": 4}),
        # 6-frame videos: clips of 4 frames, not capacity + 1 (17)
        TrainJob("ptm", "ptm", "posetrack", {**TINY, "clip_length": 4}, {"iterations": 2, "batch_size": 2},
                 init_from="sb"),
        TrainJob("cpm", "baseline", "jhmdb", {**TINY, "backbone": "cpm"},
                 {"iterations": 2, "batch_size": 4}),
        TrainJob("tfc", "tfc", "jhmdb", {**TINY, "backbone": "cpm"},
                 {"iterations": 2, "batch_size": 4, "train_scope": "all"}, init_from="cpm"),
    ),
    entries=(
        Entry("Baseline", "sb", tags=("ptm-table3",)),
        Entry("PTM", "ptm", tags=("ptm-table3",), compare_to="Baseline", timed=False),
        Entry("PTM with KFR", "ptm", tags=("ptm-kfr",), timed=False),
        Entry("PTM capacity 1", "ptm", overrides={"capacity": 1}, tags=("ptm-table1",), timed=False),
        Entry("CPM", "cpm", tags=("tfc-table1", "tfc-fig3"), timed=False),
        Entry("TFC", "tfc", tags=("tfc-table1", "tfc-fig3"), compare_to="CPM", timed=False),
        Entry("CPM", "cpm", stride=2, tags=("tfc-fig3",), timed=False),
        Entry("TFC", "tfc", stride=2, tags=("tfc-fig3",), compare_to="CPM", timed=False),
    ),
    bootstrap=50, speed=SpeedSettings(videos=1, repeats=1),
    synth_overrides=(("train_videos", 1), ("val_videos", 2), ("frames", 6), ("jhmdb_clips", 3),
                     ("penn_clips", 0), ("clip_frames", (6, 6))),
)


def plan_keys(plan) -> dict:
    """Every key and cache file name of a run plan (`vposebench.plan.RunPlan`)."""
    return {"data": plan.data_root.name,
            "models": {n: [m.recipe, m.key, m.checkpoint.name] for n, m in plan.models.items()},
            "evaluations": {ev.record_key: [ev.key, ev.predictions.name, ev.gt.name, ev.evaluation.name,
                                            ev.speed.name, ev.config["train"]["init_checkpoint"]]
                            for ev in plan.evaluations}}
