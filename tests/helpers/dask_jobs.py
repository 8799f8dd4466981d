"""A toy job graph for engine tests: jobs that read their inputs from a cache folder, write
their outputs into it, and log when they ran (start, end, process) for ordering checks."""

from __future__ import annotations

import contextlib
import json
import os
import time
from collections.abc import Iterator
from pathlib import Path

from vposebench.jobs import Job


@contextlib.contextmanager
def _logged(cache: str, key: str, pause: float) -> Iterator[None]:
    """Write {key, start, end, pid} to cache/log/<key>.json around the body (which is made
    `pause` seconds longer, so that jobs could overlap if the engine let them)."""
    start = time.time()
    try:
        yield
    finally:
        time.sleep(pause)
        entry = {"key": key, "start": start, "end": time.time(), "pid": os.getpid()}
        log = Path(cache) / "log"
        log.mkdir(parents=True, exist_ok=True)
        (log / f"{key}.json").write_text(json.dumps(entry))


def generate(cache: str, values: list[int], pause: float) -> int:
    with _logged(cache, "generate", pause):
        Path(cache).mkdir(parents=True, exist_ok=True)
        Path(cache, "values.json").write_text(json.dumps(values))
    return len(values)


def square(cache: str, i: int, pause: float) -> int:
    with _logged(cache, f"square{i}", pause):
        value = json.loads(Path(cache, "values.json").read_text())[i] ** 2
        Path(cache, f"square{i}.json").write_text(json.dumps(value))
    return value


def total(cache: str, count: int, pause: float) -> int:
    with _logged(cache, "total", pause):
        return sum(json.loads(Path(cache, f"square{i}.json").read_text()) for i in range(count))


def timing(cache: str, pause: float) -> str:
    with _logged(cache, "timing", pause):
        return f"timed {len(json.loads(Path(cache, 'values.json').read_text()))} values"


def fail(cache: str, pause: float) -> None:
    with _logged(cache, "fail", pause):
        raise ValueError("this job fails on purpose")


def toy_graph(cache: str | Path, values: list[int], pause: float = 0.3,
              failing: bool = False) -> list[Job]:
    """generate -> square_i (one per value) -> total, and a timing job after generate that
    must run alone; with `failing`, a job after generate raises and `total` also waits on it."""
    cache = str(cache)
    n = len(values)
    jobs = [Job("generate", "generate", generate, (cache, values, pause)),
            *(Job(f"square{i}", "predict", square, (cache, i, pause), deps=("generate",))
              for i in range(n)),
            Job("timing", "time", timing, (cache, pause), deps=("generate",),
                resources={"exclusive": 1}),
            Job("total", "evaluate", total, (cache, n, pause),
                deps=tuple(f"square{i}" for i in range(n)) + (("fail",) if failing else ()))]
    if failing:
        jobs.insert(1, Job("fail", "train", fail, (cache, pause), deps=("generate",)))
    return jobs


def run_in_process(jobs: list[Job]) -> dict[str, object]:
    """The reference: every job in this process, in dependency order."""
    from vposebench.jobs import in_dependency_order

    return {job.key: job.fn(*job.args) for job in in_dependency_order(jobs)}


def intervals(cache: str | Path) -> dict[str, dict]:
    """key -> the logged {start, end, pid} of every job that ran."""
    return {p.stem: json.loads(p.read_text()) for p in (Path(cache) / "log").glob("*.json")}


#: a tiny baseline on the stick figures: 16 steps, a partial checkpoint every 4
STICK_TRAINING = {"iterations": 16, "batch_size": 4, "save_every": 4}


def train_sticks(root: str, out: str, pause: float = 0.0) -> dict[str, int]:
    """Train the tiny baseline on the stick-figure videos at `root` (one torch thread); a run
    that starts afresh makes each step `pause` seconds longer, so that a test can kill its
    process mid-run. Return the step it resumed from and this process's id."""
    import torch

    from helpers.sticks import StickDataset
    from vposebench.checkpoint import partial_path
    from vposebench.training import TrainConfig, train

    torch.set_num_threads(1)
    slow = pause if not partial_path(out).exists() else 0.0
    result = train("baseline", StickDataset(root, "train"), out, method_settings={"preset": "tiny"},
                   config=TrainConfig.from_dict(STICK_TRAINING),
                   progress=lambda step, total, loss: time.sleep(slow))
    return {"resumed_from": result.resumed_from, "pid": os.getpid()}
