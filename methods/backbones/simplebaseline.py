"""SimpleBaseline (Xiao et al. 2018): ResNet + 3 deconv layers + 1x1 conv, heatmap stride 4.

Parameter names are torchvision's ResNet (``conv1``, ``bn1``, ``layer1..4``) plus the official
head (``deconv_layers``, ``final_layer``), so an official pose checkpoint loads strictly.
Split points: ``c5`` (the PTM memory's place), ``c4`` (a finer grid for small inputs) and
``deconv`` (the last deconv output, TFC's intermediate feature at heatmap resolution).
"""

from __future__ import annotations

import torch

from ..heads import make_deconv_layers, make_final_layer
from .base import PoseNetwork
from .resnet import STAGE_STRIDE, ResNet

SPLITS = ("c4", "c5", "deconv")


class SimpleBaselineNet(ResNet, PoseNetwork):
    """ResNet backbone with the SimpleBaseline deconv head."""

    heatmap_stride = 4

    def __init__(self, joints: int, depth: int = 50, width: int = 64,
                 deconv_channels: int = 256, deconv_kernel: int = 4, split: str = "c5",
                 extra_channels: int = 0) -> None:
        super().__init__(depth, width, num_classes=None)
        if split not in SPLITS:
            raise ValueError(f"split must be one of {SPLITS}, got {split!r}")
        if extra_channels and split != "deconv":
            raise ValueError("extra Stage-1 inputs need split='deconv'")
        self.split = split
        self.extra_channels = extra_channels
        self.deconv_layers = make_deconv_layers(self.stage_channels[-1], 3, deconv_channels,
                                                deconv_kernel)
        self.final_layer = make_final_layer(deconv_channels, joints, extra_channels)
        if split == "deconv":
            self.feature_stride, self.feature_channels = 4, deconv_channels
        else:
            self.feature_stride = STAGE_STRIDE[split]
            self.feature_channels = self.stage_channels[int(split[1]) - 2]

    forward = PoseNetwork.forward

    @property
    def resnet(self) -> ResNet:
        return self

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, tuple[torch.Tensor, ...]]:
        x = self.stem(x)
        last = 3 if self.split == "c4" else 4
        for i in range(last):
            x = self.stage(i)(x)
        if self.split == "deconv":
            x = self.deconv_layers(x)
        return x, ()

    def decode(self, main: torch.Tensor, skips: tuple[torch.Tensor, ...],
               extra: torch.Tensor | None = None) -> list[torch.Tensor]:
        x = main
        if self.split == "c4":
            x = self.layer4(x)
        if self.split != "deconv":
            x = self.deconv_layers(x)
        extra = self.check_extra(x, extra)
        if extra is not None:
            x = torch.cat([x, extra], dim=1)
        return [self.final_layer(x)]
