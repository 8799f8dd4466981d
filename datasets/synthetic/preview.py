"""Ground truth drawn on generated frames, read back from the files (a visual check).

Limbs of the PoseTrack skeleton are drawn in one colour per track; joints are dots: filled for
visible joints, a ring for joints hidden by another person or an occluder, a cross for joints
hidden by the person's own body. The head box is a thin rectangle, the person box (PoseTrack's
keypoint extent enlarged 1.3x) a dashed one, with the track id above it.
"""

from __future__ import annotations

import os
from pathlib import Path

import cv2
import numpy as np

from vposebench.boxes import box_is_valid

from .appearance import hsv
from .dataset import SyntheticDataset
from .truth import BY_SELF, VideoTruth, occluded_mask
from .writer import write_image


def _track_colour(track: int) -> tuple[int, int, int]:
    return hsv(track * 0.137, 0.9, 1.0)


def _dashed_rectangle(img: np.ndarray, box: np.ndarray, colour, dash: int = 4) -> None:
    x1, y1, x2, y2 = (int(round(v)) for v in box)
    for a, b in (((x1, y1), (x2, y1)), ((x2, y1), (x2, y2)), ((x2, y2), (x1, y2)), ((x1, y2), (x1, y1))):
        length = max(abs(b[0] - a[0]), abs(b[1] - a[1]))
        for s in range(0, length, 2 * dash):
            e = min(s + dash, length)
            p = (a[0] + (b[0] - a[0]) * s // max(length, 1), a[1] + (b[1] - a[1]) * s // max(length, 1))
            q = (a[0] + (b[0] - a[0]) * e // max(length, 1), a[1] + (b[1] - a[1]) * e // max(length, 1))
            cv2.line(img, p, q, colour, 1, cv2.LINE_AA)


def draw_frame(image: np.ndarray, truth: VideoTruth, index: int, *, scale: int = 2) -> np.ndarray:
    """Frame `index` of a video, upscaled `scale` times, with its ground truth drawn on it."""
    frame = truth.video.frames[index]
    img = cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_NEAREST)
    limbs = truth.video.skeleton.limbs
    for person, codes in zip(frame.persons, truth.codes[index]):
        colour = _track_colour(person.track_id)
        kp = person.keypoints
        ok = person.annotated
        pts = [(int(round(x * scale)), int(round(y * scale))) for x, y in kp[:, :2]]
        for a, b in limbs:
            if ok[a] and ok[b]:
                cv2.line(img, pts[a], pts[b], colour, 1, cv2.LINE_AA)
        hidden = occluded_mask(codes)
        for j in np.flatnonzero(ok):
            if hidden[j]:
                cv2.circle(img, pts[j], 4, (255, 255, 255), 1, cv2.LINE_AA)
            elif codes[j] == BY_SELF:
                cv2.drawMarker(img, pts[j], (255, 255, 255), cv2.MARKER_CROSS, 7, 1)
            else:
                cv2.circle(img, pts[j], 3, colour, -1, cv2.LINE_AA)
        if person.head_box is not None:
            x1, y1, x2, y2 = (int(round(v * scale)) for v in person.head_box)
            cv2.rectangle(img, (x1, y1), (x2, y2), colour, 1)
        if person.box is not None and box_is_valid(person.box):
            _dashed_rectangle(img, person.box * scale, colour)
            cv2.putText(img, str(person.track_id), (int(person.box[0] * scale), int(person.box[1] * scale) - 3),
                        cv2.FONT_HERSHEY_SIMPLEX, 0.45, colour, 1, cv2.LINE_AA)
    return img


def write_previews(root: str | os.PathLike[str], out: str | os.PathLike[str], *,
                   split: str = "val", subsets: tuple[str | None, ...] = ("crowd", "occlusion", "fast", None)
                   ) -> list[Path]:
    """One preview per subset (None: any video) read from `root`.

    Each shows a video not shown yet, preferably one generated under the profile of the same
    name (a video generated for occlusion can also be measured fast).
    """
    written: list[Path] = []
    shown: set[str] = set()
    for subset in subsets:
        data = SyntheticDataset(root, split, subset)
        names = [n for n in data.video_names() if n not in shown] or data.video_names()
        if not names:
            continue
        names.sort(key=lambda n: data.entry(n).profile != (subset or "base"))
        shown.add(names[0])
        truth = data.load_truth(names[0])
        index = len(truth.video.frames) // 2
        img = draw_frame(truth.video.frames[index].load_image(), truth, index)
        path = Path(out) / f"synthetic_{subset or 'any'}_{names[0]}_{index:03d}.jpg"
        write_image(path, img)
        written.append(path)
    return written
