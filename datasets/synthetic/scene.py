"""A scene: people, occluders, a cluttered background with limb-like distractors, a camera.

Everything lives in one world plane (pixels at zoom 1, x right, y down, the ground point of an
object is its depth key: lower on screen = nearer = drawn later). The camera zooms and pans
smoothly; `Camera.to_image` maps world points into a frame. Sampling is a pure function of a
numpy Generator, so a seed fixes the scene.
"""

from __future__ import annotations

import dataclasses
import math

import cv2
import numpy as np

from .appearance import Colour, Look, contrast, limb_colour, muted_colour, sample_look
from .config import Profile, SynthConfig
from .people import (
    FPS,
    Body,
    BodyPoints,
    Motion,
    body_points,
    moved,
    sample_body,
    sample_motion,
)


@dataclasses.dataclass(frozen=True)
class Person:
    """One person of a scene: identity, body, motion and look."""

    track_id: int
    body: Body
    motion: Motion
    look: Look

    def points(self, times: np.ndarray) -> BodyPoints:
        return body_points(self.body, self.motion, times)


@dataclasses.dataclass(frozen=True)
class Camera:
    """Smooth zoom (a sinusoid about 1), a constant-velocity pan and an optional fast sway."""

    size: tuple[int, int]  # image (width, height)
    centre: tuple[float, float]  # world point at the image centre at t = 0
    pan: tuple[float, float]  # world pixels per second
    zoom_amplitude: float = 0.0
    zoom_period: float = 3.0  # seconds
    zoom_phase: float = 0.0
    shake: float = 0.0  # sway amplitude, world pixels (horizontal; half of it vertical)
    shake_frequency: float = 1.5  # Hz
    shake_phase: float = 0.0

    def zoom(self, times: np.ndarray) -> np.ndarray:
        t = np.asarray(times, dtype=np.float64)
        return 1.0 + self.zoom_amplitude * np.sin(2 * math.pi * t / self.zoom_period + self.zoom_phase)

    def centre_at(self, times: np.ndarray) -> np.ndarray:
        t = np.asarray(times, dtype=np.float64)
        centre = np.asarray(self.centre) + t[:, None] * np.asarray(self.pan)
        if self.shake:
            angle = 2 * math.pi * self.shake_frequency * t + self.shake_phase
            centre = centre + self.shake * np.stack([np.sin(angle), 0.5 * np.sin(1.7 * angle)], axis=-1)
        return centre

    def to_image(self, xy: np.ndarray, times: np.ndarray) -> np.ndarray:
        """World points (T, ..., 2) at `times` (T,) -> image pixels (pixel centres at integers)."""
        z = self.zoom(times)
        c = self.centre_at(times)
        extra = (1,) * (xy.ndim - 2)
        half = np.array([self.size[0] / 2, self.size[1] / 2])
        return z.reshape(-1, *extra, 1) * (xy - c.reshape(-1, *extra, 2)) + half

    def world_window(self, times: np.ndarray) -> tuple[float, float, float, float]:
        """World xyxy region seen by the camera at any of `times`."""
        z = self.zoom(times)
        c = self.centre_at(times)
        hw, hh = self.size[0] / 2 / z, self.size[1] / 2 / z
        return (float((c[:, 0] - hw).min()), float((c[:, 1] - hh).min()),
                float((c[:, 0] + hw).max()), float((c[:, 1] + hh).max()))


@dataclasses.dataclass(frozen=True)
class Occluder:
    """An opaque object in front of (some) people: a static pole, a moving board or disc."""

    kind: str  # "pole" | "board" | "disc"
    start: tuple[float, float]  # centre (pole: bottom centre) at t = 0, world pixels
    velocity: tuple[float, float]  # world pixels per second
    size: tuple[float, float]  # full width and height, world pixels
    colour: Colour
    stripe: Colour | None
    depth: float  # compared with the persons' ground y; inf = in front of everyone

    def centre(self, times: np.ndarray) -> np.ndarray:
        return np.asarray(self.start) + np.asarray(times, dtype=np.float64)[:, None] * np.asarray(self.velocity)


@dataclasses.dataclass
class Background:
    """A world-plane canvas (rendered at `scale` pixels per world pixel) seen through the camera."""

    image: np.ndarray  # (h, w, 3) uint8 RGB
    origin: tuple[float, float]  # world point of canvas pixel (0, 0)
    scale: float

    def view(self, camera: Camera, t: float) -> np.ndarray:
        """The (H, W, 3) frame background at time `t`."""
        z = float(camera.zoom(np.array([t]))[0])
        cx, cy = camera.centre_at(np.array([t]))[0]
        w, h = camera.size
        s = z / self.scale
        matrix = np.array([[s, 0.0, z * (self.origin[0] - cx) + w / 2],
                           [0.0, s, z * (self.origin[1] - cy) + h / 2]])
        return cv2.warpAffine(self.image, matrix, (w, h), flags=cv2.INTER_LINEAR,
                              borderMode=cv2.BORDER_REFLECT)


