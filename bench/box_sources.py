"""Where the runner's person boxes come from: ground truth, jittered ground truth (a seeded
stand-in for a detector), or a COCO-format detections file.

Every source is a pure function of (video, frame): the jitter's random stream is derived from
the seed, the video name and the frame index, so results never depend on the order in which
videos are processed or on the number of workers.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
from collections import defaultdict
from pathlib import Path

import numpy as np

from .boxes import xywh_to_xyxy
from .errors import UserError
from .formats import Fields, load_json
from .structures import FrameGT, VideoGT


@dataclasses.dataclass
class FrameBoxes:
    """Person boxes for one frame (xyxy) with a detection score each."""

    boxes: np.ndarray  # (P, 4)
    scores: np.ndarray  # (P,)

    @classmethod
    def empty(cls) -> FrameBoxes:
        return cls(np.zeros((0, 4)), np.zeros(0))


class BoxSource:
    """Base class: boxes for a frame of a video."""

    name = "base"

    def boxes(self, video: VideoGT, frame: FrameGT) -> FrameBoxes:
        raise NotImplementedError

    def describe(self) -> dict:
        return {"box_source": self.name}


class GTBoxes(BoxSource):
    """The ground-truth person boxes of the frame."""

    name = "gt"

    def boxes(self, video: VideoGT, frame: FrameGT) -> FrameBoxes:
        rows = [b for b in (p.crop_box() for p in frame.persons) if b is not None]
        if not rows:
            return FrameBoxes.empty()
        return FrameBoxes(np.stack(rows), np.ones(len(rows)))


@dataclasses.dataclass
class JitterConfig:
    """Detector-like perturbation of GT boxes (fractions of the box size)."""

    shift: float = 0.05  # std of the centre shift, fraction of width / height
    scale: float = 0.10  # std of the log size change
    dropout: float = 0.05  # probability that a person is missed
    seed: int = 0


class JitteredGTBoxes(GTBoxes):
    """GT boxes with seeded centre/size noise and dropped persons."""

    name = "gt-jitter"

    def __init__(self, config: JitterConfig | None = None) -> None:
        self.config = config or JitterConfig()

    def _rng(self, video: VideoGT, frame: FrameGT) -> np.random.Generator:
        digest = hashlib.sha256(f"{self.config.seed}/{video.name}/{frame.index}".encode()).digest()
        return np.random.default_rng(int.from_bytes(digest[:8], "little"))

    def boxes(self, video: VideoGT, frame: FrameGT) -> FrameBoxes:
        gt = super().boxes(video, frame)
        if not len(gt.boxes):
            return gt
        c = self.config
        rng = self._rng(video, frame)
        size = gt.boxes[:, 2:] - gt.boxes[:, :2]
        centre = (gt.boxes[:, :2] + gt.boxes[:, 2:]) / 2 + rng.normal(0, c.shift, size.shape) * size
        size = size * np.exp(rng.normal(0, c.scale, size.shape))
        keep = rng.random(len(size)) >= c.dropout
        boxes = np.concatenate([centre - size / 2, centre + size / 2], axis=1)[keep]
        return FrameBoxes(boxes, np.ones(len(boxes)))

    def describe(self) -> dict:
        return {"box_source": self.name, "box_jitter": dataclasses.asdict(self.config)}


class DetectionBoxes(BoxSource):
    """Boxes from a COCO-format detections file (a list of {image_id, bbox [x, y, w, h],
    score, category_id}); frames are matched by their PoseTrack image id (`frame_id`)."""

    name = "detections"

    def __init__(self, path: str | os.PathLike[str], score_threshold: float = 0.0) -> None:
        self.path = Path(path)
        self.score_threshold = score_threshold
        data = load_json(self.path)
        f = Fields(self.path)
        if isinstance(data, dict) and "annotations" in data:
            data = data["annotations"]
        by_image: dict[int, list[tuple[np.ndarray, float]]] = defaultdict(list)
        for i, det in enumerate(f.list_(data, "detections")):
            field = f"[{i}]"
            if f.get(det, "category_id", field, required=False) not in (None, 1):
                continue
            image_id = f.int_(f.get(det, "image_id", field), f"{field}.image_id")
            box = xywh_to_xyxy(f.numbers(f.get(det, "bbox", field), f"{field}.bbox", length=4))
            score = f.number(f.get(det, "score", field), f"{field}.score")
            if score >= score_threshold:
                by_image[image_id].append((box, score))
        self._by_image = dict(by_image)
        self.fingerprint = hashlib.sha256(self.path.read_bytes()).hexdigest()[:12]

    def boxes(self, video: VideoGT, frame: FrameGT) -> FrameBoxes:
        if frame.frame_id is None:
            raise UserError("frames have no image id to match detections with", path=self.path,
                            field=f"{video.name}[{frame.index}]")
        dets = self._by_image.get(frame.frame_id, [])
        if not dets:
            return FrameBoxes.empty()
        return FrameBoxes(np.stack([b for b, _ in dets]), np.array([s for _, s in dets]))

    def describe(self) -> dict:
        return {"box_source": self.name, "detections": f"{self.path.name}:{self.fingerprint}",
                "score_threshold": self.score_threshold}


def make_box_source(kind: str, *, detections: str | None = None, jitter: JitterConfig | None = None,
                    score_threshold: float = 0.0) -> BoxSource:
    """Build the box source named on the command line."""
    if kind == "gt":
        return GTBoxes()
    if kind == "gt-jitter":
        return JitteredGTBoxes(jitter)
    if kind == "detections":
        if not detections:
            raise UserError("--boxes detections needs --detections FILE")
        return DetectionBoxes(detections, score_threshold)
    raise UserError(f"unknown box source {kind!r} (known: gt, gt-jitter, detections)")
