"""Generate a synthetic benchmark root: render every video and clip, write every layout, cache.

`generate(root, config)` is what `vposebench synth` and `vposebench run` call. A root whose
manifest carries the same config hash (config + generator version) is reused as it is;
otherwise the whole root is built in a hidden sibling folder and swapped in at the end
(`vposebench.atomic.atomic_directory`), so a root is either complete or absent.

Randomness: every video and clip draws from its own generator seeded with
``(seed, layout, index)``, so a video does not change when others are added, and its
degraded-frame bursts from one seeded with ``(seed, layout, index, 1)``, so the burst knobs do
not change the scene.
"""

from __future__ import annotations

import dataclasses
import logging
import math
import multiprocessing
import os
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from itertools import repeat
from pathlib import Path

import cv2
import numpy as np

from vposebench.atomic import atomic_directory
from vposebench.datasets.posetrack_scale import labeled_mask
from vposebench.errors import UserError
from vposebench.formats import packed_frame_id
from vposebench.skeleton import JHMDB, PENN_ACTION, POSETRACK18, Skeleton
from vposebench.structures import FrameGT, PersonGT, VideoGT

from .annotate import annotate_persons, joints_in_image, joints_of, point_codes
from .bursts import Burst, Flag, flag_fields, person_flags, sample_bursts, schedule
from .config import CLIP_PROFILES, GENERATOR_VERSION, PROFILES, SYNTH_PRESETS, SynthConfig, allot
from .degradation import degradation_document, degradation_file
from .manifest import ClipEntry, Manifest, VideoEntry, manifest_path, read_manifest
from .people import FPS, yaw_at
from .render import RenderedFrame, VideoRenderer
from .scene import Scene, frame_times, sample_scene
from .stats import Measured, measure, subset_tags, summarise
from .truth import VISIBLE, VideoTruth
from .writer import (
    jhmdb_frame,
    jhmdb_split_flag,
    penn_frame,
    posetrack_image,
    write_image,
    write_jhmdb_clip,
    write_jhmdb_splits,
    write_penn_label,
    write_posetrack_video,
    write_side_file,
)

log = logging.getLogger(__name__)

#: first sequence number of each split (train videos are 800001..., val videos 900001...): far
#: above every real PoseTrack'17/'18 sequence of the `mpiinew` source (1-5; 24985 at most
#: for any source), so ids never collide with real videos
VID_BASE = {"train": 800001, "val": 900001}
#: the sequence type in the names and its source digit in PT18 frame ids: the official
#: evaluation (poseval) accepts only mpii (1), bonn (2) and mpiinew (3)
SEQUENCE_TYPE, SOURCE = "mpiinew", 3
_LAYOUT_SEED = {"train": 0, "val": 1, "jhmdb": 2, "penn_action": 3}
_BURST_STREAM = 1  # bursts draw from their own stream: the scene does not depend on them
JHMDB_DIR, PENN_DIR = "jhmdb", "penn_action"

Progress = Callable[[int, int], None]


def video_name(split: str, index: int) -> str:
    """PoseTrack's name pattern: ``<6-digit vid>_mpiinew_<train|test>`` (val videos end in _test)."""
    return f"{VID_BASE[split] + index:06d}_{SEQUENCE_TYPE}_{'train' if split == 'train' else 'test'}"


