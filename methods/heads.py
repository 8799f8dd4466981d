"""Heads shared by the networks: the SimpleBaseline deconv stack and the output convolutions.

The deconv stack follows the official SimpleBaseline head (``deconv_layers``: ConvTranspose2d
without bias, BatchNorm, ReLU, repeated; ``final_layer``: 1x1 conv to J maps) so that official
pose checkpoints load by name.
"""

from __future__ import annotations

import torch
from torch import nn

#: deconv kernel -> (padding, output_padding) that doubles the size exactly
_DECONV_PADDING = {4: (1, 0), 3: (1, 1), 2: (0, 0)}


def make_deconv_layers(cin: int, layers: int, channels: int, kernel: int) -> nn.Sequential:
    """`layers` x (ConvTranspose2d stride 2, BN, ReLU); each doubles the spatial size."""
    padding, output_padding = _DECONV_PADDING[kernel]
    modules: list[nn.Module] = []
    for _ in range(layers):
        modules += [
            nn.ConvTranspose2d(cin, channels, kernel, stride=2, padding=padding,
                               output_padding=output_padding, bias=False),
            nn.BatchNorm2d(channels),
            nn.ReLU(inplace=True),
        ]
        cin = channels
    seq = nn.Sequential(*modules)
    for m in seq.modules():
        if isinstance(m, nn.ConvTranspose2d):
            nn.init.normal_(m.weight, std=0.001)
    return seq


def make_final_layer(cin: int, joints: int, extra: int = 0) -> nn.Conv2d:
    """1x1 conv to J heatmaps (std 0.001, zero bias); `extra` more inputs start N(0, 0.01)."""
    conv = nn.Conv2d(cin + extra, joints, 1)
    init_heatmap_conv(conv)
    init_extra_inputs(conv, cin)
    return conv


def init_heatmap_conv(conv: nn.Conv2d, std: float = 0.001) -> None:
    """A conv that outputs heatmaps starts N(0, `std`) with zero bias (SimpleBaseline's scheme).

    Targets peak at 1 (`targets.gaussian_targets`), so a He-initialised output conv would start
    with noise far larger than the signal; near-zero outputs keep the first updates on the peaks.
    """
    nn.init.normal_(conv.weight, std=std)
    if conv.bias is not None:
        nn.init.zeros_(conv.bias)


def init_extra_inputs(conv: nn.Conv2d, start: int, std: float = 0.01) -> None:
    """Filters for input channels `start:` (added temporal inputs) start N(0, `std`) (TFC paper)."""
    if conv.in_channels > start:
        with torch.no_grad():
            conv.weight[:, start:].normal_(0.0, std)


def conv_bn_relu(cin: int, cout: int, kernel: int = 1) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(cin, cout, kernel, padding=kernel // 2, bias=False),
                         nn.BatchNorm2d(cout), nn.ReLU(inplace=True))
