"""Backbone networks: ResNet (torchvision names), SimpleBaseline, CPN and CPM.

`build_network` makes the network a config asks for, split where a method needs it.
"""

from __future__ import annotations

import math

from vposebench.errors import UserError

from ..config import PoseConfig
from .base import PoseNetwork
from .cpm import CPMNet
from .cpn import CPNNet
from .simplebaseline import SimpleBaselineNet

#: backbone -> split points it offers (the first is its default)
SPLITS = {
    "simplebaseline": ("c5", "c4", "deconv"),
    "cpn": ("c5",),
    "cpm": ("features",),
}


def build_network(config: PoseConfig, joints: int, *, split: str | None = None,
                  extra_channels: int = 0, real_joints: int | None = None) -> PoseNetwork:
    """The config's network with `joints` outputs, split at `split` (default: the backbone's).

    `real_joints` (joints that are ever labelled) sets CPN's hard-joint count.
    """
    allowed = SPLITS[config.backbone]
    split = split or allowed[0]
    if split not in allowed:
        raise UserError(f"backbone {config.backbone!r} cannot split at {split!r} "
                        f"(it offers {', '.join(allowed)})", field="backbone")
    if config.backbone == "simplebaseline":
        net: PoseNetwork = SimpleBaselineNet(
            joints, config.depth, config.width, config.deconv_channels, config.deconv_kernel,
            split=split, extra_channels=extra_channels)
    elif config.backbone == "cpn":
        if extra_channels:
            raise UserError("CPN takes no Stage-1 temporal input; use backbone=cpm or "
                            "simplebaseline", field="backbone")
        topk = max(1, round(config.ohkm_fraction * (real_joints or joints)))
        net = CPNNet(joints, config.depth, config.width, config.cpn_channels,
                     config.cpn_refine_blocks, topk)
    else:
        net = CPMNet(joints, config.cpm_stages, config.cpm_extractor, config.cpm_channels,
                     config.cpm_hidden, config.cpm_kernel, config.vgg_width, config.depth,
                     config.width, extra_channels, config.cpm_stride)
    return net


def feature_grid(config: PoseConfig, stride: int) -> tuple[int, int]:
    """(width, height) of a feature map of `stride` for the config's crop."""
    w, h = config.crop_size
    return math.ceil(w / stride), math.ceil(h / stride)


__all__ = ["SPLITS", "PoseNetwork", "build_network", "feature_grid"]
