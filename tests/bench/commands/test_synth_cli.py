import json
import subprocess
import sys

import pytest

from vposebench import cli
from vposebench.datasets.synthetic import read_manifest

TINY_ARGS = ["--videos", "3", "--frames", "4", "--clips", "1", "--set", "clip_frames=4,5", "--seed", "2",
             "--workers", "1"]


def test_synth_writes_a_root_then_reuses_it(tmp_path, capsys):
    root = tmp_path / "root"
    assert cli.main(["synth", "--out", str(root), *TINY_ARGS]) == 0
    out = capsys.readouterr().out
    assert "generated in" in out and "persons/frame" in out
    manifest = read_manifest(root)
    assert (manifest.config["train_videos"], manifest.config["val_videos"]) == (2, 1)
    assert manifest.config["frames"] == 4 and manifest.config["clip_frames"] == [4, 5]
    assert manifest.config["seed"] == 2 and len(manifest.clips) == 2
    assert cli.main(["synth", "--out", str(root), *TINY_ARGS, "--json", "--preview", str(tmp_path / "p")]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["reused"] is True and report["config_hash"] == manifest.config_hash
    assert report["previews"] and all((tmp_path / "p").joinpath(p.split("/")[-1]).is_file() for p in report["previews"])
    assert set(report["summary"]) == {"train", "val", "jhmdb", "penn_action"}


@pytest.mark.parametrize("args,message", [
    (["--videos", "0"], "--videos: must be at least 1"),
    (["--preset", "huge"], "--preset: unknown preset 'huge'"),
    (["--set", "frames"], "--set: expected KEY=VALUE"),
    (["--set", "colour=red"], "unknown synthetic config field 'colour'"),
    (["--set", "frame_step=0"], "frame_step: must be at least 1"),
])
def test_bad_arguments_are_one_line_and_exit_2(tmp_path, capsys, args, message):
    assert cli.main(["synth", "--out", str(tmp_path / "x"), *args]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1
    assert not (tmp_path / "x").exists()


def test_bad_argument_from_the_console(tmp_path):
    (tmp_path / "notes.txt").write_text("mine")
    out = subprocess.run([sys.executable, "-m", "vposebench", "synth", "--out", str(tmp_path), "--preset", "quick"],
                         capture_output=True, text=True)
    assert out.returncode == 2 and "Traceback" not in out.stderr
    assert "not a generated synthetic root" in out.stderr and (tmp_path / "notes.txt").read_text() == "mine"
    out = subprocess.run([sys.executable, "-m", "vposebench", "synth", "--out", str(tmp_path), "--videos", "x"],
                         capture_output=True, text=True)
    assert out.returncode == 2 and "invalid int value" in out.stderr


def test_listed_by_vposebench_list(capsys):
    assert cli.main(["list", "datasets"]) == 0
    assert "synthetic" in capsys.readouterr().out