@dataclasses.dataclass
class Scene:
    """Everything needed to render one video."""

    profile: str
    size: tuple[int, int]  # (width, height)
    persons: list[Person]
    occluders: list[Occluder]
    camera: Camera
    background: Background
    noise: np.ndarray | None  # (H + 16, W + 16, 3) int16 sensor-noise field, or None
    blur: float  # exposure as a fraction of the frame interval
    knobs: dict[str, float]  # the values drawn for this video (recorded in the manifest)


def frame_times(frames: int, frame_step: int) -> np.ndarray:
    """Seconds of each output frame: every `frame_step`-th step of a 25 fps motion."""
    return np.arange(frames) * frame_step / FPS


# ----------------------------------------------------------------------------- background
def _capsule(img: np.ndarray, p0, p1, width: float, colour: Colour) -> None:
    cv2.line(img, (int(p0[0]), int(p0[1])), (int(p1[0]), int(p1[1])), colour,
             max(1, int(round(width))), cv2.LINE_AA)


def _draw_distractor(img: np.ndarray, rng: np.random.Generator, centre: np.ndarray, scale: float) -> None:
    """A limb-like thing: one or two capsules in limb colours, maybe striped, maybe a 'hand'."""
    colour = limb_colour(rng)
    length = rng.uniform(12, 34) * scale
    width = rng.uniform(3.5, 8.0) * scale
    angle = rng.uniform(0, 2 * math.pi)
    p0 = centre
    p1 = p0 + length * np.array([math.cos(angle), math.sin(angle)])
    _capsule(img, p0, p1, width, colour)
    if rng.random() < 0.35:
        mid = (p0 + p1) / 2
        _capsule(img, mid - 0.08 * (p1 - p0), mid + 0.08 * (p1 - p0), width, contrast(colour))
    end = p1
    if rng.random() < 0.5:  # an elbow
        angle += rng.uniform(-1.6, 1.6)
        end = p1 + length * rng.uniform(0.7, 1.0) * np.array([math.cos(angle), math.sin(angle)])
        _capsule(img, p1, end, width * 0.85, colour if rng.random() < 0.7 else limb_colour(rng))
    if rng.random() < 0.4:
        cv2.circle(img, (int(end[0]), int(end[1])), max(1, int(width * 0.7)),
                   tuple(int(c * 0.7) for c in colour), -1, cv2.LINE_AA)


def sample_background(rng: np.random.Generator, window: tuple[float, float, float, float],
                      scale: float, distractors: int) -> Background:
    """Smooth colour field, clutter shapes, striped patches and limb-like distractors."""
    x0, y0, x1, y1 = window
    margin = 24.0
    x0, y0, x1, y1 = x0 - margin, y0 - margin, x1 + margin, y1 + margin
    w = int(math.ceil((x1 - x0) * scale))
    h = int(math.ceil((y1 - y0) * scale))
    coarse = rng.integers(40, 220, size=(3, 4, 3), dtype=np.uint8)
    img = cv2.resize(coarse, (w, h), interpolation=cv2.INTER_CUBIC)
    area = (x1 - x0) * (y1 - y0)
    origin = np.array([x0, y0])

    def at(p: np.ndarray) -> np.ndarray:
        return (p - origin) * scale

    for _ in range(int(area / 2500)):  # clutter
        c = at(rng.uniform([x0, y0], [x1, y1]))
        size = rng.uniform(6, 45, 2) * scale
        colour = muted_colour(rng)
        kind = rng.integers(4)
        if kind == 0:
            cv2.rectangle(img, (int(c[0] - size[0]), int(c[1] - size[1])),
                          (int(c[0] + size[0]), int(c[1] + size[1])), colour, -1)
        elif kind == 1:
            cv2.ellipse(img, (int(c[0]), int(c[1])), (int(size[0]), int(size[1])),
                        float(rng.uniform(0, 180)), 0, 360, colour, -1, cv2.LINE_AA)
        elif kind == 2:
            pts = (c + rng.uniform(-1, 1, (5, 2)) * size).astype(np.int32)
            cv2.fillPoly(img, [pts], colour, cv2.LINE_AA)
        else:  # a striped patch: high-frequency texture
            step = max(2, int(rng.uniform(2, 5) * scale))
            xa, ya = int(c[0] - size[0]), int(c[1] - size[1])
            for k in range(0, int(2 * size[0]), 2 * step):
                cv2.rectangle(img, (xa + k, ya), (xa + k + step - 1, int(c[1] + size[1])), colour, -1)
    for _ in range(distractors):
        _draw_distractor(img, rng, at(rng.uniform([x0, y0], [x1, y1])), scale)
    return Background(image=img, origin=(float(x0), float(y0)), scale=scale)


