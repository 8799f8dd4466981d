"""Folders of per-video JSON files: list them, and pair a GT folder with a prediction folder."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from ..errors import UserError
from .jsonfile import PathLike


def list_video_files(folder: PathLike) -> list[Path]:
    """The *.json files of a GT or prediction folder, sorted by name."""
    p = Path(folder)
    if not p.exists():
        raise UserError("folder not found", path=p)
    if not p.is_dir():
        raise UserError("expected a folder of per-video JSON files", path=p)
    files = sorted(x for x in p.iterdir() if x.suffix == ".json" and x.is_file())
    if not files:
        raise UserError("no .json files in folder", path=p)
    return files


def pair_files(gt_dir: PathLike, pred_dir: PathLike, videos: Sequence[str] | None = None) -> list[tuple[Path, Path]]:
    """(GT file, prediction file) per video, sorted by name; every GT video needs a prediction."""
    gt_files = list_video_files(gt_dir)
    if videos is not None:
        wanted = set(videos)
        unknown = wanted - {f.stem for f in gt_files}
        if unknown:
            raise UserError(f"unknown video(s) {sorted(unknown)}", path=gt_dir)
        gt_files = [f for f in gt_files if f.stem in wanted]
    pred_root = Path(pred_dir)
    if not pred_root.is_dir():
        raise UserError("prediction folder not found", path=pred_root)
    pairs = []
    for gt_file in gt_files:
        pred_file = pred_root / gt_file.name
        if not pred_file.is_file():
            raise UserError(f"no prediction file for GT video {gt_file.stem}", path=pred_file)
        pairs.append((gt_file, pred_file))
    return pairs