def label_mask(frames: int, split: str, pattern: str) -> np.ndarray:
    """Which frames are labelled: all, or PoseTrack's pattern (train: 30 in the middle; val: + every 4th)."""
    if pattern == "all":
        return np.ones(frames, dtype=bool)
    run = min(30, frames)
    if split == "val":
        return labeled_mask(frames, run=run, every=4)
    mask = np.zeros(frames, dtype=bool)
    start = max(0, frames // 2 - run // 2)
    mask[start:start + run] = True
    return mask


def _rng(config: SynthConfig, layout: str, index: int, stream: int = 0) -> np.random.Generator:
    key = [config.seed, _LAYOUT_SEED[layout], index] + ([stream] if stream else [])
    return np.random.default_rng(key)


def _bursts(config: SynthConfig, layout: str, index: int, scene: Scene, frames: int,
            skeleton: Skeleton) -> list[Burst]:
    """The degraded-frame episodes of a video (occluders target persons with enough joints inside)."""
    eligible = joints_in_image(scene, frame_times(frames, config.frame_step), skeleton) >= config.min_joints_in_image
    return sample_bursts(_rng(config, layout, index, _BURST_STREAM), config, eligible)


def _renderer(scene: Scene, config: SynthConfig, frames: int, bursts: list[Burst]) -> VideoRenderer:
    return VideoRenderer(scene, frame_times(frames, config.frame_step), frame_interval=config.frame_step / FPS,
                         blur_samples=config.blur_samples, bursts=bursts)


# ----------------------------------------------------------------------------- PoseTrack'18
def make_video(root: Path, config: SynthConfig, split: str, index: int, profile: str
               ) -> tuple[VideoTruth, Scene, list[Burst]]:
    """Render one multi-person video into `root` (frames, annotations, side files)."""
    scene = sample_scene(_rng(config, split, index), profile, PROFILES[profile], config, config.frames)
    bursts = _bursts(config, split, index, scene, config.frames, POSETRACK18)
    episode = schedule(bursts, config.frames)
    name = video_name(split, index)
    vid = VID_BASE[split] + index
    labeled = label_mask(config.frames, split, config.label_pattern)
    track_ids = [p.track_id for p in scene.persons]
    frames, codes, heights = [], [], []
    for rendered in _renderer(scene, config, config.frames, bursts):
        f = rendered.index
        file_name = posetrack_image(split, name, f)
        write_image(root / file_name, rendered.image, jpeg_quality=config.jpeg_quality)
        persons = annotate_persons(rendered, track_ids, POSETRACK18, min_in_image=config.min_joints_in_image,
                                   min_unhidden=config.min_joints_unhidden,
                                   flags=person_flags(episode[f], len(track_ids))) if labeled[f] else []
        frames.append(FrameGT(index=f, file_name=file_name, persons=[p.gt for p in persons],
                              is_labeled=bool(labeled[f]), frame_id=packed_frame_id(vid, f, SOURCE)))
        codes.append([p.codes for p in persons])
        heights.append([p.height for p in persons])
    video = VideoGT(name=name, skeleton=POSETRACK18, frames=frames, meta={"vid_id": f"{vid:06d}"})
    truth = VideoTruth(video=video, codes=codes, heights=heights)
    write_posetrack_video(root, split, truth, degradation_document(video, bursts, track_ids))
    return truth, scene, bursts


# ----------------------------------------------------------------------------- single-person clips
def mask_box(mask: np.ndarray) -> np.ndarray:
    """Continuous xyxy extent of a mask's pixels (pixel centres at integers, so +-0.5)."""
    ys, xs = np.nonzero(mask)
    return np.array([xs.min() - 0.5, ys.min() - 0.5, xs.max() + 0.5, ys.max() + 0.5])


@dataclasses.dataclass
class RenderedClip:
    """A rendered single-person clip: joints and codes in one skeleton, silhouettes."""

    scene: Scene
    action: str
    joints: np.ndarray  # (T, J, 2) image pixels
    codes: np.ndarray  # (T, J) occlusion codes
    base_codes: np.ndarray  # (T, J) occlusion codes as if no burst board were there
    heights: list[float]  # body height per frame, image pixels
    masks: np.ndarray  # (T, H, W) uint8 silhouettes of the whole body
    bursts: list[Burst]
    flags: list[Flag | None]  # per frame: the person's burst kind and position, or None

    def truth(self, name: str, skeleton: Skeleton, boxes: list[np.ndarray]) -> VideoTruth:
        """A one-person video in `skeleton` (every joint annotated), for statistics and tags."""
        frames = []
        for f, (xy, box, flag) in enumerate(zip(self.joints, boxes, self.flags)):
            kp = np.concatenate([xy, np.ones((len(xy), 1))], axis=1)
            kind, position = flag_fields(flag)
            person = PersonGT(kp, track_id=0, box=box, degradation=kind, burst_position=position)
            frames.append(FrameGT(index=f, file_name="", persons=[person]))
        return VideoTruth(video=VideoGT(name=name, skeleton=skeleton, frames=frames),
                          codes=[[c] for c in self.codes], heights=[[h] for h in self.heights])

    def write_degradation(self, layout_root: Path, truth: VideoTruth) -> None:
        """The clip's degradation side file, ``<layout root>/degradation/<clip>.json``."""
        write_side_file(degradation_file(layout_root, truth.video.name),
                        degradation_document(truth.video, self.bursts, [0]))


def _render_clip(config: SynthConfig, layout: str, index: int, profile: str, skeleton: Skeleton,
                 write_frame: Callable[[str, RenderedFrame], None]) -> RenderedClip:
    """Render one single-person clip, handing every frame to `write_frame(action, frame)`."""
    rng = _rng(config, layout, index)
    frames = int(rng.integers(config.clip_frames[0], config.clip_frames[1] + 1))
    scene = sample_scene(rng, profile, CLIP_PROFILES[profile], config, frames, single=True)
    action = scene.persons[0].motion.action
    bursts = _bursts(config, layout, index, scene, frames, skeleton)
    joints, codes, base_codes, heights, masks = [], [], [], [], []
    renderer = _renderer(scene, config, frames, bursts)
    for rendered in renderer:
        write_frame(action, rendered)
        xy, jc = joints_of(rendered, point_codes(rendered), 0, skeleton)
        joints.append(xy)
        codes.append(jc)
        base_codes.append(joints_of(rendered, point_codes(rendered, base=True), 0, skeleton)[1])
        heights.append(float(rendered.heights[0]))
        masks.append(renderer.silhouette(rendered.index, 0))
    flags = [person_flags(entry, 1)[0] for entry in schedule(bursts, frames)]
    return RenderedClip(scene=scene, action=action, joints=np.stack(joints), codes=np.stack(codes),
                        base_codes=np.stack(base_codes), heights=heights, masks=np.stack(masks),
                        bursts=bursts, flags=flags)


def make_jhmdb_clip(root: Path, config: SynthConfig, index: int, profile: str) -> tuple[ClipEntry, VideoTruth]:
    """One JHMDB-style clip: PNG frames, joint_positions.mat, puppet_mask.mat."""
    base = root / JHMDB_DIR

    def write_frame(action: str, rendered: RenderedFrame) -> None:
        write_image(jhmdb_frame(base, action, jhmdb_clip_name(action, index), rendered.index), rendered.image)

    clip = _render_clip(config, "jhmdb", index, profile, JHMDB, write_frame)
    name = jhmdb_clip_name(clip.action, index)
    write_jhmdb_clip(base, clip.action, name, clip.joints, clip.masks)
    entry = ClipEntry(layout="jhmdb", name=name, action=clip.action, frames=len(clip.joints),
                      profile=profile, tags=[], knobs=_knobs(clip.scene, clip.bursts), split={})
    truth = clip.truth(name, JHMDB, [mask_box(m) for m in clip.masks])
    clip.write_degradation(base, truth)
    return entry, truth


def jhmdb_clip_name(action: str, index: int) -> str:
    """Clip folder name: ``<action>_synth_<index:04d>`` (the action is known once the clip is sampled)."""
    return f"{action}_synth_{index:04d}"


def penn_pose(yaw: float) -> str:
    """Penn's coarse view from the facing angle: front, back, or the side the person faces."""
    yaw = math.atan2(math.sin(yaw), math.cos(yaw))
    if abs(yaw) <= math.pi / 4:
        return "front"
    if abs(yaw) >= 3 * math.pi / 4:
        return "back"
    return "right" if yaw > 0 else "left"


def make_penn_clip(root: Path, config: SynthConfig, index: int, profile: str) -> tuple[ClipEntry, VideoTruth]:
    """One Penn-Action-style clip: JPEG frames and labels/%04d.mat (clip number = index + 1)."""
    base = root / PENN_DIR
    number = index + 1

    def write_frame(action: str, rendered: RenderedFrame) -> None:
        write_image(penn_frame(base, number, rendered.index), rendered.image,
                    jpeg_quality=config.jpeg_quality)

    clip = _render_clip(config, "penn_action", index, profile, PENN_ACTION, write_frame)
    boxes = [mask_box(m) for m in clip.masks]
    frames = len(clip.joints)
    train = index % 2 == 0
    mid = frame_times(frames, config.frame_step)[frames // 2]
    yaw = float(yaw_at(clip.scene.persons[0].motion, np.array([mid]))[0])
    # visibility is what an annotator marks from the frames around: a burst board does not hide
    write_penn_label(base, number, joints=clip.joints, visible=clip.base_codes == VISIBLE,
                     boxes=np.stack(boxes), size=(config.height, config.width), train=train,
                     action=clip.action, pose=penn_pose(yaw))
    entry = ClipEntry(layout="penn_action", name=f"{number:04d}", action=clip.action, frames=frames,
                      profile=profile, tags=[], knobs=_knobs(clip.scene, clip.bursts),
                      split={"penn": "train" if train else "test"})
    truth = clip.truth(f"{number:04d}", PENN_ACTION, boxes)
    clip.write_degradation(base, truth)
    return entry, truth


# ----------------------------------------------------------------------------- the whole root
Job = tuple[str, int, str]  # (layout, index, profile)


def _jobs(config: SynthConfig) -> list[Job]:
    jobs = [(split, i, profile) for split, count in (("train", config.train_videos), ("val", config.val_videos))
            for i, profile in enumerate(allot(config.mix, count))]
    jobs += [("jhmdb", i, p) for i, p in enumerate(allot(config.jhmdb_mix, config.jhmdb_clips))]
    jobs += [("penn_action", i, p) for i, p in enumerate(allot(config.penn_mix, config.penn_clips))]
    return jobs


def _run_job(root: Path, config: SynthConfig, job: Job) -> tuple[VideoEntry | ClipEntry, Measured]:
    """Render one video or clip into `root`; return its manifest entry and measurements."""
    layout, index, profile = job
    if layout in ("train", "val"):
        truth, scene, bursts = make_video(root, config, layout, index, profile)
        measured = measure(truth)
        entry: VideoEntry | ClipEntry = VideoEntry(
            name=truth.video.name, split=layout, profile=profile, tags=subset_tags(measured.stats, config),
            knobs=_knobs(scene, bursts), stats=measured.stats.to_dict())
    else:
        make = make_jhmdb_clip if layout == "jhmdb" else make_penn_clip
        entry, truth = make(root, config, index, profile)
        measured = measure(truth)
        entry.tags = subset_tags(measured.stats, config)
    return entry, measured


def _knobs(scene: Scene, bursts: list[Burst]) -> dict[str, float]:
    """The values drawn for a video, with its number of burst episodes (manifest)."""
    return {**scene.knobs, "bursts": len(bursts)}


def _worker_init() -> None:
    cv2.setNumThreads(1)  # the pool already uses every core


def _results(root: Path, config: SynthConfig, jobs: list[Job], workers: int) -> Iterator:
    """Results of `jobs` in job order, computed here or by a pool of `workers` processes.

    Workers are spawned, not forked: a forked child inherits OpenCV's thread pool in a broken
    state and can hang. Spawning re-imports the caller's main module, so a script that calls
    `generate` with several workers must do so under ``if __name__ == "__main__":``.
    """
    if workers <= 1 or len(jobs) <= 1:
        yield from (_run_job(root, config, job) for job in jobs)
        return
    context = multiprocessing.get_context("spawn")
    try:
        with ProcessPoolExecutor(max_workers=workers, mp_context=context, initializer=_worker_init) as pool:
            yield from pool.map(_run_job, repeat(root), repeat(config), jobs)
    except BrokenProcessPool as exc:
        raise RuntimeError(
            "a generator worker process died; when calling generate() from a script, call it under "
            "`if __name__ == '__main__':` (workers are spawned), or pass workers=1") from exc


def _build(root: Path, config: SynthConfig, progress: Progress | None, workers: int) -> Manifest:
    jobs = _jobs(config)
    videos: list[VideoEntry] = []
    clips: list[ClipEntry] = []
    groups: dict[str, list[tuple[Measured, list[str]]]] = {}
    for done, ((layout, _, _), (entry, measured)) in enumerate(zip(jobs, _results(root, config, jobs, workers))):
        (videos if isinstance(entry, VideoEntry) else clips).append(entry)
        groups.setdefault(layout, []).append((measured, entry.tags))
        if progress is not None:
            progress(done + 1, len(jobs))
    by_action: dict[str, list[tuple[str, int]]] = {}
    for index, entry in enumerate(e for e in clips if e.layout == "jhmdb"):
        by_action.setdefault(entry.action, []).append((entry.name, index))
        for k in (1, 2, 3):
            entry.split[str(k)] = "test" if jhmdb_split_flag(index, k) == 2 else "train"
    if by_action:
        write_jhmdb_splits(root / JHMDB_DIR, by_action)
    summary = {layout: summarise([m for m, _ in members], [tags for _, tags in members])
               for layout, members in groups.items()}
    manifest = Manifest(config=config.to_dict(), config_hash=config.config_hash(),
                        generator_version=GENERATOR_VERSION, videos=videos, clips=clips, summary=summary)
    manifest.write(root)
    return manifest


def default_workers() -> int:
    """Processes used to generate: the CPU count, at most 4."""
    return max(1, min(os.cpu_count() or 1, 4))


def cached_manifest(root: str | os.PathLike[str], config: SynthConfig) -> Manifest | None:
    """The manifest of `root` if it was generated with exactly `config`, else None."""
    if not manifest_path(root).is_file():
        return None
    try:
        manifest = read_manifest(root)
    except UserError:
        return None
    return manifest if manifest.config_hash == config.config_hash() else None


def generate(root: str | os.PathLike[str], config: SynthConfig | None = None, *, force: bool = False,
             workers: int | None = None, progress: Progress | None = None) -> Manifest:
    """Generate the benchmark into `root` unless it already holds this config (then reuse it).

    An existing folder is only replaced when it is a generated root (it has a manifest) or
    empty; anything else is a UserError, so user files are never deleted. `workers`
    processes render in parallel (default: `default_workers()`); the bytes written do not
    depend on it.
    """
    config = SYNTH_PRESETS["default"] if config is None else config
    root = Path(root)
    if not force:
        cached = cached_manifest(root, config)
        if cached is not None:
            log.info("%s already holds this config (hash %s); reusing it", root, cached.config_hash)
            return cached
    if root.exists() and not root.is_dir():
        raise UserError("exists and is not a folder", path=root)
    if root.is_dir() and any(root.iterdir()) and not manifest_path(root).is_file():
        raise UserError("folder is not empty and is not a generated synthetic root; "
                        "refusing to replace it (choose another --out)", path=root)
    workers = default_workers() if workers is None else workers
    log.info("generating the synthetic benchmark into %s (config hash %s, %d workers)", root,
             config.config_hash(), workers)
    with atomic_directory(root) as staging:
        manifest = _build(staging, config, progress, workers)
    return manifest
