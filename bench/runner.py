"""The online runner: a method over the videos of a dataset, predictions out.

For each video: `method.reset()` and `tracker.reset()`; for each frame in order: person boxes
from a box source (ground truth, jittered ground truth, a detections file) -> tracker ->
`method.step()` -> a `FramePred`. Frames without boxes (with ground-truth boxes: the
unlabeled frames) are listed with no persons and skip the tracker and the method, so tracks
and method state carry over the gap. A person without a box in a frame that has others keeps
its track (and the method its state) for up to the tracker's `max_age` frames; the method is
told that a track ended (`FrameInput.ended_tracks`) only when the tracker drops it. Every
frame of the video is listed, in order, so predictions pair with the ground truth by position.
Methods that declare themselves oracles (`oracle-hold`) also get each box's ground-truth
degradation flag when the boxes come from the ground truth. With `RunSpec.temporal_input =
"shuffled"` each video is run as the shuffled control (`vposebench.shuffle`: temporal state
from a donor video).

Videos can be sharded over worker processes. Each worker rebuilds the method from a
`MethodSpec` with the same thread count, and each video is processed from a reset state, so
the predictions do not depend on the number of workers.

With a `PhaseTimer`, every frame with persons adds one sample to each phase: `loading` (image
read and decode), `pose` (the method's step: crop warp, network, decoding, state update) and
`end_to_end` (box source, tracker, step and prediction assembly); `writing` is one sample per
video (the JSON file).
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import dataclasses
import multiprocessing
import os
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from .box_sources import BoxSource, GTBoxes
from .formats import write_predictions
from .interface import FrameInput, TemporalPoseMethod
from .profiling import PhaseTimer
from .protocols import Protocol
from .structures import FramePred, PersonPred, VideoGT, VideoPred
from .tracker import IoUTracker

if TYPE_CHECKING:  # shuffle imports this module
    from .shuffle import DonorSource


@dataclasses.dataclass
class RunStats:
    """What a run did (counts only; the profiler times it)."""

    videos: int = 0
    frames: int = 0
    frames_with_persons: int = 0
    persons: int = 0
    #: largest `method.state_bytes()` seen after a step (tracked only while timing)
    peak_state_bytes: int = 0

    def add(self, other: RunStats) -> None:
        for field in dataclasses.fields(self):
            mine, theirs = getattr(self, field.name), getattr(other, field.name)
            merged = max(mine, theirs) if field.name == "peak_state_bytes" else mine + theirs
            setattr(self, field.name, merged)


@contextlib.contextmanager
def _phase(timer: PhaseTimer | None, name: str) -> Iterator[None]:
    if timer is None:
        yield
    else:
        with timer.measure(name):
            yield


def _person_scores(keypoints: np.ndarray) -> np.ndarray:
    """(P,) mean joint score of each person over the joints it predicted (NaN if none)."""
    scores = keypoints[:, :, 2]
    finite = np.isfinite(scores)
    count = finite.sum(axis=1)
    total = np.where(finite, scores, 0.0).sum(axis=1)
    return np.divide(total, count, out=np.full(len(count), np.nan), where=count > 0)


class OnlineRun:
    """One video through a method online, one frame at a time: `run_video` steps it to the
    end; the shuffled run (`vposebench.shuffle`) steps two in lockstep.

    Creating it resets the tracker and the method; `finish()` resets the method again and
    returns the predictions.
    """

    def __init__(self, method: TemporalPoseMethod, video: VideoGT, *, tracker: IoUTracker,
                 boxes: BoxSource, stats: RunStats | None = None,
                 timer: PhaseTimer | None = None) -> None:
        self.method, self.video, self.tracker, self.boxes = method, video, tracker, boxes
        self.stats, self.timer = stats, timer
        self.frames: list[FramePred] = []
        #: track ids of the last frame the method stepped (a frame with persons)
        self.last_track_ids = np.zeros(0, dtype=np.int64)
        tracker.reset()
        method.reset()

    @property
    def done(self) -> bool:
        return len(self.frames) == len(self.video.frames)

    def step(self, before_step: Callable[[FrameInput], None] | None = None) -> FramePred:
        """Predict the next frame; `before_step(frame_input)` runs after the tracker, just
        before the method's step (frames without boxes skip both)."""
        frame = self.video.frames[len(self.frames)]
        stats, timer = self.stats, self.timer
        pred = FramePred(index=frame.index, file_name=frame.file_name, frame_id=frame.frame_id)
        self.frames.append(pred)
        if stats is not None:
            stats.frames += 1
        started = time.perf_counter()
        found = self.boxes.boxes(self.video, frame)
        box_ms = (time.perf_counter() - started) * 1000.0
        if len(found.boxes) == 0:
            return pred
        with _phase(timer, "loading"):
            image = frame.load_image()
        with _phase(timer, "end_to_end"):  # + the box source's time, added below
            update = self.tracker.update(found.boxes)
            inputs = FrameInput(image=image, boxes=found.boxes, track_ids=update.track_ids,
                                index=frame.index, ended_tracks=update.ended,
                                oracle_degraded=found.degraded(frame) if self.method.oracle else None)
            if before_step is not None:
                before_step(inputs)
            with _phase(timer, "pose"):
                out = self.method.step(inputs)
            scores = _person_scores(out.keypoints)
            pred.persons.extend(
                PersonPred(kps, track_id=int(tid), score=float(score), box=box)
                for box, tid, kps, score in zip(found.boxes, update.track_ids, out.keypoints, scores)
            )
        self.last_track_ids = np.asarray(update.track_ids, dtype=np.int64)
        if timer is not None:
            timer.samples["end_to_end"][-1] += box_ms
        if stats is not None:
            stats.frames_with_persons += 1
            stats.persons += len(found.boxes)
            if timer is not None:
                stats.peak_state_bytes = max(stats.peak_state_bytes, self.method.state_bytes())
        return pred

    def finish(self) -> VideoPred:
        """The video's predictions (every frame must have been stepped); resets the method."""
        if not self.done:
            raise RuntimeError(f"{len(self.frames)} of {len(self.video.frames)} frames stepped")
        if self.stats is not None:
            self.stats.videos += 1
        self.method.reset()
        video = self.video
        return VideoPred(name=video.name, skeleton=video.skeleton, frames=self.frames,
                         meta=dict(video.meta))


