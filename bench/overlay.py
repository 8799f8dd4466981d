"""Drawing predictions on frames: skeletons, track ids, joint confidence; contact sheets.

Each track gets its own colour (limbs, box, id label); each joint is a dot coloured by its
score, red (0) through yellow to green (1), so confidence is visible at a glance. Joints
without a prediction (NaN) are not drawn, and a limb only when both its joints are.
"""

from __future__ import annotations

import colorsys

import cv2
import numpy as np

from .skeleton import Skeleton


def track_colour(track_id: int) -> tuple[int, int, int]:
    """A stable, well-separated RGB colour per track id (golden-ratio hues)."""
    hue = (track_id * 0.618033988749895) % 1.0
    r, g, b = colorsys.hsv_to_rgb(hue, 0.85, 1.0)
    return int(r * 255), int(g * 255), int(b * 255)


def score_colour(score: float) -> tuple[int, int, int]:
    """RGB from red (score 0) through yellow (0.5) to green (1)."""
    s = float(np.clip(score if np.isfinite(score) else 0.0, 0.0, 1.0))
    return (int(255 * min(1.0, 2 - 2 * s)), int(255 * min(1.0, 2 * s)), 0)


def draw_person(image: np.ndarray, keypoints: np.ndarray, skeleton: Skeleton, track_id: int,
                box: np.ndarray | None = None) -> None:
    """Draw one person's box, limbs, joints and track id onto an RGB image, in place."""
    colour = track_colour(track_id)
    scale = max(1, round(max(image.shape[:2]) / 640))
    points = keypoints[:, :2]
    drawn = np.isfinite(points).all(axis=1)
    if box is not None and np.isfinite(box).all():
        x1, y1, x2, y2 = (int(round(v)) for v in box)
        cv2.rectangle(image, (x1, y1), (x2, y2), colour, scale)
        cv2.putText(image, f"#{track_id}", (x1 + 2, max(y1 - 4, 10 * scale)), cv2.FONT_HERSHEY_SIMPLEX,
                    0.45 * scale, colour, scale, cv2.LINE_AA)
    for a, b in skeleton.limbs:
        if drawn[a] and drawn[b]:
            cv2.line(image, tuple(int(round(v)) for v in points[a]),
                     tuple(int(round(v)) for v in points[b]), colour, 2 * scale, cv2.LINE_AA)
    for j in np.flatnonzero(drawn):
        centre = tuple(int(round(v)) for v in points[j])
        cv2.circle(image, centre, 3 * scale, score_colour(keypoints[j, 2]), -1, cv2.LINE_AA)
        cv2.circle(image, centre, 3 * scale, (0, 0, 0), 1, cv2.LINE_AA)


def contact_sheet(frames: list[np.ndarray], columns: int = 4, width: int = 960,
                  labels: list[str] | None = None) -> np.ndarray:
    """The frames as a grid `columns` wide, scaled to a sheet `width` pixels wide."""
    if not frames:
        raise ValueError("a contact sheet needs at least one frame")
    columns = max(1, min(columns, len(frames)))
    cell_w = width // columns
    h, w = frames[0].shape[:2]
    cell_h = max(1, round(h * cell_w / w))
    rows = -(-len(frames) // columns)
    sheet = np.full((rows * cell_h, columns * cell_w, 3), 255, dtype=np.uint8)
    for i, frame in enumerate(frames):
        cell = cv2.resize(frame, (cell_w, cell_h), interpolation=cv2.INTER_AREA)
        if labels is not None:
            cv2.putText(cell, labels[i], (4, 14), cv2.FONT_HERSHEY_SIMPLEX, 0.45, (255, 255, 255), 1,
                        cv2.LINE_AA)
        r, c = divmod(i, columns)
        sheet[r * cell_h:(r + 1) * cell_h, c * cell_w:(c + 1) * cell_w] = cell
    return sheet
