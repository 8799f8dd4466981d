"""Honest timing and memory measurement (docs/measurement.md).

`PhaseTimer` records per-frame wall-clock durations of named phases ("pose", "end_to_end",
"loading"), synchronising CUDA around each timed region so asynchronous kernels are counted
where they run. Warm-up frames are dropped by the caller before summarising.
"""

from __future__ import annotations

import contextlib
import resource
import sys
import time
from collections import defaultdict
from collections.abc import Iterator

import numpy as np
import torch

from .records import LatencyStats


class PhaseTimer:
    """Durations (ms) of named phases, one sample per frame and phase."""

    def __init__(self, device: torch.device | str = "cpu") -> None:
        self.device = torch.device(device)
        self.samples: dict[str, list[float]] = defaultdict(list)

    def _sync(self) -> None:
        if self.device.type == "cuda":
            torch.cuda.synchronize(self.device)

    @contextlib.contextmanager
    def measure(self, phase: str) -> Iterator[None]:
        self._sync()
        start = time.perf_counter()
        try:
            yield
        finally:
            self._sync()
            self.samples[phase].append((time.perf_counter() - start) * 1000.0)

    def add(self, phase: str, milliseconds: float) -> None:
        self.samples[phase].append(milliseconds)

    def clear(self) -> None:
        self.samples.clear()


def latency_stats(samples_ms: list[float] | np.ndarray) -> LatencyStats:
    """Median and quartiles of a latency series (ms)."""
    arr = np.asarray(samples_ms, dtype=np.float64)
    if arr.size == 0:
        raise ValueError("no latency samples")
    q1, median, q3 = np.percentile(arr, [25, 50, 75])
    return LatencyStats(median_ms=float(median), q1_ms=float(q1), q3_ms=float(q3), n=int(arr.size))


def overhead_fraction(end_to_end_ms: list[float], pose_ms: list[float]) -> float:
    """Median over frames of (end-to-end - pose) / pose: time the harness adds to a step."""
    e2e = np.asarray(end_to_end_ms)
    pose = np.asarray(pose_ms)
    return float(np.median((e2e - pose) / pose))


def peak_rss_bytes() -> int:
    """Peak resident set size of this process so far.

    On Linux this is the process's own high-water mark (`VmHWM`): `ru_maxrss` survives
    fork + exec, so a spawned timing process would report the peak of the worker that
    started it (every method of a run showed that worker's 1.6 GB). Elsewhere `ru_maxrss`.
    """
    try:
        with open("/proc/self/status", encoding="ascii") as handle:
            for line in handle:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return int(peak if sys.platform == "darwin" else peak * 1024)


def reset_gpu_peak(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)
        torch.cuda.reset_peak_memory_stats(device)


def gpu_peak(device: torch.device) -> tuple[int | None, int | None]:
    """(max allocated, max reserved) bytes since the last reset; (None, None) on CPU."""
    if device.type != "cuda":
        return None, None
    torch.cuda.synchronize(device)
    return int(torch.cuda.max_memory_allocated(device)), int(torch.cuda.max_memory_reserved(device))


def device_label(device: torch.device) -> str:
    if device.type == "cuda":
        return f"cuda:{torch.cuda.get_device_name(device)}"
    return "cpu"
