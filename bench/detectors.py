"""Person detectors that work offline, for running methods on raw video (`vposebench demo`).

- ``hog``: OpenCV's HOG + linear SVM people detector (`cv2.HOGDescriptor` with
  `HOGDescriptor_getDefaultPeopleDetector`), multi-person, upright people of at least 64x128
  pixels. It exists in OpenCV 4.x only: OpenCV 5.0 removed it.
- ``blazepose``: mediapipe's BlazePose person detector and landmark model on the whole frame
  (the [mediapipe] extra); one person per frame, the most prominent: its box is the extent
  of the landmarks it sees (visibility >= 0.5), each side pushed out by 10 % of the larger
  side.

Both return xyxy boxes with a score. `available_detectors()` says which work here.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import cv2
import numpy as np

from .errors import UserError


@dataclasses.dataclass
class Detections:
    """Person boxes of one frame (xyxy) with scores."""

    boxes: np.ndarray  # (P, 4)
    scores: np.ndarray  # (P,)


class HOGPeopleDetector:
    """OpenCV's HOG people detector (OpenCV 4.x), non-maximum suppressed."""

    name = "hog"

    def __init__(self, min_score: float = 0.3, nms_iou: float = 0.4) -> None:
        if not hasattr(cv2, "HOGDescriptor_getDefaultPeopleDetector"):
            raise UserError(f"OpenCV {cv2.__version__} has no HOG people detector (OpenCV 5 "
                            "removed it): install opencv-python-headless<5, use --detector "
                            "blazepose, or pass --detections FILE", field="--detector")
        self.hog = cv2.HOGDescriptor()
        self.hog.setSVMDetector(cv2.HOGDescriptor_getDefaultPeopleDetector())
        self.min_score, self.nms_iou = min_score, nms_iou

    def __call__(self, image: np.ndarray) -> Detections:
        rects, weights = self.hog.detectMultiScale(image, winStride=(8, 8), padding=(8, 8), scale=1.05)
        if len(rects) == 0:
            return Detections(np.zeros((0, 4)), np.zeros(0))
        scores = np.asarray(weights, dtype=np.float64).reshape(-1)
        keep = cv2.dnn.NMSBoxes([list(map(int, r)) for r in rects], scores.tolist(),
                                self.min_score, self.nms_iou)
        keep = np.asarray(keep, dtype=np.int64).reshape(-1)
        xywh = np.asarray(rects, dtype=np.float64)[keep]
        return Detections(np.concatenate([xywh[:, :2], xywh[:, :2] + xywh[:, 2:]], axis=1), scores[keep])


class BlazePoseDetector:
    """mediapipe's BlazePose on the whole frame: the most prominent person's landmark box."""

    name = "blazepose"

    def __init__(self, threads: int = 1, margin: float = 0.1) -> None:
        from vposebench.methods.blazepose import BlazePoseConfig, open_pose

        self.pose = open_pose(BlazePoseConfig(threads=threads))
        self.margin = margin

    def __call__(self, image: np.ndarray) -> Detections:
        found = self.pose.process(np.ascontiguousarray(image)).pose_landmarks
        if found is None:
            return Detections(np.zeros((0, 4)), np.zeros(0))
        h, w = image.shape[:2]
        points = np.array([(p.x * w - 0.5, p.y * h - 0.5, p.visibility) for p in found.landmark])
        seen = points[points[:, 2] >= 0.5] if (points[:, 2] >= 0.5).sum() >= 2 else points
        lo, hi = seen[:, :2].min(axis=0), seen[:, :2].max(axis=0)
        pad = self.margin * (hi - lo).max()
        box = np.clip(np.concatenate([lo - pad, hi + pad]), 0, [w - 1, h - 1, w - 1, h - 1])
        return Detections(box[None], np.array([float(points[:, 2].mean())]))


DETECTORS: dict[str, Callable[[], Callable[[np.ndarray], Detections]]] = {
    "hog": HOGPeopleDetector,
    "blazepose": BlazePoseDetector,
}


def available_detectors() -> list[str]:
    """The detectors that can be built here (HOG needs OpenCV 4.x, blazepose mediapipe)."""
    from vposebench.methods.blazepose import mediapipe_version

    out = []
    if hasattr(cv2, "HOGDescriptor_getDefaultPeopleDetector"):
        out.append("hog")
    if mediapipe_version() is not None:
        out.append("blazepose")
    return out


def make_detector(name: str) -> Callable[[np.ndarray], Detections]:
    """The detector `name`; "auto" picks the first available one (hog, then blazepose)."""
    if name == "auto":
        found = available_detectors()
        if not found:
            raise UserError(f"no built-in person detector works here (OpenCV {cv2.__version__} has "
                            "no HOG, mediapipe is not installed): pass --detections FILE",
                            field="--detector")
        name = found[0]
    if name not in DETECTORS:
        raise UserError(f"unknown detector {name!r} (known: auto, {', '.join(DETECTORS)})",
                        field="--detector")
    return DETECTORS[name]()
