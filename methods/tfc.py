"""`tfc`: temporal feature correlation (Li, Xu, Zhang, ICIP 2019).

From the previous frame of a track: keypoint features J_p = sum_hw B(h, w, p) I(h, w, :),
L2-normalised (B = that frame's heatmaps clamped at 0, I = its intermediate features). For
the current frame: correlation maps C_p(h, w) = <J_p, I_t(h, w, :)>, a scale layer (weight and
bias per map), concatenated to Stage 1's input. In training J_p comes from a reference frame
weighted by its ground-truth heatmaps.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from vposebench.config import choice
from vposebench.interface import ClipBatch
from vposebench.registry import register_method
from vposebench.skeleton import Skeleton

from .stage1 import StageOneConfig, StageOneMethod


def keypoint_features(heatmaps: torch.Tensor, features: torch.Tensor) -> torch.Tensor:
    """(N, J, h, w) heatmaps and (N, C, h, w) features -> (N, J, C) unit keypoint features
    (all zero where a heatmap is all zero)."""
    pooled = torch.einsum("njhw,nchw->njc", heatmaps.clamp(min=0), features)
    return F.normalize(pooled, dim=2, eps=1e-12)


def correlation_maps(keypoints: torch.Tensor, features: torch.Tensor, kind: str = "inner") -> torch.Tensor:
    """(N, J, C) keypoint features and (N, C, h, w) features -> (N, J, h, w) correlation maps:
    inner products (the paper's), or with `kind="cosine"` inner products with each location's
    feature vector L2-normalised too (cosine similarity: the map no longer follows the
    feature norm)."""
    if kind == "cosine":
        features = F.normalize(features, dim=1, eps=1e-12)
    elif kind != "inner":
        raise ValueError(f"correlation must be inner or cosine, got {kind!r}")
    return torch.einsum("njc,nchw->njhw", keypoints, features)


class ScaleLayer(nn.Module):
    """A learnable weight and bias per map (identity at start)."""

    def __init__(self, maps: int) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.ones(maps))
        self.bias = nn.Parameter(torch.zeros(maps))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.weight.view(1, -1, 1, 1) + self.bias.view(1, -1, 1, 1)


@dataclasses.dataclass
class TFCConfig(StageOneConfig):
    """StageOneConfig plus how keypoint features are compared with the current features."""

    #: inner: <J_p, I_t(h, w)> (the paper's); cosine: I_t(h, w) L2-normalised as well
    correlation: str = "inner"

    def validate(self) -> None:
        super().validate()
        choice(self.correlation, ("inner", "cosine"), "correlation")


@register_method("tfc")
class TemporalFeatureCorrelation(StageOneMethod):
    """Temporal feature correlation: previous-frame keypoint features correlated into Stage 1."""

    config_class = TFCConfig
    config: TFCConfig
    state_per_track = "the previous frame's L2-normalised keypoint features (J x C)"

    def __init__(self, skeleton: Skeleton, config: TFCConfig | None = None, **overrides: Any) -> None:
        super().__init__(skeleton, config, **overrides)
        self.scale = ScaleLayer(skeleton.num_joints)

    def temporal_modules(self) -> list[nn.Module]:
        return [self.scale]

    def temporal_maps(self, features: torch.Tensor, states: list[tuple], matrices: np.ndarray) -> torch.Tensor:
        keypoints = torch.stack([s[0] for s in states])
        return self.scale(correlation_maps(keypoints, features, self.config.correlation))

    def next_state(self, features: torch.Tensor, heatmaps: torch.Tensor, matrices: np.ndarray) -> list[tuple]:
        return [(k,) for k in keypoint_features(heatmaps, features)]

    def training_maps(self, reference: torch.Tensor, current: torch.Tensor, batch: ClipBatch) -> torch.Tensor:
        keypoints = keypoint_features(batch.targets[:, 0], reference)
        return self.scale(correlation_maps(keypoints, current, self.config.correlation))
