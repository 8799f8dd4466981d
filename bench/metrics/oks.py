"""The ``oks`` metric: COCO keypoint AP / AR computed by ``pycocotools.cocoeval.COCOeval`` itself.

The GT and prediction folders (any skeleton the suite reads) become one COCO ground-truth
document and one COCO results list (:func:`coco_documents`; ``--oks-coco-dir`` writes them),
which go to pycocotools unchanged: ``COCOeval(gt, results, "keypoints")`` with the skeleton's
per-joint sigmas (``oks_sigmas``), ``evaluate``, ``accumulate``, ``summarize``. Nothing of the
matching or the AP is re-implemented here.

Conversion: every labeled frame is an image; a GT person is an annotation with its joints
(visibility 2 where the file's v > 0, else (0, 0, 0)), ``num_keypoints`` = labelled joints,
``bbox`` = the person box (or, without one, the labelled joints' extent enlarged 1.3 times,
PoseTrack'18's rule) and ``area`` = that box's w * h. A prediction is a result with its joints
(absent ones (0, 0, 0)), ``bbox`` = its predicted joints' extent (pycocotools then takes the
detection area from it rather than from an extent that includes the (0, 0) stand-ins; the area
only places unmatched detections in the medium / large ranges) and ``score`` = the file's
person score, else the mean of its joint scores. Predictions whose joints' extent is centred strictly inside an ignore polygon of their
frame are left out (nobody was annotated there). Resampling videos (bootstrap) and subsets run
COCOeval's own ``accumulate`` on the per-image results of the chosen images, repeats included.
"""

from __future__ import annotations

import contextlib
import copy
import dataclasses
import functools
import io
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..atomic import atomic_write
from ..boxes import keypoint_box, xyxy_to_xywh
from ..errors import UserError
from ..formats import PoseTrackFile, pair_files, read_file
from ..registry import register_metric
from ..skeleton import Skeleton
from ..tables.base import Table
from .base import Metric, MetricResult, video_indices
from .ignore_regions import IgnoreRegions
from .oks_sigmas import sigmas_for

#: pycocotools' keypoint summary, in its order
STATS = ("AP", "AP50", "AP75", "APm", "APl", "AR", "AR50", "AR75", "ARm", "ARl")
#: the enlargement of the labelled joints' extent used when a GT person has no box
BOX_FROM_KEYPOINTS_SCALE = 1.3


@dataclasses.dataclass
class CocoDocuments:
    """A GT folder and a prediction folder as one COCO GT document and one results list."""

    skeleton: Skeleton
    gt: dict[str, Any]
    results: list[dict[str, Any]]
    videos: list[str]
    image_video: np.ndarray  # (I,) video index of each image (image id = position + 1)
    dropped_in_regions: int  # predictions left out because they sit in an ignore region


def _gt_annotations(parsed: PoseTrackFile, rows: np.ndarray, image_ids: np.ndarray, start_id: int) -> list[dict]:
    out = []
    for k, row in enumerate(rows):
        kps = parsed.keypoints[row]
        labelled = kps[:, 2] > 0
        triplets = np.zeros_like(kps)
        triplets[labelled, :2] = kps[labelled, :2]
        triplets[labelled, 2] = 2
        box = parsed.boxes[row]
        if np.isnan(box).any():
            box = keypoint_box(kps, labelled, BOX_FROM_KEYPOINTS_SCALE) if labelled.any() else np.zeros(4)
        xywh = xyxy_to_xywh(box)
        out.append({"id": start_id + k, "image_id": int(image_ids[k]), "category_id": 1, "iscrowd": 0,
                    "keypoints": triplets.reshape(-1).tolist(), "num_keypoints": int(labelled.sum()),
                    "bbox": xywh.tolist(), "area": float(xywh[2] * xywh[3])})
    return out


def _results(parsed: PoseTrackFile, rows: np.ndarray, image_ids: np.ndarray) -> list[dict]:
    out = []
    for k, row in enumerate(rows):
        kps = parsed.keypoints[row]
        present = ~np.isnan(kps[:, 0])
        triplets = np.zeros_like(kps)
        triplets[present] = kps[present]
        triplets[present & np.isnan(kps[:, 2]), 2] = 0.0
        score = parsed.person_scores[row]
        if not np.isfinite(score):
            joint_scores = kps[present, 2]
            joint_scores = joint_scores[np.isfinite(joint_scores)]
            score = float(joint_scores.mean()) if len(joint_scores) else 0.0
        box = keypoint_box(kps, present) if present.any() else np.zeros(4)
        out.append({"image_id": int(image_ids[k]), "category_id": 1, "bbox": xyxy_to_xywh(box).tolist(),
                    "keypoints": triplets.reshape(-1).tolist(), "score": float(score)})
    return out


