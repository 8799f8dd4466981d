"""Speed of generating the synthetic benchmark (pytest-benchmark).

The test run (benchmarks disabled: one execution) times a tiny config. The README figure times
the default preset on this machine:

    VPOSEBENCH_BENCH_SYNTH_PRESET=default .venv/bin/python -m pytest \\
        tests/benchmarks/test_bench_synth.py --benchmark-enable

Each round generates into a fresh folder (the cache would otherwise return at once); the old
root is removed outside the timed region.
"""

from __future__ import annotations

import os
import shutil

from vposebench.datasets.synthetic import SYNTH_PRESETS, SynthConfig, generate
from vposebench.datasets.synthetic.generator import default_workers

TINY = SynthConfig(train_videos=2, val_videos=2, frames=6, jhmdb_clips=2, penn_clips=2, clip_frames=(6, 6))


def test_generate_synthetic_benchmark(benchmark, tmp_path):
    name = os.environ.get("VPOSEBENCH_BENCH_SYNTH_PRESET")
    config = SYNTH_PRESETS[name] if name else TINY
    workers = int(os.environ.get("VPOSEBENCH_BENCH_SYNTH_WORKERS", default_workers()))
    root = tmp_path / "root"

    def fresh():
        shutil.rmtree(root, ignore_errors=True)

    manifest = benchmark.pedantic(lambda: generate(root, config, workers=workers), setup=fresh,
                                  rounds=1 if name else 3, iterations=1)
    frames = sum(v.stats["labeled_frames"] for v in manifest.videos) + sum(c.frames for c in manifest.clips)
    benchmark.extra_info.update(preset=name or "tiny", workers=workers, config_hash=manifest.config_hash,
                                frames=frames, videos=len(manifest.videos), clips=len(manifest.clips),
                                bytes=sum(p.stat().st_size for p in root.rglob("*") if p.is_file()))
    assert (root / "synthetic.json").is_file() and frames > 0
