"""Training clips from any `VideoDataset`: which person-frames form a sample, and the batches.

`ClipIndex` lists the samples a method's `ClipSpec` asks for among the labelled frames:
single person-frames; `length` consecutive frames of one track (frame indices at most
`max_gap` apart); or (reference, current) pairs of one track, the reference drawn from the
`window` temporally closest other labelled frames of the track. `ClipSampler` turns a step
number into a `ClipBatch`: the clips, the augmentation (shared by the frames of a clip), crops,
Gaussian targets and target weights, all drawn from generators seeded by (seed, step, slot),
so a resumed run sees exactly the batches an uninterrupted one would.

Crops follow each frame's box, or (`SampleGeometry.window` > 0, a method's
`crop_mode=track_window`) all frames of a sample share one crop, set from the track's box a
random 0..window-1 labelled frames before the sample's earliest frame: the person moves inside
the crop as it does within a window at test time.
"""

from __future__ import annotations

import collections
from collections.abc import Callable

import numpy as np
import torch

from vposebench.affine import scale_matrix
from vposebench.errors import UserError
from vposebench.interface import ClipBatch, ClipSpec, SampleGeometry
from vposebench.methods.targets import gaussian_targets
from vposebench.skeleton import Skeleton
from vposebench.structures import PersonGT, VideoGT

from .transforms import AugmentationRanges, augmented_matrix, crop_image, crop_keypoints

#: (video, frame, person) positions in the loaded videos
Ref = tuple[int, int, int]


def joint_rule(protocol: str, rule: str = "auto") -> Callable[[PersonGT], np.ndarray]:
    """Which joints a sample trains on: "annotated" (PoseTrack: any joint with a position,
    occluded ones included) or "visible" (v > 0: the PCK datasets); "auto" by protocol."""
    if rule == "auto":
        rule = "annotated" if protocol == "posetrack" else "visible"
    if rule == "annotated":
        return lambda p: p.annotated
    if rule == "visible":
        return lambda p: p.annotated & p.visible
    raise UserError(f"expected auto, annotated or visible, got {rule!r}", field="train_joints")


class ClipIndex:
    """The training samples of a clip spec among the videos' labelled person-frames."""

    def __init__(self, videos: list[VideoGT], spec: ClipSpec, *, trains_on: Callable[[PersonGT], np.ndarray],
                 real: np.ndarray, max_gap: int = 1, min_joints: int = 1) -> None:
        self.spec = spec
        tracks: dict[tuple[int, int], list[Ref]] = collections.defaultdict(list)
        #: ref -> (its track's refs in frame order, its position there)
        self.positions: dict[Ref, tuple[list[Ref], int]] = {}
        singles: list[Ref] = []
        for v, video in enumerate(videos):
            for frame in video.frames:
                if not frame.is_labeled:
                    continue
                for p, person in enumerate(frame.persons):
                    if int((trains_on(person) & real).sum()) < min_joints or person.crop_box() is None:
                        continue
                    singles.append((v, frame.index, p))
                    if person.track_id >= 0:
                        tracks[(v, person.track_id)].append((v, frame.index, p))
        for refs in tracks.values():
            for i, ref in enumerate(refs):
                self.positions[ref] = (refs, i)
        if spec.mode == "single":
            self.clips: list[tuple[Ref, ...]] = [(r,) for r in singles]
            self.references: list[list[Ref]] = []
        elif spec.mode == "consecutive":
            self.clips = [clip for refs in tracks.values() for clip in _windows(refs, spec.length, max_gap)]
            self.references = []
        elif spec.mode == "reference":
            self.clips, self.references = [], []
            for refs in tracks.values():
                for i, ref in enumerate(refs):
                    others = refs[:i] + refs[i + 1:]
                    if others:
                        # the `window` closest frames (ties: the earlier one)
                        others.sort(key=lambda r, f=ref[1]: (abs(r[1] - f), r[1]))
                        self.clips.append((ref,))
                        self.references.append(others[: spec.window])
        else:
            raise ValueError(f"unknown clip mode {spec.mode!r}")

    def __len__(self) -> int:
        return len(self.clips)

    def earlier(self, ref: Ref, back: int) -> Ref:
        """The track's labelled frame `back` frames before `ref` (its first one at most)."""
        if ref not in self.positions:  # a person without a track id
            return ref
        refs, i = self.positions[ref]
        return refs[max(0, i - back)]

    def draw(self, i: int, rng: np.random.Generator) -> tuple[Ref, ...]:
        """The frames of sample `i` in clip order (reference mode: a random reference first)."""
        if self.spec.mode != "reference":
            return self.clips[i]
        candidates = self.references[i]
        return (candidates[int(rng.integers(len(candidates)))], self.clips[i][0])