# ----------------------------------------------------------------------------- occluders
def _occluder(rng: np.random.Generator, target: Person, tc: float, speed: float) -> Occluder:
    """An occluder that covers `target` around time `tc`."""
    pts = target.points(np.array([tc]))
    ground = pts.ground[0]
    h = pts.height
    colour = muted_colour(rng) if rng.random() < 0.5 else limb_colour(rng)
    stripe = contrast(colour) if rng.random() < 0.4 else None
    kind = str(rng.choice(["pole", "board", "disc"], p=[0.35, 0.4, 0.25]))
    if kind == "pole":
        width = rng.uniform(0.08, 0.2) * h
        bottom = ground[1] + rng.uniform(4, 30)
        return Occluder("pole", (float(ground[0] + rng.normal(0, 0.05 * h)), float(bottom)),
                        (0.0, 0.0), (float(width), float(bottom + 400)), colour, stripe, float(bottom))
    size = rng.uniform([0.3, 0.25], [0.7, 0.6]) * h
    if kind == "disc":
        size = np.array([size[0], size[0]])
    vx = rng.choice([-1, 1]) * rng.uniform(30, 90) * speed
    centre = ground - [0, rng.uniform(0.3, 0.8) * h]  # legs to head
    start = centre - tc * np.array([vx, 0.0])
    depth = math.inf if rng.random() < 0.7 else float(ground[1] + rng.uniform(3, 20))
    return Occluder(kind, (float(start[0]), float(start[1])), (float(vx), 0.0),
                    (float(size[0]), float(size[1])), colour, stripe, depth)


# ----------------------------------------------------------------------------- people
def _uniform(rng: np.random.Generator, r: tuple[float, float]) -> float:
    return float(rng.uniform(r[0], r[1])) if r[1] > r[0] else float(r[0])


def _ints(rng: np.random.Generator, r: tuple[int, int]) -> int:
    return int(rng.integers(r[0], r[1] + 1))


def _person(rng: np.random.Generator, track_id: int, profile: Profile, speed: float,
            width: int, height: int, x_mid: float, t_mid: float, *, walker: bool | None = None,
            direction: int | None = None, u: float | None = None) -> Person:
    """A person whose ground point is at x = `x_mid` at time `t_mid`."""
    u = rng.random() if u is None else u
    h = profile.person_height[0] + u * (profile.person_height[1] - profile.person_height[0])
    ground_y = float(np.clip(height * (0.5 + 0.42 * u) + rng.normal(0, 0.03 * height),
                             0.42 * height, 0.98 * height))
    walker = bool(rng.random() < profile.walkers) if walker is None else walker
    if walker:
        action = "run" if rng.random() < profile.runners else "walk"
    else:
        action = str(rng.choice(list(profile.actions)))
    direction = int(rng.choice([-1, 1])) if direction is None else direction
    motion = sample_motion(rng, action=action, height=h, speed=speed, start=(0.0, ground_y),
                           direction=direction)
    start = (x_mid - motion.velocity[0] * t_mid, ground_y - motion.velocity[1] * t_mid)
    return Person(track_id, sample_body(rng, h), moved(motion, start=start), sample_look(rng))


def _crossing_pair(rng: np.random.Generator, ids: tuple[int, int], profile: Profile, speed: float,
                   camera: Camera, duration: float) -> list[Person]:
    """Two walkers in opposite directions that meet at one x mid-video, one just behind the other."""
    w, h = camera.size
    tc = rng.uniform(0.3, 0.7) * duration
    xc = float(camera.centre_at(np.array([tc]))[0, 0] + rng.uniform(-0.25, 0.25) * w)
    u = rng.random()
    first = _person(rng, ids[0], profile, speed, w, h, xc, tc, walker=True, direction=1, u=u)
    second = _person(rng, ids[1], profile, speed, w, h, xc, tc, walker=True, direction=-1,
                     u=float(np.clip(u + rng.uniform(-0.1, 0.1), 0, 1)))
    gap = rng.choice([-1, 1]) * rng.uniform(3, 15)
    y = first.motion.start[1] + gap
    second = dataclasses.replace(second, motion=moved(second.motion, start=(second.motion.start[0], y)))
    return [first, second]