def _outside_regions(pred: PoseTrackFile, gt: PoseTrackFile, rows: np.ndarray) -> np.ndarray:
    """(len(rows),) bool: the prediction's joint-extent centre is not inside an ignore polygon."""
    frames = pred.person_frame[rows]
    regions = IgnoreRegions.of(gt, np.arange(len(gt.frames)))
    xy = pred.keypoints[rows, :, :2]
    present = ~np.isnan(xy[..., 0])
    lo = np.where(present[..., None], xy, np.inf).min(axis=1)
    hi = np.where(present[..., None], xy, -np.inf).max(axis=1)
    centre = np.where(present.any(axis=1)[:, None], (lo + hi) / 2, np.nan)
    inside = regions.inside(frames, centre[:, None, :], present.any(axis=1)[:, None])
    return ~inside[:, 0]


def coco_documents(gt_dir: str | Path, pred_dir: str | Path, *,
                   videos: Sequence[str] | None = None) -> CocoDocuments:
    """Read the folders (one JSON per video) into COCO form; see the module docstring."""
    pairs = pair_files(gt_dir, pred_dir, videos)
    skeleton = None
    images, annotations, results, image_video = [], [], [], []
    dropped = 0
    for v, (gt_path, pred_path) in enumerate(pairs):
        gt = read_file(gt_path, "gt", skeleton=skeleton)
        skeleton = gt.skeleton
        pred = read_file(pred_path, "pred", skeleton=skeleton)
        if len(pred.frames) != len(gt.frames):
            raise UserError(f"{len(pred.frames)} frames, but the GT file has {len(gt.frames)} (frames are "
                            "paired by position)", path=pred.path, field="images")
        labeled = np.flatnonzero([f.is_labeled for f in gt.frames])
        image_of = np.zeros(len(gt.frames), dtype=np.int64)
        image_of[labeled] = len(images) + 1 + np.arange(len(labeled))
        for position in labeled:
            frame = gt.frames[position]
            image = {"id": int(image_of[position]), "file_name": frame.file_name}
            if frame.size is not None:
                image.update(height=frame.size[0], width=frame.size[1])
            images.append(image)
        image_video += [v] * len(labeled)
        gt_rows = np.flatnonzero(image_of[gt.person_frame] > 0)
        annotations += _gt_annotations(gt, gt_rows, image_of[gt.person_frame[gt_rows]], len(annotations) + 1)
        pred_rows = np.flatnonzero(image_of[pred.person_frame] > 0)
        keep = _outside_regions(pred, gt, pred_rows)
        dropped += int((~keep).sum())
        pred_rows = pred_rows[keep]
        results += _results(pred, pred_rows, image_of[pred.person_frame[pred_rows]])
    category = {"id": 1, "name": "person", "supercategory": "person", "keypoints": list(skeleton.joints),
                "skeleton": [[a + 1, b + 1] for a, b in skeleton.limbs]}
    return CocoDocuments(skeleton=skeleton, gt={"images": images, "annotations": annotations, "categories": [category]},
                         results=results, videos=[g.stem for g, _ in pairs],
                         image_video=np.array(image_video, dtype=np.int64), dropped_in_regions=dropped)


def write_coco_files(documents: CocoDocuments, folder: str | Path) -> tuple[Path, Path]:
    """``folder/gt.json`` and ``folder/results.json``: what pycocotools is given, as files."""
    out = Path(folder)
    paths = out / "gt.json", out / "results.json"
    for path, doc in zip(paths, (documents.gt, documents.results)):
        with atomic_write(path) as handle:
            json.dump(doc, handle)
    return paths


def run_cocoeval(documents: CocoDocuments):
    """A ``COCOeval`` of the documents after ``evaluate()`` (pycocotools' printing silenced)."""
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval

    with contextlib.redirect_stdout(io.StringIO()):
        coco_gt = COCO()
        coco_gt.dataset = copy.deepcopy(documents.gt)
        coco_gt.createIndex()
        if documents.results:
            coco_dt = coco_gt.loadRes([dict(r) for r in documents.results])
        else:  # what loadRes would make of an empty list (it cannot take one)
            coco_dt = COCO()
            coco_dt.dataset = {"images": list(coco_gt.dataset["images"]), "annotations": [],
                               "categories": copy.deepcopy(coco_gt.dataset["categories"])}
            coco_dt.createIndex()
        evaluator = COCOeval(coco_gt, coco_dt, "keypoints")
        evaluator.params.kpt_oks_sigmas = sigmas_for(documents.skeleton)
        evaluator.evaluate()
    return evaluator


def summarize(evaluator, image_positions: np.ndarray) -> np.ndarray:
    """COCOeval's 10 keypoint stats over the images at these positions of ``params.imgIds``
    (repeats count twice), by its own ``accumulate`` and ``summarize``; -1 (undefined) -> NaN."""
    n = len(evaluator.params.imgIds)
    blocks = len(evaluator.evalImgs) // max(n, 1)
    ids = [evaluator.params.imgIds[i] for i in image_positions]
    sub = copy.copy(evaluator)
    sub.evalImgs = [evaluator.evalImgs[b * n + i] for b in range(blocks) for i in image_positions]
    sub.params = copy.copy(evaluator.params)
    sub.params.imgIds = ids
    sub._paramsEval = copy.copy(evaluator._paramsEval)
    sub._paramsEval.imgIds = ids
    with contextlib.redirect_stdout(io.StringIO()):
        sub.accumulate()
        sub.summarize()
    stats = np.asarray(sub.stats, dtype=np.float64)
    return np.where(stats < 0, np.nan, stats)


