"""`onnx`: any top-down heatmap model exported to ONNX, run through onnxruntime.

What mmpose / mmdeploy export for a top-down heatmap model: one NCHW float input (a person
crop of `input_size`, normalised as ``(pixel - mean) / std`` on 0-255 values in
`channel_order`), one output of per-joint heatmaps (``NJHW``, or ``NHWJ`` with
`output_layout`). Each box becomes a crop of the input's aspect padded by `box_padding` (the
suite's top-down geometry), the heatmaps are decoded with the suite's decoder (argmax and a
quarter-cell shift towards the higher neighbour) and warped back to the image.
`joint_map` picks the model's output channel for each of the skeleton's joints (e.g. a COCO-17
model for PoseTrack'18), or -1 for a joint the model does not predict.

Needs the optional extra (``pip install 'vposebench[onnx]'``: onnxruntime, onnx). The intra-op
thread count is pinned (`threads`) and recorded; the parameter count is the size of the graph's
initializers (read with `onnx`); FLOPs are not counted (None).
"""

from __future__ import annotations

import dataclasses
import importlib.metadata
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch

from vposebench.config import SIGNED, ConfigBase, choice, positive
from vposebench.errors import UserError
from vposebench.interface import FrameInput, MethodDescription, StepOutput, TemporalPoseMethod
from vposebench.registry import register_method
from vposebench.skeleton import Skeleton

from .decoding import decode_to_image
from .geometry import box_matrices, warp_crops

INSTALL_HINT = "install the extra: pip install 'vposebench[onnx]' (onnxruntime, onnx)"
#: mmpose's ImageNet normalisation on 0-255 RGB pixels
MMPOSE_MEAN = (123.675, 116.28, 103.53)
MMPOSE_STD = (58.395, 57.12, 57.375)


@dataclasses.dataclass
class OnnxConfig(ConfigBase):
    """The exported model and how to feed it."""

    #: the .onnx file
    model: str = ""
    #: crop (width, height); None: the model input's static size
    input_size: tuple[int, int] | None = None
    #: per-channel mean and std on 0-255 pixel values, in `channel_order`
    mean: tuple[float, ...] = MMPOSE_MEAN
    std: tuple[float, ...] = MMPOSE_STD
    channel_order: str = "rgb"
    #: heatmap output layout: NJHW (mmpose's) or NHWJ
    output_layout: str = "NJHW"
    #: the heatmap output's name; None: the first output
    output: str | None = None
    #: model output channel of each skeleton joint (-1: not predicted); None: the same joints
    joint_map: tuple[int, ...] | None = dataclasses.field(default=None, metadata=SIGNED)
    #: crop = box widened to the input's aspect, then padded by this factor
    box_padding: float = 1.25
    #: onnxruntime intra-op threads (inter-op: 1)
    threads: int = 1
    #: cpu or cuda (onnxruntime's CUDA provider, when installed)
    device: str = "cpu"

    def validate(self) -> None:
        if not self.model:
            raise UserError("the ONNX file is required (--set model=FILE)", field="model")
        choice(self.channel_order, ("rgb", "bgr"), "channel_order")
        choice(self.output_layout, ("NJHW", "NHWJ"), "output_layout")
        choice(self.device, ("cpu", "cuda"), "device")
        for name in ("box_padding", "threads"):
            positive(getattr(self, name), name)
        if len(self.mean) != 3 or len(self.std) != 3 or min(self.std) <= 0:
            raise UserError("mean and std need three values each, std > 0", field="std")


def onnxruntime_version() -> str | None:
    """The installed onnxruntime's version, None when it is not installed."""
    for dist in ("onnxruntime", "onnxruntime-gpu"):
        try:
            return importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            continue
    return None


