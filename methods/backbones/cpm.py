"""CPM, 6 stages (the TFC paper's baseline, without the part-affinity branch).

A feature extractor to stride 8 (VGG-19's first ten convs + two CPM convs as in OpenPose, or a
ResNet stem up to C3) gives the intermediate feature I; Stage 1 (3x3 convs) maps I (plus any
temporal extra input: TFC correlation maps, previous heatmaps) to heatmaps; Stages 2..N (k x k
convs, 7 by default) take [I, previous stage heatmaps]. Every stage is supervised.
Hidden convs start with He init, each stage's output conv N(0, 0.01), the added Stage-1 inputs
N(0, 0.01) (the TFC paper's rule for new filters).
"""

from __future__ import annotations

import torch
from torch import nn

from ..heads import init_extra_inputs
from .base import PoseNetwork
from .resnet import ResNet


def _convs(cin: int, widths: list[int], kernel: int) -> list[nn.Module]:
    layers: list[nn.Module] = []
    for cout in widths:
        layers += [nn.Conv2d(cin, cout, kernel, padding=kernel // 2), nn.ReLU(inplace=True)]
        cin = cout
    return layers


def vgg_extractor(width: int, out_channels: int, stride: int = 8) -> nn.Sequential:
    """VGG-19 conv1_1..conv4_2 (three max-pools: stride 8; stride 4 makes the third an
    identity, so parameter names stay those of stride 8), then the two CPM convs."""
    w = [width, 2 * width, 4 * width, 8 * width]
    layers: list[nn.Module] = []
    cin = 3
    for i, (cout, reps) in enumerate(zip(w, (2, 2, 4, 2))):
        layers += _convs(cin, [cout] * reps, 3)
        cin = cout
        if i < 3:
            layers.append(nn.MaxPool2d(2, 2) if i < 2 or stride == 8 else nn.Identity())
    layers += _convs(cin, [max(out_channels, w[2]), out_channels], 3)
    return nn.Sequential(*layers)


class ResNetExtractor(nn.Module):
    """ResNet stem + layer1..2 (stride 8, or 4 with layer2 at stride 1) and a 3x3 conv to
    the CPM feature width."""

    def __init__(self, depth: int, width: int, out_channels: int, stride: int = 8) -> None:
        super().__init__()
        self.resnet = ResNet(depth, width, stages=2, output_stride=stride)
        self.project = nn.Sequential(
            nn.Conv2d(self.resnet.stage_channels[-1], out_channels, 3, padding=1),
            nn.ReLU(inplace=True),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.project(self.resnet.stage_outputs(x)[-1])


class CPMNet(PoseNetwork):
    """Multi-stage CPM; `extra_channels` more inputs to Stage 1 (new filters N(0, 0.01)).

    `stride` (8, the paper's, or 4) is both the heatmap and the intermediate feature stride.
    """

    def __init__(self, joints: int, stages: int = 6, extractor: str = "vgg", channels: int = 128,
                 hidden: int = 512, kernel: int = 7, vgg_width: int = 64, depth: int = 18,
                 width: int = 64, extra_channels: int = 0, stride: int = 8) -> None:
        super().__init__()
        if stride not in (4, 8):
            raise ValueError(f"CPM stride must be 4 or 8, got {stride}")
        self.heatmap_stride = self.feature_stride = stride
        if extractor == "vgg":
            self.extractor: nn.Module = vgg_extractor(vgg_width, channels, stride)
        else:
            self.extractor = ResNetExtractor(depth, width, channels, stride)
        self.feature_channels = channels
        self.extra_channels = extra_channels
        stage1 = _convs(channels + extra_channels, [channels] * 3, 3) + _convs(channels, [hidden], 1)
        self.stages = nn.ModuleList([nn.Sequential(*stage1, nn.Conv2d(hidden, joints, 1))])
        for _ in range(stages - 1):
            body = _convs(channels + joints, [channels] * 5, kernel) + _convs(channels, [channels], 1)
            self.stages.append(nn.Sequential(*body, nn.Conv2d(channels, joints, 1)))
        for m in [*self.extractor.modules(), *self.stages.modules()]:
            if isinstance(m, nn.Conv2d) and m.bias is not None:  # ResNet convs are set already
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
                nn.init.zeros_(m.bias)
        for stage in self.stages:
            nn.init.normal_(stage[-1].weight, std=0.01)
        init_extra_inputs(self.stages[0][0], channels)

    @property
    def resnet(self) -> nn.Module | None:
        return getattr(self.extractor, "resnet", None)

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, tuple[torch.Tensor, ...]]:
        return self.extractor(x), ()

    def decode(self, main: torch.Tensor, skips: tuple[torch.Tensor, ...],
               extra: torch.Tensor | None = None) -> list[torch.Tensor]:
        extra = self.check_extra(main, extra)
        x = main if extra is None else torch.cat([main, extra], dim=1)
        outputs = [self.stages[0](x)]
        for stage in self.stages[1:]:
            outputs.append(stage(torch.cat([main, outputs[-1]], dim=1)))
        return outputs
