"""Run a method over a dataset split and write PoseTrack'18 predictions.

One JSON file per video (named after the video), every frame listed in order, track ids from
the shared IoU tracker, per-joint scores. Person boxes are the ground-truth boxes. A trained
method comes from its checkpoint (--checkpoint); a method that needs none (blazepose, onnx,
a plugin without training) is built for the dataset's joint set from its settings (--set).
--set also changes inference-time fields on top of a checkpoint's config.
The folder is written whole or not at all (built beside OUT, renamed at the end, replacing an
earlier run's files there). With `--temporal-input shuffled` a temporal method runs as its
shuffled control.

Examples:
  vposebench predict --method ptm --checkpoint ptm.ckpt --dataset synthetic \\
      --root data/synth --split val --out preds/ptm
  vposebench predict --method blazepose --dataset jhmdb --root data/jhmdb --split all \\
      --dataset-option box_from_joints=true --out preds/blazepose
"""

from __future__ import annotations

import argparse

from ..atomic import atomic_directory
from ..config import parse_assignments
from ..errors import UserError
from ..interface import TemporalPoseMethod
from ..outputs import check_output_folder, check_replaceable_folder
from ..runner import predict_videos
from ..shuffle import TEMPORAL_INPUTS, DonorSource, donor_names, require_track_state
from ..tracker import DEFAULT_MAX_AGE, MATCHERS, IoUTracker
from ..training import resolve_device
from .common import (
    add_dataset_option_argument,
    add_device_arguments,
    apply_threads,
    build_predictor,
    open_dataset,
    parse_dataset_options,
)

NAME = "predict"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--method", required=True, help="registered method name")
    parser.add_argument("--checkpoint", help="checkpoint written by train (methods that are "
                        "trained need one; others are built from --set)")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="a method setting (repeatable); with --checkpoint, on top of its config")
    parser.add_argument("--dataset", required=True, help="registered dataset name")
    parser.add_argument("--root", help="dataset folder")
    parser.add_argument("--split", help="dataset split (default: val when it exists)")
    add_dataset_option_argument(parser)
    parser.add_argument("--out", required=True, help="folder for the prediction files")
    parser.add_argument("--tracker", default="greedy", choices=sorted(MATCHERS),
                        help="IoU matching of boxes across frames (default: greedy)")
    parser.add_argument("--iou-threshold", type=float, default=0.3,
                        help="smallest IoU that continues a track (default: 0.3)")
    parser.add_argument("--max-age", type=int, default=DEFAULT_MAX_AGE,
                        help="frames a track (and the method's state for it) survives without "
                             f"a box; 0 ends it at once (default: {DEFAULT_MAX_AGE})")
    parser.add_argument("--temporal-input", default="own", choices=TEMPORAL_INPUTS,
                        help="own: the method's own past; shuffled: each track's temporal state "
                             "from the next video's track of the same rank (the shuffled "
                             "control, docs/methods.md)")
    add_device_arguments(parser)


def run(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    check_output_folder(args.out, "--out")
    apply_threads(args.threads)
    if not 0 <= args.iou_threshold <= 1:
        raise UserError(f"must be in [0, 1], got {args.iou_threshold}", field="--iou-threshold")
    if args.max_age < 0:
        raise UserError(f"must be >= 0, got {args.max_age}", field="--max-age")
    overrides = parse_assignments(args.set)
    dataset = open_dataset(args.dataset, args.root, args.split, "val",
                           parse_dataset_options(args.dataset_option))

    def build() -> TemporalPoseMethod:
        return build_predictor(args.method, args.checkpoint, dataset.skeleton, overrides,
                               resolve_device(args.device))

    method = build()
    names = dataset.video_names()
    if not names:
        raise UserError(f"no videos in split {dataset.split!r} of dataset {args.dataset!r}",
                        path=dataset.root)
    check_replaceable_folder(args.out, [f"{n}.json" for n in names])
    donors = None
    if args.temporal_input == "shuffled":
        require_track_state(method, args.method)
        donors = DonorSource(build(), donor_names(names),
                             dataset.load_video)
    videos = (dataset.load_video(n) for n in tqdm(names, desc=f"predict {args.method}", unit="video"))
    tracker = IoUTracker(args.iou_threshold, args.tracker, max_age=args.max_age)
    with atomic_directory(args.out) as staging:
        stats = predict_videos(method, videos, staging, tracker=tracker, donors=donors)
    print(f"wrote {stats.videos} prediction files to {args.out} ({stats.frames} frames, "
          f"{stats.persons} persons)")
    return 0

