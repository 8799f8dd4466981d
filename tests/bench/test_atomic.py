import json
import math
import os
import signal
import stat
import subprocess
import sys
import time

import numpy as np
import pytest

from vposebench.atomic import atomic_write, remove_stale_temporaries, write_json


def test_clean_write_replaces_file(tmp_path):
    target = tmp_path / "sub" / "out.json"
    write_json(target, {"a": 1, "nan": math.nan, "arr": np.arange(3)})
    assert json.loads(target.read_text()) == {"a": 1, "nan": None, "arr": [0, 1, 2]}
    assert [p.name for p in target.parent.iterdir()] == ["out.json"]


def test_exception_leaves_old_file_and_no_temporary(tmp_path):
    target = tmp_path / "out.txt"
    target.write_text("old")
    with pytest.raises(RuntimeError):
        with atomic_write(target) as handle:
            handle.write("partial new content")
            raise RuntimeError("interrupted")
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["out.txt"]


def test_killed_writer_never_leaves_a_partial_target(tmp_path):
    target = tmp_path / "big.txt"
    target.write_text("old")
    script = f"""
import time
from vposebench.atomic import atomic_write
with atomic_write({str(target)!r}) as h:
    for i in range(10_000):
        h.write("x" * 1000)
        h.flush()
        if i == 10:
            print("writing", flush=True)
        time.sleep(0.001)
"""
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "writing"
    time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert target.read_text() == "old"
    leftovers = remove_stale_temporaries(tmp_path)
    assert len(leftovers) == 1 and leftovers[0].name.startswith(".big.txt.")
    assert [p.name for p in tmp_path.iterdir()] == ["big.txt"]


def test_only_write_modes():
    with pytest.raises(ValueError):
        with atomic_write("x", "a"):
            pass


@pytest.mark.parametrize("umask, expected", [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)])
def test_written_files_get_ordinary_permissions(tmp_path, umask, expected):
    """Like a plain open(): 0666 minus the umask, not mkstemp's private 0600."""
    previous = os.umask(umask)
    try:
        write_json(tmp_path / "a.json", {"x": 1})
        with atomic_write(tmp_path / "b.bin", "wb") as handle:
            handle.write(b"x")
    finally:
        os.umask(previous)
    for name in ("a.json", "b.bin"):
        assert stat.S_IMODE((tmp_path / name).stat().st_mode) == expected