def open_session(config: OnnxConfig) -> Any:
    """An onnxruntime session of the model, threads pinned; errors name the file."""
    if onnxruntime_version() is None:
        raise UserError(f"onnx needs onnxruntime: {INSTALL_HINT}", field="--method")
    import onnxruntime as ort

    path = Path(config.model)
    if not path.is_file():
        raise UserError("file not found", path=path, field="model")
    options = ort.SessionOptions()
    options.intra_op_num_threads = config.threads
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    providers = ["CPUExecutionProvider"]
    if config.device == "cuda":
        if "CUDAExecutionProvider" not in ort.get_available_providers():
            raise UserError("onnxruntime has no CUDA provider here", field="device")
        providers.insert(0, "CUDAExecutionProvider")
    try:
        return ort.InferenceSession(str(path), options, providers=providers)
    except Exception as exc:  # onnxruntime raises its own exception types
        raise UserError(f"onnxruntime cannot load it ({type(exc).__name__}: "
                        f"{str(exc).splitlines()[0][:200]})", path=path) from None


def initializer_count(path: str) -> int | None:
    """Number of values in the graph's initializers (its parameters); None without `onnx`."""
    try:
        import onnx
    except ImportError:
        return None
    graph = onnx.load(path, load_external_data=False).graph
    return int(sum(np.prod(t.dims, dtype=np.int64) for t in graph.initializer))


def _static(dim: Any) -> int | None:
    return dim if isinstance(dim, int) else None


