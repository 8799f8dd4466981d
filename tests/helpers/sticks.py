"""A tiny real-format video dataset, stick figures walking, and its fixtures.

`write_sticks(root)` draws small videos with cv2 (JPEG frames) and writes their ground truth
as PoseTrack'18 JSON (`annotations/<split>/<video>.json`, 17 slots, ears never labelled,
`bbox` by PoseTrack'18's keypoint rule); `StickDataset` reads them back through
`vposebench.formats`, the way a real adapter does. Each limb has its own colour and
left and right differ, so a small network can learn the joints in a few hundred steps.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from vposebench.boxes import keypoint_box
from vposebench.datasets.base import VideoDataset
from vposebench.formats import read_annotations, write_annotations
from vposebench.skeleton import POSETRACK18
from vposebench.structures import FrameGT, PersonGT, VideoGT

# a standing person in PT18 slot order, units of body height, origin at the hip centre
TEMPLATE = np.array([
    [0.00, -0.80], [0.00, -0.66], [0.00, -0.96], [0, 0], [0, 0],
    [0.12, -0.62], [-0.12, -0.62], [0.16, -0.40], [-0.16, -0.40], [0.18, -0.18], [-0.18, -0.18],
    [0.08, 0.00], [-0.08, 0.00], [0.09, 0.26], [-0.09, 0.26], [0.09, 0.50], [-0.09, 0.50],
])
REAL = np.array([j not in POSETRACK18.placeholders for j in range(17)])
LIMB_COLOURS = [tuple(int(c) for c in cv2.cvtColor(np.uint8([[[h, 255, 230]]]), cv2.COLOR_HSV2RGB)[0, 0])
                for h in np.linspace(0, 170, len(POSETRACK18.limbs))]


def _pose(t: float, phase: float) -> np.ndarray:
    """Template with swinging arms and legs at time t."""
    pose = TEMPLATE.copy()
    swing = 0.12 * np.sin(0.6 * t + phase)
    pose[[7, 9], 0] += swing * np.array([1.0, 1.6])
    pose[[8, 10], 0] -= swing * np.array([1.0, 1.6])
    pose[[13, 15], 0] -= swing * np.array([0.6, 1.0])
    pose[[14, 16], 0] += swing * np.array([0.6, 1.0])
    return pose


def make_video(rng: np.random.Generator, name: str, split: str, frames: int, persons: int,
               size: tuple[int, int]) -> tuple[VideoGT, list[np.ndarray]]:
    """Ground truth and RGB images of one video."""
    w, h = size
    people = []
    for k in range(persons):
        height = rng.uniform(0.55, 0.75) * h
        start = np.array([(k + 0.5) / persons * w + rng.uniform(-5, 5), rng.uniform(0.5, 0.6) * h])
        people.append((height, start, rng.normal(0, 1.0, 2) * [1, 0.3], rng.uniform(0, 6)))
    gt_frames, images = [], []
    for f in range(frames):
        image = rng.integers(90, 150, (h, w, 3), dtype=np.uint8)
        persons_gt = []
        for tid, (height, start, velocity, phase) in enumerate(people):
            xy = start + velocity * f + _pose(f, phase) * height
            kps = np.zeros((17, 3))
            kps[REAL, :2] = xy[REAL]
            kps[REAL, 2] = 1
            for (a, b), colour in zip(POSETRACK18.limbs, LIMB_COLOURS):
                if REAL[a] and REAL[b]:
                    pa, pb = (tuple(int(round(v)) for v in xy[j]) for j in (a, b))
                    cv2.line(image, pa, pb, colour, 2, cv2.LINE_AA)
            head = xy[[0, 1, 2]]
            head_box = np.concatenate([head.min(0) - 0.06 * height, head.max(0) + 0.06 * height])
            persons_gt.append(PersonGT(kps, track_id=tid, box=keypoint_box(kps, REAL, 1.3),
                                       head_box=head_box))
        file_name = f"images/{split}/{name}/{f:06d}.jpg"
        gt_frames.append(FrameGT(index=f, file_name=file_name, persons=persons_gt))
        images.append(image)
    vid_id = f"{int(name.split('_')[0]):06d}"
    return VideoGT(name, POSETRACK18, gt_frames, {"vid_id": vid_id}), images


def write_sticks(root: str | Path, *, splits: dict[str, int] | None = None, frames: int = 8,
                 persons: int = 2, size: tuple[int, int] = (128, 96), seed: int = 0) -> Path:
    """Write videos (split -> count) under `root`; return `root`."""
    root = Path(root)
    rng = np.random.default_rng(seed)
    counter = 0
    for split, count in (splits or {"train": 3, "val": 1}).items():
        for _ in range(count):
            # PoseTrack naming (the official evaluation derives frame ids from it)
            name = f"{counter + 1:06d}_mpii_{'train' if split == 'train' else 'test'}"
            counter += 1
            video, images = make_video(rng, name, split, frames, persons, size)
            for frame, image in zip(video.frames, images):
                path = root / frame.file_name
                path.parent.mkdir(parents=True, exist_ok=True)
                cv2.imwrite(str(path), cv2.cvtColor(image, cv2.COLOR_RGB2BGR))
            write_annotations(video, root / "annotations" / split / f"{name}.json")
    return root


class StickDataset(VideoDataset):
    """Stick-figure videos written by `write_sticks`, read as PoseTrack'18 files."""

    name = "sticks"
    skeleton = POSETRACK18
    protocol = "posetrack"
    splits = ("train", "val")

    def __init__(self, root, split: str | None = None) -> None:
        super().__init__(root, split or "train")

    def video_names(self) -> list[str]:
        return sorted(p.stem for p in (self.root / "annotations" / self.split).glob("*.json"))

    def load_video(self, name: str) -> VideoGT:
        return read_annotations(self.root / "annotations" / self.split / f"{name}.json",
                                root=self.root)


@pytest.fixture(scope="session")
def sticks_root(tmp_path_factory) -> Path:
    """3 training and 2 validation videos of 8 frames with 2 persons each."""
    return write_sticks(tmp_path_factory.mktemp("sticks"), splits={"train": 3, "val": 2})


@pytest.fixture
def sticks(sticks_root):
    """split -> the StickDataset of that split."""
    return lambda split: StickDataset(sticks_root, split)


@pytest.fixture
def sticks_registered(monkeypatch):
    """`sticks` registered as a dataset for the duration of a test (for the CLI)."""
    from vposebench.registry import DATASETS

    DATASETS.names()  # load the built-in entries first
    monkeypatch.setitem(DATASETS._entries, "sticks", StickDataset)
    return "sticks"
