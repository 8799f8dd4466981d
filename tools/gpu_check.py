"""The CUDA check: one short run (minutes) for a machine with a GPU.

    python tools/gpu_check.py --out results/gpu            # on the GPU machine; commit the folder
    python tools/gpu_check.py --dry-run --out /tmp/gpu     # CPU, tiny sizes: the script's own test
    python tools/gpu_check.py --device cpu --batch 2 --parts steps --out results/cpu-step-times
                                                           # paper sizes on the CPU, 1 thread

1. the commands on the device: `vposebench synth` (small data), `vposebench train --device
   cuda` (a tiny baseline, a few steps), `vposebench predict --device cuda`, `vposebench
   evaluate`; and `vposebench train --nproc 2` (DDP, nccl) when there are two GPUs;
2. seconds per training step of the `paper` sizes (SimpleBaseline ResNet-50 256x192, CPN,
   PTM capacity 16 on both, CPM-6 368x368 and tfc/refine on it), CUDA synchronised, peak GPU
   memory (`bench/step_timing.py`);
3. the speed pass (`bench/speed.py`, online mode, a fresh process per method, CUDA
   synchronised, `max_memory_allocated`) of the same models with untrained weights (speed does
   not depend on them; PTM writes every frame, its memory full as in steady state).

Writes OUT/commands.json, OUT/step_times.json, OUT/speed.json, OUT/provenance.json (GPU
name, driver, CUDA) and OUT/table.md. --dry-run runs everything on the CPU with the `tiny`
sizes and batches of 4. Torch runs one CPU thread.
"""

from __future__ import annotations

import argparse
import dataclasses
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import torch

from vposebench.atomic import write_json
from vposebench.checkpoint import Checkpoint, save_checkpoint
from vposebench.experiments import PROTOCOLS
from vposebench.interface import build_method
from vposebench.protocols import SpeedSettings
from vposebench.provenance import collect
from vposebench.registry import DATASETS
from vposebench.runner import DatasetSpec, MethodSpec
from vposebench.speed import SpeedSpec, measure_speed
from vposebench.step_timing import time_training_steps


@dataclasses.dataclass(frozen=True)
class Model:
    """One model of the paper tables: method, config, where it trains, its paper batch."""

    label: str
    method: str
    settings: dict[str, Any]
    protocol: str  # "posetrack" (synthetic root) or "jhmdb" (its sub-JHMDB tree)
    batch_size: int
    train_scope: str = "all"
    timing: dict[str, Any] = dataclasses.field(default_factory=dict)  # inference overrides


#: batch sizes: SimpleBaseline's 32 per GPU; PTM clips of 4 frames, 8 clips (32 crops);
#: the TFC paper's 20
MODELS = (
    Model("SimpleBaseline R50 256x192", "baseline", {"backbone": "simplebaseline"}, "posetrack", 32),
    Model("CPN R50 256x192", "baseline", {"backbone": "cpn"}, "posetrack", 32),
    Model("PTM-SimpleBaseline cap 16", "ptm", {"backbone": "simplebaseline", "capacity": 16,
          "clip_length": 4, "train_quality_gate": False}, "posetrack", 8, "temporal", {"write_threshold": 0.0}),
    Model("PTM-CPN cap 16", "ptm", {"backbone": "cpn", "capacity": 16,
          "clip_length": 4, "train_quality_gate": False}, "posetrack", 8, "temporal", {"write_threshold": 0.0}),
    Model("CPM-6 368x368", "baseline", {"backbone": "cpm"}, "jhmdb", 20),
    Model("TFC (CPM-6 368x368)", "tfc", {"backbone": "cpm"}, "jhmdb", 20),
    Model("Refine (CPM-6 368x368)", "refine", {"backbone": "cpm"}, "jhmdb", 20),
)
SPLITS = {"posetrack": ("synthetic", "", "train", "val"),
          "jhmdb": ("jhmdb", "jhmdb", "sub-train1", "sub-test1")}


def vposebench(*args: str) -> dict[str, Any]:
    """Run a vposebench command; its exit status, seconds and last output lines."""
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "vposebench", *args], capture_output=True,
                          text=True)
    tail = (done.stdout + done.stderr).strip().splitlines()[-3:]
    print(f"gpu_check: vposebench {args[0]}: exit {done.returncode}", flush=True)
    return {"command": ["vposebench", *args], "exit": done.returncode,
            "seconds": round(time.perf_counter() - started, 1), "output": tail}


