"""Random PoseTrack GT / prediction folders that exercise every rule of the official evaluation.

Used to make comparison cases against the official code (``make_official_cases.py``) and for
property tests. Files are written as raw JSON documents (not through the suite's writer) so
that the official formats' corner cases appear: PT17 persons without ``annopoints`` or with an
empty point list, GT persons without joints, predictions without scores, ignore regions that
swallow a whole person or a frame's only person, frames without predictions, contested
predictions near two GT persons, distances of exactly 0.5 head sizes, identity swaps and
track-id changes. Scores are distinct within a case unless ``missing_scores`` is set.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

# internal joint id -> PT18 slot (official converter mapping)
_SLOT = [16, 14, 12, 11, 13, 15, 10, 8, 6, 5, 7, 9, 1, 0, 2]
# a standing person, internal joint order, in units of body height around the hip centre
_TEMPLATE = np.array([
    [-0.08, 0.48], [-0.08, 0.25], [-0.07, 0.0], [0.07, 0.0], [0.08, 0.25], [0.08, 0.48],
    [-0.15, -0.2], [-0.13, -0.4], [-0.1, -0.62], [0.1, -0.62], [0.13, -0.4], [0.15, -0.2],
    [0.0, -0.68], [0.0, -0.78], [0.0, -0.95],
])


def _person(rng: np.random.Generator, centre: np.ndarray, size: float) -> np.ndarray:
    return centre + (_TEMPLATE + rng.normal(0, 0.02, _TEMPLATE.shape)) * size


def make_case(seed: int, *, fmt: str = "pt18", videos: int = 2, missing_scores: bool = False,
              repeated_gt_ids: bool = False, single_frame_video: bool = False) -> dict[str, dict[str, Any]]:
    """{"gt": {file name: document}, "pred": {file name: document}} for one random case."""
    rng = np.random.default_rng(seed)
    raw = [_video(rng, v, missing_scores, repeated_gt_ids, single_frame_video and v == 0)
           for v in range(videos)]
    _distinct_scores(rng, raw)
    out: dict[str, dict[str, Any]] = {"gt": {}, "pred": {}}
    for vid, frames in raw:
        name = f"{vid:06d}_mpii_test"
        writer = pt18_document if fmt == "pt18" else pt17_document
        out["gt"][f"{name}.json"] = writer(name, frames, "gt")
        out["pred"][f"{name}.json"] = writer(name, frames, "pred")
    return out


def write_case(case: dict[str, dict[str, Any]], root: Path) -> tuple[Path, Path]:
    """Write a case's documents under root/gt and root/pred."""
    for kind in ("gt", "pred"):
        (root / kind).mkdir(parents=True, exist_ok=True)
        for name, doc in case[kind].items():
            (root / kind / name).write_text(json.dumps(doc))
    return root / "gt", root / "pred"


