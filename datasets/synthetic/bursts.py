"""Degraded-frame bursts: episodes of consecutive frames that are worse than their neighbours.

Blur, noise and most occlusion are drawn per video, so without bursts no frame is worse than
the frames around it, and a method that uses the past cannot show what it gains from it. A
burst is an episode of `k` consecutive degraded frames, drawn frame by frame (never per
video): at every frame outside an episode and outside the `burst_gap` frames after one, an
episode starts with probability `burst_rate` (never on a video's first frame, so every episode
has a clean frame before it); its length is drawn from `burst_length` (cut at the video's end)
and its kind from `burst_kinds`:

- ``occluder``: an opaque board in front of everyone covers the whole body of each target
  person (the box around the person's points over the frame's exposure, enlarged by
  `BOARD_MARGIN` body heights), in every frame of the episode. Targets are drawn among the
  persons that keep at least `min_joints_in_image` joints inside the image throughout the
  episode: a share `burst_cover` of them, at least one (so several persons in crowded frames).
- ``defocus``: the whole frame convolved with a disk (a defocused lens's blur), radius drawn
  from `DEFOCUS_RADIUS`, plus fresh sensor noise drawn from `DEFOCUS_NOISE`.
- ``exposure``: the whole frame multiplied by a gain (over-exposed `OVER_GAIN` or
  under-exposed `UNDER_GAIN`, even odds), plus the config's sensor noise, clipped to 0..255.

Parameters are fixed per episode; the noise is drawn per frame from ``(episode seed, frame)``.
The ground truth does not change: every person keeps its annotation, box and true joints
(an occluder target is annotated whatever the occlusion rule says), and the generator writes
which person-frames are degraded (kind, position in the episode) to a side file
(`degradation.py`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import cv2
import numpy as np

from .appearance import Colour, contrast, limb_colour, muted_colour
from .config import SynthConfig

#: disk radius of a defocus burst, pixels at an image height of 240 (scaled with the height)
DEFOCUS_RADIUS = (2.0, 4.0)
#: standard deviation of the sensor noise added to a defocused frame, 8-bit levels
DEFOCUS_NOISE = (8.0, 16.0)
#: gain of an over-exposed and of an under-exposed frame
OVER_GAIN = (2.0, 3.0)
UNDER_GAIN = (0.15, 0.3)
#: margin of a burst board around the person's points, in body heights
BOARD_MARGIN = 0.12
_REFERENCE_HEIGHT = 240.0


@dataclasses.dataclass(frozen=True)
class Burst:
    """One episode: its kind, frames and drawn parameters."""

    kind: str  # "occluder" | "defocus" | "exposure"
    start: int  # first frame (0-based)
    length: int
    targets: tuple[int, ...] = ()  # occluder: indices of the covered persons in the scene
    boards: tuple[tuple[Colour, Colour | None], ...] = ()  # occluder: (colour, stripe) per target
    radius: float = 0.0  # defocus: disk radius in pixels
    noise: float = 0.0  # defocus / exposure: sensor noise added per frame (standard deviation)
    gain: float = 1.0  # exposure: multiplier of the frame
    seed: int = 0  # per-frame noise is drawn from default_rng([seed, frame])

    @property
    def frames(self) -> range:
        return range(self.start, self.start + self.length)

    @property
    def whole_frame(self) -> bool:
        """The episode degrades every person of its frames (defocus, exposure)."""
        return self.kind != "occluder"

    def params(self) -> dict[str, float]:
        """The drawn parameters worth recording (side file)."""
        if self.kind == "defocus":
            return {"radius": round(self.radius, 4), "noise": round(self.noise, 4)}
        if self.kind == "exposure":
            return {"gain": round(self.gain, 4), "noise": round(self.noise, 4)}
        return {"margin_body_heights": BOARD_MARGIN}


#: what a person-frame carries when it is inside a burst: (kind, 0-based position in the episode)
Flag = tuple[str, int]


def flag_fields(flag: Flag | None) -> tuple[str | None, int | None]:
    """(`PersonGT.degradation`, `PersonGT.burst_position`) of a person-frame's flag."""
    return flag if flag is not None else (None, None)


def _board_look(rng: np.random.Generator) -> tuple[Colour, Colour | None]:
    colour = muted_colour(rng) if rng.random() < 0.5 else limb_colour(rng)
    return colour, (contrast(colour) if rng.random() < 0.4 else None)


def _choose(rng: np.random.Generator, kinds: tuple[tuple[str, float], ...]) -> str:
    shares = np.array([share for _, share in kinds], dtype=np.float64)
    return kinds[int(rng.choice(len(kinds), p=shares / shares.sum()))][0]