@register_method("onnx")
class OnnxHeatmapModel(TemporalPoseMethod):
    """A top-down heatmap model exported to ONNX (mmpose / mmdeploy style), run by onnxruntime."""

    config_class = OnnxConfig

    def __init__(self, skeleton: Skeleton, config: OnnxConfig | None = None,
                 **overrides: Any) -> None:
        super().__init__(skeleton, config, **overrides)
        self.config: OnnxConfig
        c = self.config
        self.session = open_session(c)
        inputs = self.session.get_inputs()
        if len(inputs) != 1 or len(inputs[0].shape) != 4 or _static(inputs[0].shape[1]) not in (3, None):
            raise UserError(f"expected one NCHW input with 3 channels, got "
                            f"{[(i.name, i.shape) for i in inputs]}", path=c.model)
        self.input_name = inputs[0].name
        shape = inputs[0].shape
        static = (_static(shape[3]), _static(shape[2]))
        if c.input_size is None and None in static:
            raise UserError("the model's input size is dynamic: give input_size=WxH",
                            field="input_size")
        self.crop_size: tuple[int, int] = tuple(c.input_size or static)  # type: ignore[assignment]
        if None not in static and static != self.crop_size:
            raise UserError(f"the model takes {static[0]}x{static[1]} crops, not "
                            f"{self.crop_size[0]}x{self.crop_size[1]}", field="input_size")
        self.batch = _static(shape[0])  # None: any batch size
        outputs = {o.name: o for o in self.session.get_outputs()}
        self.output_name = c.output or next(iter(outputs))
        if self.output_name not in outputs:
            raise UserError(f"no output {self.output_name!r} (outputs: {', '.join(outputs)})",
                            field="output")
        if len(outputs[self.output_name].shape) != 4:
            raise UserError(f"output {self.output_name!r} is not 4-D heatmaps "
                            f"({outputs[self.output_name].shape})", path=c.model)
        self.joint_map = self._joint_map()
        scale = np.array(c.std, dtype=np.float32).reshape(1, 3, 1, 1)
        self.mean = np.array(c.mean, dtype=np.float32).reshape(1, 3, 1, 1)
        self.inv_std = 1.0 / scale
        self.stride: float | None = None  # found on the first run (crop / heatmap size)
        self.heatmap_size: tuple[int, int] | None = None

    def _joint_map(self) -> np.ndarray:
        c = self.config
        if c.joint_map is None:
            return np.arange(self.skeleton.num_joints)
        if len(c.joint_map) != self.skeleton.num_joints:
            raise UserError(f"{len(c.joint_map)} entries for the {self.skeleton.num_joints} joints "
                            f"of {self.skeleton.name}", field="joint_map")
        return np.asarray(c.joint_map)

    # -- inference --------------------------------------------------------------------------
    def run(self, crops: np.ndarray) -> np.ndarray:
        """(P, H, W, 3) uint8 RGB crops -> (P, K, h, w) float32 heatmaps of the model."""
        x = crops[..., ::-1] if self.config.channel_order == "bgr" else crops
        x = (x.transpose(0, 3, 1, 2).astype(np.float32) - self.mean) * self.inv_std
        x = np.ascontiguousarray(x)
        if self.batch is None:
            out = self.session.run([self.output_name], {self.input_name: x})[0]
        else:  # a static batch size: feed it that many at a time (zero-padded)
            parts = []
            for start in range(0, len(x), self.batch):
                chunk = x[start:start + self.batch]
                padded = np.zeros((self.batch, *x.shape[1:]), np.float32)
                padded[:len(chunk)] = chunk
                parts.append(self.session.run([self.output_name], {self.input_name: padded})[0][:len(chunk)])
            out = np.concatenate(parts)
        if self.config.output_layout == "NHWJ":
            out = out.transpose(0, 3, 1, 2)
        return out

    def _check_heatmaps(self, heatmaps: np.ndarray) -> None:
        """The first output fixes the heatmap size and stride; they must fit the crop."""
        if self.stride is not None:
            return
        k, h, w = heatmaps.shape[1:]
        if self.joint_map.max() >= k:
            raise UserError(f"the model has {k} heatmaps; joint_map (or the skeleton's "
                            f"{self.skeleton.num_joints} joints) asks for more", field="joint_map")
        cw, ch = self.crop_size
        if cw * h != ch * w:
            raise UserError(f"heatmaps {w}x{h} do not have the crop's {cw}x{ch} aspect",
                            field="output_layout")
        self.stride, self.heatmap_size = cw / w, (w, h)

    def reset(self) -> None:
        """Nothing is kept between frames."""

    def step(self, frame: FrameInput) -> StepOutput:
        """Crop every person box, run the model, decode the heatmaps into image pixels."""
        boxes = np.asarray(frame.boxes, dtype=np.float64).reshape(-1, 4)
        joints = self.skeleton.num_joints
        if len(boxes) == 0:
            return StepOutput(np.zeros((0, joints, 3)))
        matrices = box_matrices(boxes, self.crop_size, self.config.box_padding)
        raw = self.run(warp_crops(np.ascontiguousarray(frame.image), matrices, self.crop_size))
        self._check_heatmaps(raw)
        predicted = self.joint_map >= 0
        heatmaps = np.zeros((len(boxes), joints, *raw.shape[2:]), np.float32)
        heatmaps[:, predicted] = raw[:, self.joint_map[predicted]]
        tensor = torch.from_numpy(heatmaps)
        keypoints = decode_to_image(tensor, matrices, self.stride)
        keypoints[:, ~(predicted & self.skeleton.evaluated)] = np.nan
        return StepOutput(keypoints, tensor)

    def crop_probe(self, batch: int) -> Callable[[], object]:
        """The model on `batch` blank crops."""
        w, h = self.crop_size
        crops = np.zeros((batch, h, w, 3), np.uint8)
        return lambda: self.run(crops)

    def describe(self) -> MethodDescription:
        if self.heatmap_size is None:
            self._check_heatmaps(self.run(np.zeros((1, self.crop_size[1], self.crop_size[0], 3), np.uint8)))
        return MethodDescription(
            name=self.name, config=self.settings(),
            backbone=f"ONNX graph {Path(self.config.model).name}",
            input_size=self.crop_size, heatmap_size=self.heatmap_size, online=True,
            past_frames=0, state_per_track="nothing",
            parameters=initializer_count(self.config.model), flops_per_person=None,
            state_bytes=0, device=self.config.device,
            runtime=f"onnxruntime {onnxruntime_version()}", threads=self.config.threads,
        )
