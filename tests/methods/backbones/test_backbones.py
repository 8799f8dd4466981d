"""Backbones: torchvision / SimpleBaseline parameter names, strict loading, splits, CPN, CPM."""

import pytest
import torch

from vposebench.checkpoint import network_weights, read_state_dict
from vposebench.errors import UserError
from vposebench.interface import ClipBatch, build_method
from vposebench.methods.backbones import build_network
from vposebench.methods.backbones.cpm import CPMNet
from vposebench.methods.backbones.cpn import CPNNet
from vposebench.methods.backbones.resnet import ResNet, load_imagenet_state
from vposebench.methods.backbones.simplebaseline import SimpleBaselineNet
from vposebench.methods.config import PoseConfig
from vposebench.methods.losses import ohkm_mse
from vposebench.skeleton import POSETRACK18

#: one torch thread (helpers.torch_threads)
pytestmark = pytest.mark.usefixtures("one_torch_thread")

#: torchvision's published parameter counts of resnet18/34/50/101/152
TORCHVISION_PARAMS = {18: 11689512, 34: 21797672, 50: 25557032, 101: 44549160, 152: 60192808}
BLOCKS = {18: (2, 2, 2, 2), 34: (3, 4, 6, 3), 50: (3, 4, 6, 3), 101: (3, 4, 23, 3), 152: (3, 8, 36, 3)}


def _bn(prefix):
    return [f"{prefix}.{k}" for k in ("weight", "bias", "running_mean", "running_var", "num_batches_tracked")]


def torchvision_keys(depth):
    """The state-dict keys of torchvision.models.resnet{depth}, written out from its layout."""
    convs = 2 if depth < 50 else 3
    keys = ["conv1.weight", *_bn("bn1")]
    for stage, count in enumerate(BLOCKS[depth], start=1):
        for b in range(count):
            p = f"layer{stage}.{b}"
            for c in range(1, convs + 1):
                keys += [f"{p}.conv{c}.weight", *_bn(f"{p}.bn{c}")]
            if b == 0 and (stage > 1 or depth >= 50):
                keys += [f"{p}.downsample.0.weight", *_bn(f"{p}.downsample.1")]
    return [*keys, "fc.weight", "fc.bias"]


def simplebaseline_head_keys():
    """Keys of the official SimpleBaseline head (deconv_layers.{0,3,6} + BN, final_layer)."""
    keys = []
    for i in (0, 3, 6):
        keys += [f"deconv_layers.{i}.weight", *_bn(f"deconv_layers.{i + 1}")]
    return [*keys, "final_layer.weight", "final_layer.bias"]


@pytest.mark.parametrize("depth", sorted(BLOCKS))
def test_resnet_matches_torchvision_names_and_sizes(depth):
    with torch.device("meta"):
        net = ResNet(depth, num_classes=1000)
    state = net.state_dict()
    assert sorted(state) == sorted(torchvision_keys(depth))
    assert sum(p.numel() for p in net.parameters()) == TORCHVISION_PARAMS[depth]
    assert state["conv1.weight"].shape == (64, 3, 7, 7)
    assert state["fc.weight"].shape == (1000, 512 if depth < 50 else 2048)


def test_simplebaseline_resnet50_has_official_names_and_size():
    with torch.device("meta"):
        net = SimpleBaselineNet(17, depth=50)
    expected = [k for k in torchvision_keys(50) if not k.startswith("fc.")] + simplebaseline_head_keys()
    assert sorted(net.state_dict()) == sorted(expected)
    # pose_resnet_50 256x192 with 17 joints: 34.0M parameters in the SimpleBaseline paper
    assert sum(p.numel() for p in net.parameters()) == 33_999_697
    assert net.state_dict()["deconv_layers.0.weight"].shape == (2048, 256, 4, 4)


def test_imagenet_checkpoint_loads_strictly_from_a_file(tmp_path):
    source = ResNet(18, num_classes=1000)
    path = tmp_path / "resnet18.pth"
    torch.save(source.state_dict(), path)
    net = build_network(PoseConfig.build({"depth": 18}), 17)
    load_imagenet_state(net.resnet, read_state_dict(path), str(path))
    assert torch.equal(net.state_dict()["layer4.1.conv2.weight"], source.layer4[1].conv2.weight)
    # a checkpoint of another depth fails with a UserError naming the file
    torch.save(ResNet(34, num_classes=1000).state_dict(), path)
    with pytest.raises(UserError, match="resnet18.pth"):
        load_imagenet_state(net.resnet, read_state_dict(path), str(path))


def test_official_simplebaseline_state_dict_initialises_baseline(tmp_path):
    official = SimpleBaselineNet(17, depth=18).state_dict()
    path = tmp_path / "pose_resnet_18.pth.tar"
    # DataParallel saves with "module." and train.py wraps it in {"state_dict": ...}
    torch.save({"state_dict": {f"module.{k}": v for k, v in official.items()}, "epoch": 140}, path)
    method = build_method("baseline", POSETRACK18, depth=18)
    method.load_network_state(network_weights(path), str(path))
    for key, value in official.items():
        assert torch.equal(method.net.state_dict()[key], value), key
    torch.save({"conv1.weight": torch.zeros(1)}, path)
    with pytest.raises(UserError, match="does not match"):
        method.load_network_state(network_weights(path), str(path))


