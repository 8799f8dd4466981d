"""`onnx`: the suite's own trained tiny baseline exported with `torch.onnx.export` (the
TorchScript exporter, the one mmdeploy uses) and run through onnxruntime gives the keypoints
the torch model gives; the layouts, channel orders and joint maps of other exports; the speed
pass times it. Skips where the [onnx] extra is not installed."""

import numpy as np
import pytest
import torch
from helpers.extras import needs_extra

from vposebench.checkpoint import load_checkpoint
from vposebench.errors import UserError
from vposebench.interface import FrameInput, build_method
from vposebench.methods.onnx_model import MMPOSE_MEAN, MMPOSE_STD, onnxruntime_version
from vposebench.protocols import Protocol, SpeedSettings
from vposebench.registry import DATASETS
from vposebench.runner import DatasetSpec, MethodSpec, run_video
from vposebench.skeleton import POSETRACK18
from vposebench.speed import SpeedSpec, measure_speed

try:
    import onnx
except ImportError:
    onnx = None

pytestmark = [
    pytest.mark.usefixtures("one_torch_thread"),
    needs_extra("onnx", onnxruntime_version() is not None and onnx is not None,
                "onnxruntime or onnx is not installed (pip install 'vposebench[onnx]')"),
    pytest.mark.filterwarnings("ignore::DeprecationWarning"),  # the TorchScript exporter's notice
]

#: largest keypoint difference (image pixels) between torch and onnxruntime; measured: 0.0 px
#: over the 232 persons of the tiny root's val videos, scores within 3.7e-8
TOLERANCE_PX = 1e-3


class Variant(torch.nn.Module):
    """The network behind another export convention: BGR input, NHWJ output."""

    def __init__(self, net):
        super().__init__()
        self.net = net

    def forward(self, x):
        return self.net(x.flip(1)).permute(0, 2, 3, 1)


def export(module, path, size, *, dynamic=True):
    w, h = size
    torch.onnx.export(module.eval(), (torch.zeros(1, 3, h, w),), str(path), dynamo=False,
                      input_names=["input"], output_names=["output"],
                      dynamic_axes={"input": {0: "batch"}, "output": {0: "batch"}} if dynamic else None)
    return path


@pytest.fixture(scope="module")
def trained(tiny_baseline_checkpoint, tmp_path_factory):
    """The tiny baseline trained for 20 steps (helpers.trained) and its ONNX export."""
    method = load_checkpoint(tiny_baseline_checkpoint).build()
    path = tmp_path_factory.mktemp("onnx") / "baseline.onnx"
    return method, export(method.net, path, method.config.crop_size)


def _val_videos(root):
    dataset = DATASETS.get("synthetic")(root, "val")
    return [dataset.load_video(n) for n in dataset.video_names()]


def _keypoints(method, videos):
    """(N, J, 3) keypoints of every person of every frame, in order."""
    with torch.no_grad():
        preds = [run_video(method, v) for v in videos]
    return np.stack([p.keypoints for v in preds for f in v.frames for p in f.persons])


def test_exported_baseline_gives_the_torch_keypoints(trained, tiny_root):
    method, path = trained
    runner = build_method("onnx", POSETRACK18, model=str(path))
    videos = _val_videos(tiny_root)
    expected, got = _keypoints(method, videos), _keypoints(runner, videos)
    assert expected.shape == got.shape and len(expected) > 20
    assert np.isnan(got[:, list(POSETRACK18.placeholders)]).all()
    real = POSETRACK18.evaluated
    np.testing.assert_allclose(got[:, real, :2], expected[:, real, :2], atol=TOLERANCE_PX, rtol=0)
    np.testing.assert_allclose(got[:, real, 2], expected[:, real, 2], atol=1e-4, rtol=0)
    d = runner.describe()
    assert d.input_size == method.config.crop_size and d.heatmap_size == method.config.heatmap_size
    assert d.runtime.startswith("onnxruntime") and d.threads == 1 and d.flops_per_person is None
    graph = onnx.load(str(path)).graph
    assert d.parameters == sum(int(np.prod(t.dims)) for t in graph.initializer) > 0


def test_other_export_conventions_give_the_same_keypoints(trained, tiny_root, tmp_path):
    """BGR input with BGR-ordered mean/std, NHWJ output, a static batch of one."""
    method, path = trained
    size = method.config.crop_size
    plain = build_method("onnx", POSETRACK18, model=str(path))
    variant = build_method(
        "onnx", POSETRACK18, model=str(export(Variant(method.net), tmp_path / "v.onnx", size)),
        channel_order="bgr", mean=",".join(map(str, MMPOSE_MEAN[::-1])),
        std=",".join(map(str, MMPOSE_STD[::-1])), output_layout="NHWJ")
    static = build_method("onnx", POSETRACK18, model=str(export(method.net, tmp_path / "s.onnx", size,
                                                                 dynamic=False)))
    assert static.batch == 1 and plain.batch is None
    videos = _val_videos(tiny_root)[:2]
    reference = _keypoints(plain, videos)
    for other in (variant, static):
        np.testing.assert_allclose(_keypoints(other, videos), reference, atol=TOLERANCE_PX, rtol=0)


def test_joint_map_picks_and_drops_channels(trained, tiny_root):
    _, path = trained
    # swap the wrists, drop the nose
    mapping = list(range(17))
    mapping[9], mapping[10], mapping[0] = 10, 9, -1
    plain = build_method("onnx", POSETRACK18, model=str(path))
    mapped = build_method("onnx", POSETRACK18, model=str(path), joint_map=",".join(map(str, mapping)))
    frame = _val_videos(tiny_root)[0].frames[0]
    boxes = np.stack([p.box for p in frame.persons])
    inputs = FrameInput(frame.load_image(), boxes, np.arange(len(boxes)))
    a, b = plain.step(inputs).keypoints, mapped.step(inputs).keypoints
    np.testing.assert_array_equal(b[:, 9], a[:, 10])
    assert np.isnan(b[:, 0]).all()


def test_bad_models_and_settings_are_user_errors(trained, tmp_path):
    _, path = trained
    with pytest.raises(UserError, match="file not found"):
        build_method("onnx", POSETRACK18, model=str(tmp_path / "none.onnx"))
    (tmp_path / "junk.onnx").write_bytes(b"not a model")
    with pytest.raises(UserError, match="onnxruntime cannot load it"):
        build_method("onnx", POSETRACK18, model=str(tmp_path / "junk.onnx"))
    with pytest.raises(UserError, match="required"):
        build_method("onnx", POSETRACK18)
    with pytest.raises(UserError, match="joint_map"):
        build_method("onnx", POSETRACK18, model=str(path), joint_map="0,1,2")


def test_timed_by_the_speed_pass(trained, tiny_root):
    method, path = trained
    name = DATASETS.get("synthetic")(tiny_root, "val").video_names()[0]
    spec = SpeedSpec(MethodSpec(method="onnx", skeleton="posetrack18", overrides=(("model", str(path)),)),
                     DatasetSpec("synthetic", str(tiny_root), "val"), videos=(name,),
                     protocol=Protocol("posetrack", speed=SpeedSettings(warmup_frames=2, repeats=2,
                                                                        offline_batch=4)))
    speed = measure_speed(spec, isolated=False)
    assert speed.fps > 0 and speed.pose.n > 0 and speed.threads == 1
    assert speed.offline_crops_per_s > 0 and speed.offline_batch == 4
    assert speed.runtime.startswith("onnxruntime") and speed.flops_per_person is None
    assert speed.parameters > 0
