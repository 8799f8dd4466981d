"""`VideoDataset`: the base class of the dataset adapters, and what they share."""

from __future__ import annotations

import abc
import dataclasses
import hashlib
import os
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, ClassVar

from vposebench.config import ConfigBase
from vposebench.errors import UserError
from vposebench.skeleton import Skeleton
from vposebench.structures import VideoGT


@dataclasses.dataclass(frozen=True)
class BoxRepair:
    """A person box the annotation lacks or has degenerate, and the frame whose box replaced it.

    Adapters list these in ``VideoGT.meta["box_repairs"]``.
    """

    frame: int  # 0-based
    kind: str  # "missing" | "degenerate"
    source_frame: int
    original: tuple[float, ...] | None = None  # the degenerate box as stored

    def __str__(self) -> str:
        what = "no box" if self.kind == "missing" else f"degenerate box {list(self.original or ())}"
        return f"frame {self.frame}: {what}, used frame {self.source_frame}'s box"


def summarize_repairs(repairs: Iterable[BoxRepair]) -> list[str]:
    """One line per kind of repair with its count and frame ranges, e.g. ``2 degenerate (5-6)``."""
    frames: dict[str, list[int]] = {}
    for repair in repairs:
        frames.setdefault(repair.kind, []).append(repair.frame)
    lines = []
    for kind, indices in frames.items():
        runs: list[list[int]] = []
        for t in sorted(indices):
            if runs and t == runs[-1][1] + 1:
                runs[-1][1] = t
            else:
                runs.append([t, t])
        spans = ", ".join(str(a) if a == b else f"{a}-{b}" for a, b in runs)
        plural = len(indices) > 1 or "-" in spans
        lines.append(f"{len(indices)} {kind} box{'es' if plural else ''} (frame{'s' if plural else ''} "
                     f"{spans}) replaced by the nearest frame's box")
    return lines


@dataclasses.dataclass
class DatasetDescription:
    """What a dataset split holds, with a fingerprint of its annotation files (provenance)."""

    name: str
    root: str
    split: str | None
    videos: int
    frames: int
    labeled_frames: int
    persons: int
    #: sha256 over the annotation files (relative path and bytes); None if not listed
    fingerprint: str | None
    details: dict[str, Any] = dataclasses.field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclasses.dataclass(frozen=True)
class Breakdown:
    """A named part of a split on which results are reported too (`VideoDataset.breakdowns`).

    `videos`: only these videos. `joint_flag`: only the GT joints for which the person's
    per-joint boolean attribute of that name (e.g. `PersonGT.occluded`) is True.
    `frame_group`: only the person-frames (PoseTrack: the frames) of that frame group
    (``vposebench.metrics.frame_groups``: degraded, recovery, clean), from the burst flags.
    """

    name: str
    videos: tuple[str, ...] | None = None
    joint_flag: str | None = None
    frame_group: str | None = None


def frame_group_breakdowns() -> list[Breakdown]:
    """One breakdown per frame group, for a dataset whose persons carry burst flags
    (`PersonGT.degradation`); a dataset without them would put every person in `clean`."""
    from vposebench.metrics.frame_groups import GROUPS

    return [Breakdown(name, frame_group=name) for name in GROUPS]


