"""Checkpoints: a trained method with everything needed to rebuild it, safe to load.

A checkpoint is a dict of plain values and tensors (it loads with
``torch.load(weights_only=True)``, so a file whose unpickling would run code is refused, never
run): the method name, its full config, the training config,
the skeleton, the dataset it was trained on, the model and optimizer state, the step reached,
whether training completed, the loss history and provenance. Files are written atomically; a
run in progress keeps a partial checkpoint next to the target (``CKPT.partial``) to resume
from.
"""

from __future__ import annotations

import dataclasses
import os
import pickle
import warnings
from pathlib import Path
from typing import Any

import torch

from .atomic import atomic_write
from .errors import UserError, first_line
from .formats.jsonfile import check_input_file
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


def _skeleton(data: Any) -> Skeleton:
    if not isinstance(data, dict):
        raise TypeError(f"expected an object, got {type(data).__name__}")
    return skeleton_from_dict(data)


def describe_load_error(exc: RuntimeError) -> str:
    """torch's `load_state_dict` error in one line: every problem it lists (missing and
    unexpected keys, size mismatches), not only its header."""
    problems = [line.strip().rstrip(".") for line in str(exc).splitlines()[1:] if line.strip()]
    if not problems:
        return first_line(str(exc))
    shown = "; ".join(problems[:3])
    more = f"; and {len(problems) - 3} more" if len(problems) > 3 else ""
    return first_line(shown, limit=600) + more


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

    def build(self, device: torch.device | str = "cpu", *, source: PathLike | None = None,
              **overrides: Any) -> TemporalPoseMethod:
        """The method with these weights, in eval mode on `device`.

        `overrides` change inference-time config fields (e.g. a memory's capacity); a change
        that alters the network's shape fails to load the weights. `source` (the checkpoint
        file) is named in errors.
        """
        try:
            method = build_method(self.method, self.skeleton, **{**self.config, **overrides})
        except UserError as exc:
            if source is None or exc.path is not None:
                raise
            raise UserError(exc.message, path=source, field=f"config.{exc.field}" if exc.field else "config") from None
        try:
            method.load_state_dict(self.model, strict=True)
        except RuntimeError as exc:
            raise UserError(f"weights do not fit the {self.method!r} network its config "
                            f"describes: {describe_load_error(exc)}", path=source, field="model") from None
        return method.to(device).eval()


def save_checkpoint(checkpoint: Checkpoint, path: PathLike) -> None:
    """Write atomically (temp file + rename)."""
    with atomic_write(path, "wb") as handle:
        torch.save(checkpoint.to_dict(), handle)


def is_checkpoint(data: Any) -> bool:
    return isinstance(data, dict) and data.get("format") == FORMAT


#: lines of torch's weights-only refusal that are its boilerplate, not the reason
_UNPICKLER_BOILERPLATE = ("Weights only load failed", "Please file an issue", "Check the documentation")


def _refusal_reason(message: str) -> str | None:
    """The reason in torch's weights-only refusal (e.g. "Trying to load unsupported GLOBAL
    posix.system ..."), or None when the message is not such a refusal."""
    if not message.startswith(_UNPICKLER_BOILERPLATE[0]):
        return None
    for line in message.splitlines():
        line = line.split("WeightsUnpickler error:")[-1].strip()
        if line and not line.startswith(_UNPICKLER_BOILERPLATE):
            return line
    return "no reason given"


def read_file(path: PathLike) -> Any:
    """`torch.load(weights_only=True)` of a local file; failures are UserErrors naming it.

    Only tensors and plain values load: a pickle that asks for anything else (code to run,
    e.g. ``os.system`` through ``__reduce__``) is refused before any of it runs.
    """
    p = Path(path)
    check_input_file(p, "a checkpoint file")
    if p.stat().st_size == 0:
        raise UserError("file is empty", path=p)
    try:
        with warnings.catch_warnings():  # torch warns (on several lines) about old pickle protocols
            warnings.simplefilter("ignore")
            return torch.load(os.fspath(p), map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        reason = _refusal_reason(str(exc))
        if reason is None:
            raise UserError(f"not a loadable checkpoint ({first_line(str(exc), limit=200)})", path=p) from None
        raise UserError("not a loadable checkpoint: refused by the weights-only loader, which takes "
                        "tensors and plain values only and runs nothing from the file "
                        f"({first_line(reason, limit=200)})", path=p) from None
    except Exception as exc:  # unpickling raises many types
        raise UserError(f"not a loadable checkpoint ({type(exc).__name__}: "
                        f"{first_line(str(exc), limit=200) or 'no details'})", path=p) from None


def load_checkpoint(path: PathLike) -> Checkpoint:
    """Read a vposebench checkpoint."""
    data = read_file(path)
    if not is_checkpoint(data):
        raise UserError("not a vposebench checkpoint (no 'format' field)", path=path)
    if data.get("version") != VERSION:
        raise UserError(f"checkpoint version {data.get('version')!r} is not {VERSION}",
                        path=path, field="version")
    fields = {f.name: data[f.name] for f in dataclasses.fields(Checkpoint) if f.name in data}
    for name in ("method", "config", "skeleton", "model", "step", "complete"):
        if name not in fields:
            raise UserError("missing field", path=path, field=name)
    try:
        fields["skeleton"] = _skeleton(data["skeleton"])
    except (KeyError, TypeError, ValueError) as exc:
        raise UserError(f"malformed skeleton ({first_line(str(exc))})", path=path, field="skeleton") from None
    for name, kind in (("method", str), ("config", dict), ("model", dict)):
        if not isinstance(fields[name], kind):
            raise UserError(f"expected {'a string' if kind is str else 'an object'}, got "
                            f"{type(fields[name]).__name__}", path=path, field=name)
    try:
        return Checkpoint(**fields)
    except (TypeError, ValueError) as exc:
        raise UserError(f"malformed checkpoint ({first_line(str(exc))})", path=path) from None


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
