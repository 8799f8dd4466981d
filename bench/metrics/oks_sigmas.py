"""Per-joint OKS constants (sigmas) for every built-in skeleton, by joint name.

OKS = mean over labelled GT joints of exp(-d^2 / (2 s^2 k^2)) with s^2 the object area and
k = 2 sigma (pycocotools' ``computeOks``). The COCO joints use COCO's constants (cocoapi
``Params.setKpParams``, from the annotation spread measured by Ronchi & Perona, ICCV 2017).
The joints COCO lacks take CrowdPose's constants (Li et al., CVPR 2019; mmpose's
``crowdpose.py``), the one COCO-style benchmark that annotates a head-top and a neck point and
publishes OKS constants for them: 0.079 for both. PoseTrack's ``head_top`` / ``head_bottom``
and PoseTrack'17's ``neck``, JHMDB's ``head`` / ``neck`` and Penn Action's ``head`` are such
loosely defined head and neck points; JHMDB's ``belly`` (a torso point between the hips)
takes the hip constant 0.107 (mmpose's choice for it too). ``docs/evaluation.md`` compares
these with the other choices in use.
"""

from __future__ import annotations

import numpy as np

from ..skeleton import Skeleton

#: COCO's constants (cocoapi cocoeval.py, Params.setKpParams: [.26, .25, ...] / 10)
COCO_SIGMAS: dict[str, float] = {
    "nose": 0.026, "left_eye": 0.025, "right_eye": 0.025, "left_ear": 0.035, "right_ear": 0.035,
    "left_shoulder": 0.079, "right_shoulder": 0.079, "left_elbow": 0.072, "right_elbow": 0.072,
    "left_wrist": 0.062, "right_wrist": 0.062, "left_hip": 0.107, "right_hip": 0.107,
    "left_knee": 0.087, "right_knee": 0.087, "left_ankle": 0.089, "right_ankle": 0.089,
}
#: joints COCO does not have (CrowdPose's head-top / neck constant; the hip constant for belly)
EXTRA_SIGMAS: dict[str, float] = {
    "head_top": 0.079, "head_bottom": 0.079, "neck": 0.079, "head": 0.079, "belly": 0.107,
}


def sigmas_for(skeleton: Skeleton) -> np.ndarray:
    """(J,) OKS constants in the skeleton's joint order; a joint without one is a ValueError."""
    table = {**COCO_SIGMAS, **EXTRA_SIGMAS}
    missing = [name for name in skeleton.joints if name not in table]
    if missing:
        raise ValueError(f"no OKS constant for joint(s) {missing} of skeleton {skeleton.name!r}")
    return np.array([table[name] for name in skeleton.joints])
