"""`vposebench run`'s pipeline on a tiny preset: records, tables, resume after an interrupt,
keys that do not move with the cache or the checkout, the protocol each record states is the one
that ran, and predictions that do not depend on the number of workers."""

from __future__ import annotations

import dataclasses
import filecmp
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from helpers.tiny_preset import PRESET, plan_keys

from vposebench.datasets.synthetic.stats import SUBSETS
from vposebench.graph import build_graph
from vposebench.metrics.frame_groups import GROUPS
from vposebench.plan import make_plan
from vposebench.results_store import ResultsStore
from vposebench.runner import DatasetSpec, MethodSpec, RunSpec, predict_dataset
from vposebench.stages import read_marker


def test_interrupted_run_resumes_without_redoing_work(tiny_run):
    options, before, result = tiny_run.options, tiny_run.before, tiny_run.result
    assert 1 <= len(before) < 7  # some records were finished before the interrupt
    assert tiny_run.checkpoints  # at least the models of the finished records
    for path, mtime in tiny_run.checkpoints.items():
        assert path.stat().st_mtime_ns == mtime  # nothing finished was retrained
    assert len(list((options.cache / "checkpoints").glob("*.ckpt"))) == 4
    store = ResultsStore(options.results)
    records = store.load_all()  # every record parses: nothing half-written
    assert len(records) == len(result.records) == 7  # "PTM" and "PTM with KFR" share one
    assert sorted(result.written) == sorted(set(store.keys()) - set(before))
    assert not [p for p in (options.results / "records").iterdir() if p.name.startswith(".")]


def test_records_tables_and_comparisons(tiny_run):
    options, result = tiny_run.options, tiny_run.result
    by_label = {(r.label, r.protocol.temporal_stride): r for r in result.records}
    ptm = by_label[("PTM", 1)]
    assert set(ptm.tags) == {"ptm-table3", "ptm-kfr"}
    assert ptm.metric("AP", "Total").ci_low is not None
    # the breakdowns are the ones the dataset names: its condition subsets, its occluded joints,
    # its frame groups
    assert {*SUBSETS, "occluded joints", *GROUPS} >= set(ptm.breakdowns)
    assert "occluded joints" in ptm.breakdowns and "crowd" in ptm.breakdowns
    assert any(c.table == "AP" and c.column == "Total" and c.other == by_label[("Baseline", 1)].key
               for c in ptm.comparisons)
    # the start checkpoint is named by the content key of what it was made from, not a path
    assert ptm.config["train"]["init_checkpoint"] == by_label[("Baseline", 1)].training["checkpoint"]
    assert ptm.config["train"]["init_checkpoint"].startswith("checkpoint:")
    baseline = by_label[("Baseline", 1)]
    assert baseline.speed is not None and baseline.speed.pose.n >= 1 and baseline.speed.parameters > 0
    assert ptm.speed is None
    assert {r.provenance["torch_threads"] for r in result.records} == {options.threads}
    tfc2 = by_label[("TFC", 2)]
    assert tfc2.protocol.metric == "pck" and tfc2.protocol.temporal_stride == 2
    assert tfc2.comparisons and tfc2.comparisons[0].other == by_label[("CPM", 2)].key
    assert set(result.tables) >= {"leaderboard", "ptm-table3", "ptm-table1", "ptm-kfr",
                                  "tfc-table1", "tfc-fig3"}
    for name in ("leaderboard.md", "ptm-table3.tex", "tfc-table1.csv", "tfc-fig3.png"):
        assert (options.results / "tables" / name).stat().st_size > 0


def test_record_protocol_is_what_the_runner_and_the_speed_pass_used(tiny_run,
                                                                     tmp_path, monkeypatch):
    """The protocol block of each record is the object the runner and the speed pass were
    given, and the trackers they built have its settings (IoU 0 on the PCK protocols)."""
    from vposebench import runner, speed
    from vposebench.protocols import TrackerSettings

    options = tiny_run.options
    store = ResultsStore(options.results)
    used = []
    for module in (runner, speed):
        original = module.run_video

        def spy(method, video, *, tracker=None, _original=original, **kwargs):
            used.append(TrackerSettings.of(tracker))
            return _original(method, video, tracker=tracker, **kwargs)

        monkeypatch.setattr(module, "run_video", spy)
    plan = make_plan(PRESET, options)
    checked = set()
    for ev in plan.evaluations:
        record = store.load(ev.record_key)
        assert record.protocol == ev.protocol == ev.run_spec(options).protocol
        marker = read_marker(ev.predictions)["used"]
        assert marker["tracker"] == dataclasses.asdict(record.protocol.tracker)
        assert marker["temporal_stride"] == record.protocol.temporal_stride
        if ev.label in ("Baseline", "CPM") and ev.protocol.temporal_stride == 1:
            names = ev.dataset.open().video_names()[:1]
            used.clear()
            spec = dataclasses.replace(ev.run_spec(options), out_dir=str(tmp_path / ev.key))
            runner.run_shard(spec, names)
            speed.measure_speed(ev.speed_spec(options, tuple(names)), isolated=False)
            assert used and set(used) == {record.protocol.tracker}
            checked.add(record.protocol.tracker.iou_threshold)
    assert checked == {0.3, 0.0}