def _windows(refs: list[Ref], length: int, max_gap: int) -> list[tuple[Ref, ...]]:
    """Every run of `length` entries whose frame indices step by at most `max_gap`."""
    out = []
    for start in range(len(refs) - length + 1):
        run = refs[start:start + length]
        if all(0 < b[1] - a[1] <= max_gap for a, b in zip(run, run[1:])):
            out.append(tuple(run))
    return out


class ImageCache:
    """The last `size` decoded frames (clips read neighbouring frames again and again)."""

    def __init__(self, videos: list[VideoGT], size: int = 64) -> None:
        self.videos, self.size = videos, size
        self._cache: collections.OrderedDict[tuple[int, int], np.ndarray] = collections.OrderedDict()

    def get(self, video: int, frame: int) -> np.ndarray:
        key = (video, frame)
        image = self._cache.get(key)
        if image is None:
            image = self.videos[video].frames[frame].load_image()
            self._cache[key] = image
            if len(self._cache) > self.size:
                self._cache.popitem(last=False)
        else:
            self._cache.move_to_end(key)
        return image


class ClipSampler:
    """Step number -> ClipBatch (deterministic for a seed; see the module docstring)."""

    def __init__(self, videos: list[VideoGT], index: ClipIndex, skeleton: Skeleton,
                 geometry: SampleGeometry, ranges: AugmentationRanges, *, batch_size: int,
                 seed: int, trains_on: Callable[[PersonGT], np.ndarray], image_cache: int = 64) -> None:
        if len(index) == 0:
            hint = {"single": "no labelled person with a usable box",
                    "consecutive": f"no track has {index.spec.length} consecutive labelled frames "
                                   "(try a shorter clip_length or a larger max_gap)",
                    "reference": "no track has two labelled frames"}[index.spec.mode]
            raise UserError(f"no training samples in this dataset split: {hint}", field="dataset")
        self.videos, self.index, self.skeleton = videos, index, skeleton
        self.geometry, self.ranges = geometry, ranges
        self.batch_size, self.seed = batch_size, seed
        self.trains_on = trains_on
        self.real = np.asarray(skeleton.evaluated)
        self.images = ImageCache(videos, image_cache)

    def __len__(self) -> int:
        return len(self.index)

    def batch(self, step: int, slots: range | None = None) -> ClipBatch:
        """Step `step`'s batch, or only its `slots` (a data-parallel rank's share): the clips
        and their augmentation depend on (seed, step, slot), so the shares of N ranks
        together are the batch of one process."""
        rng = np.random.default_rng([self.seed, step])
        picks = rng.integers(len(self.index), size=self.batch_size)
        slots = range(self.batch_size) if slots is None else slots
        samples = [self.sample(int(picks[slot]), np.random.default_rng([self.seed, step, slot]))
                   for slot in slots]
        fields = zip(*samples)
        images, targets, weights, matrices, persons, zero = (np.stack(f) for f in fields)
        return ClipBatch(
            images=torch.from_numpy(images), targets=torch.from_numpy(targets),
            target_weight=torch.from_numpy(weights), crop_matrices=torch.from_numpy(matrices),
            num_persons=torch.from_numpy(persons), zero_temporal=torch.from_numpy(zero),
        )

    def sample(self, i: int, rng: np.random.Generator) -> tuple[np.ndarray, ...]:
        """One clip: crops (K, H, W, 3), targets (K, J, h, w), weights (K, J), matrices
        (K, 2, 3), persons per frame (K,) and whether to zero its temporal input."""
        g = self.geometry
        refs = self.index.draw(i, rng)
        aug = self.ranges.sample(rng)
        zero = bool(rng.random() < self.index.spec.zero_prob)
        crops, points, valid, matrices, persons = [], [], [], [], []
        shared = None
        if g.window:
            av, af, ap = self.index.earlier(min(refs, key=lambda r: r[1]), int(rng.integers(g.window)))
            anchor = self.videos[av].frames[af].persons[ap]
            shared = augmented_matrix(anchor.crop_box(), g.crop_size, g.padding, aug)
        for v, f, p in refs:
            frame = self.videos[v].frames[f]
            person = frame.persons[p]
            m = shared if shared is not None else augmented_matrix(person.crop_box(), g.crop_size,
                                                                   g.padding, aug)
            crops.append(crop_image(self.images.get(v, f), m, g.crop_size))
            pts, ok = crop_keypoints(person.keypoints, self.trains_on(person) & self.real,
                                     scale_matrix(m, g.heatmap_stride), self.skeleton, aug.flip)
            points.append(pts)
            valid.append(ok)
            matrices.append(m)
            persons.append(len(frame.persons))
        targets, weights = gaussian_targets(np.stack(points), np.stack(valid), g.heatmap_size, g.sigma)
        return (np.stack(crops), targets, weights, np.stack(matrices),
                np.asarray(persons, dtype=np.int64), np.bool_(zero))
