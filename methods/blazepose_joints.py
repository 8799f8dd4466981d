"""BlazePose's 33 landmarks -> the joints of every built-in skeleton.

Every joint is a fixed weighted sum of landmarks (weights summing to 1): most are one landmark
(the person's own left and right, as in every skeleton here); the joints BlazePose lacks are
built from the face, shoulder and hip landmarks along the body's own axes:

- ``eyes``, ``mouth``, ``shoulders``, ``hips``: midpoints of the left and right landmarks;
- ``head_top`` (PoseTrack): ``eyes + HEAD_TOP * (eyes - mouth)``;
- ``head_bottom`` (PoseTrack'18) and PoseTrack'17's ``neck`` (the same point: the official
  converter maps one to the other): ``mouth + HEAD_BOTTOM * (mouth - eyes)``;
- ``head`` (JHMDB, Penn Action): the centre of the ears, eyes and nose (`HEAD_CENTRE`);
- JHMDB ``neck``: ``shoulders + JHMDB_NECK * (head - shoulders)``;
- JHMDB ``belly``: ``hips + JHMDB_BELLY * (shoulders - hips)``.

A joint's score is the smallest visibility of the landmarks it is built from. Joints a
skeleton keeps as never-labelled placeholders (PoseTrack'18's ears) are not predicted (NaN).
The constants and how they were chosen are in docs/methods.md ("blazepose").
"""

from __future__ import annotations

import numpy as np

from vposebench.errors import UserError
from vposebench.skeleton import Skeleton

#: BlazePose GHUM landmark order (mediapipe's PoseLandmark)
LANDMARKS = (
    "nose", "left_eye_inner", "left_eye", "left_eye_outer", "right_eye_inner", "right_eye",
    "right_eye_outer", "left_ear", "right_ear", "mouth_left", "mouth_right",
    "left_shoulder", "right_shoulder", "left_elbow", "right_elbow", "left_wrist", "right_wrist",
    "left_pinky", "right_pinky", "left_index", "right_index", "left_thumb", "right_thumb",
    "left_hip", "right_hip", "left_knee", "right_knee", "left_ankle", "right_ankle",
    "left_heel", "right_heel", "left_foot_index", "right_foot_index",
)

#: head_top = eyes + HEAD_TOP x (eyes - mouth)
HEAD_TOP = 1.6
#: head_bottom = mouth + HEAD_BOTTOM x (mouth - eyes)
HEAD_BOTTOM = 1.3
#: JHMDB neck = shoulders + JHMDB_NECK x (head - shoulders)
JHMDB_NECK = 0.4
#: JHMDB belly = hips + JHMDB_BELLY x (shoulders - hips)
JHMDB_BELLY = 0.3

Weights = dict[str, float]


def _point(name: str) -> Weights:
    return {name: 1.0}


def _mid(a: str, b: str) -> Weights:
    return {a: 0.5, b: 0.5}


def _lerp(start: Weights, end: Weights, t: float) -> Weights:
    """start + t x (end - start) (t outside [0, 1] extrapolates)."""
    out: Weights = {}
    for weights, scale in ((start, 1.0 - t), (end, t)):
        for name, w in weights.items():
            out[name] = out.get(name, 0.0) + scale * w
    return out


EYES = _mid("left_eye", "right_eye")
MOUTH = _mid("mouth_left", "mouth_right")
SHOULDERS = _mid("left_shoulder", "right_shoulder")
HIPS = _mid("left_hip", "right_hip")
HEAD_CENTRE = {"left_ear": 0.2, "right_ear": 0.2, "left_eye": 0.2, "right_eye": 0.2, "nose": 0.2}

#: joint names that are not a landmark of the same name, per skeleton
DERIVED: dict[str, dict[str, Weights]] = {
    "posetrack18": {"head_top": _lerp(MOUTH, EYES, 1.0 + HEAD_TOP),
                    "head_bottom": _lerp(EYES, MOUTH, 1.0 + HEAD_BOTTOM)},
    "posetrack17": {"head_top": _lerp(MOUTH, EYES, 1.0 + HEAD_TOP),
                    "neck": _lerp(EYES, MOUTH, 1.0 + HEAD_BOTTOM)},
    "jhmdb": {"head": HEAD_CENTRE, "neck": _lerp(SHOULDERS, HEAD_CENTRE, JHMDB_NECK),
              "belly": _lerp(HIPS, SHOULDERS, JHMDB_BELLY)},
    "penn_action": {"head": HEAD_CENTRE},
}


def joint_weights(skeleton: Skeleton) -> np.ndarray:
    """(J, 33) weights: joint j = sum_k W[j, k] x landmark k; rows of placeholders are zero."""
    if skeleton.name not in DERIVED:
        raise UserError(f"blazepose has no joint mapping for skeleton {skeleton.name!r} "
                        f"(it has: {', '.join(DERIVED)})", field="skeleton")
    weights = np.zeros((skeleton.num_joints, len(LANDMARKS)))
    for j, joint in enumerate(skeleton.joints):
        if j in skeleton.placeholders:
            continue
        rule = DERIVED[skeleton.name].get(joint) or _point(joint)
        for name, w in rule.items():
            weights[j, LANDMARKS.index(name)] = w
    return weights


def landmarks_to_joints(landmarks: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """(P, 33, 3) landmarks (x, y, visibility; NaN rows: no pose found) -> (P, J, 3) joints
    (x, y, score), NaN for placeholders and for persons without a pose."""
    xy = np.einsum("jk,pkc->pjc", weights, landmarks[:, :, :2])
    used = weights != 0
    vis = np.where(used[None], landmarks[:, None, :, 2], np.inf).min(axis=2)
    out = np.concatenate([xy, vis[..., None]], axis=2)
    out[:, ~used.any(axis=1)] = np.nan
    return out


def mapping_table(skeleton: Skeleton) -> list[tuple[str, str]]:
    """(joint, its landmark formula) rows, for the docs and `describe()`."""
    rows = []
    weights = joint_weights(skeleton)
    for j, joint in enumerate(skeleton.joints):
        terms = [f"{w:+.3g} {LANDMARKS[k]}" for k, w in enumerate(weights[j]) if w != 0]
        rows.append((joint, " ".join(terms).lstrip("+") if terms else "not predicted"))
    return rows