MOVED_RUN = """
import json, sys
from pathlib import Path
import vposebench
from helpers.tiny_preset import PRESET, plan_keys
from vposebench.datasets.synthetic.stats import SUBSETS
from vposebench.graph import build_graph
from vposebench.metrics.frame_groups import GROUPS
from vposebench.pipeline import Pipeline, RunOptions
from vposebench.results_store import ResultsStore
cache, results = Path(sys.argv[1]), Path(sys.argv[2])
pipeline = Pipeline(PRESET, RunOptions(cache=cache, results=results, workers=1))
plan = pipeline.plans()[0]
jobs = [j.key for j in build_graph(plan, ResultsStore(results)).jobs]
result = pipeline.run()
print(json.dumps({"package": vposebench.__file__, "keys": plan_keys(plan), "jobs": jobs,
                  "written": result.written, "records": sorted(r.key for r in result.records)}))
"""


def _copy_checkout(to: Path) -> Path:
    """The installed package's source (vposebench, its methods and datasets) under `to`."""
    import vposebench.datasets
    import vposebench.methods

    skip = shutil.ignore_patterns("__pycache__", "*.pyc")
    package = to / "vposebench"
    shutil.copytree(Path(vposebench.__file__).parent, package, ignore=skip)
    for sub in (vposebench.methods, vposebench.datasets):
        shutil.copytree(Path(sub.__file__).parent, package / sub.__name__.split(".")[-1], ignore=skip,
                        dirs_exist_ok=True)
    return to


def test_keys_do_not_move_with_the_cache_or_the_checkout(tiny_run, tmp_path):
    """Copy the cache, the results and the source elsewhere, run there as another user: the
    same keys, and nothing is trained, predicted or recorded again."""
    options, result = tiny_run.options, tiny_run.result
    moved = tmp_path / "elsewhere"
    shutil.copytree(options.cache, moved / "cache")
    shutil.copytree(options.results, moved / "results")
    checkout = _copy_checkout(tmp_path / "checkout")
    tests = Path(__file__).resolve().parent.parent
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(checkout), str(tests)]),
           "HOME": str(tmp_path), "USER": "someone-else", "LOGNAME": "someone-else"}
    out = subprocess.run([sys.executable, "-c", MOVED_RUN, str(moved / "cache"), str(moved / "results")],
                         cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    there = json.loads(out.stdout.strip().splitlines()[-1])
    assert there["package"].startswith(str(checkout))
    assert there["keys"] == plan_keys(make_plan(PRESET, options))
    assert there["jobs"] == [] and there["written"] == []
    assert there["records"] == sorted(r.key for r in result.records)


def test_predictions_do_not_depend_on_the_number_of_workers(tiny_run, tmp_path):
    options = tiny_run.options
    checkpoint = next((options.cache / "checkpoints").glob("ptm-*.ckpt"))
    root = next((options.cache / "synthetic").iterdir())
    outs = []
    for workers in (1, 2):
        out = tmp_path / f"w{workers}"
        spec = RunSpec(MethodSpec(str(checkpoint)), DatasetSpec("synthetic", str(root), "val"), str(out),
                       PRESET.protocol("posetrack"))
        stats = predict_dataset(spec, workers=workers)
        assert stats.videos == 2
        outs.append(out)
    files = sorted(os.listdir(outs[0]))
    assert files == sorted(os.listdir(outs[1])) and len(files) == 2
    match, mismatch, errors = filecmp.cmpfiles(outs[0], outs[1], files, shallow=False)
    assert match == files and not mismatch and not errors


def test_graph_leaves_out_what_the_cache_holds(tiny_run, tmp_path):
    options = tiny_run.options
    plan = make_plan(PRESET, dataclasses.replace(options, results=tmp_path / "fresh"))
    kinds = sorted({job.kind for job in build_graph(plan, ResultsStore(tmp_path / "fresh")).jobs})
    assert kinds == ["record", "time"]  # data, models, predictions and evaluations are cached
    forced = make_plan(PRESET, dataclasses.replace(options, force=True))
    kinds = sorted({job.kind for job in build_graph(forced, ResultsStore(options.results)).jobs})
    assert kinds == ["evaluate", "record", "time"]


def test_records_carry_frame_groups_and_companion_metrics(tiny_run):
    """Every record has the dataset's frame groups (a group without person-frames is left out
    with a note), HOTA (PoseTrack protocols) and stability with intervals, and its paired
    comparisons per frame group."""
    records = tiny_run.result.records
    for record in records:
        groups = record.dataset["frame_groups"]
        assert groups["recovery_frames"] == 3
        for name, count in groups["person_frames"].items():
            if count:
                assert name in record.breakdowns, (record.label, name)
            else:
                assert any(f"breakdown {name!r} left out" in n for n in record.notes)
        assert sum(groups["person_frames"].values()) > 0
        accel = record.metric("AccelErr", "Mean")
        assert accel.value is not None and accel.ci_low <= accel.value <= accel.ci_high
        if record.protocol.metric == "posetrack":
            hota = record.metric("HOTA", "Total")
            assert hota.value is not None and hota.ci_low <= hota.value <= hota.ci_high
            assert {"DetA", "AssA", "LocA"} <= set(record.metrics)
            clean = record.metric("HOTA", "Total", "clean")
            assert clean.value is not None
    tfc = next(r for r in records if r.label == "TFC" and r.protocol.temporal_stride == 1)
    columns = {c.column for c in tfc.comparisons if c.table == "PCK"}
    assert {"Mean", *(f"Mean:{g}" for g, n in tfc.dataset["frame_groups"]["person_frames"].items() if n)} <= columns
    assert any(c.table == "AccelErr" and c.column == "Mean" for c in tfc.comparisons)
