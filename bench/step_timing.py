"""Seconds per training step of a method at a given size, batch and device.

A step is what `bench.training.train` does per iteration: the method's loss on a batch,
backward and the optimizer step (Adam). The batches are cut by the real sampler before the
clock starts, so data loading is not in the figure (DataLoader workers overlap it in a real
run). CUDA is synchronised around every timed step and the peak-memory counters are reset
after the warm-up steps. The process's CPU time per step is recorded beside the wall time:
with one torch thread it is what the step costs on an idle core even when the machine is
shared (on CUDA it only counts the launching). For the cost plan of a study
(docs/cluster.md) and the GPU check (tools/gpu_check.py).
"""

from __future__ import annotations

import dataclasses
import time
from typing import Any

import torch

from .profiling import PhaseTimer, device_label, gpu_peak, latency_stats, reset_gpu_peak
from .records import LatencyStats


@dataclasses.dataclass(frozen=True)
class StepTiming:
    """What `time_training_steps` measured."""

    method: str
    config: dict[str, Any]
    train_scope: str  # "all" or "temporal" (only the method's added modules learn)
    device: str
    threads: int
    batch_size: int  # samples (clips) per step
    frames_per_sample: int  # crops in one sample (the clip length)
    warmup_steps: int
    step: LatencyStats  # ms per step (wall clock), warm-up excluded
    step_cpu: LatencyStats  # CPU ms of this process per step
    gpu_max_allocated_bytes: int | None
    gpu_max_reserved_bytes: int | None
    parameters: int
    trainable_parameters: int
    flops_per_person: int  # inference FLOPs of one crop (FlopCounterMode), for GPU estimates

    @property
    def ms_per_sample(self) -> float:
        return self.step.median_ms / self.batch_size

    def to_dict(self) -> dict[str, Any]:
        return {**dataclasses.asdict(self), "ms_per_sample": self.ms_per_sample}


def time_training_steps(method_name: str, settings: dict[str, Any], dataset: Any, *,
                        batch_size: int, steps: int = 3, warmup: int = 1,
                        train_scope: str = "all", device: str = "cpu",
                        seed: int = 0) -> StepTiming:
    """Time `steps` training steps (after `warmup` untimed ones) of a freshly built method."""
    from .interface import build_method
    from .training import TrainConfig, build_sampler, resolve_device

    dev = resolve_device(device)
    torch.manual_seed(seed)
    method = build_method(method_name, dataset.skeleton, **settings)
    if train_scope == "temporal":
        for p in method.net.parameters():
            p.requires_grad_(False)
    method.to(dev).train()
    if train_scope == "temporal":
        method.net.eval()
    params = [p for p in method.parameters() if p.requires_grad]
    optimizer = torch.optim.Adam(params, lr=1e-4)
    videos = [dataset.load_video(name) for name in dataset.video_names()]
    sampler = build_sampler(method, dataset, videos, TrainConfig(batch_size=batch_size, seed=seed))
    batches = [sampler.batch(step).to(dev) for step in range(warmup + steps)]
    timer = PhaseTimer(dev)
    cpu_ms = []
    for index, batch in enumerate(batches):
        if index == warmup:
            reset_gpu_peak(dev)
        began = time.process_time()
        with timer.measure("warmup" if index < warmup else "step"):
            loss = method.loss(batch)
            optimizer.zero_grad(set_to_none=True)
            if loss.requires_grad:
                loss.backward()
                optimizer.step()
        if index >= warmup:
            cpu_ms.append((time.process_time() - began) * 1000.0)
    allocated, reserved = gpu_peak(dev)
    description = method.eval().describe()
    return StepTiming(
        method=method_name, config=method.config.to_dict(), train_scope=train_scope,
        device=device_label(dev), threads=torch.get_num_threads(), batch_size=batch_size,
        frames_per_sample=batches[0].length, warmup_steps=warmup,
        step=latency_stats(timer.samples["step"]), step_cpu=latency_stats(cpu_ms),
        gpu_max_allocated_bytes=allocated,
        gpu_max_reserved_bytes=reserved, parameters=description.parameters,
        trainable_parameters=sum(p.numel() for p in params),
        flops_per_person=description.flops_per_person)
