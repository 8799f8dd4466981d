"""Speed of the methods: one online frame (`step`: crop warp + network + decoding + state
update, the profiler's "pose" time) and one training step, per method, on the tiny preset.

Run with `pytest tests/benchmarks --benchmark-enable` to time them (one torch thread, recorded
in extra_info); the suite runs each once as a test. Compare methods by the ratios of one run,
never by absolute times.
"""

import time

import numpy as np
import pytest
import torch

from vposebench.interface import ClipBatch, FrameInput, build_method
from vposebench.skeleton import POSETRACK18

METHODS = ["baseline", "ptm", "tfc", "refine"]
BOXES = np.array([[20.0, 10, 90, 200], [110, 20, 180, 210], [200, 5, 270, 190], [290, 15, 360, 215]])


@pytest.fixture(autouse=True)
def one_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def _frame():
    image = np.random.default_rng(0).integers(0, 255, (240, 400, 3), dtype=np.uint8)
    return FrameInput(image, BOXES, np.arange(len(BOXES)), index=0)


@pytest.mark.parametrize("name", METHODS)
def test_bench_online_step(benchmark, name):
    torch.manual_seed(0)
    method = build_method(name, POSETRACK18, preset="tiny", **({"write_threshold": -1e9} if name == "ptm" else {}))
    method.eval()
    frame = _frame()
    for _ in range(20):  # warm-up; the ptm memory fills to capacity (16)
        method.step(frame)
    d = method.describe()
    benchmark.extra_info.update(threads=torch.get_num_threads(), preset="tiny", persons=len(BOXES),
                                flops_per_person=d.flops_per_person, parameters=d.parameters,
                                state_bytes=d.state_bytes)
    out = benchmark(method.step, frame)
    assert out.keypoints.shape == (len(BOXES), 17, 3)


@pytest.mark.parametrize("name", METHODS)
def test_bench_training_step(benchmark, name):
    torch.manual_seed(0)
    # ptm on clips of 4 frames, the workload of the committed baseline (its default is now
    # capacity + 1 = 17 frames, about 4.5x the work per clip)
    method = build_method(name, POSETRACK18, preset="tiny",
                          **({"train_quality_gate": False, "clip_length": 4} if name == "ptm" else {})).train()
    k = method.clip_spec().length
    w, h = method.config.crop_size
    hw, hh = method.config.heatmap_size
    batch = ClipBatch(
        images=torch.randint(0, 255, (8, k, h, w, 3), dtype=torch.uint8),
        targets=torch.rand(8, k, 17, hh, hw), target_weight=torch.ones(8, k, 17),
        crop_matrices=torch.tensor(np.eye(2, 3)).expand(8, k, 2, 3).clone(),
        num_persons=torch.ones(8, k, dtype=torch.int64), zero_temporal=torch.zeros(8, dtype=torch.bool))
    optimizer = torch.optim.Adam(method.parameters(), 1e-3)

    def train_step():
        loss = method.loss(batch)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        return float(loss.detach())

    benchmark.extra_info.update(threads=torch.get_num_threads(), preset="tiny", batch=8, clip=k)
    assert np.isfinite(benchmark(train_step))


#: the memory's per-frame cost over its baseline (issue 13: at most 10 % at capacity 16)
OVERHEAD_PRESETS = ["small", "paper"]


def _full_memory_ptm(preset: str, frame: FrameInput):
    """ptm (its defaults, every frame written) with a memory of 16 maps per track, filled
    with copies of each track's first stored map."""
    method = build_method("ptm", POSETRACK18, preset=preset, write_threshold=-1e9, capacity=16).eval()
    method.step(frame)
    store = method.store
    slots = store.slots_for(range(len(BOXES)))
    first = tuple(torch.stack(parts) for parts in zip(*(store.entries(t)[0] for t in range(len(BOXES)))))
    while store.size.min() < 16:
        store.append(slots, first)
    return method


@pytest.mark.parametrize("preset", OVERHEAD_PRESETS)
def test_bench_memory_overhead(benchmark, preset):
    """One round = `step` of `baseline`, then of `ptm`, on the same frame of 4 persons; ptm
    reads 16 maps and writes one per track. Each step's CPU time (this thread) is taken, and
    the median over rounds of ptm / baseline, measured side by side so that a busy machine
    slows both alike, is recorded as extra_info["ptm_over_baseline"] (ratios.py: PAIRED)."""
    torch.manual_seed(0)
    frame = _frame()
    methods = {"baseline": build_method("baseline", POSETRACK18, preset=preset).eval(),
               "ptm": _full_memory_ptm(preset, frame)}
    methods["baseline"].step(frame)
    times: dict[str, list[float]] = {name: [] for name in methods}

    def both():
        for name, method in methods.items():
            start = time.thread_time()
            method.step(frame)
            times[name].append(time.thread_time() - start)

    benchmark(both)
    ratio = float(np.median(np.divide(times["ptm"], times["baseline"])))
    ptm = methods["ptm"]
    benchmark.extra_info.update(threads=torch.get_num_threads(), preset=preset, persons=len(BOXES),
                                ptm_over_baseline=ratio, rounds=len(times["ptm"]),
                                state_bytes=ptm.state_bytes())
    assert (ptm.store.size == 16).all() and ptm.state_bytes() == ptm.store.nbytes()
    assert np.isfinite(ratio) and ratio > 0
