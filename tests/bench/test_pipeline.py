"""`vposebench run`'s pipeline on a tiny preset: records, tables, resume after an interrupt,
and predictions that do not depend on the number of workers."""

from __future__ import annotations

import filecmp
import os

import pytest

from vposebench.experiments import Entry, Preset, TrainJob
from vposebench.pipeline import Pipeline, Progress, RunOptions
from vposebench.results_store import ResultsStore
from vposebench.runner import DatasetSpec, MethodSpec, RunSpec, predict_dataset

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
    bootstrap=50, speed_videos=1, speed_repeats=1,
    synth_overrides=(("train_videos", 1), ("val_videos", 2), ("frames", 6), ("jhmdb_clips", 3),
                     ("penn_clips", 0), ("clip_frames", (6, 6))),
)


class StopAt(Progress):
    """Raises KeyboardInterrupt when the n-th stage starting with `prefix` begins."""

    def __init__(self, prefix: str, n: int) -> None:
        self.prefix, self.n = prefix, n

    def stage(self, text: str) -> None:
        if text.startswith(self.prefix):
            self.n -= 1
            if self.n == 0:
                raise KeyboardInterrupt


@pytest.fixture(scope="module")
def interrupted_then_resumed(tmp_path_factory):
    base = tmp_path_factory.mktemp("run")
    options = RunOptions(cache=base / "cache", results=base / "results", workers=2)
    with pytest.raises(KeyboardInterrupt):
        Pipeline(PRESET, options, StopAt("evaluating", 3)).run()
    store = ResultsStore(options.results)
    before = store.keys()
    checkpoints = {p: p.stat().st_mtime_ns for p in (base / "cache" / "checkpoints").glob("*.ckpt")}
    result = Pipeline(PRESET, options).run()
    return options, before, checkpoints, result


def test_interrupted_run_resumes_without_redoing_work(interrupted_then_resumed):
    options, before, checkpoints, result = interrupted_then_resumed
    assert len(before) == 2  # two records were finished before the interrupt
    assert len(checkpoints) == 4
    for path, mtime in checkpoints.items():
        assert path.stat().st_mtime_ns == mtime  # nothing was retrained
    store = ResultsStore(options.results)
    records = store.load_all()  # every record parses: nothing half-written
    assert len(records) == len(result.records) == 7  # "PTM" and "PTM with KFR" share one
    assert len(result.written) == 5
    assert not [p for p in (options.results / "records").iterdir() if p.name.startswith(".")]


def test_records_tables_and_comparisons(interrupted_then_resumed):
    options, _, _, result = interrupted_then_resumed
    by_label = {(r.label, r.protocol.options["temporal_stride"]): r for r in result.records}
    ptm = by_label[("PTM", 1)]
    assert set(ptm.tags) == {"ptm-table3", "ptm-kfr"}
    assert ptm.metric("AP", "Total").ci_low is not None
    assert {"crowd", "occlusion", "fast", "occluded joints"} >= set(ptm.breakdowns)
    assert "occluded joints" in ptm.breakdowns
    assert any(c.table == "AP" and c.column == "Total" and c.other == by_label[("Baseline", 1)].key
               for c in ptm.comparisons)
    baseline = by_label[("Baseline", 1)]
    assert baseline.speed is not None and baseline.speed.pose.n >= 1 and baseline.speed.parameters > 0
    assert ptm.speed is None
    assert {r.provenance["torch_threads"] for r in result.records} == {options.threads}
    tfc2 = by_label[("TFC", 2)]
    assert tfc2.protocol.metric == "pck" and tfc2.dataset["temporal_stride"] == 2
    assert tfc2.comparisons and tfc2.comparisons[0].other == by_label[("CPM", 2)].key
    assert set(result.tables) >= {"leaderboard", "ptm-table3", "ptm-table1", "ptm-kfr",
                                  "tfc-table1", "tfc-fig3"}
    for name in ("leaderboard.md", "ptm-table3.tex", "tfc-table1.csv", "tfc-fig3.png"):
        assert (options.results / "tables" / name).stat().st_size > 0


def test_predictions_do_not_depend_on_the_number_of_workers(interrupted_then_resumed, tmp_path):
    options, _, _, _ = interrupted_then_resumed
    checkpoint = next((options.cache / "checkpoints").glob("ptm-*.ckpt"))
    root = next((options.cache / "synthetic").iterdir())
    outs = []
    for workers in (1, 2):
        out = tmp_path / f"w{workers}"
        spec = RunSpec(MethodSpec(str(checkpoint)), DatasetSpec("synthetic", str(root), "val"), str(out))
        stats = predict_dataset(spec, workers=workers)
        assert stats.videos == 2
        outs.append(out)
    files = sorted(os.listdir(outs[0]))
    assert files == sorted(os.listdir(outs[1])) and len(files) == 2
    match, mismatch, errors = filecmp.cmpfiles(outs[0], outs[1], files, shallow=False)
    assert match == files and not mismatch and not errors


def test_check_passes_on_a_rerun_and_fails_on_a_doctored_record(interrupted_then_resumed, tmp_path,
                                                              monkeypatch, capsys):
    import json
    import shutil

    from vposebench import cli, experiments

    options, _, _, _ = interrupted_then_resumed
    monkeypatch.setitem(experiments.PRESETS, "test", PRESET)
    committed = tmp_path / "committed"
    shutil.copytree(options.results, committed)
    args = ["check", "--results", str(committed), "--cache", str(options.cache), "--reuse-cache",
            "--quiet"]
    assert cli.main(args) == 0
    out = capsys.readouterr().out
    assert "all within their bands" in out and "FAIL" not in out

    path = next(p for p in (committed / "records").glob("ptm-*.json"))
    data = json.loads(path.read_text())
    total = data["metrics"]["AP"]["Total"]
    data["metrics"]["AP"]["Total"] = {"value": total["value"] + 30, "ci_low": total["value"] + 29,
                                      "ci_high": total["value"] + 31}
    path.write_text(json.dumps(data))
    assert cli.main(args) == 1
    out = capsys.readouterr().out
    assert "FAIL" in out and "AP Total" in out and "outside the committed 95 % interval" in out


def test_pck_protocols_keep_one_track_whatever_the_box_overlap(tmp_path, monkeypatch):
    """Single-person PCK data: association at IoU 0, so a downsampled fast clip never restarts
    the track (tfc/refine would get zero maps there); PoseTrack keeps the tracker default."""
    from vposebench import pipeline as pipeline_module

    specs = []
    monkeypatch.setattr(pipeline_module, "predict_dataset", lambda spec, **_: specs.append(spec))
    pipeline = Pipeline(PRESET, RunOptions(cache=tmp_path / "cache", results=tmp_path / "results"))
    evaluations = {ev.job.name: ev for ev in pipeline.evaluations()}
    for name in ("sb", "cpm"):
        pipeline.predict(evaluations[name], tmp_path / "root")
    assert {s.dataset.name: s.iou_threshold for s in specs} == {"synthetic": 0.3, "jhmdb": 0.0}
    assert pipeline.protocol(evaluations["cpm"]).options["association_iou"] == 0.0
