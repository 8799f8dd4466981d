"""Generate the synthetic video pose benchmark in the real dataset formats.

Writes ROOT/annotations/{train,val}/*.json and ROOT/images/... (PoseTrack'18), the per-joint
occlusion side files ROOT/occlusion/{train,val}/*.json, the degraded-frame burst side files
ROOT/degradation/{train,val}/*.json, a JHMDB-style tree under ROOT/jhmdb,
a Penn-Action-style tree under ROOT/penn_action, and ROOT/synthetic.json (config, hash,
per-video condition tags, statistics). The same config and seed give identical files; a ROOT
that already holds this config is reused unless --force.

examples:
  vposebench synth --out data/synth
  vposebench synth --out /tmp/tiny --preset quick --seed 3
  vposebench synth --out data/synth-x2 --set frame_step=2 --set label_pattern=posetrack
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

from tabulate import tabulate
from tqdm import tqdm

from ..errors import UserError

if TYPE_CHECKING:
    from vposebench.datasets.synthetic.config import SynthConfig

NAME = "synth"


def configure(parser: argparse.ArgumentParser) -> None:
    from vposebench.datasets.synthetic.config import SYNTH_PRESETS

    parser.add_argument("--out", required=True, type=Path, help="root folder to write")
    parser.add_argument("--preset", default="default", help=f"size preset: {', '.join(SYNTH_PRESETS)} "
                        "(default: default)")
    parser.add_argument("--videos", type=int, help="multi-person videos in all (split train/val "
                        "in the preset's proportion)")
    parser.add_argument("--frames", type=int, help="frames per multi-person video")
    parser.add_argument("--clips", type=int, help="single-person clips per layout (JHMDB, Penn)")
    parser.add_argument("--seed", type=int, help="random seed (default 0)")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                        help="any config field, e.g. frame_step=2, noise=0, clip_frames=20,30")
    parser.add_argument("--workers", type=int, help="processes (default: CPU count, at most 4)")
    parser.add_argument("--force", action="store_true", help="regenerate even if ROOT is up to date")
    parser.add_argument("--json", action="store_true", help="print the statistics as JSON")
    parser.add_argument("--preview", type=Path, metavar="DIR",
                        help="also write a few val frames with their ground truth drawn on them")


def _positive(value: int | None, flag: str, minimum: int = 1) -> None:
    if value is not None and value < minimum:
        raise UserError(f"must be at least {minimum}, got {value}", field=flag)


def build_config(args: argparse.Namespace) -> SynthConfig:
    """The SynthConfig the arguments ask for (preset, then the flags, then --set)."""
    from vposebench.datasets.synthetic.config import preset

    config = preset(args.preset)
    for value, flag in ((args.videos, "--videos"), (args.frames, "--frames"), (args.workers, "--workers")):
        _positive(value, flag)
    _positive(args.clips, "--clips", 0)
    changes: dict = {}
    if args.videos is not None:
        share = config.val_videos / (config.train_videos + config.val_videos)
        val = min(args.videos, max(1, round(args.videos * share)))
        changes.update(train_videos=args.videos - val, val_videos=val)
    if args.frames is not None:
        changes["frames"] = args.frames
    if args.clips is not None:
        changes.update(jhmdb_clips=args.clips, penn_clips=args.clips)
    if args.seed is not None:
        changes["seed"] = args.seed
    config = dataclasses.replace(config, **changes)
    overrides = {}
    for item in args.overrides:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise UserError(f"expected KEY=VALUE, got {item!r}", field="--set")
        overrides[key.strip()] = value.strip()
    return config.with_overrides(overrides) if overrides else config


def _table(summary: dict) -> str:
    from vposebench.datasets.synthetic.config import BURST_KINDS

    rows = []
    for layout, groups in summary.items():
        for subset, s in groups.items():
            if not s["videos"]:
                continue
            rows.append([layout, subset, s["videos"], s["labeled_frames"], s["persons"],
                         s["persons_per_frame"], s["frames_over_8_persons"],
                         s["occluded_fraction"], s["occluded_after_visible"],
                         s["displacement_px"]["p50"], s["displacement_px"]["p90"],
                         s["relative_displacement"]["mean"], s["burst_fraction"],
                         *(s["burst_kind_fraction"][kind] for kind in BURST_KINDS)])
    headers = ["layout", "subset", "videos", "frames", "persons", "persons/frame", ">8 persons",
               "occluded", "occl. after visible", "disp p50 px", "disp p90 px", "disp/height",
               "in bursts", *BURST_KINDS]
    return tabulate(rows, headers=headers, floatfmt=".3g")


def run(args: argparse.Namespace) -> int:
    from vposebench.datasets.synthetic.generator import cached_manifest, generate

    config = build_config(args)
    reused = not args.force and cached_manifest(args.out, config) is not None
    start = time.perf_counter()
    bar = None

    def progress(done: int, total: int) -> None:
        nonlocal bar
        if bar is None:
            bar = tqdm(total=total, unit="video", desc="synth", file=sys.stderr, leave=False)
        bar.update(done - bar.n)

    try:
        manifest = generate(args.out, config, force=args.force, workers=args.workers, progress=progress)
    finally:
        if bar is not None:
            bar.close()
    seconds = time.perf_counter() - start
    previews = []
    if args.preview is not None:
        from vposebench.datasets.synthetic.preview import write_previews

        previews = write_previews(args.out, args.preview)
    if args.json:
        print(json.dumps({"root": str(args.out), "config_hash": manifest.config_hash, "reused": reused,
                          "seconds": round(seconds, 2), "previews": [str(p) for p in previews],
                          "summary": manifest.summary}, indent=2))
        return 0
    what = "reused (up to date)" if reused else f"generated in {seconds:.1f} s"
    print(f"{args.out}: {what}; config hash {manifest.config_hash}; "
          f"{len(manifest.videos)} videos, {len(manifest.clips)} single-person clips")
    print(_table(manifest.summary))
    for path in previews:
        print(f"preview: {path}")
    return 0
