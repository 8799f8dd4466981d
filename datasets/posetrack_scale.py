"""A PoseTrack'18-val-sized ground-truth / prediction set for speed and memory benchmarks.

Annotation files only (no images): by default 170 videos x 150 frames, PoseTrack's labelling
pattern (30 consecutive frames in the middle plus every 4th frame, about 10k labeled frames),
about 6 GT persons per labeled frame moving smoothly with track ids, missing joints, ignore
regions on some frames; predictions on every frame with localisation noise, gross errors,
misses, false positives (about 7 predicted persons per labeled frame), identity switches and
distinct per-joint scores. Written as PoseTrack'18 JSON (``gt/`` and ``pred/``, one file per
video), deterministic for a seed.

Run ``python -m vposebench.datasets.posetrack_scale --out DIR`` to write it.
"""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path

import numpy as np

from vposebench.boxes import keypoint_box
from vposebench.formats import write_annotations, write_predictions
from vposebench.skeleton import POSETRACK18
from vposebench.structures import FrameGT, FramePred, PersonGT, PersonPred, VideoGT, VideoPred

#: A standing person in PT18 slot order, in units of body height (origin at the hip centre); the
#: test helpers that make random PoseTrack sets pose their people from it too.
STANDING_PERSON = np.array([
    [0.00, -0.78], [0.00, -0.68], [0.00, -0.95], [0, 0], [0, 0],  # nose, neck, head top, ears
    [0.10, -0.62], [-0.10, -0.62], [0.13, -0.40], [-0.13, -0.40], [0.15, -0.20], [-0.15, -0.20],
    [0.07, 0.00], [-0.07, 0.00], [0.08, 0.25], [-0.08, 0.25], [0.08, 0.48], [-0.08, 0.48],
])
_REAL = np.array([j not in POSETRACK18.placeholders for j in range(17)])


@dataclasses.dataclass
class ScaleSetStats:
    videos: int
    frames: int
    labeled_frames: int
    gt_persons: int
    pred_persons: int
    pred_persons_on_labeled_frames: int