@dataclasses.dataclass
class OKSResult(MetricResult):
    """COCO keypoint AP / AR over the selected videos, from COCOeval's per-image results."""

    documents: CocoDocuments
    evaluator: Any  # pycocotools COCOeval after evaluate()
    selected: np.ndarray

    metric = "oks"

    @property
    def videos(self) -> list[str]:
        return [self.documents.videos[i] for i in self.selected]

    def subset(self, videos: Sequence[str]) -> OKSResult:
        return dataclasses.replace(self, selected=video_indices(self.documents.videos, videos))

    def _positions(self, multiplicity: np.ndarray) -> np.ndarray:
        """Positions in ``params.imgIds`` of the images of each video, repeated as often as
        `multiplicity` (over all videos) says, in video order."""
        position = {image_id: k for k, image_id in enumerate(self.evaluator.params.imgIds)}
        per_video = [[] for _ in self.documents.videos]
        for image, video in enumerate(self.documents.image_video):
            per_video[video].append(position[image + 1])
        return np.array([p for v, count in enumerate(multiplicity) for _ in range(int(count)) for p in per_video[v]],
                        dtype=np.int64)

    @functools.cached_property
    def stats(self) -> np.ndarray:
        """(10,) pycocotools' summary (fractions, NaN where undefined), in STATS order."""
        multiplicity = np.zeros(len(self.documents.videos))
        multiplicity[self.selected] = 1
        return summarize(self.evaluator, self._positions(multiplicity))

    @staticmethod
    def _cells(stats: np.ndarray) -> dict[str, Any]:
        return {f"OKS/{name}": 100 * stats[..., k] for k, name in enumerate(STATS)}

    def headline(self) -> dict[str, float]:
        return {k: float(v) for k, v in self._cells(self.stats).items()}

    def resample(self, weights: np.ndarray) -> dict[str, np.ndarray]:
        weights = np.atleast_2d(np.asarray(weights))
        rows = []
        for row in weights:
            multiplicity = np.zeros(len(self.documents.videos))
            multiplicity[self.selected] = row
            rows.append(summarize(self.evaluator, self._positions(multiplicity)))
        return self._cells(np.array(rows))

    def summary(self) -> dict[str, Any]:
        cells = self.headline()
        sigmas = sigmas_for(self.documents.skeleton)
        sel_images = np.isin(self.documents.image_video, self.selected)
        gt_in = [a for a in self.documents.gt["annotations"] if sel_images[a["image_id"] - 1]]
        return {
            "metric": "oks",
            "OKS": {name: cells[f"OKS/{name}"] for name in STATS},
            "skeleton": self.documents.skeleton.name,
            "sigmas": dict(zip(self.documents.skeleton.joints, sigmas.tolist())),
            "evaluator": "pycocotools.cocoeval.COCOeval(iouType='keypoints'): evaluate, accumulate, summarize",
            "options": {"area": "GT box w * h", "max_detections_per_image": int(self.evaluator.params.maxDets[-1]),
                        "score": "person score, else the mean of the joint scores",
                        "labelled_gt_joint": "v > 0"},
            "counts": {"images": int(sel_images.sum()), "gt_persons": len(gt_in),
                       "gt_persons_without_labelled_joints": sum(a["num_keypoints"] == 0 for a in gt_in),
                       "predictions": sum(sel_images[r["image_id"] - 1] for r in self.documents.results),
                       "predictions_in_ignore_regions_left_out": self.documents.dropped_in_regions},
            "videos": len(self.selected),
        }

    def tables(self) -> list[Table]:
        cells = self.headline()
        return [Table.from_rows("OKS", f"COCO keypoint AP / AR (OKS, pycocotools; {self.documents.skeleton.name} "
                                "sigmas)", ["", *STATS], [["OKS", *(cells[f"OKS/{name}"] for name in STATS)]])]


@register_metric("oks")
class OKSMetric(Metric):
    """COCO keypoint AP / AP50 / AP75 / APm / APl / AR through pycocotools' COCOeval."""

    def __init__(self, coco_dir: str | Path | None = None) -> None:
        self.coco_dir = coco_dir

    def evaluate(self, gt_dir: str | Path, pred_dir: str | Path, *,
                 videos: Sequence[str] | None = None) -> OKSResult:
        documents = coco_documents(gt_dir, pred_dir, videos=videos)
        if self.coco_dir is not None:
            write_coco_files(documents, self.coco_dir)
        return OKSResult(documents=documents, evaluator=run_cocoeval(documents),
                         selected=np.arange(len(documents.videos)))
