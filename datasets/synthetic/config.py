"""Knobs of the synthetic benchmark: condition profiles, the generator config and its presets.

A video is generated under one *profile* (``base``, ``crowd``, ``occlusion``, ``fast``): the
profile fixes the ranges its knobs are drawn from. Which named subsets a video belongs to is
decided afterwards by measuring its ground truth (`stats.py`), never by the profile alone.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import typing
from collections.abc import Mapping
from typing import Any

from vposebench.errors import UserError

#: bump when the generator's output changes for the same config (invalidates caches)
GENERATOR_VERSION = 3
#: kinds of degraded-frame bursts (`bursts.py`)
BURST_KINDS = ("occluder", "defocus", "exposure")

Range = tuple[float, float]
IntRange = tuple[int, int]


@dataclasses.dataclass(frozen=True)
class Profile:
    """Ranges one condition profile draws its per-video knobs from (sizes in image pixels)."""

    persons: IntRange = (3, 6)  # persons in the video
    person_height: Range = (60.0, 160.0)  # body height (ankle to head top) at zoom 1
    speed: Range = (0.8, 1.3)  # multiplier of action frequency and walking speed
    walkers: float = 0.5  # probability that a person walks across instead of acting in place
    runners: float = 0.33  # share of the walkers that run
    #: the in-place actions people of this profile choose from
    actions: tuple[str, ...] = ("wave", "jumping_jacks", "squat", "punch", "kick")
    crossings: IntRange = (0, 1)  # pairs of walkers whose paths cross mid-video
    occluders: IntRange = (0, 1)  # poles and moving boards in front of people
    distractors: IntRange = (8, 14)  # limb-like capsules in the background
    zoom: Range = (0.0, 0.1)  # amplitude of the camera zoom (relative)
    pan: Range = (0.0, 0.8)  # camera pan speed in pixels per frame
    shake: Range = (0.0, 0.0)  # amplitude of a fast camera sway (about 1.5 Hz), world pixels
    blur: Range = (0.0, 0.0)  # exposure as a fraction of the frame interval (0: no blur)

    def __post_init__(self) -> None:
        for field in dataclasses.fields(self):
            value = getattr(self, field.name)
            if isinstance(value, tuple) and len(value) == 2 and not value[0] <= value[1]:
                raise ValueError(f"profile {field.name}: range {value} is empty")


#: in-place actions that move most joints (arms and legs), for the fast profiles
_WHOLE_BODY = ("jumping_jacks", "squat", "kick")

PROFILES: dict[str, Profile] = {
    "base": Profile(),
    "crowd": Profile(persons=(11, 14), person_height=(55.0, 100.0), walkers=0.3,
                     crossings=(1, 2), occluders=(0, 1)),
    "occlusion": Profile(persons=(4, 6), walkers=0.7, crossings=(2, 3), occluders=(3, 5)),
    # fast walkers leave the frame sooner: more of them keep persons per frame near `base`
    "fast": Profile(persons=(4, 8), speed=(2.5, 4.0), walkers=0.6, runners=0.5,
                    actions=_WHOLE_BODY, zoom=(0.1, 0.25), pan=(1.0, 3.0), shake=(5.0, 15.0),
                    blur=(0.4, 0.8)),
}
#: profiles of the single-person clips (JHMDB-style and Penn-Action-style layouts); the camera
#: follows the person (plus `shake`), so `pan` is unused there
_CLIP = {"persons": (1, 1), "person_height": (110.0, 170.0), "walkers": 0.3, "crossings": (0, 0),
         "pan": (0.0, 0.0)}
CLIP_PROFILES: dict[str, Profile] = {
    "base": Profile(**_CLIP, occluders=(0, 0)),
    "fast": Profile(**_CLIP, speed=(2.5, 4.0), actions=_WHOLE_BODY, occluders=(0, 0), zoom=(0.1, 0.2),
                    shake=(15.0, 30.0), blur=(0.4, 0.8)),
    "occlusion": Profile(**_CLIP, occluders=(1, 2)),
}


@dataclasses.dataclass(frozen=True)
class SynthConfig:
    """Everything that determines a generated benchmark; equal configs give identical bytes."""

    seed: int = 0
    width: int = 320
    height: int = 240
    # --- PoseTrack'18 layout (multi-person videos)
    train_videos: int = 32
    val_videos: int = 16
    frames: int = 40  # frames per video
    frame_step: int = 1  # temporal downsampling: keep every k-th frame of the 25 fps motion
    label_pattern: str = "all"  # "all" frames labelled, or PoseTrack's sparse "posetrack"
    #: profile name -> share of the videos (allotted deterministically per split)
    mix: tuple[tuple[str, float], ...] = (("base", 0.4), ("crowd", 0.2), ("occlusion", 0.2),
                                          ("fast", 0.2))
    # --- single-person layouts (PCK protocol)
    jhmdb_clips: int = 36
    penn_clips: int = 36
    clip_frames: IntRange = (28, 40)
    jhmdb_mix: tuple[tuple[str, float], ...] = (("base", 0.6), ("fast", 0.4))
    penn_mix: tuple[tuple[str, float], ...] = (("base", 0.5), ("fast", 0.25), ("occlusion", 0.25))
    # --- rendering
    jpeg_quality: int = 90
    noise: float = 3.0  # sensor noise (standard deviation, 8-bit levels)
    blur_samples: int = 5  # sub-frames averaged for motion blur
    # --- annotation rules
    min_joints_in_image: int = 4  # a person is annotated with at least this many joints inside
    min_joints_unhidden: int = 2  # ... of which at least this many are not hidden by others
    # --- degraded-frame bursts (`bursts.py`), in every layout and split, drawn per frame
    burst_rate: float = 0.13  # chance that an episode starts at a frame (outside episodes and gaps)
    burst_length: IntRange = (2, 4)  # frames per episode
    burst_gap: int = 3  # clean frames at least between two episodes (the default recovery window)
    #: kind -> relative share of the episodes
    burst_kinds: tuple[tuple[str, float], ...] = (("occluder", 1.0), ("defocus", 1.0), ("exposure", 1.0))
    burst_cover: float = 0.5  # an occluder episode covers this share of the eligible persons (>= 1)
    # --- subset definitions (measured on the ground truth, see stats.py)
    crowd_min_persons: float = 8.0  # crowd: mean persons per labelled frame above this (PTM)
    occlusion_min_fraction: float = 0.2  # occlusion: share of annotated joints hidden by others
    fast_min_displacement: float = 0.06  # fast: mean joint motion per frame / body height
    burst_min_fraction: float = 0.25  # burst: share of labelled person-frames inside bursts

    def __post_init__(self) -> None:
        checks = [
            (self.width >= 64 and self.height >= 48, "width/height", "at least 64x48"),
            (self.train_videos >= 0 and self.val_videos >= 1, "train_videos/val_videos",
             "need train_videos >= 0 and val_videos >= 1"),
            (2 <= self.frames <= 9999, "frames", "between 2 and 9999"),
            (self.frame_step >= 1, "frame_step", "at least 1"),
            (self.label_pattern in ("all", "posetrack"), "label_pattern", "'all' or 'posetrack'"),
            (self.jhmdb_clips >= 0 and self.penn_clips >= 0, "jhmdb_clips/penn_clips",
             "not negative"),
            (2 <= self.clip_frames[0] <= self.clip_frames[1] <= 9999, "clip_frames",
             "a range within 2..9999"),
            (1 <= self.jpeg_quality <= 100, "jpeg_quality", "between 1 and 100"),
            (self.noise >= 0, "noise", "not negative"),
            (self.blur_samples >= 3 and self.blur_samples % 2 == 1, "blur_samples",
             "an odd number of at least 3 (the middle sub-frame is the annotated instant)"),
            (self.min_joints_in_image >= 1, "min_joints_in_image", "at least 1"),
            (self.train_videos < 100000 and self.val_videos < 100000, "train_videos/val_videos",
             "below 100000 (PoseTrack sequence numbers, see generator.VID_BASE)"),
            (0 <= self.burst_rate < 1, "burst_rate", "in [0, 1)"),
            (1 <= self.burst_length[0] <= self.burst_length[1], "burst_length", "a range of at least 1"),
            (self.burst_gap >= 0, "burst_gap", "not negative"),
            (0 < self.burst_cover <= 1, "burst_cover", "in (0, 1]"),
            (0 <= self.burst_min_fraction <= 1, "burst_min_fraction", "in [0, 1]"),
        ]
        for ok, field, what in checks:
            if not ok:
                raise UserError(f"must be {what}", field=field)
        for field, mix, table in (("mix", self.mix, PROFILES), ("jhmdb_mix", self.jhmdb_mix, CLIP_PROFILES),
                                  ("penn_mix", self.penn_mix, CLIP_PROFILES)):
            for name, share in mix:
                if name not in table:
                    raise UserError(f"unknown profile {name!r} (known: {', '.join(table)})",
                                    field=field)
                if share <= 0:
                    raise UserError(f"share of {name!r} must be positive", field=field)
        for name, share in self.burst_kinds:
            if name not in BURST_KINDS:
                raise UserError(f"unknown burst kind {name!r} (known: {', '.join(BURST_KINDS)})",
                                field="burst_kinds")
            if share <= 0:
                raise UserError(f"share of {name!r} must be positive", field="burst_kinds")
        if not self.burst_kinds:
            raise UserError("name at least one kind (set burst_rate=0 for no bursts)", field="burst_kinds")

    # -- identity ---------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        return _plain(dataclasses.asdict(self))

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> SynthConfig:
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise UserError(f"unknown config field(s): {', '.join(unknown)}")
        return cls(**{k: _to_tuple(v) for k, v in data.items()})

    def config_hash(self) -> str:
        """Hash of the config, the profile tables and the generator version: the cache key."""
        profiles = {name: _plain(dataclasses.asdict(p)) for name, p in PROFILES.items()}
        clips = {name: _plain(dataclasses.asdict(p)) for name, p in CLIP_PROFILES.items()}
        blob = json.dumps({"generator": GENERATOR_VERSION, "config": self.to_dict(), "profiles": profiles,
                           "clip_profiles": clips}, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(blob.encode()).hexdigest()[:16]

    def with_overrides(self, overrides: Mapping[str, str]) -> SynthConfig:
        """A copy with `key=value` strings applied (scalar fields and ranges "a,b" only)."""
        hints = typing.get_type_hints(type(self))
        changes: dict[str, Any] = {}
        for key, text in overrides.items():
            if key not in hints:
                raise UserError(f"unknown synthetic config field {key!r} "
                                f"(known: {', '.join(sorted(hints))})", field="--set")
            changes[key] = _parse_value(key, hints[key], text)
        return dataclasses.replace(self, **changes)


def _plain(obj: Any) -> Any:
    """Tuples to lists, recursively (JSON's view of the config)."""
    if isinstance(obj, (tuple, list)):
        return [_plain(v) for v in obj]
    if isinstance(obj, dict):
        return {k: _plain(v) for k, v in obj.items()}
    return obj


def _to_tuple(value: Any) -> Any:
    return tuple(_to_tuple(v) for v in value) if isinstance(value, list) else value


def _parse_value(key: str, hint: Any, text: str) -> Any:
    """Parse a `--set key=value` string for a field of type `hint`."""
    origin = typing.get_origin(hint)
    try:
        if hint is int:
            return int(text)
        if hint is float:
            return float(text)
        if hint is str:
            return text
        if origin is tuple and typing.get_args(hint) in ((int, int), (float, float)):
            kind = typing.get_args(hint)[0]
            parts = [kind(p) for p in text.split(",")]
            if len(parts) != 2:
                raise ValueError(text)
            return tuple(parts)
        if origin is tuple:  # a mix: "base:0.5,fast:0.5"
            pairs = []
            for item in text.split(","):
                name, share = item.split(":")
                pairs.append((name.strip(), float(share)))
            return tuple(pairs)
    except ValueError:
        pass
    raise UserError(f"cannot parse {text!r} for {key}", field="--set")


#: named presets: `quick` (tiny, for smoke runs), `default`, `full` (larger)
SYNTH_PRESETS: dict[str, SynthConfig] = {
    "quick": SynthConfig(train_videos=4, val_videos=4, frames=16, jhmdb_clips=6, penn_clips=6,
                         clip_frames=(16, 20)),
    "default": SynthConfig(),
    "full": SynthConfig(train_videos=120, val_videos=40, frames=60, jhmdb_clips=120,
                        penn_clips=120, clip_frames=(30, 40)),
}


def preset(name: str) -> SynthConfig:
    """The named preset; an unknown name is a UserError listing the known ones."""
    try:
        return SYNTH_PRESETS[name]
    except KeyError:
        raise UserError(f"unknown preset {name!r} (known: {', '.join(SYNTH_PRESETS)})",
                        field="--preset") from None


def allot(mix: tuple[tuple[str, float], ...], count: int) -> list[str]:
    """`count` profile names in the shares of `mix`, spread evenly over the positions.

    Counts use largest-remainder rounding; no randomness, so every split gets each profile
    in proportion (ties favour the earlier profile of the mix).
    """
    total = sum(share for _, share in mix)
    exact = [share / total * count for _, share in mix]
    counts = [int(x) for x in exact]
    by_remainder = sorted(range(len(mix)), key=lambda i: (-(exact[i] - counts[i]), i))
    for i in by_remainder[: count - sum(counts)]:
        counts[i] += 1
    slots = sorted(((j + 0.5) / n, i) for i, n in enumerate(counts) for j in range(n))
    return [mix[i][0] for _, i in slots]
