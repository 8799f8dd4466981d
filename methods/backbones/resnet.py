"""ResNet 18/34/50/101/152 with torchvision's parameter names, at any base width.

At width 64 the modules and parameter names (``conv1``, ``bn1``, ``layer1..4``, ``fc``) are
those of torchvision's ``resnet*`` models, so their ImageNet state dicts load with
``strict=True`` from a local file. Narrower widths (e.g. 16 or 32) keep the same structure for
CPU work. `stage_outputs` returns C2..C5 (strides 4, 8, 16, 32).
"""

from __future__ import annotations

import torch
from torch import nn

#: depth -> (block kind, blocks per stage)
SPECS = {
    18: ("basic", (2, 2, 2, 2)),
    34: ("basic", (3, 4, 6, 3)),
    50: ("bottleneck", (3, 4, 6, 3)),
    101: ("bottleneck", (3, 4, 23, 3)),
    152: ("bottleneck", (3, 8, 36, 3)),
}
STAGES = ("c2", "c3", "c4", "c5")
STAGE_STRIDE = {"c2": 4, "c3": 8, "c4": 16, "c5": 32}


def conv3x3(cin: int, cout: int, stride: int = 1) -> nn.Conv2d:
    return nn.Conv2d(cin, cout, 3, stride=stride, padding=1, bias=False)


def conv1x1(cin: int, cout: int, stride: int = 1) -> nn.Conv2d:
    return nn.Conv2d(cin, cout, 1, stride=stride, bias=False)


class BasicBlock(nn.Module):
    """Two 3x3 convs with a residual connection (ResNet-18/34)."""

    expansion = 1

    def __init__(self, cin: int, planes: int, stride: int = 1, downsample: nn.Module | None = None) -> None:
        super().__init__()
        self.conv1 = conv3x3(cin, planes, stride)
        self.bn1 = nn.BatchNorm2d(planes)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = conv3x3(planes, planes)
        self.bn2 = nn.BatchNorm2d(planes)
        self.downsample = downsample

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return self.relu(out + identity)


class Bottleneck(nn.Module):
    """1x1 - 3x3 (stride here, as torchvision's v1.5) - 1x1 with 4x expansion (ResNet-50+)."""

    expansion = 4

    def __init__(self, cin: int, planes: int, stride: int = 1, downsample: nn.Module | None = None) -> None:
        super().__init__()
        self.conv1 = conv1x1(cin, planes)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = conv3x3(planes, planes, stride)
        self.bn2 = nn.BatchNorm2d(planes)
        self.conv3 = conv1x1(planes, planes * self.expansion)
        self.bn3 = nn.BatchNorm2d(planes * self.expansion)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = downsample

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        return self.relu(out + identity)


def make_stage(block: type[BasicBlock | Bottleneck], cin: int, planes: int, blocks: int,
               stride: int) -> tuple[nn.Sequential, int]:
    """One ResNet stage (`layerN`); returns it and its output channels."""
    downsample = None
    cout = planes * block.expansion
    if stride != 1 or cin != cout:
        downsample = nn.Sequential(conv1x1(cin, cout, stride), nn.BatchNorm2d(cout))
    layers = [block(cin, planes, stride, downsample)]
    layers += [block(cout, planes) for _ in range(blocks - 1)]
    return nn.Sequential(*layers), cout


class ResNet(nn.Module):
    """torchvision-layout ResNet; `num_classes=None` drops the classifier (pose networks).

    `output_stride` (4, 8, 16 or 32) runs the stages past that stride at stride 1: the
    parameters keep their names and shapes, so ImageNet weights still load.
    """

    def __init__(self, depth: int = 50, width: int = 64, num_classes: int | None = None,
                 stages: int = 4, output_stride: int = 32) -> None:
        super().__init__()
        if depth not in SPECS:
            raise ValueError(f"ResNet depth must be one of {sorted(SPECS)}, got {depth}")
        kind, counts = SPECS[depth]
        block = BasicBlock if kind == "basic" else Bottleneck
        self.depth, self.width = depth, width
        self.conv1 = nn.Conv2d(3, width, 7, stride=2, padding=3, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(3, stride=2, padding=1)
        cin = width
        #: output channels of C2..C5 (only the built stages)
        self.stage_channels: list[int] = []
        for i in range(stages):
            # stages past `output_stride` keep the resolution (same weights, stride 1)
            stride = 2 if i > 0 and STAGE_STRIDE[STAGES[i]] <= output_stride else 1
            stage, cin = make_stage(block, cin, width * 2**i, counts[i], stride)
            self.add_module(f"layer{i + 1}", stage)
            self.stage_channels.append(cin)
        self.num_stages = stages
        if num_classes is not None:
            self.avgpool = nn.AdaptiveAvgPool2d(1)
            self.fc = nn.Linear(cin, num_classes)
        init_resnet(self)

    def stem(self, x: torch.Tensor) -> torch.Tensor:
        return self.maxpool(self.relu(self.bn1(self.conv1(x))))

    def stage(self, index: int) -> nn.Sequential:
        """`layer{index + 1}` (index 0 -> C2)."""
        return getattr(self, f"layer{index + 1}")

    def stage_outputs(self, x: torch.Tensor) -> list[torch.Tensor]:
        """[C2, C3, C4, C5] (as many as were built)."""
        out, x = [], self.stem(x)
        for i in range(self.num_stages):
            x = self.stage(i)(x)
            out.append(x)
        return out

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.stage_outputs(x)[-1]
        if not hasattr(self, "fc"):
            return x
        return self.fc(torch.flatten(self.avgpool(x), 1))


def init_resnet(module: nn.Module) -> None:
    """He init for convs, BN to identity (torchvision's scheme)."""
    for m in module.modules():
        if isinstance(m, nn.Conv2d):
            nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
        elif isinstance(m, nn.BatchNorm2d):
            nn.init.ones_(m.weight)
            nn.init.zeros_(m.bias)


def load_strict(module: nn.Module, state: dict[str, torch.Tensor], source: str) -> None:
    """`load_state_dict(strict=True)`; a mismatch is a UserError naming `source` (a file)."""
    from vposebench.errors import UserError

    try:
        module.load_state_dict(state, strict=True)
    except RuntimeError as exc:
        lines = " ".join(line.strip() for line in str(exc).splitlines()[:3])
        raise UserError(f"state dict does not match the network: {lines[:400]}", path=source) from None


def load_imagenet_state(backbone: ResNet, state: dict[str, torch.Tensor], source: str) -> None:
    """Load a torchvision ImageNet state dict into `backbone`'s ResNet part.

    The dict is checked strictly against a full torchvision-layout classifier of the same depth
    and width, then everything the backbone has (no classifier, maybe fewer stages) is copied.
    """
    classes = state["fc.weight"].shape[0] if "fc.weight" in state else 1000
    classifier = ResNet(backbone.depth, backbone.width, num_classes=classes)
    load_strict(classifier, state, source)
    own = backbone.state_dict()
    trunk = {k: v for k, v in classifier.state_dict().items() if k in own}
    backbone.load_state_dict(trunk, strict=False)
