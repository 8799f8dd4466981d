"""Progress without a terminal: a line per stage and a heartbeat with the time left."""

import io
import re
import time

from vposebench.progress import TqdmProgress, format_duration


def test_heartbeat_lines_without_a_terminal():
    out = io.StringIO()
    progress = TqdmProgress(stream=out, heartbeat_s=0.3)
    progress.begin(100.0)
    progress.stage("train: sb")
    progress.advance(50.0)
    time.sleep(1.5)
    progress.message("a note")
    progress.close()
    lines = out.getvalue().splitlines()
    assert re.match(r"run: \[\s+\d+ s\] train: sb$", lines[0])
    beats = [line for line in lines if "% done" in line]
    assert beats and "50 % done, about" in beats[0] and beats[0].endswith("running: train: sb")
    assert "run: a note" in lines


def test_quiet_prints_nothing_and_durations_read_well():
    out = io.StringIO()
    progress = TqdmProgress(enabled=False, stream=out, heartbeat_s=0.1)
    progress.begin(10.0)
    progress.stage("x")
    progress.message("y")
    time.sleep(0.3)
    progress.close()
    assert out.getvalue() == ""
    assert [format_duration(s) for s in (5, 125, 3725)] == ["5 s", "2 min 05 s", "1 h 02 min"]
