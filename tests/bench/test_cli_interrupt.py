"""Ctrl-C at any moment ends with the one line `interrupted`, exit status 130 and nothing partial.

Real processes get a real SIGINT at moments recognised from the outside (through /proc): while
torch is being imported at start-up, and while `convert` is writing its files.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from helpers.malformed import pt18_gt

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(not Path("/proc/self/maps").exists(), reason="watches the process through /proc")]


def _start(argv: list[str], cwd: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "vposebench", *argv], cwd=cwd, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def _interrupt_when(proc: subprocess.Popen, moment: Callable[[], bool], timeout: float = 240) -> tuple[int, str, str]:
    """Send SIGINT as soon as `moment()` holds; the process's (status, stdout, stderr)."""
    deadline = time.monotonic() + timeout
    while not moment():
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            out, err = proc.communicate()
            pytest.fail(f"the moment never came (exit {proc.returncode}): {err[-2000:]}")
        time.sleep(0.002)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=timeout)
    return proc.returncode, out, err


def _torch_loading(pid: int) -> bool:
    try:
        return "libtorch" in Path(f"/proc/{pid}/maps").read_text()
    except OSError:
        return False


def test_ctrl_c_while_torch_imports(tmp_path):
    proc = _start(["train", "--method", "baseline", "--dataset", "synthetic", "--root", str(tmp_path / "none"),
                   "--out", str(tmp_path / "m.ckpt")], tmp_path)
    status, out, err = _interrupt_when(proc, lambda: _torch_loading(proc.pid))
    assert (status, out, err) == (130, "", "vposebench train: interrupted\n")
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def _many_videos(root: Path, count: int) -> None:
    doc = pt18_gt()
    folder = root / "annotations/val"
    folder.mkdir(parents=True)
    for k in range(count):
        name = f"{k + 1:06d}_mpii_test"
        images = [{**image, "file_name": image["file_name"].replace("000342_mpii_test", name)}
                  for image in doc["images"]]
        (folder / f"{name}.json").write_text(json.dumps({**doc, "images": images}))


def test_ctrl_c_while_convert_writes_leaves_no_folder(tmp_path):
    root, out = tmp_path / "pt18", tmp_path / "converted"
    _many_videos(root, 400)
    proc = _start(["convert", "--dataset", "posetrack18", "--root", str(root), "--out", str(out)], tmp_path)

    def writing() -> bool:
        staging = [p for p in tmp_path.glob(".converted.*") if p.is_dir()]
        return bool(staging) and len(os.listdir(staging[0])) >= 5

    status, stdout, err = _interrupt_when(proc, writing)
    assert (status, stdout, err) == (130, "", "vposebench convert: interrupted\n")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pt18"]  # no output, no hidden staging folder
