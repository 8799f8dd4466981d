"""One random GT / prediction set written twice: as PoseTrack'18 JSON and as PoseTrack'17 JSON.

The data are built once in the suite's object model (PoseTrack'18 slots) and written by the
suite's PT18 writer and by a PT17 writer here, with every value exactly representable in both
(coordinates in quarter pixels, integer head boxes), so both folders hold the same data: joints
(PT17 point ids through the official converter's mapping), visibility, track ids, joint and
person scores, head boxes, ignore polygons, unlabeled frames, GT persons without joints.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from vposebench.datasets.posetrack_scale import STANDING_PERSON
from vposebench.formats import write_annotations, write_predictions
from vposebench.skeleton import POSETRACK18, PT17_ID_FOR_PT18_SLOT
from vposebench.structures import FrameGT, FramePred, PersonGT, PersonPred, VideoGT, VideoPred

_REAL = POSETRACK18.evaluated


def _quarter(values: np.ndarray) -> np.ndarray:
    return np.round(np.asarray(values) * 4) / 4


def random_videos(seed: int, videos: int = 3) -> list[tuple[VideoGT, VideoPred]]:
    """Videos with identity swaps, misses, false positives, ignore regions and unlabeled frames."""
    rng = np.random.default_rng(seed)
    out = []
    for v in range(videos):
        name = f"{10 + v:06d}_mpii_test"
        n = int(rng.integers(8, 14))
        labeled = rng.random(n) < 0.8
        labeled[0] = labeled[n // 2] = True
        tracks = [{"start": rng.uniform([200, 300], [1500, 500]), "vel": rng.normal(0, 6, 2),
                   "size": rng.uniform(150, 350), "pid": 20 + t} for t in range(int(rng.integers(2, 5)))]
        gts, preds = [], []
        score = iter(rng.permutation(10000) / 10000 + 1e-4)
        for f in range(n):
            persons, found, regions = [], [], []
            for t, tr in enumerate(tracks):
                xy = _quarter(tr["start"] + tr["vel"] * f + (STANDING_PERSON + rng.normal(0, 0.02, (17, 2))) * tr["size"])
                kps = np.zeros((17, 3))
                has = _REAL & (rng.random(17) < 0.85)
                if rng.random() < 0.05:
                    has[:] = False  # a GT person without joints
                kps[has] = np.c_[xy[has], np.ones(has.sum())]
                head = np.round(np.r_[xy[[0, 1, 2]].min(0) - 15, xy[[0, 1, 2]].max(0) + 15])
                persons.append(PersonGT(kps, track_id=t, head_box=head))
                if rng.random() < 0.1:
                    continue
                pk = np.full((17, 3), np.nan)
                ph = _REAL & (rng.random(17) < 0.9)
                pk[ph, :2] = _quarter(xy[ph] + rng.normal(0, 0.06 * tr["size"], (ph.sum(), 2)))
                pk[ph, 2] = [next(score) for _ in range(ph.sum())]
                pid = tr["pid"] if not (f > n // 2 and t < 2) else tracks[1 - t]["pid"]  # a swap
                found.append(PersonPred(pk, track_id=pid, score=float(next(score))))
            if rng.random() < 0.3:
                x0, y0 = _quarter(rng.uniform([0, 0], [1200, 500]))
                regions.append(np.array([[x0, y0], [x0 + 300, y0], [x0 + 300, y0 + 250], [x0, y0 + 250]]))
            if rng.random() < 0.1:
                found = []  # a frame without predictions
            gts.append(FrameGT(f, f"images/val/{name}/{f:06d}.jpg", persons if labeled[f] else [],
                               is_labeled=bool(labeled[f]), ignore_regions=regions if labeled[f] else []))
            preds.append(FramePred(f, f"images/val/{name}/{f:06d}.jpg", found))
        out.append((VideoGT(name, POSETRACK18, gts), VideoPred(name, POSETRACK18, preds)))
    return out


def _pt17_points(keypoints: np.ndarray, kind: str) -> list[dict[str, Any]]:
    points = []
    for slot in np.flatnonzero(PT17_ID_FOR_PT18_SLOT >= 0):
        x, y, third = keypoints[slot]
        if (kind == "gt" and (x, y, third) == (0, 0, 0)) or (kind == "pred" and np.isnan(x)):
            continue
        point: dict[str, Any] = {"id": [int(PT17_ID_FOR_PT18_SLOT[slot])], "x": [float(x)], "y": [float(y)]}
        if kind == "pred":
            point["score"] = [float(third)]
        points.append(point)
    return points


def pt17_documents(gt: VideoGT, pred: VideoPred) -> tuple[dict, dict]:
    """The two videos as PoseTrack'17 ``annolist`` documents."""
    gt_list, pred_list = [], []
    for frame, found in zip(gt.frames, pred.frames):
        entry: dict[str, Any] = {"image": [{"name": frame.file_name}], "imgnum": [frame.index + 1],
                                 "is_labeled": [int(frame.is_labeled)]}
        entry["ignore_regions"] = [{"point": [{"x": [float(x)], "y": [float(y)]} for x, y in region]}
                                   for region in frame.ignore_regions]
        entry["annorect"] = [
            {"track_id": [p.track_id], **{k: [float(v)] for k, v in zip(("x1", "y1", "x2", "y2"), p.head_box)},
             "annopoints": [{"point": _pt17_points(p.keypoints, "gt")}]} for p in frame.persons]
        gt_list.append(entry)
        pred_list.append({"image": [{"name": frame.file_name}], "imgnum": [frame.index + 1], "annorect": [
            {"track_id": [p.track_id], "score": [p.score], "annopoints": [{"point": _pt17_points(p.keypoints, "pred")}]}
            for p in found.persons]})
    return {"annolist": gt_list}, {"annolist": pred_list}


def write_both_formats(seed: int, root: Path) -> tuple[Path, Path]:
    """``root/pt18/{gt,pred}`` and ``root/pt17/{gt,pred}`` holding the same data."""
    for gt, pred in random_videos(seed):
        write_annotations(gt, root / "pt18" / "gt" / f"{gt.name}.json")
        write_predictions(pred, root / "pt18" / "pred" / f"{gt.name}.json")
        for kind, doc in zip(("gt", "pred"), pt17_documents(gt, pred)):
            path = root / "pt17" / kind / f"{gt.name}.json"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(doc))
    return root / "pt18", root / "pt17"
