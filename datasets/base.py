"""`VideoDataset`: the base class of the dataset adapters."""

from __future__ import annotations

import abc
import os
from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

from vposebench.skeleton import Skeleton
from vposebench.structures import VideoGT


class VideoDataset(abc.ABC):
    """A dataset on disk in its original format, read as videos with per-frame ground truth."""

    #: registered name
    name: ClassVar[str] = ""
    #: the dataset's own joint set
    skeleton: ClassVar[Skeleton]
    #: the metric its papers report: "posetrack" (mAP / MOTA) or "pck"
    protocol: ClassVar[str] = "posetrack"
    #: split names this dataset knows
    splits: ClassVar[tuple[str, ...]] = ()

    def __init__(self, root: str | os.PathLike[str], split: str | None = None) -> None:
        self.root = Path(root)
        self.split = split

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
