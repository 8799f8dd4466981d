"""A session fixture: the tiny preset run once, interrupted after its first records and resumed
(tests of the pipeline, the run and check commands share its cache)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from helpers.tiny_preset import PRESET
from vposebench.pipeline import Pipeline, RunOptions, RunResult
from vposebench.progress import Progress
from vposebench.results_store import ResultsStore


class StopAt(Progress):
    """Raises KeyboardInterrupt when the n-th stage line naming a record job shows."""

    def __init__(self, n: int) -> None:
        self.n = n

    def stage(self, text: str) -> None:
        if "record: " in text:
            self.n -= 1
            if self.n == 0:
                raise KeyboardInterrupt


@dataclasses.dataclass
class TinyRun:
    options: RunOptions
    before: list[str]  # records written before the interrupt
    checkpoints: dict[Path, int]  # checkpoint -> mtime before the resumed run
    result: RunResult


@pytest.fixture(scope="session")
def tiny_run(tmp_path_factory) -> TinyRun:
    base = tmp_path_factory.mktemp("tiny-run")
    options = RunOptions(cache=base / "cache", results=base / "results", workers=2)
    with pytest.raises(KeyboardInterrupt):
        Pipeline(PRESET, options, StopAt(2)).run()
    before = ResultsStore(options.results).keys()
    checkpoints = {p: p.stat().st_mtime_ns for p in (base / "cache" / "checkpoints").glob("*.ckpt")}
    return TinyRun(options, before, checkpoints, Pipeline(PRESET, options).run())
