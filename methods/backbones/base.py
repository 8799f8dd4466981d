"""`PoseNetwork`: a heatmap network split at one feature map, so temporal modules can sit there.

``encode(x)`` runs the network up to the split point and returns that feature map (``main``)
plus any maps the rest still needs (``skips``); ``decode(main, skips, extra)`` runs the rest and
returns every supervised heatmap output (the last is the prediction). ``extra`` is the temporal
input some methods concatenate to the first heatmap stage (TFC correlation maps, previous
heatmaps). ``loss`` is the network's own training loss over its outputs.
"""

from __future__ import annotations

import abc

import torch
from torch import nn

from ..losses import weighted_mse


class PoseNetwork(nn.Module, abc.ABC):
    """A top-down heatmap network with a split point (see the module docstring)."""

    #: input pixels per heatmap cell
    heatmap_stride: int
    #: input pixels per cell of the split feature map, and its channels
    feature_stride: int
    feature_channels: int
    #: channels of `extra` the first heatmap stage accepts (0: none)
    extra_channels: int = 0

    @property
    def resnet(self) -> nn.Module | None:
        """The torchvision-layout ResNet inside (ImageNet weights load into it), if any."""
        return None

    @abc.abstractmethod
    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, tuple[torch.Tensor, ...]]:
        """Input crops (N, 3, H, W) -> (split feature map, maps the decoder still needs)."""

    @abc.abstractmethod
    def decode(self, main: torch.Tensor, skips: tuple[torch.Tensor, ...],
               extra: torch.Tensor | None = None) -> list[torch.Tensor]:
        """Split feature map -> supervised heatmap outputs (last = prediction)."""

    def forward(self, x: torch.Tensor, extra: torch.Tensor | None = None) -> torch.Tensor:
        main, skips = self.encode(x)
        return self.decode(main, skips, extra)[-1]

    def loss(self, outputs: list[torch.Tensor], target: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
        """Sum of the target-weighted MSE of every output (intermediate supervision)."""
        return sum(weighted_mse(o, target, weight) for o in outputs)

    def check_extra(self, main: torch.Tensor, extra: torch.Tensor | None) -> torch.Tensor | None:
        """Validate `extra`; a network built with extra channels gets zeros when none is given."""
        if self.extra_channels == 0:
            if extra is not None:
                raise ValueError("this network was built without extra Stage-1 inputs")
            return None
        if extra is None:
            n, _, h, w = main.shape
            return main.new_zeros(n, self.extra_channels, h, w)
        return extra
