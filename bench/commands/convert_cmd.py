"""Write a dataset's ground truth as PoseTrack'18 JSON, one file per video.

Reads the dataset in its original on-disk format with its registered adapter and writes
OUT/<video>.json in the suite's interchange format: PoseTrack'18 and '17 in the 17 PT18 slots
(PT17 mapped with the official joint mapping, `bbox` from the 1.3x keypoint extent), JHMDB and
Penn Action with their own joints named in categories[0].keypoints, their person box in
`bbox` and their visibility in `v`. Every video is read and checked before anything is
written, and every written file is read back and compared.

examples:
  vposebench convert --dataset posetrack18 --root data/posetrack18 --split val --out gt/pt18_val
  vposebench convert --dataset jhmdb --root data/JHMDB --split test1 --out gt/jhmdb_test1
  vposebench convert --dataset penn_action --root data/Penn_Action --split test --out gt/penn_test
  vposebench convert --dataset jhmdb --root clips --split all --dataset-option box_from_joints=true \\
      --out gt/clips
"""

from __future__ import annotations

import argparse
from pathlib import Path

from ..outputs import check_output_folder
from ..registry import DATASETS
from .common import add_dataset_option_argument, instantiate_dataset, parse_dataset_options

NAME = "convert"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--dataset", required=True, metavar="D",
                        help="registered dataset name (see `vposebench list datasets`)")
    parser.add_argument("--root", required=True, type=Path, metavar="R",
                        help="the dataset's root folder, in its original layout")
    parser.add_argument("--split", metavar="S",
                        help="split to convert (default: the dataset's evaluation split; "
                        "JHMDB: [sub-|full-]{train|test}[1|2|3] or all)")
    add_dataset_option_argument(parser)
    parser.add_argument("--out", required=True, type=Path, metavar="DIR",
                        help="folder for the per-video JSON files (created; must not hold "
                        "other .json files)")


def run(args: argparse.Namespace) -> int:
    from vposebench.datasets.convert import convert_dataset

    check_output_folder(args.out, "--out")
    dataset = instantiate_dataset(DATASETS.get(args.dataset), args.root, args.split,
                                  parse_dataset_options(args.dataset_option))
    summary = convert_dataset(dataset, args.out)
    d = summary.description
    print(f"{d.name} {d.split}: {d.videos} videos, {d.frames} frames "
          f"({d.labeled_frames} labeled), {d.persons} persons -> {summary.out}/")
    print(f"annotation fingerprint: {d.fingerprint}")
    repaired = sum(len(lines) > 0 for lines in summary.repairs.values())
    print(f"box repairs: {repaired} video(s)" if repaired else "box repairs: none")
    for video, lines in summary.repairs.items():
        for line in lines:
            print(f"  {video}: {line}")
    return 0
