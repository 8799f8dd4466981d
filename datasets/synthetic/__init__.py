"""The synthetic video pose benchmark: generator (render + exact ground truth) and its dataset.

`generate(root, config)` writes a root in the real formats (PoseTrack'18, JHMDB-style,
Penn-Action-style) and reuses it when the config is unchanged; `SyntheticDataset` (registered
as ``synthetic``) reads it back. The generator's modules (OpenCV, SciPy) load on first use.
"""

from __future__ import annotations

from typing import Any

from .config import PROFILES, SYNTH_PRESETS, SynthConfig, preset
from .dataset import SyntheticDataset
from .manifest import Manifest, read_manifest
from .stats import SUBSETS
from .truth import CODE_NAMES, VideoTruth, read_occlusion

__all__ = [
    "CODE_NAMES", "PROFILES", "SUBSETS", "SYNTH_PRESETS", "Manifest", "SynthConfig", "SyntheticDataset",
    "VideoTruth", "generate", "preset", "read_manifest", "read_occlusion",
]


def __getattr__(name: str) -> Any:
    if name == "generate":  # imported on first use: it pulls in OpenCV and SciPy
        from .generator import generate

        return generate
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