def labeled_mask(num_frames: int, run: int = 30, every: int = 4) -> np.ndarray:
    """PoseTrack val labelling: `run` consecutive frames in the middle plus every `every`-th."""
    mask = np.zeros(num_frames, dtype=bool)
    mask[::every] = True
    start = max(0, num_frames // 2 - run // 2)
    mask[start:start + run] = True
    return mask


def _tracks(rng: np.random.Generator, num_frames: int, persons: int, width: int, height: int):
    """Per person: first/last frame, hip-centre path and body height per frame."""
    out = []
    for _ in range(persons):
        first = 0 if rng.random() < 0.75 else int(rng.integers(0, num_frames // 2))
        last = num_frames - 1 if rng.random() < 0.75 else int(rng.integers(num_frames // 2, num_frames))
        size = rng.uniform(0.25, 0.6) * height
        start = np.array([rng.uniform(0.1, 0.9) * width, rng.uniform(0.4, 0.7) * height])
        velocity = rng.normal(0, 2.0, 2)
        steps = rng.normal(0, 0.6, (num_frames, 2)).cumsum(axis=0) + velocity * np.arange(num_frames)[:, None]
        out.append((first, last, start + steps, size))
    return out


def _video(rng: np.random.Generator, index: int, num_frames: int, mean_persons: float,
           extra_preds: float, predict_unlabeled: bool) -> tuple[VideoGT, VideoPred]:
    width, height = 1920, 1080
    vid = f"{10000 + index:06d}"
    name = f"{vid}_mpii_test"
    labeled = labeled_mask(num_frames)
    persons = int(np.clip(rng.poisson(mean_persons), 2, 12))
    tracks = _tracks(rng, num_frames, persons, width, height)
    pose_jitter = [rng.normal(0, 0.03, (17, 2)) for _ in tracks]
    # identity switches: at a random frame two prediction ids swap
    swap_at = int(rng.integers(num_frames // 3, num_frames)) if persons > 1 and rng.random() < 0.5 else num_frames
    regions = [np.array([[0.0, 0], [300, 0], [300, 200], [0, 200]])] if rng.random() < 0.3 else []
    gt_frames, pred_frames = [], []
    for f in range(num_frames):
        file_name = f"images/val/{name}/{f:06d}.jpg"
        gt_persons, pred_persons = [], []
        pred_ids = list(range(persons))
        if f >= swap_at:
            pred_ids[0], pred_ids[1] = pred_ids[1], pred_ids[0]
        for t, (first, last, path, size) in enumerate(tracks):
            if not first <= f <= last:
                continue
            sway = np.sin(f / 7.0 + t) * 0.05
            xy = path[f] + (STANDING_PERSON + pose_jitter[t] + [sway, 0]) * size
            annotated = _REAL & (rng.random(17) < 0.9)
            kps = np.zeros((17, 3))
            kps[annotated, :2] = xy[annotated]
            kps[annotated, 2] = 1.0
            head = xy[[0, 1, 2]]
            head_box = np.concatenate([head.min(0) - 0.05 * size, head.max(0) + 0.05 * size])
            if labeled[f]:
                gt_persons.append(PersonGT(kps, track_id=t, box=keypoint_box(kps, annotated, 1.3),
                                           head_box=head_box))
            if (labeled[f] or predict_unlabeled) and rng.random() < 0.95:
                noise = rng.normal(0, 0.02 * size, (17, 2))
                gross = rng.random(17) < 0.08
                noise[gross] = rng.normal(0, 0.2 * size, (int(gross.sum()), 2))
                pred = np.full((17, 3), np.nan)
                pred[_REAL, :2] = xy[_REAL] + noise[_REAL]
                pred[_REAL, 2] = np.clip(rng.beta(5, 2, int(_REAL.sum())) - gross[_REAL] * 0.3, 0.001, 1)
                pred_persons.append(PersonPred(pred, track_id=pred_ids[t], score=float(rng.random())))
        if labeled[f] or predict_unlabeled:
            for k in range(rng.poisson(extra_preds)):
                centre = rng.uniform([0, 0], [width, height])
                fp = np.full((17, 3), np.nan)
                fp[_REAL, :2] = centre + STANDING_PERSON[_REAL] * rng.uniform(100, 400)
                fp[_REAL, 2] = rng.uniform(0.001, 0.6, int(_REAL.sum()))
                pred_persons.append(PersonPred(fp, track_id=500 + k, score=float(rng.random())))
        gt_frames.append(FrameGT(index=f, file_name=file_name, persons=gt_persons,
                                 is_labeled=bool(labeled[f]), ignore_regions=regions if labeled[f] else []))
        pred_frames.append(FramePred(index=f, file_name=file_name, persons=pred_persons))
    meta = {"vid_id": vid}
    return VideoGT(name, POSETRACK18, gt_frames, meta), VideoPred(name, POSETRACK18, pred_frames)


def _make_scores_distinct(videos: list[VideoPred], rng: np.random.Generator) -> None:
    """Tied scores make the official AP depend on an unstable sort: give every joint its own."""
    total = sum(int(np.isfinite(p.keypoints[:, 2]).sum()) for v in videos for f in v for p in f.persons)
    ranks = iter(rng.permutation(total))
    for video in videos:
        for frame in video:
            for person in frame.persons:
                valid = np.isfinite(person.keypoints[:, 2])
                for j in np.flatnonzero(valid):
                    person.keypoints[j, 2] = (next(ranks) + 1) / (total + 1)


def generate_scale_set(out: str | Path, *, videos: int = 170, frames: int = 150, seed: int = 0,
                       mean_persons: float = 6.6, extra_preds: float = 1.0,
                       predict_unlabeled: bool = False) -> ScaleSetStats:
    """Write `out/gt/*.json` and `out/pred/*.json`; return what was written."""
    out = Path(out)
    rng = np.random.default_rng(seed)
    pairs = [_video(rng, i, frames, mean_persons, extra_preds, predict_unlabeled) for i in range(videos)]
    _make_scores_distinct([p for _, p in pairs], rng)
    stats = ScaleSetStats(videos, 0, 0, 0, 0, 0)
    for gt, pred in pairs:
        write_annotations(gt, out / "gt" / f"{gt.name}.json")
        write_predictions(pred, out / "pred" / f"{pred.name}.json", vid_id=gt.meta["vid_id"])
        stats.frames += len(gt.frames)
        for g, p in zip(gt.frames, pred.frames):
            stats.labeled_frames += g.is_labeled
            stats.gt_persons += len(g.persons)
            stats.pred_persons += len(p.persons)
            stats.pred_persons_on_labeled_frames += len(p.persons) if g.is_labeled else 0
    return stats


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True, type=Path)
    parser.add_argument("--videos", type=int, default=170)
    parser.add_argument("--frames", type=int, default=150)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    stats = generate_scale_set(args.out, videos=args.videos, frames=args.frames, seed=args.seed)
    print(dataclasses.asdict(stats))
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
