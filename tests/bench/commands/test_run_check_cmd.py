"""`vposebench run` writes runs/<preset> unless told to write the committed reference (and
then says what it removes); `vposebench check` passes on a re-run and fails on a doctored
committed record."""

from __future__ import annotations

import json
import os
import shutil
import stat

import pytest
from helpers.tiny_preset import PRESET

from vposebench import cli, experiments


@pytest.fixture
def in_checkout(tmp_path, monkeypatch, tiny_run):
    """A working folder with the tiny preset registered as `test` and a copy of its cache."""
    monkeypatch.setitem(experiments.PRESETS, "test", PRESET)
    monkeypatch.chdir(tmp_path)
    shutil.copytree(tiny_run.options.cache, tmp_path / "cache")
    previous = os.umask(0o022)
    yield tmp_path
    os.umask(previous)


def test_run_writes_runs_by_default_and_the_reference_only_when_asked(in_checkout, capsys):
    assert cli.main(["run", "--preset", "test", "--cache", "cache", "--quiet"]) == 0
    assert not (in_checkout / "results").exists()
    records = sorted((in_checkout / "runs" / "test" / "records").glob("*.json"))
    assert len(records) == 7
    assert {stat.S_IMODE(p.stat().st_mode) for p in records} == {0o644}
    assert "7 records written" in capsys.readouterr().out

    assert cli.main(["run", "--preset", "test", "--cache", "cache", "--quiet", "--write-reference"]) == 0
    reference = in_checkout / "results" / "test" / "records"
    assert sorted(p.name for p in reference.glob("*.json")) == [p.name for p in records]
    assert "wrote the reference results/test" in capsys.readouterr().out

    stale = json.loads(records[0].read_text())
    stale["seed"] = 7  # a record of another version of the preset
    stale.pop("key")
    (reference / "stale.json").write_text(json.dumps(stale))
    assert cli.main(["run", "--preset", "test", "--cache", "cache", "--quiet", "--write-reference"]) == 0
    out = capsys.readouterr().out
    assert "0 records written, 7 up to date" in out
    assert f"removed 1 records this preset no longer makes:\n  {stale['label']} (stale)" in out
    assert not (reference / "stale.json").exists()


def test_check_passes_on_a_rerun_and_fails_on_a_doctored_record(in_checkout, tiny_run, capsys):
    committed = in_checkout / "committed"
    shutil.copytree(tiny_run.options.results, committed)
    # speed is left out here: a test must not depend on how busy the machine is
    args = ["check", "--results", str(committed), "--cache", "cache", "--reuse-cache",
            "--skip-speed", "--quiet"]
    assert cli.main(args) == 0
    out = capsys.readouterr().out
    assert "no regression: " in out and "FAIL" not in out and "speed: not compared (--skip-speed)" in out
    assert len(list((in_checkout / "runs" / "check-test" / "records").glob("*.json"))) == 7

    path = next(p for p in (committed / "records").glob("ptm-*.json"))
    data = json.loads(path.read_text())
    total = data["metrics"]["AP"]["Total"]
    data["metrics"]["AP"]["Total"] = {"value": total["value"] + 30, "ci_low": total["value"] + 29,
                                      "ci_high": total["value"] + 31}
    path.write_text(json.dumps(data))
    assert cli.main(args) == 1
    out = capsys.readouterr().out
    assert "FAIL" in out and "AP Total" in out and "outside the committed 95 % interval" in out
    assert "checks failed (regressions)" in out


def test_check_refuses_a_reference_of_another_preset(in_checkout, tiny_run, capsys):
    shutil.copytree(tiny_run.options.results, in_checkout / "results" / "quick")
    assert cli.main(["check", "--preset", "quick", "--quiet"]) == 2
    assert "run.json: preset: was made by preset 'test', not 'quick'" in capsys.readouterr().err


#: what a record says about the run rather than its outcome: when, on which commit, how fast
RUN_FIELDS = ("created", "provenance", "speed")
TRAINING_RUN_FIELDS = ("seconds", "resumed_from", "idle_steps")


def outcome(record) -> dict:
    """A record without its run-dependent fields (times, provenance), speed only as present."""
    data = {k: v for k, v in record.to_dict().items() if k not in RUN_FIELDS}
    data["timed"] = record.speed is not None
    data["training"] = {k: v for k, v in data["training"].items() if k not in TRAINING_RUN_FIELDS}
    return data


def test_a_dask_cluster_makes_the_records_of_the_default_engine(in_checkout, tiny_run, capsys):
    """`--cluster local:2` on an empty cache: data, training, prediction, evaluation, timing and
    records all run on Dask workers and give the default engine's records (same keys, metrics,
    intervals, comparisons and trained weights)."""
    pytest.importorskip("distributed", reason="the cluster extra (vposebench[cluster]) is not installed")
    from vposebench.results_store import ResultsStore

    assert cli.main(["run", "--preset", "test", "--cache", "fresh", "--results", "dask",
                     "--cluster", "local:2", "--quiet"]) == 0
    assert "7 records written, 0 up to date" in capsys.readouterr().out
    ours = {r.key: r for r in ResultsStore(in_checkout / "dask").load_all()}
    default = {r.key: r for r in tiny_run.result.records}
    assert sorted(ours) == sorted(default)
    for key, record in default.items():
        assert outcome(ours[key]) == outcome(record), record.label
    assert any(r.speed is not None for r in ours.values())  # the timing job ran there too


def test_a_malformed_cluster_is_refused_before_the_cache_is_touched(in_checkout, tiny_run, capsys):
    committed = in_checkout / "committed"
    shutil.copytree(tiny_run.options.results, committed)
    assert cli.main(["check", "--results", str(committed), "--cache", "cache",
                     "--cluster", "local:0", "--quiet"]) == 2
    assert "--cluster: expected local:N with N >= 1" in capsys.readouterr().err
    assert (in_checkout / "cache" / "checkpoints").is_dir()