def commands(data: Path, work: Path, device: str, dry_run: bool,
             make_data: bool) -> list[dict[str, Any]]:
    """Synthetic data (unless given), then train, predict and evaluate on `device`; DDP on 2
    GPUs (or, in the dry run, 2 CPU processes)."""
    ran = ([vposebench("synth", "--out", str(data), "--preset", "quick", "--workers", "2")]
           if make_data else [])
    train = ["train", "--method", "baseline", "--dataset", "synthetic", "--root", str(data),
             "--set", "preset=tiny", "--set", "iterations=20", "--set", "batch_size=8",
             "--quiet", "--device", device]
    ran.append(vposebench(*train, "--out", str(work / "baseline.ckpt")))
    ran.append(vposebench("predict", "--method", "baseline", "--checkpoint",
                          str(work / "baseline.ckpt"), "--dataset", "synthetic", "--root",
                          str(data), "--out", str(work / "pred"), "--device", device))
    ran.append(vposebench("evaluate", "--gt", str(data / "annotations" / "val"), "--pred",
                          str(work / "pred")))
    gpus = torch.cuda.device_count() if device == "cuda" else 0
    if gpus >= 2 or dry_run:
        ran.append(vposebench(*train, "--nproc", "2", "--out", str(work / "ddp.ckpt")))
    return ran


def dataset_of(data: Path, protocol: str, training: bool) -> Any:
    name, subdir, train_split, test_split = SPLITS[protocol]
    return DATASETS.get(name)(str(data / subdir) if subdir else str(data),
                              train_split if training else test_split)


@dataclasses.dataclass(frozen=True)
class Plan:
    """What to run, where and at which sizes."""

    device: str
    tiny: bool  # the `tiny` preset instead of `paper`
    batch: int | None  # every model's batch (None: the paper's; tiny: 4)
    steps: int  # timed training steps per model
    models: tuple[Model, ...]

    def sized(self, model: Model) -> tuple[dict[str, Any], int]:
        """The model's settings and batch size."""
        batch = self.batch or (4 if self.tiny else model.batch_size)
        return {**model.settings, "preset": "tiny" if self.tiny else "paper"}, batch


def step_times(data: Path, plan: Plan) -> list[dict[str, Any]]:
    out = []
    for model in plan.models:
        settings, batch = plan.sized(model)
        timing = time_training_steps(model.method, settings, dataset_of(data, model.protocol, True),
                                     batch_size=batch, steps=plan.steps,
                                     train_scope=model.train_scope, device=plan.device)
        out.append({"label": model.label, **timing.to_dict()})
        print(f"gpu_check: step {model.label}: {timing.step.median_ms:.0f} ms "
              f"(batch {batch})", flush=True)
    return out


def speed_pass(data: Path, work: Path, plan: Plan) -> list[dict[str, Any]]:
    out = []
    for index, model in enumerate(plan.models):
        settings, _ = plan.sized(model)
        dataset = dataset_of(data, model.protocol, False)
        torch.manual_seed(0)
        method = build_method(model.method, dataset.skeleton, **settings)
        path = work / f"untrained-{index}.ckpt"
        save_checkpoint(Checkpoint(model.method, method.config.to_dict(), {}, dataset.skeleton,
                                   method.state_dict(), step=0, complete=True), path)
        spec = SpeedSpec(MethodSpec(str(path), tuple(sorted(model.timing.items())), plan.device, 1),
                         DatasetSpec(SPLITS[model.protocol][0], str(dataset.root),
                                     dataset.split),
                         tuple(dataset.video_names()[:1 if plan.tiny else 2]),
                         dataclasses.replace(PROTOCOLS[model.protocol].protocol,
                                             speed=SpeedSettings(repeats=1 if plan.tiny else 3)))
        speed = measure_speed(spec)
        out.append({"label": model.label, "method": model.method,
                    "config": {**method.config.to_dict(), **model.timing},
                    "speed": speed.to_dict()})
        print(f"gpu_check: speed {model.label}: {speed.pose.median_ms:.1f} ms/frame", flush=True)
    return out