def run_video(method: TemporalPoseMethod, video: VideoGT, *, tracker: IoUTracker | None = None,
              boxes: BoxSource | None = None, stats: RunStats | None = None,
              timer: PhaseTimer | None = None) -> VideoPred:
    """Predictions for every frame of one video, online."""
    run = OnlineRun(method, video, tracker=tracker or IoUTracker(), boxes=boxes or GTBoxes(),
                    stats=stats, timer=timer)
    while not run.done:
        run.step()
    return run.finish()


def write_video_predictions(pred: VideoPred, video: VideoGT, out_dir: str | os.PathLike[str]) -> Path:
    """`<out_dir>/<video>.json`, with the GT's vid_id."""
    vid_id = video.meta.get("vid_id")
    path = Path(out_dir) / f"{video.name}.json"
    write_predictions(pred, path, vid_id=None if vid_id is None else str(vid_id))
    return path


def predict_videos(method: TemporalPoseMethod, videos: Iterable[VideoGT],
                   out_dir: str | os.PathLike[str], *, tracker: IoUTracker | None = None,
                   boxes: BoxSource | None = None, timer: PhaseTimer | None = None,
                   on_video: Callable[[VideoPred], None] | None = None,
                   donors: DonorSource | None = None) -> RunStats:
    """Run `method` over `videos` in this process; one PoseTrack'18 JSON file per video.

    With `donors`, every video is the shuffled control (`vposebench.shuffle`).
    """
    stats = RunStats()
    was_training = method.training
    method.eval()
    if donors is not None:
        donors.method.eval()
    try:
        with torch.no_grad():
            for video in videos:
                if donors is None:
                    pred = run_video(method, video, tracker=tracker, boxes=boxes, stats=stats,
                                     timer=timer)
                else:
                    pred = donors.run(method, video, tracker=tracker or IoUTracker(),
                                      boxes=boxes or GTBoxes(), stats=stats, timer=timer)
                with _phase(timer, "writing"):
                    write_video_predictions(pred, video, out_dir)
                if on_video is not None:
                    on_video(pred)
    finally:
        method.train(was_training)
    return stats


# ----------------------------------------------------------------------------- sharding
@dataclasses.dataclass(frozen=True)
class MethodSpec:
    """Everything a worker process needs to rebuild a method: a trained one from its
    checkpoint, or one that needs none (e.g. `blazepose`, `onnx`) from its name, its settings
    and the skeleton it predicts."""

    #: checkpoint written by training; None: build `method` for `skeleton` from `overrides`
    checkpoint: str | None = None
    #: config changes: on top of the checkpoint's config (inference-time fields such as a
    #: memory's capacity), or the whole settings of a method without a checkpoint
    overrides: tuple[tuple[str, Any], ...] = ()
    device: str = "cpu"
    threads: int = 1
    method: str | None = None
    skeleton: str | None = None  # a built-in skeleton name (vposebench.skeleton.SKELETONS)

    def __post_init__(self) -> None:
        if self.checkpoint is None and (self.method is None or self.skeleton is None):
            raise ValueError("a MethodSpec without a checkpoint needs a method and a skeleton")

    def build(self) -> TemporalPoseMethod:
        from .checkpoint import load_checkpoint
        from .interface import build_method
        from .skeleton import SKELETONS

        torch.set_num_threads(self.threads)
        if self.checkpoint is None:
            method = build_method(self.method, SKELETONS[self.skeleton], **dict(self.overrides))
            return method.to(torch.device(self.device)).eval()
        checkpoint = load_checkpoint(self.checkpoint)
        return checkpoint.build(torch.device(self.device), source=self.checkpoint, **dict(self.overrides))


