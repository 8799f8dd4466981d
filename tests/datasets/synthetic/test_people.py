import math

import numpy as np
import pytest

from vposebench.datasets.synthetic import people
from vposebench.datasets.synthetic.people import (
    ACTIONS,
    POINT,
    Body,
    body_points,
    head_ellipse,
    sample_motion,
)

_SEGMENTS = {
    ("left_shoulder", "left_elbow"): "upper_arm", ("left_elbow", "left_wrist"): "forearm",
    ("right_shoulder", "right_elbow"): "upper_arm", ("right_elbow", "right_wrist"): "forearm",
    ("left_hip", "left_knee"): "thigh", ("left_knee", "left_ankle"): "shin",
    ("right_hip", "right_knee"): "thigh", ("right_knee", "right_ankle"): "shin",
    ("pelvis", "neck_base"): "torso", ("head_bottom", "head_top"): "head",
}


def _local(action: str, body: Body, t: np.ndarray) -> np.ndarray:
    phi = 2 * math.pi * 1.3 * t
    return people._forward_kinematics(body, people._angles(action, phi, 1.1, 1))


@pytest.mark.parametrize("action", ACTIONS)
def test_the_body_is_rigid_and_stands_on_the_ground(action):
    body = Body(height=100.0, upper_arm=0.18, shin=0.22)
    t = np.linspace(0, 3, 200)
    pts = _local(action, body, t)
    for (a, b), name in _SEGMENTS.items():
        length = np.linalg.norm(pts[:, POINT[a]] - pts[:, POINT[b]], axis=-1)
        np.testing.assert_allclose(length, getattr(body, name), atol=1e-12, err_msg=f"{action} {name}")
    lift = people._angles(action, 2 * math.pi * 1.3 * t, 1.1, 1)["lift"]
    lowest = np.minimum(pts[:, POINT["left_ankle"], 1], pts[:, POINT["right_ankle"], 1])
    np.testing.assert_allclose(lowest, body.ankle_height + lift, atol=1e-12)


@pytest.mark.parametrize("action", ACTIONS)
def test_motion_is_smooth(action):
    rng = np.random.default_rng(0)
    motion = sample_motion(rng, action=action, height=120.0, speed=1.0, start=(100.0, 200.0))
    t = np.arange(0, 2, 0.001)
    xy = body_points(Body(height=120.0), motion, t).xy
    step = np.linalg.norm(np.diff(xy, axis=0), axis=-1)
    assert step.max() < 1.5  # pixels per millisecond: no jumps


def test_left_and_right_follow_the_facing_direction():
    rng = np.random.default_rng(1)
    motion = sample_motion(rng, action="wave", height=100.0, speed=1.0, start=(0.0, 0.0))
    body = Body(height=100.0)
    t = np.zeros(1)
    towards = body_points(body, people.Motion(**{**motion.__dict__, "yaw": 0.0, "turn": 0.0}), t).xy[0]
    away = body_points(body, people.Motion(**{**motion.__dict__, "yaw": math.pi, "turn": 0.0}), t).xy[0]
    # facing the camera, the person's left is on the image's right
    assert towards[POINT["left_shoulder"], 0] > towards[POINT["right_shoulder"], 0]
    assert towards[POINT["left_hip"], 0] > towards[POINT["right_hip"], 0]
    assert away[POINT["left_shoulder"], 0] < away[POINT["right_shoulder"], 0]
    # head above feet, image y grows downwards
    assert towards[POINT["head_top"], 1] < towards[POINT["head_bottom"], 1] < towards[POINT["left_ankle"], 1]


def test_walkers_face_where_they_go():
    rng = np.random.default_rng(2)
    for direction in (-1, 1):
        m = sample_motion(rng, action="walk", height=100.0, speed=1.0, start=(0.0, 0.0), direction=direction)
        assert np.sign(m.velocity[0]) == direction and np.sign(math.sin(m.yaw)) == direction


def test_head_ellipse_contains_both_head_joints():
    rng = np.random.default_rng(3)
    body = Body(height=90.0)
    for action in ACTIONS:
        motion = sample_motion(rng, action=action, height=90.0, speed=2.0, start=(50.0, 80.0))
        xy = body_points(body, motion, np.linspace(0, 2, 50)).xy
        centre, axes, angle = head_ellipse(xy, body)
        th = np.radians(angle)
        for joint in ("head_bottom", "head_top", "head_centre"):
            d = xy[:, POINT[joint]] - centre
            u = d[:, 0] * np.cos(th) + d[:, 1] * np.sin(th)
            v = -d[:, 0] * np.sin(th) + d[:, 1] * np.cos(th)
            assert ((u / axes[:, 0]) ** 2 + (v / axes[:, 1]) ** 2 < 0.95).all(), (action, joint)
