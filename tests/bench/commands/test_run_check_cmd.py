"""`vposebench run` writes runs/<preset> unless told to write the committed reference (and
then says what it removes); `vposebench check` passes on a re-run and fails on a doctored
committed record."""

from __future__ import annotations

import json
import os
import shutil
import stat

import pytest
from helpers.tiny_preset import PLAN_FILE

from vposebench import cli


@pytest.fixture
def in_checkout(tmp_path, monkeypatch, tiny_run):
    """A working folder with a copy of the tiny plan's cache."""
    monkeypatch.chdir(tmp_path)
    shutil.copytree(tiny_run.options.cache, tmp_path / "cache")
    previous = os.umask(0o022)
    yield tmp_path
    os.umask(previous)


def test_run_writes_runs_by_default_and_the_reference_only_when_asked(in_checkout, capsys):
    assert cli.main(["run", "--plan", str(PLAN_FILE), "--cache", "cache", "--quiet"]) == 0
    assert not (in_checkout / "results").exists()
    records = sorted((in_checkout / "runs" / "test" / "records").glob("*.json"))
    assert len(records) == 7
    assert {stat.S_IMODE(p.stat().st_mode) for p in records} == {0o644}
    assert "7 records written" in capsys.readouterr().out

    assert cli.main(["run", "--plan", str(PLAN_FILE), "--cache", "cache", "--quiet", "--write-reference"]) == 0
    reference = in_checkout / "results" / "test" / "records"
    assert sorted(p.name for p in reference.glob("*.json")) == [p.name for p in records]
    assert "wrote the reference results/test" in capsys.readouterr().out

    stale = json.loads(records[0].read_text())
    stale["seed"] = 7  # a record of another version of the preset
    stale.pop("key")
    (reference / "stale.json").write_text(json.dumps(stale))
    assert cli.main(["run", "--plan", str(PLAN_FILE), "--cache", "cache", "--quiet", "--write-reference"]) == 0
    out = capsys.readouterr().out
    assert "0 records written, 7 up to date" in out
    assert f"removed 1 records this plan no longer makes:\n  {stale['label']} (stale)" in out
    assert not (reference / "stale.json").exists()


def test_check_passes_on_a_rerun_and_fails_on_a_doctored_record(in_checkout, tiny_run, capsys):
    committed = in_checkout / "committed"
    shutil.copytree(tiny_run.options.results, committed)
    # run.json names the plan file relative to the folder (both folders lie as deep in pytest's
    # base folder), so --results alone finds it
    manifest = json.loads((committed / "run.json").read_text())
    assert (committed / manifest["plan"]).resolve() == PLAN_FILE
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
    moved = in_checkout / "moved" / "deeper"
    shutil.copytree(committed, moved)
    assert cli.main([*args[:2], str(moved), *args[3:]]) == 2  # run.json's plan path is not there
    assert "run.json: plan: names the plan file" in capsys.readouterr().err
    assert cli.main([*args[:2], str(moved), "--plan", str(PLAN_FILE), *args[3:]]) == 1
    out = capsys.readouterr().out
    assert "FAIL" in out and "AP Total" in out and "outside the committed 95 % interval" in out
    assert "checks failed (regressions)" in out


def test_check_refuses_a_reference_of_another_preset(in_checkout, tiny_run, capsys):
    shutil.copytree(tiny_run.options.results, in_checkout / "results" / "quick")
    assert cli.main(["check", "--preset", "quick", "--quiet"]) == 2
    assert "run.json: preset: was made by plan 'test', not the preset 'quick'" in capsys.readouterr().err
