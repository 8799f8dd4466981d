"""Articulated people: a small 3-D stick body, its actions, forward kinematics and paths.

A body is a kinematic chain (pelvis, trunk, neck, head, two arms, two legs) driven by joint
angles that are smooth periodic functions of time (one function per action). Points are
computed in 3-D, turned by the person's yaw, projected orthographically and placed on the
person's ground point in the world plane, so one person can face the camera, turn away or walk
in profile. Everything is vectorised over time: ``body_points(person, times)`` returns every
point for every requested time in one pass.

World coordinates are image pixels at zoom 1 (x right, y down); `depth` is the 3-D z towards
the camera, used to order the parts of one person when drawing.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np

#: every point the body model computes; the datasets' joints are chosen from these by name
BODY_POINTS = (
    "nose", "head_bottom", "head_top",
    "left_shoulder", "right_shoulder", "left_elbow", "right_elbow", "left_wrist", "right_wrist",
    "left_hip", "right_hip", "left_knee", "right_knee", "left_ankle", "right_ankle",
    "head_centre", "belly", "pelvis", "neck_base",
)
POINT = {name: i for i, name in enumerate(BODY_POINTS)}

#: drawable parts: name -> (first point, second point, thickness in body heights)
LIMBS = {
    "left_upper_arm": ("left_shoulder", "left_elbow", 0.050),
    "left_forearm": ("left_elbow", "left_wrist", 0.042),
    "right_upper_arm": ("right_shoulder", "right_elbow", 0.050),
    "right_forearm": ("right_elbow", "right_wrist", 0.042),
    "left_thigh": ("left_hip", "left_knee", 0.072),
    "left_shin": ("left_knee", "left_ankle", 0.056),
    "right_thigh": ("right_hip", "right_knee", 0.072),
    "right_shin": ("right_knee", "right_ankle", 0.056),
    "neck": ("neck_base", "head_bottom", 0.050),
}
#: all parts in label order (a part's label within a person is its index here)
PARTS = (*LIMBS, "torso", "head", "hair", "left_hand", "right_hand", "left_foot", "right_foot")
PART = {name: i for i, name in enumerate(PARTS)}
#: the parts a point belongs to: the point counts as seen when one of them is on top
POINT_PARTS = {
    "nose": ("head",),
    "head_bottom": ("neck", "head", "torso"),
    "head_top": ("head", "hair"),
    "head_centre": ("head", "hair"),
    "belly": ("torso",),
    "pelvis": ("torso",),
    "neck_base": ("neck", "torso"),
    **{f"{side}_{joint}": parts for side in ("left", "right") for joint, parts in (
        ("shoulder", ("torso", f"{side}_upper_arm")),
        ("elbow", (f"{side}_upper_arm", f"{side}_forearm")),
        ("wrist", (f"{side}_forearm", f"{side}_hand")),
        ("hip", ("torso", f"{side}_thigh")),
        ("knee", (f"{side}_thigh", f"{side}_shin")),
        ("ankle", (f"{side}_shin", f"{side}_foot")),
    )},
}

ACTIONS = ("walk", "run", "wave", "jumping_jacks", "squat", "punch", "kick")
LOCOMOTION = ("walk", "run")
#: cycles per second of each action at speed 1
_FREQUENCY = {"walk": (0.8, 1.1), "run": (1.3, 1.7), "wave": (0.9, 1.4),
              "jumping_jacks": (0.8, 1.1), "squat": (0.35, 0.55), "punch": (0.7, 1.1),
              "kick": (0.5, 0.8)}
#: forward distance per cycle, in body heights
_STRIDE = {"walk": 0.75, "run": 1.3}
FPS = 25.0


@dataclasses.dataclass(frozen=True)
class Body:
    """Segment lengths as fractions of the body height (ankle to head top, standing)."""

    height: float  # world pixels
    shin: float = 0.235
    thigh: float = 0.245
    torso: float = 0.285  # pelvis to the shoulder line
    neck: float = 0.045
    head: float = 0.16  # head bottom to head top
    upper_arm: float = 0.17
    forearm: float = 0.16
    shoulder_width: float = 0.23
    hip_width: float = 0.15
    ankle_height: float = 0.035

    def scaled(self, factor: float) -> Body:
        return dataclasses.replace(self, height=self.height * factor)


@dataclasses.dataclass(frozen=True)
class Motion:
    """What a person does and where: an action cycle plus a path on the ground."""

    action: str
    frequency: float  # cycles per second
    phase: float  # radians at t = 0
    amplitude: float  # scales the joint-angle swings
    side: int  # +1 left, -1 right: the waving arm / kicking leg
    yaw: float  # facing at t = 0 (0: towards the camera, +pi/2: towards +x)
    turn: float  # yaw change per second (in-place actions)
    start: tuple[float, float]  # ground point (under the pelvis) at t = 0, world pixels
    velocity: tuple[float, float]  # world pixels per second
    sway: float  # amplitude of a slow side-to-side drift, world pixels


@dataclasses.dataclass
class BodyPoints:
    """Every body point of one person at T times."""

    xy: np.ndarray  # (T, K, 2) world pixels (x right, y down)
    depth: np.ndarray  # (T, K) 3-D z towards the camera, world pixels
    ground: np.ndarray  # (T, 2) the ground point under the pelvis
    yaw: np.ndarray  # (T,) facing angle
    height: float  # body height, world pixels


# ----------------------------------------------------------------------------- actions
def _angles(action: str, phi: np.ndarray, amp: float, side: int) -> dict[str, np.ndarray]:
    """Joint angles (radians) over the phase `phi` of the action cycle.

    Keys: lean (trunk forward), lift (airborne height, body heights) and per side l/r:
    hip (flexion, forward +), hip_abd, knee (flexion), sh (shoulder flexion), sh_abd, elbow.
    """
    zero = np.zeros_like(phi)
    s, c = np.sin(phi), np.cos(phi)
    out = {"lean": zero + 0.04, "lift": zero}
    for k in ("hip", "hip_abd", "knee", "sh", "elbow"):
        out[k + "_l"] = zero.copy()
        out[k + "_r"] = zero.copy()
    out["sh_abd_l"] = zero + 0.1
    out["sh_abd_r"] = zero + 0.1
    out["knee_l"] += 0.05
    out["knee_r"] += 0.05
    out["elbow_l"] += 0.25
    out["elbow_r"] += 0.25
    if action in ("walk", "run"):
        run = action == "run"
        hip, knee, arm = (0.65, 1.2, 0.7) if run else (0.42, 0.6, 0.35)
        out["hip_l"], out["hip_r"] = hip * amp * s, -hip * amp * s
        out["knee_l"] = 0.1 + knee * amp * np.maximum(0.0, np.sin(phi + 0.7))
        out["knee_r"] = 0.1 + knee * amp * np.maximum(0.0, np.sin(phi + 0.7 + math.pi))
        out["sh_l"], out["sh_r"] = -arm * amp * s, arm * amp * s
        elbow = 1.4 if run else 0.3
        out["elbow_l"] = elbow + 0.2 * amp * (1 - s)
        out["elbow_r"] = elbow + 0.2 * amp * (1 + s)
        out["lean"] = zero + (0.18 if run else 0.05)
        out["lift"] = (0.04 if run else 0.01) * amp * np.abs(np.sin(phi))
    elif action == "wave":
        up, down = ("l", "r") if side > 0 else ("r", "l")
        out["sh_abd_" + up] = 2.3 + 0.25 * amp * s
        out["sh_" + up] = zero + 0.2
        out["elbow_" + up] = 0.5 + 0.45 * amp * (1 + s)
        out["sh_" + down] = 0.1 * s
        out["hip_abd_l"] = out["hip_abd_r"] = zero + 0.06
    elif action == "jumping_jacks":
        open_ = 0.5 - 0.5 * c
        out["sh_abd_l"] = out["sh_abd_r"] = 0.15 + 2.5 * amp * open_
        out["hip_abd_l"] = out["hip_abd_r"] = 0.04 + 0.32 * amp * open_
        out["knee_l"] = out["knee_r"] = 0.1 + 0.25 * np.abs(s)
        out["lift"] = 0.05 * amp * np.abs(s)
    elif action == "squat":
        down = (0.5 - 0.5 * c) * amp
        out["hip_l"] = out["hip_r"] = 1.3 * down
        out["knee_l"] = out["knee_r"] = 0.05 + 2.1 * down
        out["sh_l"] = out["sh_r"] = 1.4 * down
        out["lean"] = 0.04 + 0.45 * down
    elif action == "punch":
        for k, shift in (("l", 0.0), ("r", math.pi)):
            extend = np.maximum(0.0, np.sin(phi + shift)) ** 2 * amp
            out["sh_" + k] = 0.9 + 0.55 * extend
            out["elbow_" + k] = 2.0 - 1.85 * extend
            out["sh_abd_" + k] = 0.25 - 0.15 * extend
        out["hip_l"], out["hip_r"] = zero + 0.2, zero - 0.15
        out["knee_l"] = out["knee_r"] = zero + 0.2
        out["lean"] = zero + 0.1
    elif action == "kick":
        leg, other = ("l", "r") if side > 0 else ("r", "l")
        kick = np.maximum(0.0, s) ** 2 * amp
        out["hip_" + leg] = 1.3 * kick - 0.1
        out["knee_" + leg] = 0.1 + 1.1 * amp * np.maximum(0.0, np.sin(phi + 1.2)) * (1 - kick)
        out["sh_" + leg] = -0.5 * kick
        out["sh_" + other] = 0.5 * kick
        out["sh_abd_l"] = out["sh_abd_r"] = 0.35 + 0.3 * kick
        out["lean"] = 0.02 - 0.15 * kick
    else:
        raise ValueError(f"unknown action {action!r}")
    return out


def _limb_dir(flex: np.ndarray, abd: np.ndarray, side: float) -> np.ndarray:
    """(T, 3) unit direction of a limb hanging down, flexed forward and abducted outward.

    Body frame: x = the person's left, y = up, z = forward.
    """
    cf = np.cos(flex)
    return np.stack([side * cf * np.sin(abd), -cf * np.cos(abd), np.sin(flex)], axis=-1)


def _forward_kinematics(body: Body, a: dict[str, np.ndarray]) -> np.ndarray:
    """(T, K, 3) body-frame points in body heights, feet on the ground (y = 0 at ground)."""
    t = len(a["lean"])
    pts = np.zeros((t, len(BODY_POINTS), 3))
    lean = a["lean"]
    up = np.stack([np.zeros(t), np.cos(lean), np.sin(lean)], axis=-1)
    fwd = np.stack([np.zeros(t), -np.sin(lean), np.cos(lean)], axis=-1)
    x = np.array([1.0, 0.0, 0.0])
    pelvis = np.zeros((t, 3))
    neck_base = pelvis + body.torso * up
    head_bottom = neck_base + body.neck * up
    put = {
        "pelvis": pelvis,
        "belly": pelvis + 0.45 * body.torso * up,
        "neck_base": neck_base,
        "head_bottom": head_bottom,
        "head_top": head_bottom + body.head * up,
        "head_centre": head_bottom + 0.5 * body.head * up,
        "nose": head_bottom + 0.45 * body.head * up + 0.36 * body.head * fwd,
    }
    for side, k, name in ((1.0, "l", "left"), (-1.0, "r", "right")):
        shoulder = neck_base + side * body.shoulder_width / 2 * x - 0.02 * up
        sh_flex = a["sh_" + k] + lean
        elbow = shoulder + body.upper_arm * _limb_dir(sh_flex, a["sh_abd_" + k], side)
        wrist = elbow + body.forearm * _limb_dir(sh_flex + a["elbow_" + k], a["sh_abd_" + k], side)
        hip = pelvis + side * body.hip_width / 2 * x
        knee = hip + body.thigh * _limb_dir(a["hip_" + k], a["hip_abd_" + k], side)
        ankle = knee + body.shin * _limb_dir(a["hip_" + k] - a["knee_" + k], a["hip_abd_" + k], side)
        put.update({f"{name}_shoulder": shoulder, f"{name}_elbow": elbow, f"{name}_wrist": wrist,
                    f"{name}_hip": hip, f"{name}_knee": knee, f"{name}_ankle": ankle})
    for name, value in put.items():
        pts[:, POINT[name]] = value
    # stand on the lower ankle, then add the airborne lift
    lowest = np.minimum(pts[:, POINT["left_ankle"], 1], pts[:, POINT["right_ankle"], 1])
    pts[..., 1] += (body.ankle_height - lowest + a["lift"])[:, None]
    return pts


def yaw_at(motion: Motion, times: np.ndarray) -> np.ndarray:
    """Facing angle over time: walkers face their direction of travel, others may turn."""
    if motion.action in LOCOMOTION:
        return np.full(len(times), motion.yaw)
    return motion.yaw + motion.turn * times


def ground_at(motion: Motion, times: np.ndarray) -> np.ndarray:
    """(T, 2) ground point under the pelvis: a straight path plus a slow sway."""
    start = np.asarray(motion.start, dtype=np.float64)
    vel = np.asarray(motion.velocity, dtype=np.float64)
    out = start + times[:, None] * vel
    out[:, 0] += motion.sway * np.sin(2 * math.pi * 0.15 * times + motion.phase)
    return out


def body_points(body: Body, m: Motion, times: np.ndarray) -> BodyPoints:
    """Every body point of a person at `times` (seconds), in world pixels."""
    times = np.asarray(times, dtype=np.float64)
    phi = 2 * math.pi * m.frequency * times + m.phase
    local = _forward_kinematics(body, _angles(m.action, phi, m.amplitude, m.side))
    yaw = yaw_at(m, times)
    cy, sy = np.cos(yaw)[:, None], np.sin(yaw)[:, None]
    x = local[..., 0] * cy + local[..., 2] * sy
    z = -local[..., 0] * sy + local[..., 2] * cy
    ground = ground_at(m, times)
    h = body.height
    xy = np.stack([ground[:, :1] + h * x, ground[:, 1:2] - h * local[..., 1]], axis=-1)
    return BodyPoints(xy=xy, depth=h * z, ground=ground, yaw=yaw, height=h)


def head_ellipse(xy: np.ndarray, body: Body, scale: np.ndarray | float = 1.0
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Centre (..., 2), semi-axes (..., 2) and angle in degrees (...) of the drawn head.

    `xy` are image points (..., K, 2); `scale` is the image scale (zoom) of the body height.
    The ellipse's long axis runs from head bottom to head top and contains both with a margin.
    """
    bottom, top = xy[..., POINT["head_bottom"], :], xy[..., POINT["head_top"], :]
    centre = (bottom + top) / 2
    axis = top - bottom
    length = np.hypot(axis[..., 0], axis[..., 1])
    true = body.head * body.height * np.asarray(scale, dtype=np.float64)
    a = np.maximum(0.56 * length, 0.42 * true)
    b = np.broadcast_to(0.40 * true, a.shape)
    angle = np.degrees(np.arctan2(axis[..., 1], axis[..., 0]))
    return centre, np.stack([a, b], axis=-1), angle