def sample_bursts(rng: np.random.Generator, config: SynthConfig, eligible: np.ndarray) -> list[Burst]:
    """The episodes of one video; `eligible` (T, P) says which persons may be an occluder's target
    in each frame (enough joints inside the image)."""
    frames = len(eligible)
    bursts: list[Burst] = []
    if config.burst_rate <= 0:
        return bursts
    f = 1
    while f < frames:
        if rng.random() >= config.burst_rate:
            f += 1
            continue
        length = min(int(rng.integers(config.burst_length[0], config.burst_length[1] + 1)), frames - f)
        kind = _choose(rng, config.burst_kinds)
        seed = int(rng.integers(2**31))
        if kind == "occluder":
            candidates = np.flatnonzero(eligible[f:f + length].all(axis=0))
            if len(candidates) == 0:  # nobody to cover: the draw is lost
                f += 1
                continue
            count = max(1, int(round(config.burst_cover * len(candidates))))
            targets = tuple(sorted(int(i) for i in rng.choice(candidates, count, replace=False)))
            burst = Burst(kind, f, length, targets=targets,
                          boards=tuple(_board_look(rng) for _ in targets), seed=seed)
        elif kind == "defocus":
            scale = config.height / _REFERENCE_HEIGHT
            burst = Burst(kind, f, length, radius=float(rng.uniform(*DEFOCUS_RADIUS)) * scale,
                          noise=float(rng.uniform(*DEFOCUS_NOISE)), seed=seed)
        else:
            gain = float(rng.uniform(*OVER_GAIN) if rng.random() < 0.5 else rng.uniform(*UNDER_GAIN))
            burst = Burst(kind, f, length, gain=gain, noise=float(config.noise), seed=seed)
        bursts.append(burst)
        f += length + config.burst_gap
    return bursts


def schedule(bursts: Sequence[Burst], frames: int) -> list[tuple[Burst, int] | None]:
    """Per frame: the episode it is in and its position there, or None."""
    out: list[tuple[Burst, int] | None] = [None] * frames
    for burst in bursts:
        for position, f in enumerate(burst.frames):
            out[f] = (burst, position)
    return out


def person_flags(entry: tuple[Burst, int] | None, persons: int) -> list[Flag | None]:
    """Per person of the scene: its flag in a frame with schedule `entry`."""
    if entry is None:
        return [None] * persons
    burst, position = entry
    flag = (burst.kind, position)
    if burst.whole_frame:
        return [flag] * persons
    return [flag if p in burst.targets else None for p in range(persons)]


def disk_kernel(radius: float) -> np.ndarray:
    """A normalised disk of `radius` pixels (the point spread of a defocused lens), with
    partial weights at its edge (4x supersampled) so that the blur grows smoothly with it."""
    half = int(np.ceil(radius))
    sub = (np.arange(4 * (2 * half + 1)) + 0.5) / 4 - (half + 0.5)
    yy, xx = np.meshgrid(sub, sub, indexing="ij")
    inside = (xx * xx + yy * yy <= radius * radius).astype(np.float64)
    kernel = inside.reshape(2 * half + 1, 4, 2 * half + 1, 4).mean(axis=(1, 3))
    return (kernel / kernel.sum()).astype(np.float32)


def frame_noise(burst: Burst, frame: int, shape: tuple[int, ...]) -> np.ndarray:
    """The sensor noise a whole-frame episode adds to `frame` (float32)."""
    rng = np.random.default_rng([burst.seed, frame])
    return rng.normal(0.0, burst.noise, shape).astype(np.float32)


def degrade(image: np.ndarray, burst: Burst, frame: int) -> np.ndarray:
    """A whole-frame episode's effect on an (H, W, 3) uint8 frame (occluder episodes are drawn
    into the scene instead and return the image unchanged)."""
    if burst.kind == "defocus":
        value = cv2.filter2D(image.astype(np.float32), -1, disk_kernel(burst.radius),
                             borderType=cv2.BORDER_REFLECT)
    elif burst.kind == "exposure":
        value = image.astype(np.float32) * np.float32(burst.gain)
    else:
        return image
    if burst.noise > 0:
        value += frame_noise(burst, frame, image.shape)
    return np.clip(np.rint(value), 0, 255).astype(np.uint8)


def board_box(points: np.ndarray, height: float) -> np.ndarray:
    """xyxy board covering `points` (..., 2) with a margin of `BOARD_MARGIN` body heights."""
    pts = points.reshape(-1, 2)
    margin = BOARD_MARGIN * height
    return np.concatenate([pts.min(axis=0) - margin, pts.max(axis=0) + margin])
