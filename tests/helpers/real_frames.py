"""Real people in the sample images with their ground truth, for tests of pretrained models.

JHMDB: the three frames of the real joint_positions.mat clip (boxes from the joints, margin
0.1) and the first frames of mmpose's three clips (boxes = mmpose's mask boxes, joints from its
JSON), six persons in all. PoseTrack'18: every annotated person of the three real val frames
(fourteen), with the adapter's crop boxes. All files are copies of ../shared/samples.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import cv2
import numpy as np

from vposebench.registry import DATASETS
from vposebench.skeleton import JHMDB, Skeleton


@dataclasses.dataclass
class RealPerson:
    """One annotated person of a real image."""

    image: np.ndarray  # (H, W, 3) uint8 RGB
    box: np.ndarray  # xyxy
    keypoints: np.ndarray  # (J, 2), NaN where not annotated
    skeleton: Skeleton
    source: str


def jhmdb_persons(samples: Path) -> list[RealPerson]:
    out = []
    dataset = DATASETS.get("jhmdb")(samples / "jhmdb", "all", box_from_joints=True, trim_to_frames=True)
    for name in dataset.video_names():
        for frame in dataset.load_video(name).frames:
            person, = frame.persons
            out.append(RealPerson(frame.load_image(), person.box, person.keypoints[:, :2], JHMDB,
                                  frame.file_name))
    doc = json.loads((samples / "jhmdb/mmpose_coco/test_jhmdb_sub1.json").read_text())
    for image, ann in zip(doc["images"], doc["annotations"]):
        path = samples / "jhmdb/Rename_Images/catch" / image["file_name"]
        x, y, w, h = ann["bbox"]  # 1-based, like the keypoints
        out.append(RealPerson(cv2.imread(str(path))[:, :, ::-1].copy(),
                              np.array([x - 1, y - 1, x - 1 + w, y - 1 + h], dtype=np.float64),
                              np.reshape(ann["keypoints"], (15, 3))[:, :2] - 1.0, JHMDB, str(path)))
    return out


def posetrack18_persons(samples: Path) -> list[RealPerson]:
    out = []
    dataset = DATASETS.get("posetrack18")(samples / "posetrack18", "val")
    for name in dataset.video_names():
        for frame in dataset.load_video(name).labeled_frames:
            image = frame.load_image()
            for person in frame.persons:
                box = person.crop_box()
                if box is None:
                    continue
                kps = person.keypoints[:, :2].copy()
                kps[~person.annotated] = np.nan
                out.append(RealPerson(image, box, kps, dataset.skeleton, frame.file_name))
    return out


def pck(persons: list[RealPerson], predicted: list[np.ndarray], alpha: float = 0.2) -> float:
    """PCK@alpha in percent: annotated joints within alpha x the box's larger side (a joint
    without a prediction misses)."""
    hits = total = 0
    for person, pred in zip(persons, predicted):
        size = (person.box[2:] - person.box[:2]).max()
        annotated = np.isfinite(person.keypoints[:, 0]) & person.skeleton.evaluated
        dist = np.linalg.norm(pred[:, :2] - person.keypoints, axis=1)
        hits += int((annotated & (dist < alpha * size)).sum())
        total += int(annotated.sum())
    return 100.0 * hits / total
