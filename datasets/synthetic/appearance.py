"""How people, distractors and occluders look: colours and stripe textures.

Every person gets one look for the whole video (appearance stays constant over time, the
premise of temporal feature correlation). Left and right limbs get clearly different hues, and
some parts carry stripes, so two persons and the two sides of one person can be told apart.
Distractors draw their colours from the same limb palette, so that colour alone never
identifies a person's limb.
"""

from __future__ import annotations

import colorsys
import dataclasses

import numpy as np

from .people import PARTS

Colour = tuple[int, int, int]  # RGB, 0..255

_SKIN = ((255, 224, 196), (241, 194, 155), (224, 172, 125), (198, 134, 90), (141, 85, 54),
         (92, 60, 40))
_HAIR = ((20, 15, 10), (70, 45, 25), (120, 80, 40), (200, 170, 100), (150, 150, 150),
         (170, 60, 30))


def hsv(h: float, s: float, v: float) -> Colour:
    """RGB of a hue in [0, 1) (wrapped), saturation and value in [0, 1]."""
    r, g, b = colorsys.hsv_to_rgb(h % 1.0, s, v)
    return int(round(r * 255)), int(round(g * 255)), int(round(b * 255))


def limb_colour(rng: np.random.Generator, hue: float | None = None) -> Colour:
    """A saturated clothing colour (the palette of limbs and of limb-like distractors)."""
    return hsv(rng.random() if hue is None else hue, rng.uniform(0.55, 0.95), rng.uniform(0.45, 0.95))


def contrast(colour: Colour) -> Colour:
    """A stripe colour that stands out on `colour` (dark on light, light on dark)."""
    luma = 0.299 * colour[0] + 0.587 * colour[1] + 0.114 * colour[2]
    return (30, 30, 30) if luma > 110 else (235, 235, 225)


@dataclasses.dataclass(frozen=True)
class Look:
    """Colour and stripe colour (None: plain) of every part, in `PARTS` order."""

    colours: tuple[Colour, ...]
    stripes: tuple[Colour | None, ...]
    nose: Colour

    def colour(self, part: str) -> Colour:
        return self.colours[PARTS.index(part)]


def sample_look(rng: np.random.Generator) -> Look:
    """A person's look: shirt, per-side sleeve and trouser hues, skin, hair, gloves, shoes."""
    skin = _SKIN[rng.integers(len(_SKIN))]
    hair = _HAIR[rng.integers(len(_HAIR))]
    left_hue = rng.random()
    right_hue = left_hue + rng.uniform(0.25, 0.75)  # at least 90 degrees of hue apart
    left_arm, right_arm = limb_colour(rng, left_hue), limb_colour(rng, right_hue)
    leg_shift = rng.uniform(-0.12, 0.12)
    left_leg, right_leg = limb_colour(rng, left_hue + leg_shift), limb_colour(rng, right_hue + leg_shift)
    shirt = limb_colour(rng)
    colours = {
        "torso": shirt, "neck": skin, "head": skin, "hair": hair,
        "left_upper_arm": left_arm, "left_forearm": left_arm,
        "right_upper_arm": right_arm, "right_forearm": right_arm,
        "left_thigh": left_leg, "left_shin": left_leg,
        "right_thigh": right_leg, "right_shin": right_leg,
        "left_hand": _darker(left_arm), "right_hand": _darker(right_arm),
        "left_foot": _darker(left_leg, 0.45), "right_foot": _darker(right_leg, 0.45),
    }
    striped = {name for name in ("torso", "left_upper_arm", "left_forearm", "left_thigh",
                                 "right_upper_arm", "right_forearm", "right_thigh")
               if rng.random() < 0.35}
    stripes = tuple(contrast(colours[p]) if p in striped else None for p in PARTS)
    return Look(colours=tuple(colours[p] for p in PARTS), stripes=stripes, nose=_darker(skin, 0.8))


def _darker(colour: Colour, factor: float = 0.7) -> Colour:
    return tuple(int(c * factor) for c in colour)  # type: ignore[return-value]


def muted_colour(rng: np.random.Generator) -> Colour:
    """A low-saturation colour for background clutter."""
    return hsv(rng.random(), rng.uniform(0.05, 0.35), rng.uniform(0.3, 0.9))
