"""Random PoseTrack21 GT / prediction folders that exercise every rule of the kit's keypoint HOTA.

Used to make comparison cases against the PoseTrack21 kit (``make_hota_cases.py``). Written as
raw JSON documents in the PoseTrack21 layout: GT with ``person_id``, ``bbox_head`` and ignore
polygons, predictions in the submission layout with 17 distinct ``scores``. What appears: GT
joints with v = 0 but positive coordinates (they count), joints at negative or zero
coordinates (they do not), persons without joints, keypointed GT in unlabeled frames (ignored),
ignore polygons over legs, over a whole person and around the origin (where missing joints
sit), a labeled frame without predictions (the kit's issue #10), identity swaps, fragmented and
reused identities, false-positive tracks, near-duplicate predictions (contested assignments),
predicted joints at (0, 0) with a score. ``crash`` adds a frame the kit cannot evaluate.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import shapely

from vposebench.datasets.posetrack_scale import STANDING_PERSON
from vposebench.skeleton import POSETRACK18

_REAL = POSETRACK18.evaluated  # the ears are placeholders
_NAMES = list(POSETRACK18.joints)
CRASHES = ("no_gt_annotation", "all_gt_ignored")


def _square(x0: float, y0: float, x1: float, y1: float) -> list[list[float]]:
    return [[round(x0, 2), round(x1, 2), round(x1, 2), round(x0, 2)],
            [round(y0, 2), round(y0, 2), round(y1, 2), round(y1, 2)]]


def _survivors(persons: list, regions: list) -> int:
    """How many GT persons the kit's ignore filter keeps in a frame with these regions."""
    if not regions:
        return len(persons)
    polygons = [shapely.Polygon(list(zip(*r))) for r in regions]
    kept = 0
    for _, kps, _ in persons:
        xy = kps[_REAL, :2]
        inside = np.zeros(len(xy), dtype=bool)
        for poly in polygons:
            inside |= shapely.contains_xy(poly, xy[:, 0], xy[:, 1])
        xy = np.where(inside[:, None], 0.0, xy)
        kept += not (inside.all() or ((xy[:, 0] <= 0) & (xy[:, 1] <= 0)).all())
    return kept