def ellipse_box(centre: np.ndarray, axes: np.ndarray, angle_deg: np.ndarray) -> np.ndarray:
    """(..., 4) xyxy extent of rotated ellipses."""
    th = np.radians(angle_deg)
    a, b = axes[..., 0], axes[..., 1]
    hx = np.sqrt((a * np.cos(th)) ** 2 + (b * np.sin(th)) ** 2)
    hy = np.sqrt((a * np.sin(th)) ** 2 + (b * np.cos(th)) ** 2)
    return np.stack([centre[..., 0] - hx, centre[..., 1] - hy,
                     centre[..., 0] + hx, centre[..., 1] + hy], axis=-1)


# ----------------------------------------------------------------------------- sampling
def sample_body(rng: np.random.Generator, height: float) -> Body:
    """A body of `height` world pixels with slightly varied proportions."""
    base = Body(height=height)
    vary = {f.name: getattr(base, f.name) * rng.uniform(0.93, 1.07)
            for f in dataclasses.fields(Body) if f.name not in ("height", "ankle_height")}
    vary["shoulder_width"] *= rng.uniform(0.9, 1.12)
    return dataclasses.replace(base, **vary)


def sample_motion(rng: np.random.Generator, *, action: str, height: float, speed: float,
                  start: tuple[float, float], direction: int = 1) -> Motion:
    """An action cycle for a person of `height`; walkers move along x in `direction`."""
    lo, hi = _FREQUENCY[action]
    frequency = rng.uniform(lo, hi) * speed
    amplitude = rng.uniform(0.8, 1.15)
    if action in LOCOMOTION:
        # travel grows with the square root of the speed-up: fast gaits stay in view longer
        vx = direction * _STRIDE[action] * height * frequency / speed ** 0.5
        velocity = (vx, rng.normal(0.0, 0.03 * abs(vx)))
        yaw = direction * (math.pi / 2 + rng.uniform(-0.6, 0.6))
        turn, sway = 0.0, 0.0
    else:
        velocity = (rng.normal(0.0, 2.0), 0.0)
        yaw = float(rng.choice([0.0, math.pi, math.pi / 4, -math.pi / 4, 3 * math.pi / 4,
                                -3 * math.pi / 4, math.pi / 2, -math.pi / 2]))
        turn = rng.choice([0.0, 0.0, rng.uniform(-0.5, 0.5)])
        sway = rng.uniform(0.0, 0.08) * height
    return Motion(action=action, frequency=float(frequency), phase=float(rng.uniform(0, 2 * math.pi)),
                  amplitude=float(amplitude), side=int(rng.choice([-1, 1])), yaw=float(yaw),
                  turn=float(turn), start=(float(start[0]), float(start[1])),
                  velocity=(float(velocity[0]), float(velocity[1])), sway=float(sway))


def moved(motion: Motion, *, start: tuple[float, float] | None = None,
          velocity: tuple[float, float] | None = None) -> Motion:
    """A copy of `motion` on another path."""
    return dataclasses.replace(
        motion,
        start=motion.start if start is None else (float(start[0]), float(start[1])),
        velocity=motion.velocity if velocity is None else (float(velocity[0]), float(velocity[1])),
    )
