import subprocess
import sys

import pytest

from vposebench import cli
from vposebench.errors import UserError
from vposebench.provenance import collect, dirty_files, git_state


def test_user_error_becomes_one_line_and_exit_2(monkeypatch, capsys):
    from vposebench.commands import list_cmd

    def boom(args):
        raise UserError("expected a number, got 'x'", path="gt/a.json", field="annotations[0].track_id")

    monkeypatch.setattr(list_cmd, "run", boom)
    assert cli.main(["list"]) == 2
    err = capsys.readouterr().err
    assert err == "vposebench list: error: gt/a.json: annotations[0].track_id: expected a number, got 'x'\n"


def test_list_runs_as_console_script():
    out = subprocess.run([sys.executable, "-m", "vposebench", "list", "--json"],
                         capture_output=True, text=True, check=True)
    assert '"methods"' in out.stdout


def test_bad_arguments_exit_2():
    out = subprocess.run([sys.executable, "-m", "vposebench", "no-such-command"],
                         capture_output=True, text=True)
    assert out.returncode == 2 and "Traceback" not in out.stderr


def test_provenance_fields(tmp_path):
    prov = collect(seed=7)
    d = prov.to_dict()
    assert d["seed"] == 7 and d["python"].count(".") == 2
    assert d["packages"]["numpy"] and d["packages"]["torch"]
    assert d["torch_threads"] >= 1 and d["cpu_model"]
    assert d["timestamp"].endswith("+00:00")
    assert type(prov).from_dict(d) == prov


def test_git_state_reports_dirty(tmp_path):
    if subprocess.run(["git", "--version"], capture_output=True).returncode != 0:
        pytest.fail("git is required by the provenance collector")
    env_cmds = [["git", "init", "-q"], ["git", "-c", "user.email=a@b", "-c", "user.name=a",
                                        "commit", "-q", "--allow-empty", "-m", "x"]]
    for cmd in env_cmds:
        subprocess.run(cmd, cwd=tmp_path, check=True)
    commit, dirty = git_state(tmp_path)
    assert len(commit) == 40 and dirty is False
    (tmp_path / "f.txt").write_text("x")
    subprocess.run(["git", "add", "f.txt"], cwd=tmp_path, check=True)
    assert git_state(tmp_path) == (commit, True)
    assert dirty_files(tmp_path) == ["f.txt"]
    (tmp_path / "new.py").write_text("x")
    (tmp_path / "results").mkdir()
    (tmp_path / "results" / "r.json").write_text("{}")  # outputs, not sources
    assert collect(cwd=tmp_path, torch_details=False).git_dirty_files == ["f.txt", "new.py (untracked)"]
    assert git_state(tmp_path.parent / "not-a-repo-xyz") == (None, None)
    assert dirty_files(tmp_path.parent / "not-a-repo-xyz") is None
