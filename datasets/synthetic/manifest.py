"""`synthetic.json`: what a generated root holds, under which config, and each video's tags.

Written last, after every other file, so a root with a manifest is complete; its config hash is
the cache key that `generate()` compares before generating again.
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path
from typing import Any

from vposebench.atomic import write_json
from vposebench.errors import UserError
from vposebench.formats import load_json

FORMAT = "vposebench-synthetic"
VERSION = 2  # 2: degradation side files and the burst subset
MANIFEST_NAME = "synthetic.json"


@dataclasses.dataclass
class VideoEntry:
    """One multi-person video of the PoseTrack'18 layout."""

    name: str
    split: str  # "train" | "val"
    profile: str  # the profile it was generated under
    tags: list[str]  # the subsets it belongs to (measured)
    knobs: dict[str, float]  # values drawn for it
    stats: dict[str, Any]


@dataclasses.dataclass
class ClipEntry:
    """One single-person clip of the JHMDB-style or Penn-Action-style layout."""

    layout: str  # "jhmdb" | "penn_action"
    name: str  # JHMDB clip folder name, or the Penn clip number as %04d
    action: str
    frames: int
    profile: str
    tags: list[str]
    knobs: dict[str, float]
    split: dict[str, str]  # JHMDB: {"1": "train"|"test", ...}; Penn: {"penn": "train"|"test"}


@dataclasses.dataclass
class Manifest:
    """The record of a generated root."""

    config: dict[str, Any]
    config_hash: str
    generator_version: int
    videos: list[VideoEntry]
    clips: list[ClipEntry]
    summary: dict[str, Any]  # split -> subset -> pooled statistics
    format: str = FORMAT
    version: int = VERSION

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: Any, path: Path) -> Manifest:
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise UserError(f"not a synthetic benchmark manifest (expected format {FORMAT!r})",
                            path=path, field="format")
        if data.get("version") != VERSION:
            raise UserError(f"unsupported manifest version {data.get('version')!r}", path=path,
                            field="version")
        try:
            return cls(
                config=data["config"], config_hash=data["config_hash"],
                generator_version=data["generator_version"],
                videos=[VideoEntry(**v) for v in data["videos"]],
                clips=[ClipEntry(**c) for c in data["clips"]],
                summary=data["summary"],
            )
        except (KeyError, TypeError) as exc:
            raise UserError(f"malformed manifest ({exc})", path=path) from None

    def write(self, root: str | os.PathLike[str]) -> None:
        write_json(Path(root) / MANIFEST_NAME, self.to_dict())

    def videos_of(self, split: str | None = None, subset: str | None = None) -> list[VideoEntry]:
        """Videos of a split (all splits when None) that belong to a subset (all when None)."""
        return [v for v in self.videos
                if (split is None or v.split == split) and (subset is None or subset in v.tags)]


def manifest_path(root: str | os.PathLike[str]) -> Path:
    return Path(root) / MANIFEST_NAME


def read_manifest(root: str | os.PathLike[str]) -> Manifest:
    """The manifest of a generated root; a missing one is a UserError."""
    path = manifest_path(root)
    if not path.is_file():
        raise UserError(f"no {MANIFEST_NAME}: not a generated synthetic root "
                        "(make one with `vposebench synth --out ROOT`)", path=Path(root))
    return Manifest.from_dict(load_json(path), path)
