"""CPN (Chen et al. 2018): ResNet + GlobalNet feature pyramid + RefineNet with OHKM.

GlobalNet: 1x1 laterals bring C2..C5 to `channels`, a top-down pathway adds the upsampled
coarser level (upsample, 1x1 conv) to each finer one, and every level predicts heatmaps at
stride 4. RefineNet: level i passes through `refine_blocks[i]` bottlenecks (0, 1, 2, 3 for
C2..C5), is upsampled to stride 4, the levels are concatenated, and a bottleneck + 3x3 conv
predicts the final heatmaps; its loss keeps only the hardest joints (online hard keypoint
mining). The split point is the C5 lateral (the PTM paper stores (12, 9, 256) maps for CPN).

Initialisation: hidden convs He, heatmap-predicting convs N(0, 0.001) with zero bias (as
SimpleBaseline's final layer). Targets here peak at 1; He-initialised output convs start with
heatmap noise of std ~1.4, which buried the peaks (loss 5.1 at step 0, AP 0.2 after 1500
steps). Public CPN code keeps outputs of std ~1 far below its targets by scaling them to 255.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ..heads import conv_bn_relu, init_heatmap_conv
from ..losses import ohkm_mse, weighted_mse
from .base import PoseNetwork
from .resnet import Bottleneck, ResNet, conv1x1, init_resnet


def _bottleneck(cin: int, cout: int) -> Bottleneck:
    """A bottleneck mapping `cin` to `cout` channels (projection shortcut when they differ)."""
    down = None if cin == cout else nn.Sequential(conv1x1(cin, cout), nn.BatchNorm2d(cout))
    return Bottleneck(cin, cout // Bottleneck.expansion, downsample=down)


def _upsample(x: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    return F.interpolate(x, size=size, mode="bilinear", align_corners=False)


class CPNNet(PoseNetwork):
    """Cascaded pyramid network; `loss` = GlobalNet L2 on all joints + RefineNet OHKM L2."""

    heatmap_stride = 4
    feature_stride = 32

    def __init__(self, joints: int, depth: int = 50, width: int = 64, channels: int = 256,
                 refine_blocks: tuple[int, ...] = (0, 1, 2, 3), ohkm_topk: int = 8) -> None:
        super().__init__()
        self.trunk = ResNet(depth, width)
        self.feature_channels = channels
        self.ohkm_topk = ohkm_topk
        cins = self.trunk.stage_channels
        self.laterals = nn.ModuleList(conv_bn_relu(c, channels) for c in cins)
        self.upsamples = nn.ModuleList(conv_bn_relu(channels, channels) for _ in cins[1:])
        self.global_heads = nn.ModuleList(
            nn.Sequential(conv_bn_relu(channels, channels), nn.Conv2d(channels, joints, 3, padding=1))
            for _ in cins
        )
        self.refine_levels = nn.ModuleList(
            nn.Sequential(*[_bottleneck(channels, channels) for _ in range(n)])
            for n in refine_blocks
        )
        self.refine_head = nn.Sequential(
            _bottleneck(channels * len(cins), channels), nn.Conv2d(channels, joints, 3, padding=1)
        )
        init_resnet(self)
        for conv in self.prediction_convs():
            init_heatmap_conv(conv)

    def prediction_convs(self) -> list[nn.Conv2d]:
        """The convs that output heatmaps: one per GlobalNet level, then RefineNet's."""
        return [head[-1] for head in self.global_heads] + [self.refine_head[-1]]

    @property
    def resnet(self) -> ResNet:
        return self.trunk

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, tuple[torch.Tensor, ...]]:
        c2, c3, c4, c5 = self.trunk.stage_outputs(x)
        return self.laterals[3](c5), (c2, c3, c4)

    def decode(self, main: torch.Tensor, skips: tuple[torch.Tensor, ...],
               extra: torch.Tensor | None = None) -> list[torch.Tensor]:
        self.check_extra(main, extra)
        pyramid = [main]  # coarse to fine: P5, P4, P3, P2
        for level in (2, 1, 0):
            up = self.upsamples[level](_upsample(pyramid[-1], skips[level].shape[-2:]))
            pyramid.append(self.laterals[level](skips[level]) + up)
        pyramid.reverse()  # P2..P5
        size = pyramid[0].shape[-2:]
        outputs = [_upsample(head(p), size) for head, p in zip(self.global_heads, pyramid)]
        refined = [_upsample(block(p), size) for block, p in zip(self.refine_levels, pyramid)]
        outputs.append(self.refine_head(torch.cat(refined, dim=1)))
        return outputs

    def loss(self, outputs: list[torch.Tensor], target: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
        global_loss = sum(weighted_mse(o, target, weight) for o in outputs[:-1])
        return global_loss + ohkm_mse(outputs[-1], target, weight, self.ohkm_topk)