def sample_scene(rng: np.random.Generator, profile_name: str, profile: Profile, config: SynthConfig,
                 frames: int, *, single: bool = False) -> Scene:
    """A random scene under `profile`; `single` centres one person and follows it with the camera."""
    w, h = config.width, config.height
    times = frame_times(frames, config.frame_step)
    duration = float(times[-1])
    speed = _uniform(rng, profile.speed)
    zoom_amp = _uniform(rng, profile.zoom)
    pan_speed = _uniform(rng, profile.pan) * FPS  # profile: pixels per 25 fps frame
    pan_dir = rng.uniform(0, 2 * math.pi)
    pan = (pan_speed * math.cos(pan_dir), 0.3 * pan_speed * math.sin(pan_dir))
    camera = Camera(size=(w, h), centre=(w / 2, h / 2), pan=pan, zoom_amplitude=zoom_amp,
                    zoom_period=rng.uniform(1.5, 4.0), zoom_phase=rng.uniform(0, 2 * math.pi),
                    shake=_uniform(rng, profile.shake), shake_frequency=rng.uniform(1.0, 2.0),
                    shake_phase=rng.uniform(0, 2 * math.pi))
    t_mid = duration / 2
    persons: list[Person] = []
    if single:
        person = _person(rng, 0, profile, speed, w, h, w / 2, 0.0)
        ground_y = h / 2 + person.body.height / 2
        person = dataclasses.replace(person, motion=moved(person.motion, start=(w / 2, ground_y)))
        camera = dataclasses.replace(camera, pan=person.motion.velocity)  # follow the person
        persons = [_fit_in_frame(person, camera, times)]
        pairs = 0
    else:
        count = _ints(rng, profile.persons)
        pairs = min(_ints(rng, profile.crossings), count // 2)
        for k in range(pairs):
            persons += _crossing_pair(rng, (2 * k, 2 * k + 1), profile, speed, camera, duration)
        cx_mid = float(camera.centre_at(np.array([t_mid]))[0, 0])
        z_mid = float(camera.zoom(np.array([t_mid]))[0])
        for k in range(len(persons), count):
            x_mid = cx_mid + rng.uniform(-0.42, 0.42) * w / z_mid
            persons.append(_person(rng, k, profile, speed, w, h, x_mid, t_mid))
    occluders = []
    for _ in range(_ints(rng, profile.occluders)):
        target = persons[int(rng.integers(len(persons)))]
        occluders.append(_occluder(rng, target, rng.uniform(0.2, 0.8) * duration, speed))
    blur = _uniform(rng, profile.blur)
    sub = blur / 2 * config.frame_step / FPS
    window = camera.world_window(np.concatenate([times - sub, times + sub]))
    scale = float(np.ceil(camera.zoom(times).max() * 4) / 4)
    background = sample_background(rng, window, scale, _ints(rng, profile.distractors))
    noise = None
    if config.noise > 0:
        noise = np.rint(rng.normal(0, config.noise, (h + 16, w + 16, 3))).astype(np.int16)
    knobs = {"persons": len(persons), "crossings": pairs,
             "occluders": len(occluders), "speed": speed, "zoom": zoom_amp,
             "pan": float(np.hypot(*camera.pan)) / FPS, "shake": camera.shake, "blur": blur}
    return Scene(profile=profile_name, size=(w, h), persons=persons, occluders=occluders,
                 camera=camera, background=background, noise=noise, blur=blur, knobs=knobs)


def _fit_in_frame(person: Person, camera: Camera, times: np.ndarray, margin: float = 4.0) -> Person:
    """Shrink a followed single person until every point stays inside the frame (sub-JHMDB rule)."""
    w, h = camera.size
    for _ in range(12):
        xy = camera.to_image(person.points(times).xy, times)
        lo, hi = xy.min(axis=(0, 1)), xy.max(axis=(0, 1))
        if lo[0] >= margin and lo[1] >= margin and hi[0] <= w - 1 - margin and hi[1] <= h - 1 - margin:
            return person
        body = person.body.scaled(0.9)
        ground_y = h / 2 + body.height / 2
        person = dataclasses.replace(person, body=body,
                                     motion=moved(person.motion, start=(person.motion.start[0], ground_y)))
    raise RuntimeError("could not fit a single person inside the frame")