@pytest.mark.parametrize("backbone,preset", [("simplebaseline", "tiny"), ("cpn", "tiny"), ("cpm", "tiny")])
def test_encode_decode_equals_forward(backbone, preset):
    torch.manual_seed(0)
    net = build_network(PoseConfig.build({"backbone": backbone, "preset": preset}), 17).eval()
    w, h = PoseConfig.build({"backbone": backbone, "preset": preset}).crop_size
    x = torch.randn(2, 3, h, w)
    heat = net(x)
    assert heat.shape == (2, 17, h // net.heatmap_stride, w // net.heatmap_stride)
    main, skips = net.encode(x)
    assert main.shape[1] == net.feature_channels and main.shape[-1] == -(-w // net.feature_stride)
    assert torch.equal(net.decode(main, skips)[-1], heat)


def test_simplebaseline_splits_compute_the_same_network():
    torch.manual_seed(0)
    c5 = SimpleBaselineNet(17, depth=18, width=16, deconv_channels=32, split="c5").eval()
    c4 = SimpleBaselineNet(17, depth=18, width=16, deconv_channels=32, split="c4").eval()
    c4.load_state_dict(c5.state_dict())
    x = torch.randn(1, 3, 96, 64)
    assert c4.encode(x)[0].shape[-2:] == (6, 4) and c5.encode(x)[0].shape[-2:] == (3, 2)
    torch.testing.assert_close(c4(x), c5(x))


def test_cpn_outputs_and_ohkm_loss():
    torch.manual_seed(0)
    net = CPNNet(17, depth=18, width=16, channels=32, ohkm_topk=8)
    outputs = net.decode(*net.encode(torch.randn(2, 3, 96, 64)))
    assert len(outputs) == 5 and all(o.shape == (2, 17, 24, 16) for o in outputs)
    pred, target = torch.rand(2, 17, 4, 4), torch.rand(2, 17, 4, 4)
    weight = torch.ones(2, 17)
    weight[0, 3] = 0
    per_joint = 0.5 * ((pred - target) ** 2).mean(dim=(2, 3)) * weight
    expected = torch.stack([row.sort(descending=True).values[:8].mean() for row in per_joint]).mean()
    torch.testing.assert_close(ohkm_mse(pred, target, weight, 8), expected)


def test_cpm_stages_and_stage1_extra_inputs():
    torch.manual_seed(0)
    net = CPMNet(17, stages=6, extractor="vgg", channels=128, extra_channels=17)
    assert len(net.stages) == 6
    first = net.stages[0][0]
    assert first.in_channels == 128 + 17
    # the added filters start N(0, 0.01) (TFC paper)
    added = first.weight[:, 128:]
    assert abs(added.std().item() - 0.01) < 0.0008 and abs(added.mean().item()) < 0.001
    assert all(s[0].in_channels == 128 + 17 and s[0].kernel_size == (7, 7) for s in net.stages[1:])
    small = CPMNet(17, stages=3, extractor="resnet", depth=18, width=16, channels=16, hidden=32, kernel=5)
    outputs = small.decode(*small.encode(torch.randn(1, 3, 64, 64)))
    assert len(outputs) == 3 and outputs[-1].shape == (1, 17, 8, 8)


@pytest.mark.parametrize("extractor", ["resnet", "vgg"])
def test_cpm_stride_4_halves_the_grid_with_the_same_weights(extractor):
    kw = dict(stages=2, extractor=extractor, depth=18, width=8, channels=8, hidden=8, kernel=3,
              vgg_width=4)
    coarse, fine = CPMNet(15, **kw), CPMNet(15, **kw, stride=4)
    assert fine.heatmap_stride == fine.feature_stride == 4 and coarse.heatmap_stride == 8
    # same parameter names and shapes: a stride-8 checkpoint loads into a stride-4 network
    fine.load_state_dict(coarse.state_dict(), strict=True)
    x = torch.randn(1, 3, 64, 48)
    assert coarse(x).shape == (1, 15, 8, 6) and fine(x).shape == (1, 15, 16, 12)
    config = PoseConfig.build({"preset": "tiny", "backbone": "cpm", "cpm_stride": 4})
    assert config.heatmap_stride == 4 and config.heatmap_size == (16, 16)
    with pytest.raises(UserError, match="cpm_stride"):
        PoseConfig.build({"backbone": "cpm", "cpm_stride": 2})


def test_resnet_output_stride_keeps_torchvision_names():
    full, kept = ResNet(18, 8), ResNet(18, 8, output_stride=8)
    assert list(full.state_dict()) == list(kept.state_dict())
    kept.load_state_dict(full.state_dict(), strict=True)
    outs = kept.stage_outputs(torch.randn(1, 3, 64, 64))
    assert [o.shape[-1] for o in outs] == [16, 8, 8, 8]


def test_backbone_and_split_errors_are_user_errors():
    with pytest.raises(UserError, match="backbone"):
        build_method("tfc", POSETRACK18, backbone="cpn")
    with pytest.raises(UserError, match="memory_stage"):
        build_method("ptm", POSETRACK18, backbone="cpn", memory_stage="c4")
    with pytest.raises(UserError, match="input_size"):
        build_method("baseline", POSETRACK18, input_size="50x60")


@pytest.mark.parametrize("backbone", ["simplebaseline", "cpn", "cpm"])
def test_every_baseline_parameter_receives_gradient(backbone):
    torch.manual_seed(0)
    method = build_method("baseline", POSETRACK18, preset="tiny", backbone=backbone).train()
    w, h = method.config.crop_size
    hw, hh = method.config.heatmap_size
    batch = ClipBatch(
        images=torch.randint(0, 255, (2, 1, h, w, 3), dtype=torch.uint8),
        targets=torch.rand(2, 1, 17, hh, hw), target_weight=torch.ones(2, 1, 17),
        crop_matrices=torch.zeros(2, 1, 2, 3, dtype=torch.float64),
        num_persons=torch.ones(2, 1, dtype=torch.int64), zero_temporal=torch.zeros(2, dtype=torch.bool))
    method.loss(batch).backward()
    missing = [n for n, p in method.named_parameters() if p.grad is None or not p.grad.abs().sum() > 0]
    assert not missing, missing