def _video(rng, index, missing_scores, repeated_gt_ids, single_frame):
    vid = int(rng.integers(1, 30000)) * 10 + index
    n_frames = int(rng.integers(5, 12))
    labeled = rng.random(n_frames) < 0.8
    labeled[[0, -1]] = True
    if single_frame:
        labeled[:] = False
        labeled[n_frames // 2] = True
    n_tracks = int(rng.integers(2, 6))
    tracks = []
    for t in range(n_tracks):
        first = int(rng.integers(0, n_frames // 2)) if rng.random() < 0.3 else 0
        last = int(rng.integers(n_frames // 2, n_frames)) if rng.random() < 0.3 else n_frames - 1
        size = rng.uniform(150, 400)
        start = rng.uniform([200, 350], [1700, 700])
        if t > 0 and rng.random() < 0.3:  # a close neighbour: contested predictions
            start = tracks[0]["start"] + rng.normal(0, 15, 2)
            size = tracks[0]["size"] * rng.uniform(0.9, 1.1)
        tracks.append({"first": first, "last": last, "size": size, "start": start,
                       "vel": rng.normal(0, 6, 2), "pred_id": int(rng.integers(0, 9000))})
    regions_on = rng.random() < 0.5
    frames = []
    for f in range(n_frames):
        gt, pred = [], []
        region = None
        if regions_on and labeled[f] and rng.random() < 0.5:
            x0, y0 = rng.uniform(0, 1500), rng.uniform(0, 700)
            w, h = rng.uniform(100, 600), rng.uniform(100, 500)
            region = [[x0, y0], [x0 + w, y0], [x0 + w, y0 + h], [x0, y0 + h]]
        swap = rng.random() < 0.1
        no_preds = rng.random() < 0.08
        for t, tr in enumerate(tracks):
            if not tr["first"] <= f <= tr["last"]:
                continue
            xy = _person(rng, tr["start"] + tr["vel"] * f, tr["size"])
            if labeled[f]:
                annotated = rng.random(15) < 0.85
                if rng.random() < 0.05:
                    annotated[:] = False
                head = xy[[12, 13, 14]]
                hb = np.concatenate([head.min(0) - 0.06 * tr["size"], head.max(0) + 0.06 * tr["size"]])
                if rng.random() < 0.1:  # head box with a diagonal of 50 px: head size exactly 30
                    hb = np.array([xy[14, 0], xy[14, 1], xy[14, 0] + 30, xy[14, 1] + 40])
                track_id = t if not (repeated_gt_ids and t == 1 and f % 2) else 0
                if region is not None and t == 0 and rng.random() < 0.5:  # swallow this person
                    region = [[xy[:, 0].min() - 20, xy[:, 1].min() - 20], [xy[:, 0].max() + 20, xy[:, 1].min() - 20],
                              [xy[:, 0].max() + 20, xy[:, 1].max() + 20], [xy[:, 0].min() - 20, xy[:, 1].max() + 20]]
                gt.append({"xy": xy, "annotated": annotated, "head": hb, "track": track_id,
                           "pt17_style": int(rng.integers(0, 3))})
            if no_preds or rng.random() < 0.12:
                continue
            noise = rng.normal(0, 0.03 * tr["size"], xy.shape)
            gross = rng.random(15) < 0.1
            noise[gross] = rng.normal(0, 0.3 * tr["size"], (int(gross.sum()), 2))
            pxy = xy + noise
            if labeled[f] and gt and gt[-1]["track"] == t and (gt[-1]["head"][2] - gt[-1]["head"][0]) == 30:
                pxy[14] = xy[14] + [9.0, 12.0]  # exactly 0.5 head sizes away
            predicted = rng.random(15) < 0.92
            if rng.random() < 0.03:
                predicted[:] = False
            pid = tr["pred_id"]
            if swap and t < 2 and len(tracks) > 1:
                pid = tracks[1 - t]["pred_id"]
            if rng.random() < 0.05:  # a new identity from here on
                tr["pred_id"] = int(rng.integers(0, 9000))
            pred.append({"xy": pxy, "predicted": predicted, "track": pid,
                         "no_scores": missing_scores and rng.random() < 0.2})
        if not no_preds:
            for k in range(int(rng.poisson(0.6))):
                c = rng.uniform([100, 300], [1800, 800])
                pred.append({"xy": _person(rng, c, rng.uniform(100, 300)), "predicted": rng.random(15) < 0.8,
                             "track": 9000 + k, "no_scores": False})
        _dedupe_tracks(pred)
        frames.append({"labeled": bool(labeled[f]), "gt": gt if labeled[f] else [], "pred": pred,
                       "region": region})
    return vid, frames


def _dedupe_tracks(pred: list[dict]) -> None:
    seen: set[int] = set()
    for p in pred:
        while p["track"] in seen:
            p["track"] = (p["track"] + 1) % 9999
        seen.add(p["track"])


def _distinct_scores(rng, raw) -> None:
    slots = [(p, j) for _, frames in raw for fr in frames for p in fr["pred"] for j in range(15)]
    ranks = rng.permutation(len(slots))
    for (p, j), r in zip(slots, ranks):
        p.setdefault("scores", np.zeros(15))[j] = (r + 1) / (len(slots) + 1)


def _file_name(name: str, f: int) -> str:
    return f"images/val/{name}/{f:06d}.jpg"


def pt18_document(name: str, frames: list[dict], kind: str) -> dict:
    vid = int(name[:6])
    images, anns = [], []
    for f, fr in enumerate(frames):
        image_id = 10000000000 + vid * 10000 + f
        image: dict[str, Any] = {"id": image_id, "frame_id": image_id, "file_name": _file_name(name, f),
                                 "vid_id": name[:6], "nframes": len(frames), "is_labeled": fr["labeled"],
                                 "has_no_densepose": True}
        if kind == "gt":
            regions = [fr["region"]] if fr["region"] is not None else []
            image["ignore_regions_x"] = [[float(p[0]) for p in r] for r in regions]
            image["ignore_regions_y"] = [[float(p[1]) for p in r] for r in regions]
        images.append(image)
        for k, person in enumerate(fr[kind]):
            kps = np.zeros((17, 3))
            has = person["annotated"] if kind == "gt" else person["predicted"]
            for j in np.flatnonzero(has):
                kps[_SLOT[j]] = [*np.round(person["xy"][j], 2), 1]
            ann: dict[str, Any] = {"id": image_id * 100 + k, "image_id": image_id, "category_id": 1,
                                   "track_id": int(person["track"]), "keypoints": kps.reshape(-1).tolist()}
            if kind == "gt":
                x1, y1, x2, y2 = (float(v) for v in np.round(person["head"], 2))
                ann["bbox_head"] = [x1, y1, round(x2 - x1, 2), round(y2 - y1, 2)]
                ann["scores"] = []
            elif person["no_scores"]:
                ann["scores"] = []
            else:
                scores = np.zeros(17)
                for j in range(15):
                    scores[_SLOT[j]] = person["scores"][j]
                ann["scores"] = scores.tolist()
            anns.append(ann)
    return {"images": images, "annotations": anns, "categories": [{
        "supercategory": "person", "id": 1, "name": "person",
        "keypoints": ["nose", "head_bottom", "head_top", "left_ear", "right_ear", "left_shoulder",
                      "right_shoulder", "left_elbow", "right_elbow", "left_wrist", "right_wrist",
                      "left_hip", "right_hip", "left_knee", "right_knee", "left_ankle", "right_ankle"],
        "skeleton": []}]}


def pt17_document(name: str, frames: list[dict], kind: str) -> dict:
    annolist = []
    for f, fr in enumerate(frames):
        entry: dict[str, Any] = {"image": [{"name": _file_name(name, f)}], "imgnum": [f + 1], "annorect": []}
        if kind == "gt" and fr["region"] is not None:
            entry["ignore_regions"] = [{"point": [{"x": [float(x)], "y": [float(y)]} for x, y in fr["region"]]}]
        for person in fr[kind]:
            has = person["annotated"] if kind == "gt" else person["predicted"]
            points = []
            for j in np.flatnonzero(has):
                x, y = (float(v) for v in np.round(person["xy"][j], 2))
                point: dict[str, Any] = {"id": [int(j)], "x": [x], "y": [y]}
                if kind == "pred" and not person["no_scores"]:
                    point["score"] = [float(person["scores"][j])]
                points.append(point)
            rect: dict[str, Any] = {"track_id": [int(person["track"])]}
            if kind == "gt":
                for key, value in zip(("x1", "y1", "x2", "y2"), np.round(person["head"], 2)):
                    rect[key] = [float(value)]
            if points or kind == "pred":
                rect["annopoints"] = [{"point": points}]
            else:  # a GT person without joints, in one of PT17's three spellings
                style = person["pt17_style"]
                if style == 1:
                    rect["annopoints"] = []
                elif style == 2:
                    rect["annopoints"] = [{"point": []}]
            entry["annorect"].append(rect)
        entry["is_labeled"] = [1 if fr["labeled"] else 0]
        annolist.append(entry)
    return {"annolist": annolist}