def megabytes(value: int | None) -> str:
    return "-" if value is None else str(round(value / 2**20))


def table(steps: list[dict[str, Any]], speeds: list[dict[str, Any]]) -> str:
    """One Markdown row per model with what was measured of it."""
    rows = ["| model | preset | train ms/step (batch) | CPU ms/step | train ms/sample | "
            "train peak GPU MB | pose ms/frame | FPS | inference peak GPU MB |",
            "|---|---|---|---|---|---|---|---|---|"]
    labels = [r["label"] for r in steps] or [r["label"] for r in speeds]
    for label in labels:
        step = next((r for r in steps if r["label"] == label), None)
        speed = next((r["speed"] for r in speeds if r["label"] == label), None)
        preset = (step or next(r for r in speeds if r["label"] == label))["config"]["preset"]
        cells = [label, preset]
        cells += ([f"{step['step']['median_ms']:.0f} ({step['batch_size']})",
                   f"{step['step_cpu']['median_ms']:.0f}", f"{step['ms_per_sample']:.0f}",
                   megabytes(step["gpu_max_allocated_bytes"])] if step else ["-"] * 4)
        cells += ([f"{speed['pose']['median_ms']:.1f}", f"{1000 / speed['pose']['median_ms']:.1f}",
                   megabytes(speed["gpu_max_allocated_bytes"])] if speed else ["-"] * 3)
        rows.append("| " + " | ".join(cells) + " |")
    return "\n".join(rows) + "\n"


PARTS = ("commands", "steps", "speed")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, required=True, help="folder for the records")
    parser.add_argument("--device", choices=("cuda", "cpu"), default="cuda")
    parser.add_argument("--tiny", action="store_true", help="the tiny preset instead of paper")
    parser.add_argument("--dry-run", action="store_true", help="= --device cpu --tiny")
    parser.add_argument("--batch", type=int, help="every model's batch (default: the paper's)")
    parser.add_argument("--steps", type=int, default=5, help="timed training steps per model")
    parser.add_argument("--parts", default=",".join(PARTS),
                        help=f"comma-separated, of {', '.join(PARTS)} (default: all)")
    parser.add_argument("--model", action="append", default=[],
                        help="only models whose label contains this (repeatable)")
    parser.add_argument("--data", type=Path,
                        help="an existing synthetic root (default: generate the quick preset)")
    parser.add_argument("--work", type=Path, help="scratch folder (default: a temporary one)")
    args = parser.parse_args(argv)
    parts = [p.strip() for p in args.parts.split(",") if p.strip()]
    if set(parts) - set(PARTS) or (args.data is None and "commands" not in parts and parts):
        parser.error(f"--parts takes {', '.join(PARTS)}; without --data, commands makes the data")
    plan = Plan("cpu" if args.dry_run else args.device, args.tiny or args.dry_run, args.batch,
                2 if args.dry_run else args.steps,
                tuple(m for m in MODELS if not args.model or any(k in m.label for k in args.model)))
    if plan.device == "cuda" and not torch.cuda.is_available():
        print("gpu_check: torch sees no GPU; use --dry-run on the CPU", file=sys.stderr)
        return 2
    torch.set_num_threads(1)
    started = time.perf_counter()
    ran, steps, speeds = [], [], []
    with tempfile.TemporaryDirectory(prefix="gpu-check-") as scratch:
        work = args.work or Path(scratch)
        data = args.data or work / "data"
        if "commands" in parts:
            ran = commands(data, work, plan.device, args.dry_run, args.data is None)
        if "steps" in parts:
            steps = step_times(data, plan)
        if "speed" in parts:
            speeds = speed_pass(data, work, plan)
    for name, rows in (("commands", ran), ("step_times", steps), ("speed", speeds)):
        if rows:
            write_json(args.out / f"{name}.json", rows)
    write_json(args.out / "provenance.json", {**collect(0).to_dict(), "plan": dataclasses.asdict(plan),
                                              "seconds": round(time.perf_counter() - started)})
    (args.out / "table.md").write_text(table(steps, speeds))
    print(table(steps, speeds))
    failed = [c["command"][1] for c in ran if c["exit"] != 0]
    if failed:
        print(f"gpu_check: failed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
