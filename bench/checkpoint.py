"""Checkpoints: a trained method with everything needed to rebuild it, safe to load.

A checkpoint is a dict of plain values and tensors (it loads with
``torch.load(weights_only=True)``): the method name, its full config, the training config,
the skeleton, the dataset it was trained on, the model and optimizer state, the step reached,
whether training completed, the loss history and provenance. Files are written atomically; a
run in progress keeps a partial checkpoint next to the target (``CKPT.partial``) to resume
from.
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path
from typing import Any

import torch

from .atomic import atomic_write
from .errors import UserError
from .interface import TemporalPoseMethod, build_method
from .skeleton import Skeleton

FORMAT = "vposebench-checkpoint"
VERSION = 1
PathLike = str | os.PathLike[str]


def partial_path(path: PathLike) -> Path:
    """Where a run writing `path` keeps its resumable progress."""
    p = Path(path)
    return p.with_name(p.name + ".partial")


def skeleton_to_dict(skeleton: Skeleton) -> dict[str, Any]:
    return {
        "name": skeleton.name,
        "joints": list(skeleton.joints),
        "flip_pairs": [list(p) for p in skeleton.flip_pairs],
        "limbs": [list(p) for p in skeleton.limbs],
        "groups": [[name, list(idx)] for name, idx in skeleton.groups],
        "placeholders": list(skeleton.placeholders),
    }


def skeleton_from_dict(d: dict[str, Any]) -> Skeleton:
    return Skeleton(
        name=d["name"],
        joints=tuple(d["joints"]),
        flip_pairs=tuple(tuple(p) for p in d["flip_pairs"]),
        limbs=tuple(tuple(p) for p in d["limbs"]),
        groups=tuple((name, tuple(idx)) for name, idx in d["groups"]),
        placeholders=tuple(d["placeholders"]),
    )


@dataclasses.dataclass
class Checkpoint:
    """The contents of a checkpoint file."""

    method: str
    config: dict[str, Any]
    train_config: dict[str, Any]
    skeleton: Skeleton
    model: dict[str, torch.Tensor]
    step: int
    complete: bool
    dataset: dict[str, Any] = dataclasses.field(default_factory=dict)
    optimizer: dict[str, Any] | None = None
    losses: list[float] = dataclasses.field(default_factory=list)
    provenance: dict[str, Any] = dataclasses.field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        d = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        d["skeleton"] = skeleton_to_dict(self.skeleton)
        d["model"] = {k: v.detach().cpu() for k, v in self.model.items()}
        return {"format": FORMAT, "version": VERSION, **d}

    def build(self, device: torch.device | str = "cpu", **overrides: Any) -> TemporalPoseMethod:
        """The method with these weights, in eval mode on `device`.

        `overrides` change inference-time config fields (e.g. a memory's capacity); a change
        that alters the network's shape fails to load the weights.
        """
        method = build_method(self.method, self.skeleton, **{**self.config, **overrides})
        try:
            method.load_state_dict(self.model, strict=True)
        except RuntimeError as exc:
            raise UserError(f"weights do not fit the {self.method!r} network its config "
                            f"describes: {str(exc).splitlines()[0]}", field="model") from None
        return method.to(device).eval()


def save_checkpoint(checkpoint: Checkpoint, path: PathLike) -> None:
    """Write atomically (temp file + rename)."""
    with atomic_write(path, "wb") as handle:
        torch.save(checkpoint.to_dict(), handle)


def is_checkpoint(data: Any) -> bool:
    return isinstance(data, dict) and data.get("format") == FORMAT


def read_file(path: PathLike) -> Any:
    """`torch.load(weights_only=True)` of a local file; failures are UserErrors naming it."""
    try:
        return torch.load(os.fspath(path), map_location="cpu", weights_only=True)
    except FileNotFoundError:
        raise UserError("file not found", path=path) from None
    except IsADirectoryError:
        raise UserError("expected a checkpoint file, found a folder", path=path) from None
    except Exception as exc:  # unpickling raises many types
        raise UserError(f"not a loadable checkpoint ({type(exc).__name__}: "
                        f"{str(exc).splitlines()[0][:200]})", path=path) from None


def load_checkpoint(path: PathLike) -> Checkpoint:
    """Read a vposebench checkpoint."""
    data = read_file(path)
    if not is_checkpoint(data):
        raise UserError("not a vposebench checkpoint (no 'format' field)", path=path)
    if data.get("version") != VERSION:
        raise UserError(f"checkpoint version {data.get('version')!r} is not {VERSION}",
                        path=path, field="version")
    try:
        fields = {f.name: data[f.name] for f in dataclasses.fields(Checkpoint) if f.name in data}
        fields["skeleton"] = skeleton_from_dict(data["skeleton"])
        return Checkpoint(**fields)
    except (KeyError, TypeError, ValueError) as exc:
        raise UserError(f"malformed checkpoint ({exc})", path=path) from None


def _state_dict(data: Any, path: PathLike) -> dict[str, torch.Tensor]:
    if isinstance(data, dict) and isinstance(data.get("state_dict"), dict):
        data = data["state_dict"]
    if not isinstance(data, dict) or not data or not all(isinstance(v, torch.Tensor) for v in data.values()):
        raise UserError("not a state dict of tensors", path=path)
    if all(k.startswith("module.") for k in data):
        data = {k[len("module."):]: v for k, v in data.items()}
    return data


def read_state_dict(path: PathLike) -> dict[str, torch.Tensor]:
    """A bare state dict (torchvision ImageNet weights, an official SimpleBaseline pose model),
    unwrapped from ``{"state_dict": ...}`` and DataParallel's ``module.`` prefixes."""
    return _state_dict(read_file(path), path)


def network_weights(path: PathLike) -> dict[str, torch.Tensor]:
    """Network weights to initialise from: the `net.` part of a vposebench checkpoint (any
    method), or a bare pose-network state dict."""
    data = read_file(path)
    if is_checkpoint(data):
        return {k[len("net."):]: v for k, v in data["model"].items() if k.startswith("net.")}
    return _state_dict(data, path)
