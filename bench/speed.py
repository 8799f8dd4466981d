"""Speed and memory of a method, measured as docs/measurement.md says.

Online mode (what the papers report): batch = the persons of one frame, frames in order,
state carried across frames. Warm-up frames are run first and dropped; then the timing videos
are run `repeats` times, every frame adding one `pose`, one `end_to_end` and one `loading`
sample. The thread count is fixed and recorded (the method's own runtime's, from `describe()`);
on CUDA every timed region is synchronised and the peak-memory counters are reset after
warm-up. Offline mode: a batch of blank crops through the method's `crop_probe` (its
steady-state per-person path), no tracker, crops/s; None for a method without one. Everything
the pass needs of the method comes through the interface (`describe()`, `crop_probe`).

`measure_speed` runs in a fresh spawned process by default, so the process's peak RSS is that
of this method and these videos alone.
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
import multiprocessing

import numpy as np
import torch

from .box_sources import BoxSource
from .interface import TemporalPoseMethod
from .profiling import (
    PhaseTimer,
    device_label,
    gpu_peak,
    latency_stats,
    overhead_fraction,
    peak_rss_bytes,
    reset_gpu_peak,
)
from .protocols import Protocol, SpeedSettings
from .records import Speed
from .runner import DatasetSpec, MethodSpec, RunStats, run_video
from .structures import VideoGT
from .tracker import IoUTracker


@dataclasses.dataclass(frozen=True)
class SpeedSpec:
    """What to time: a method on some videos of a dataset, under a protocol.

    Warm-up, repeats, offline batch and precision come from ``protocol.speed``, the box source
    and the tracker from the protocol too (the same ones the runner uses).
    """

    method: MethodSpec
    dataset: DatasetSpec
    videos: tuple[str, ...]
    protocol: Protocol
    detections: str | None = None

    @property
    def settings(self) -> SpeedSettings:
        return self.protocol.speed

    def tracker(self) -> IoUTracker:
        return self.protocol.tracker.build()

    def boxes(self) -> BoxSource:
        return self.protocol.boxes.build(self.detections)


def _warm_up(method: TemporalPoseMethod, videos: list[VideoGT], spec: SpeedSpec,
             boxes: BoxSource, tracker: IoUTracker, device: torch.device) -> None:
    """Run frames until `warmup_frames` frames with persons have passed (at least one video)."""
    timer = PhaseTimer(device)
    while True:
        for video in videos:
            run_video(method, video, boxes=boxes, tracker=tracker, timer=timer)
            if len(timer.samples["pose"]) >= spec.settings.warmup_frames:
                return
        if not timer.samples["pose"]:
            raise ValueError("the timing videos have no frame with persons")


def _offline_crops_per_s(method: TemporalPoseMethod, batch: int, repeats: int,
                         device: torch.device) -> float | None:
    """Crops per second through the method's `crop_probe` (None when it has none)."""
    probe = method.crop_probe(batch)
    if probe is None:
        return None
    timer = PhaseTimer(device)
    probe()  # warm-up
    for _ in range(max(repeats, 3)):
        with timer.measure("offline"):
            probe()
    return batch / (float(np.median(timer.samples["offline"])) / 1000.0)


def measure_in_process(spec: SpeedSpec) -> Speed:
    """Time the method in this process (see the module docstring)."""
    method = spec.method.build()
    method.eval()
    description = method.describe()
    device = torch.device(description.device)
    dataset = spec.dataset.open()
    videos = [spec.dataset.load(dataset, name) for name in spec.videos]
    boxes, tracker = spec.boxes(), spec.tracker()
    with torch.no_grad():
        _warm_up(method, videos, spec, boxes, tracker, device)
        reset_gpu_peak(device)
        timer = PhaseTimer(device)
        stats = RunStats()
        repeat_medians = []
        for _ in range(spec.settings.repeats):
            start = len(timer.samples["pose"])
            for video in videos:
                run_video(method, video, boxes=boxes, timer=timer, stats=stats, tracker=tracker)
            repeat_medians.append(float(np.median(timer.samples["pose"][start:])))
        allocated, reserved = gpu_peak(device)
        offline = _offline_crops_per_s(method, spec.settings.offline_batch, spec.settings.repeats,
                                       device)
    samples = timer.samples
    threads = description.threads if description.threads is not None else torch.get_num_threads()
    return Speed(
        mode="online", device=device_label(device), threads=threads,
        precision=spec.settings.precision, warmup_frames=spec.settings.warmup_frames,
        repeats=spec.settings.repeats,
        pose=latency_stats(samples["pose"]), end_to_end=latency_stats(samples["end_to_end"]),
        loading=latency_stats(samples["loading"]),
        harness_overhead=overhead_fraction(samples["end_to_end"], samples["pose"]),
        repeat_pose_medians_ms=tuple(repeat_medians),
        peak_rss_bytes=peak_rss_bytes() if device.type == "cpu" else None,
        gpu_max_allocated_bytes=allocated, gpu_max_reserved_bytes=reserved,
        state_bytes=stats.peak_state_bytes, parameters=description.parameters,
        flops_per_person=description.flops_per_person, offline_crops_per_s=offline,
        offline_batch=spec.settings.offline_batch if offline is not None else None,
        cudnn_benchmark=bool(torch.backends.cudnn.benchmark) if device.type == "cuda" else None,
        runtime=description.runtime,
    )


def measure_speed(spec: SpeedSpec, *, isolated: bool = True) -> Speed:
    """Time the method, in a fresh process unless `isolated` is False."""
    if not isolated:
        return measure_in_process(spec)
    context = multiprocessing.get_context("spawn")
    with concurrent.futures.ProcessPoolExecutor(1, mp_context=context) as pool:
        return pool.submit(measure_in_process, spec).result()