@dataclasses.dataclass(frozen=True)
class DatasetSpec:
    """A registered dataset split, optionally temporally subsampled."""

    name: str
    root: str
    split: str | None
    stride: int = 1  # keep every `stride`-th frame (temporal downsampling)
    #: the adapter's reading options (its `options_class` fields), e.g. jhmdb box_from_joints
    options: tuple[tuple[str, Any], ...] = ()

    def open(self):
        from .registry import DATASETS

        return DATASETS.get(self.name)(self.root, self.split, **dict(self.options))

    def load(self, dataset, name: str) -> VideoGT:
        from vposebench.datasets.views import subsample_video

        video = dataset.load_video(name)
        return subsample_video(video, self.stride) if self.stride > 1 else video


@dataclasses.dataclass(frozen=True)
class RunSpec:
    """One prediction job: method x dataset under a protocol -> prediction folder.

    The box source, the tracker and the temporal input (the method's own past, or the shuffled
    control) come from `protocol` (its temporal stride is the dataset view's:
    `DatasetSpec.stride`); `detections` is the file a "detections" protocol reads.
    """

    method: MethodSpec
    dataset: DatasetSpec
    out_dir: str
    protocol: Protocol
    detections: str | None = None

    def __post_init__(self) -> None:
        if self.protocol.temporal_stride != self.dataset.stride:
            raise ValueError(f"the protocol's temporal stride {self.protocol.temporal_stride} is "
                             f"not the dataset view's {self.dataset.stride}")

    def tracker(self) -> IoUTracker:
        return self.protocol.tracker.build()

    def boxes(self) -> BoxSource:
        return self.protocol.boxes.build(self.detections)


def run_shard(spec: RunSpec, names: list[str], donors: dict[str, str] | None = None,
              method: TemporalPoseMethod | None = None) -> RunStats:
    """Predict the named videos in this process (building the method unless given); with
    `donors`, the shuffled control (`vposebench.shuffle`)."""
    method = method if method is not None else spec.method.build()
    dataset = spec.dataset.open()
    videos = (spec.dataset.load(dataset, n) for n in names)
    source = None
    if donors is not None:
        from .shuffle import DonorSource

        source = DonorSource(spec.method.build(), donors, lambda n: spec.dataset.load(dataset, n))
    return predict_videos(method, videos, spec.out_dir, boxes=spec.boxes(), donors=source,
                          tracker=spec.tracker())


def donors_for(spec: RunSpec, names: list[str]) -> dict[str, str] | None:
    """Each video's donor when the protocol's temporal input is "shuffled" (None for the
    method's own temporal input)."""
    from .config import choice
    from .shuffle import TEMPORAL_INPUTS, donor_names, require_track_state

    temporal_input = spec.protocol.temporal_input
    choice(temporal_input, TEMPORAL_INPUTS, "temporal_input")
    if temporal_input == "own":
        return None
    from .checkpoint import load_checkpoint
    from .registry import METHODS

    name = load_checkpoint(spec.method.checkpoint).method
    require_track_state(METHODS.get(name), name)
    return donor_names(names)


def predict_dataset(spec: RunSpec, *, workers: int = 1, videos: list[str] | None = None,
                    executor: concurrent.futures.Executor | None = None) -> RunStats:
    """Predict every video (or the named ones), sharded round-robin over `workers` processes.

    Pass an `executor` (see `worker_pool`) to reuse worker processes across many runs.
    """
    dataset = spec.dataset.open()
    donors = donors_for(spec, dataset.video_names())
    names = list(videos) if videos is not None else dataset.video_names()
    total = RunStats()
    if executor is None and (workers <= 1 or len(names) <= 1):
        previous = torch.get_num_threads()
        try:
            total.add(run_shard(spec, names, donors))
        finally:
            torch.set_num_threads(previous)
        return total
    shards = [names[i::workers] for i in range(workers)]
    with contextlib.ExitStack() as stack:
        pool = executor or stack.enter_context(worker_pool(len(shards)))
        for future in [pool.submit(run_shard, spec, shard, donors) for shard in shards if shard]:
            total.add(future.result())
    return total


def worker_pool(workers: int) -> concurrent.futures.ProcessPoolExecutor:
    """Spawned worker processes (fork is unsafe with torch and OpenCV thread pools)."""
    return concurrent.futures.ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"))