class VideoDataset(abc.ABC):
    """A dataset on disk in its original format, read as videos with per-frame ground truth."""

    #: registered name, set by ``@register_dataset``
    name: ClassVar[str] = ""
    #: the dataset's own joint set
    skeleton: ClassVar[Skeleton]
    #: the metric its papers report: "posetrack" (mAP / MOTA) or "pck"
    protocol: ClassVar[str] = "posetrack"
    #: split names this dataset knows
    splits: ClassVar[tuple[str, ...]] = ()
    #: the config dataclass of its reading options (`--dataset-option key=value`); None: none
    options_class: ClassVar[type[ConfigBase] | None] = None

    def __init__(self, root: str | os.PathLike[str], split: str | None = None,
                 **options: Any) -> None:
        self.root = Path(root)
        self.split = split
        if self.options_class is None:
            if options:
                raise UserError(f"dataset {self.name!r} takes no options (got "
                                f"{', '.join(sorted(options))})", field="--dataset-option")
            self.options: ConfigBase | None = None
        else:
            self.options = self.options_class.from_dict(options, source="--dataset-option")

    @abc.abstractmethod
    def video_names(self) -> list[str]:
        """Names of the videos of the selected split, in a stable order."""

    @abc.abstractmethod
    def load_video(self, name: str) -> VideoGT:
        """One video with all its frames (unlabeled ones included, in order)."""

    def __len__(self) -> int:
        return len(self.video_names())

    def __iter__(self) -> Iterator[VideoGT]:
        for name in self.video_names():
            yield self.load_video(name)

    def annotation_files(self) -> list[Path]:
        """The files whose bytes define the selected split's ground truth (for provenance)."""
        raise NotImplementedError(f"{type(self).__name__} does not list its annotation files")

    def details(self) -> dict[str, Any]:
        """Dataset-specific facts worth recording with a result (e.g. the JHMDB fold)."""
        return {}

    def breakdowns(self) -> list[Breakdown]:
        """The parts of the selected split that results are also reported on (none here; the
        synthetic benchmark has its condition subsets and occluded joints)."""
        return []

    def describe(self, videos: Iterable[VideoGT] | None = None) -> DatasetDescription:
        """Split, counts and annotation fingerprint; pass `videos` if they are already loaded."""
        frames = labeled = persons = count = 0
        for video in self if videos is None else videos:
            count += 1
            frames += len(video.frames)
            labeled += len(video.labeled_frames)
            persons += video.num_persons
        try:
            fingerprint: str | None = fingerprint_files(self.annotation_files(), self.root)
        except NotImplementedError:
            fingerprint = None
        return DatasetDescription(
            name=self.name, root=str(self.root), split=self.split, videos=count, frames=frames,
            labeled_frames=labeled, persons=persons, fingerprint=fingerprint,
            details=self.details(),
        )


def fingerprint_files(paths: Iterable[Path], root: Path) -> str:
    """sha256 over the files' paths relative to `root` and their bytes, in sorted order."""
    digest = hashlib.sha256()
    for path in sorted(Path(p) for p in paths):
        try:
            rel = path.relative_to(root).as_posix()
        except ValueError:
            rel = path.as_posix()
        digest.update(rel.encode("utf-8") + b"\0")
        with open(path, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
        digest.update(b"\0")
    return "sha256:" + digest.hexdigest()


def require_dir(path: Path, what: str) -> Path:
    """`path` if it is a folder, else a UserError saying which folder of the layout is missing."""
    if not path.is_dir():
        reason = "expected a folder, found a file" if path.exists() else "folder not found"
        raise UserError(f"{reason} ({what})", path=path)
    return path


def resolve_split(dataset: type[VideoDataset], split: str | None, default: str) -> str:
    """`split`, or `default` when None; a name the dataset does not know is a UserError."""
    chosen = default if split is None else split
    if chosen not in dataset.splits:
        raise UserError(f"unknown split {chosen!r} (known: {', '.join(dataset.splits)})",
                        field=f"{dataset.name} split")
    return chosen


def numbered_frames(root: Path, folder: str, count: int, pattern: str, source: str) -> tuple[list[str], bool]:
    """Names (relative to `root`) of `count` frames ``folder/pattern % t`` for t = 1..count.

    Returns the names and whether they were checked: when the top folder of `folder` (e.g.
    ``frames/``) is absent the dataset is read as annotations only; when it exists the clip
    folder must hold exactly these files, else a frame-count mismatch naming `source` (the
    annotation that says how many frames there are).
    """
    names = [f"{folder}/{pattern % (t + 1)}" for t in range(count)]
    if not (root / folder.split("/")[0]).is_dir():
        return names, False
    clip = root / folder
    suffix = Path(names[0]).suffix if names else ""
    present = sorted(p.name for p in clip.glob(f"*{suffix}")) if clip.is_dir() else []
    if present != [Path(n).name for n in names]:
        detail = (f"{len(present)} {suffix} files" if len(present) != count
                  else f"{count} {suffix} files not named {Path(names[0]).name} ... {Path(names[-1]).name}")
        raise UserError(f"frame count mismatch: {source} says {count} frames, the frame folder has {detail}",
                        path=clip)
    return names, True