def _video(rng: np.random.Generator, vid: int, crash: str | None) -> tuple[dict, dict]:
    n = int(rng.integers(8, 20))
    labeled = rng.random(n) < 0.75
    labeled[[0, n // 2, n - 1]] = True
    tracks = []
    for t in range(int(rng.integers(2, 6))):
        first = 0 if t == 0 or rng.random() < 0.7 else int(rng.integers(1, n // 2))
        last = n - 1 if t == 0 or rng.random() < 0.7 else int(rng.integers(n // 2, n))
        size = rng.uniform(120, 420)
        start = rng.uniform([150, 250], [1100, 500])
        if t and rng.random() < 0.35:  # a close neighbour: competing matches
            start, size = tracks[0]["start"] + rng.normal(0, 12, 2), tracks[0]["size"] * rng.uniform(0.9, 1.1)
        tracks.append({"first": first, "last": last, "size": size, "start": start, "vel": rng.normal(0, 5, 2),
                       "noise": rng.uniform(0.02, 0.3), "pid": 100 + t, "gid": t})
    if len(tracks) > 2 and rng.random() < 0.5:  # a GT id reused after its person left
        tracks[2].update(first=max(tracks[2]["first"], tracks[0]["last"] + 1), gid=0)
        tracks[2]["last"] = max(tracks[2]["last"], tracks[2]["first"])
    swap = (int(rng.integers(0, n)), int(rng.integers(1, 5)))
    empty_pred = int(rng.choice(np.flatnonzero(labeled))) if rng.random() < 0.6 else -1
    crash_frame = int(rng.choice(np.flatnonzero(labeled)[1:])) if crash else -1
    images, gt_anns, pred_anns = [], [], []
    for f in range(n):
        image_id = 10000000000 + vid * 10000 + f
        name = f"images/val/{vid:06d}_synth_val/{f:06d}.jpg"
        regions: list[list[list[float]]] = []
        gts, preds = [], []
        for t, tr in enumerate(tracks):
            if not tr["first"] <= f <= tr["last"]:
                continue
            xy = tr["start"] + tr["vel"] * f + (STANDING_PERSON + rng.normal(0, 0.015, STANDING_PERSON.shape)) * tr["size"]
            head = xy[[0, 1, 2]]
            hb = np.concatenate([head.min(0) - 0.05 * tr["size"], head.max(0) + 0.05 * tr["size"]])
            head_size = 0.6 * np.hypot(*(hb[2:] - hb[:2]))
            kps = np.zeros((17, 3))
            has = _REAL & (rng.random(17) < 0.88)
            kps[has] = np.c_[xy[has], np.ones(has.sum())]
            kps[has & (rng.random(17) < 0.05), 2] = 0  # v = 0 with coordinates: still counts
            if rng.random() < 0.05:
                kps[15:, 0] = -kps[15:, 0]  # ankles at negative x: not joints
            if (t and rng.random() < 0.04) or (not labeled[f] and rng.random() < 0.5):
                kps[:] = 0  # a bbox-only person
            if f == crash_frame and crash == "no_gt_annotation":
                kps = None
            gts.append((t, kps, hb))
            if f == empty_pred or rng.random() < 0.08:
                continue
            for copy in range(2 if rng.random() < 0.06 else 1):  # near duplicates: contested
                noise = rng.normal(0, tr["noise"] * head_size, (17, 2)) + copy * rng.normal(0, 3, 2)
                pk = np.zeros((17, 3))
                ph = _REAL & (rng.random(17) < 0.9)
                pk[ph] = np.c_[(xy + noise)[ph], np.ones(ph.sum())]
                odd = rng.random(17) < 0.03
                pk[odd & _REAL, :2] = [0.0, 0.0]  # (0, 0) with a score: absent
                pk[(rng.random(17) < 0.02) & _REAL, 1] = -4.0  # negative y: absent
                pid = tr["pid"] + 50 * copy
                if swap[0] <= f < swap[0] + swap[1] and t < 2 and len(tracks) > 1:
                    pid = tracks[1 - t]["pid"]
                if rng.random() < 0.04:  # a new identity from here on (fragmentation)
                    tr["pid"] = int(rng.integers(300, 900))
                preds.append((pid, pk))
        if rng.random() < 0.3:  # a false-positive track in the image corner
            c = np.array([1500.0, 300.0]) + rng.normal(0, 5, 2)
            pk = np.c_[c + STANDING_PERSON * 200, np.ones(17)]
            pk[~_REAL] = 0
            preds.append((990, pk))
        if labeled[f] and rng.random() < 0.35 and gts:
            t, kps, hb = gts[int(rng.integers(len(gts)))]
            if kps is not None and rng.random() < 0.5:  # over the legs
                legs = kps[13:17][kps[13:17, 0] > 0]
                if len(legs):
                    regions.append(_square(*(legs[:, :2].min(0) - 15), *(legs[:, :2].max(0) + 15)))
            elif kps is not None and len(gts) > 1:  # over one whole person (others stay)
                pts = kps[kps[:, 0] > 0][:, :2]
                if len(pts):
                    regions.append(_square(*(pts.min(0) - 10), *(pts.max(0) + 10)))
        if labeled[f] and rng.random() < 0.2:
            regions.append(_square(-20, -20, 40, 40))  # around the origin, where missing joints sit
        if labeled[f] and _survivors([g for g in gts if g[1] is not None], regions) == 0:
            regions = []  # the kit cannot evaluate a labeled frame without a GT person
        if f == crash_frame and crash == "all_gt_ignored":
            regions = [_square(-100, -100, 3000, 3000)]
        images.append({"file_name": name, "frame_id": image_id, "id": image_id, "is_labeled": bool(labeled[f]),
                       "has_labeled_person": bool(gts), "nframes": n, "vid_id": f"{vid:06d}",
                       "ignore_regions_x": [r[0] for r in regions], "ignore_regions_y": [r[1] for r in regions]})
        for k, (t, kps, hb) in enumerate(gts):
            if kps is None:
                continue
            box = np.r_[kps[kps[:, 0] > 0, :2].min(0), kps[kps[:, 0] > 0, :2].max(0)] if (kps[:, 0] > 0).any() \
                else np.r_[hb[:2], hb[2:] + 100]
            gt_anns.append({
                "bbox": [round(v, 2) for v in (box[0], box[1], box[2] - box[0], box[3] - box[1])],
                "bbox_head": [round(v, 2) for v in (hb[0], hb[1], hb[2] - hb[0], hb[3] - hb[1])],
                "category_id": 1, "id": image_id * 100 + k, "image_id": image_id,
                "keypoints": np.round(kps, 2).reshape(-1).tolist(), "person_id": 1000 + tracks[t]["gid"],
                "track_id": tracks[t]["gid"]})
        seen: set[int] = set()
        for pid, pk in preds:
            while pid in seen:
                pid += 1
            seen.add(pid)
            pred_anns.append({"bbox": [0, 0, 1, 1], "image_id": image_id, "keypoints": np.round(pk, 2).reshape(-1).tolist(),
                              "person_id": pid, "scores": [0.0] * 17, "track_id": pid})
    gt_doc = {"images": images, "annotations": gt_anns,
              "categories": [{"supercategory": "person", "id": 1, "name": "person", "keypoints": _NAMES}]}
    pred_doc = {"images": [{"file_name": i["file_name"], "frame_id": i["frame_id"], "id": i["id"]} for i in images],
                "annotations": pred_anns}
    return gt_doc, pred_doc


def make_hota_case(seed: int, *, videos: int = 2, crash: str | None = None) -> dict[str, dict[str, Any]]:
    """{"gt": {file name: document}, "pred": {file name: document}} for one random case."""
    if crash is not None and crash not in CRASHES:
        raise ValueError(f"crash must be one of {CRASHES}")
    rng = np.random.default_rng(seed)
    out: dict[str, dict[str, Any]] = {"gt": {}, "pred": {}}
    for v in range(videos):
        vid = 100 + 10 * (seed % 90) + v
        gt, pred = _video(rng, vid, crash if v == 0 else None)
        out["gt"][f"{vid:06d}_synth_val.json"] = gt
        out["pred"][f"{vid:06d}_synth_val.json"] = pred
    scores = rng.permutation(sum(len(d["annotations"]) for d in out["pred"].values()) * 17)
    k = 0
    for doc in out["pred"].values():  # distinct scores, as in a submission
        for ann in doc["annotations"]:
            ann["scores"] = [round(float(s + 1) / (len(scores) + 1), 6) for s in scores[k:k + 17]]
            for j in range(17):
                ann["keypoints"][3 * j + 2] = ann["scores"][j] if ann["keypoints"][3 * j + 2] else 0.0
            k += 17
    return out


def person_keypoints(centre: tuple[float, float], size: float = 200.0, offset: tuple[float, float] = (0, 0),
                     present: np.ndarray | None = None) -> list[float]:
    """17 PoseTrack'18 triplets of the template person (ears (0, 0, 0)), shifted by `offset`."""
    xy = np.asarray(centre) + STANDING_PERSON * size + np.asarray(offset)
    kps = np.zeros((17, 3))
    mask = _REAL if present is None else _REAL & present
    kps[mask] = np.c_[xy[mask], np.ones(mask.sum())]
    return kps.reshape(-1).tolist()


def hand_video(frames: list[dict[str, Any]], vid: int = 1) -> tuple[dict, dict]:
    """GT and prediction documents from per-frame specs: ``labeled`` (default True),
    ``gt`` and ``pred`` lists of (track id, 51 keypoint values[, head box xywh]), ``regions``
    (list of [xs, ys])."""
    images, gt, pred = [], [], []
    for f, spec in enumerate(frames):
        image_id = 10000000000 + vid * 10000 + f
        regions = spec.get("regions", [])
        images.append({"file_name": f"images/val/{vid:06d}_hand_val/{f:06d}.jpg", "frame_id": image_id,
                       "id": image_id, "is_labeled": spec.get("labeled", True), "nframes": len(frames),
                       "vid_id": f"{vid:06d}", "ignore_regions_x": [r[0] for r in regions],
                       "ignore_regions_y": [r[1] for r in regions]})
        for k, (track, kps, *head) in enumerate(spec.get("gt", [])):
            gt.append({"bbox": [0, 0, 10, 10], "bbox_head": head[0] if head else [0, 0, 30, 40],
                       "category_id": 1, "id": image_id * 100 + k, "image_id": image_id,
                       "keypoints": list(kps), "person_id": track, "track_id": track})
        for track, kps in spec.get("pred", []):
            pred.append({"bbox": [0, 0, 10, 10], "image_id": image_id, "keypoints": list(kps),
                         "scores": [0.5] * 17, "track_id": track})
    return ({"images": images, "annotations": gt, "categories": [{"id": 1, "name": "person", "keypoints": _NAMES}]},
            {"images": [{k: i[k] for k in ("file_name", "frame_id", "id")} for i in images], "annotations": pred})
