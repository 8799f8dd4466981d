"""Folders of per-video JSON files: list them, and pair a GT folder with a prediction folder.

An entry named like a video file that is not a readable file (a folder, a broken link) is an
error, never skipped: a skipped video would change the score without a word. A prediction
file whose name matches no GT video is not evaluated and is named in an
:class:`~vposebench.errors.InputWarning` (one line each; videos left out on purpose with
``videos`` are not warned about).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from pathlib import Path

from ..errors import InputWarning, UserError
from .jsonfile import PathLike, check_input_file


def list_video_files(folder: PathLike) -> list[Path]:
    """The *.json files of a GT or prediction folder, sorted by name."""
    p = Path(folder)
    if not p.exists():
        raise UserError("folder not found", path=p)
    if not p.is_dir():
        raise UserError("expected a folder of per-video JSON files", path=p)
    files = sorted(x for x in p.iterdir() if x.suffix == ".json")
    for entry in files:
        check_input_file(entry)
    if not files:
        raise UserError("no .json files in folder", path=p)
    return files


def pair_files(gt_dir: PathLike, pred_dir: PathLike, videos: Sequence[str] | None = None) -> list[tuple[Path, Path]]:
    """(GT file, prediction file) per video, sorted by name; every GT video needs a prediction.

    Prediction files of no GT video are named in an InputWarning and left out."""
    all_gt = list_video_files(gt_dir)
    gt_files = all_gt
    if videos is not None:
        wanted = set(videos)
        unknown = wanted - {f.stem for f in all_gt}
        if unknown:
            raise UserError(f"unknown video(s) {sorted(unknown)}", path=gt_dir)
        gt_files = [f for f in all_gt if f.stem in wanted]
    pred_root = Path(pred_dir)
    if not pred_root.is_dir():
        raise UserError("prediction folder not found", path=pred_root)
    pairs = []
    for gt_file in gt_files:
        pred_file = pred_root / gt_file.name
        if not (pred_file.exists() or pred_file.is_symlink()):
            raise UserError(f"no prediction file for GT video {gt_file.stem}", path=pred_file)
        check_input_file(pred_file)
        pairs.append((gt_file, pred_file))
    gt_names = {f.name for f in all_gt}
    for extra in sorted(x for x in pred_root.iterdir() if x.suffix == ".json" and x.name not in gt_names):
        warnings.warn(InputWarning("no GT video of this name; not evaluated", path=extra), stacklevel=2)
    return pairs
