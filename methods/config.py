"""Method configurations: every choice of a method as a dataclass field, with named presets.

Defaults are the papers' settings (and, where the papers are silent, the defaults of
docs/methods.md); presets ("small", "tiny") shrink the network and input for CPU work. Configs
are `vposebench.config.ConfigBase` dataclasses: plain dicts in checkpoints and records, and
`key=value` strings from the command line parsed against the field types.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from vposebench.config import ConfigBase, choice, positive
from vposebench.errors import UserError

#: backbone -> input (width, height) of the papers: SimpleBaseline/CPN 256x192, CPM 368x368
PAPER_INPUT = {"simplebaseline": (192, 256), "cpn": (192, 256), "cpm": (368, 368)}
#: backbone -> heatmap stride (input pixels per heatmap cell; CPM: `cpm_stride`, 8 by default)
HEATMAP_STRIDE = {"simplebaseline": 4, "cpn": 4, "cpm": 8}
BACKBONES = tuple(PAPER_INPUT)

#: preset -> backbone -> overrides. "paper" is the dataclass defaults.
MODEL_PRESETS: dict[str, dict[str, dict[str, Any]]] = {
    "paper": {b: {} for b in BACKBONES},
    # 128x96 crops: heatmaps 32x24, C5 4x3 (the PTM memory keeps a 12-cell grid)
    "small": {
        "simplebaseline": {"depth": 18, "width": 32, "input_size": (96, 128),
                           "deconv_channels": 64},
        "cpn": {"depth": 18, "width": 32, "input_size": (96, 128), "cpn_channels": 64},
        "cpm": {"cpm_extractor": "resnet", "depth": 18, "width": 32, "input_size": (128, 128),
                "cpm_channels": 32, "cpm_hidden": 64, "cpm_stages": 3},
    },
    # 96x64 crops for seconds-long runs; the PTM memory moves to C4 (6x4 cells)
    "tiny": {
        "simplebaseline": {"depth": 18, "width": 16, "input_size": (64, 96),
                           "deconv_channels": 32, "memory_stage": "c4"},
        "cpn": {"depth": 18, "width": 16, "input_size": (64, 96), "cpn_channels": 32},
        "cpm": {"cpm_extractor": "resnet", "depth": 18, "width": 16, "input_size": (64, 64),
                "cpm_channels": 16, "cpm_hidden": 32, "cpm_stages": 3, "cpm_kernel": 5},
    },
}


@dataclasses.dataclass
class PoseConfig(ConfigBase):
    """The per-frame network, its input geometry and its training targets."""

    #: named size: "paper" (the defaults), "small" or "tiny" (CPU work); applied before overrides
    preset: str = "paper"
    backbone: str = "simplebaseline"
    #: ResNet depth (18, 34, 50, 101, 152) and base width (64 = torchvision's)
    depth: int = 50
    width: int = 64
    #: person crop (width, height); None = the paper's size for the backbone
    input_size: tuple[int, int] | None = None
    #: crop = person box widened to the input aspect, then padded by this factor
    box_padding: float = 1.25
    #: SimpleBaseline head: 3 deconv layers (channels, kernel 4, stride 2, BN, ReLU, no bias)
    deconv_channels: int = 256
    deconv_kernel: int = 4
    #: CPN: pyramid channels, RefineNet bottlenecks per level (C2..C5), OHKM share of joints
    cpn_channels: int = 256
    cpn_refine_blocks: tuple[int, ...] = (0, 1, 2, 3)
    ohkm_fraction: float = 8 / 17
    #: CPM: stage count, feature extractor (vgg | resnet stem), widths, stage 2..N kernel
    cpm_stages: int = 6
    cpm_extractor: str = "vgg"
    cpm_channels: int = 128
    cpm_hidden: int = 512
    cpm_kernel: int = 7
    #: CPM heatmap stride: 8 (the paper's: an H x W map for an 8H x 8W input) or 4 (the
    #: ResNet stem's layer2 / VGG's third pool runs at stride 1: a 2x finer grid at tiny inputs)
    cpm_stride: int = 8
    vgg_width: int = 64
    #: Gaussian target sigma in heatmap cells; None = 2 at a 64-row heatmap, scaled with the
    #: heatmap height, at least 1
    sigma: float | None = None

    def validate(self) -> None:
        choice(self.preset, tuple(MODEL_PRESETS), "preset")
        choice(self.backbone, BACKBONES, "backbone")
        choice(self.depth, (18, 34, 50, 101, 152), "depth")
        choice(self.cpm_extractor, ("vgg", "resnet"), "cpm_extractor")
        choice(self.cpm_stride, (4, 8), "cpm_stride")
        for name in ("width", "deconv_channels", "cpn_channels", "cpm_stages",
                     "cpm_channels", "cpm_hidden", "vgg_width", "box_padding"):
            positive(getattr(self, name), name)
        if self.deconv_kernel not in (2, 3, 4):
            raise UserError(f"expected 2, 3 or 4, got {self.deconv_kernel}", field="deconv_kernel")
        if self.cpm_kernel % 2 == 0:
            raise UserError(f"must be odd, got {self.cpm_kernel}", field="cpm_kernel")
        if len(self.cpn_refine_blocks) != 4 or min(self.cpn_refine_blocks) < 0:
            raise UserError("expected 4 counts >= 0 (C2..C5)", field="cpn_refine_blocks")
        if not 0 < self.ohkm_fraction <= 1:
            raise UserError(f"must be in (0, 1], got {self.ohkm_fraction}", field="ohkm_fraction")
        w, h = self.crop_size
        stride = 32 if self.backbone != "cpm" else self.cpm_stride
        if w % stride or h % stride:
            raise UserError(f"input size {w}x{h} must be a multiple of {stride} for "
                            f"{self.backbone}", field="input_size")
        if self.sigma is not None:
            positive(self.sigma, "sigma")

    # -- derived geometry ----------------------------------------------------------------
    @property
    def crop_size(self) -> tuple[int, int]:
        """Person crop (width, height)."""
        return tuple(self.input_size or PAPER_INPUT[self.backbone])  # type: ignore[return-value]

    @property
    def aspect(self) -> float:
        w, h = self.crop_size
        return w / h

    @property
    def heatmap_stride(self) -> int:
        return self.cpm_stride if self.backbone == "cpm" else HEATMAP_STRIDE[self.backbone]

    @property
    def heatmap_size(self) -> tuple[int, int]:
        """Heatmap (width, height)."""
        w, h = self.crop_size
        return w // self.heatmap_stride, h // self.heatmap_stride

    @property
    def target_sigma(self) -> float:
        if self.sigma is not None:
            return self.sigma
        return max(1.0, 2.0 * self.heatmap_size[1] / 64.0)

    # -- construction ---------------------------------------------------------------------
    @classmethod
    def build(cls, overrides: dict[str, Any] | None = None) -> PoseConfig:
        """Defaults < preset < overrides (a preset is chosen per backbone)."""
        values = dict(overrides or {})
        preset = values.get("preset", "paper")
        defaults = {f.name: f.default for f in dataclasses.fields(cls)}
        backbone = values.get("backbone", defaults["backbone"])
        if preset not in MODEL_PRESETS:
            raise UserError(f"unknown preset {preset!r} (known: {', '.join(MODEL_PRESETS)})",
                            field="preset")
        if backbone not in BACKBONES:
            raise UserError(f"expected one of {', '.join(BACKBONES)}, got {backbone!r}",
                            field="backbone")
        names = set(cls.field_names())
        merged = {k: v for k, v in MODEL_PRESETS[preset][backbone].items() if k in names}
        merged.update(values)
        merged.setdefault("backbone", backbone)
        return cls.from_dict(merged)
