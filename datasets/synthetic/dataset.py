"""The registered `synthetic` dataset: a generated root read back through the real formats.

The PoseTrack'18 annotations are read with the interchange-format reader, the occlusion side
files set `PersonGT.occluded`, the degradation side files `PersonGT.degradation` and
`burst_position`, and the manifest's condition tags go into `VideoGT.meta` (``tags``,
``profile``, ``knobs``). A subset (``crowd``, ``occlusion``, ``fast``, ``burst``) selects the
videos tagged with it. The single-person layouts are read by the `jhmdb` and `penn_action`
adapters from `jhmdb_root` and `penn_root`; those adapters attach the burst flags from the
layouts' own ``degradation/`` folders (`degradation.attach_degradation`).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from vposebench.errors import UserError
from vposebench.formats import read_annotations
from vposebench.registry import register_dataset
from vposebench.skeleton import POSETRACK18
from vposebench.structures import VideoGT

from ..base import Breakdown, VideoDataset, frame_group_breakdowns
from .config import SynthConfig
from .degradation import degradation_file, read_degradation
from .manifest import Manifest, VideoEntry, read_manifest
from .stats import SUBSETS
from .truth import VideoTruth, read_occlusion

ANNOTATIONS, OCCLUSION = "annotations", "occlusion"


@register_dataset("synthetic")
class SyntheticDataset(VideoDataset):
    """Generated video pose benchmark (PoseTrack'18 layout, occlusion and burst flags, measured subsets)."""

    skeleton = POSETRACK18
    protocol = "posetrack"
    splits = ("train", "val")
    subsets = SUBSETS

    def __init__(self, root: str | os.PathLike[str], split: str | None = "val",
                 subset: str | None = None) -> None:
        super().__init__(root, split)
        if split is not None and split not in self.splits:
            raise UserError(f"unknown split {split!r} (known: {', '.join(self.splits)})", field="split")
        if subset is not None and subset not in SUBSETS:
            raise UserError(f"unknown subset {subset!r} (known: {', '.join(SUBSETS)})", field="subset")
        self.subset = subset
        self.manifest: Manifest = read_manifest(root)
        self._entries = {v.name: v for v in self.manifest.videos_of(split, subset)}

    @classmethod
    def generate(cls, root: str | os.PathLike[str], config: SynthConfig | None = None,
                 **kwargs: Any) -> Manifest:
        """Generate (or reuse) a root; see `vposebench.datasets.synthetic.generator.generate`."""
        from .generator import generate

        return generate(root, config, **kwargs)

    @property
    def jhmdb_root(self) -> Path:
        """Root of the JHMDB-style single-person layout."""
        return self.root / "jhmdb"

    @property
    def penn_root(self) -> Path:
        """Root of the Penn-Action-style single-person layout."""
        return self.root / "penn_action"

    def video_names(self) -> list[str]:
        return sorted(self._entries)

    def breakdowns(self) -> list[Breakdown]:
        """Each condition subset that has videos in this selection, the occluded joints
        (hidden by another person or an occluder: `PersonGT.occluded`) and the frame groups
        (degraded, recovery, clean: from the burst flags)."""
        parts = [Breakdown(subset, videos=tuple(sorted(
                     v.name for v in self.manifest.videos_of(self.split, subset) if v.name in self._entries)))
                 for subset in SUBSETS]
        return ([b for b in parts if b.videos] + [Breakdown("occluded joints", joint_flag="occluded")]
                + frame_group_breakdowns())

    def entry(self, name: str) -> VideoEntry:
        try:
            return self._entries[name]
        except KeyError:
            raise UserError(f"no video {name!r} in split {self.split!r}"
                            + (f", subset {self.subset!r}" if self.subset else ""),
                            path=self.root) from None

    def load_truth(self, name: str) -> VideoTruth:
        """A video with its occlusion codes, body heights and burst flags per person."""
        entry = self.entry(name)
        video = read_annotations(self.root / ANNOTATIONS / entry.split / f"{name}.json", root=self.root,
                                 skeleton=POSETRACK18)
        truth = read_occlusion(self.root / OCCLUSION / entry.split / f"{name}.json", video)
        read_degradation(degradation_file(self.root, name, entry.split), video)
        video.meta.update({"tags": list(entry.tags), "profile": entry.profile, "knobs": dict(entry.knobs),
                           "split": entry.split})
        return truth

    def load_video(self, name: str) -> VideoGT:
        return self.load_truth(name).video
