"""The basic online runner: a method over the videos of a dataset, predictions out.

For each video: `method.reset()` and `tracker.reset()`; for each frame in order: person boxes
(here: the ground-truth boxes of the frame) -> tracker -> `method.step()` -> a `FramePred`.
Frames without boxes (with ground-truth boxes: the unlabeled frames) are listed with no
persons and skip the tracker and the method, so tracks and method state carry over the gap.
Every frame of the video is listed, in order, so predictions pair with the ground truth by
position. Persons without a usable box (none given, degenerate) get a box around their
annotated keypoints.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable, Iterable
from pathlib import Path

import numpy as np
import torch

from .formats.posetrack import write_predictions
from .interface import FrameInput, TemporalPoseMethod
from .structures import FrameGT, FramePred, PersonPred, VideoGT, VideoPred
from .tracker import IoUTracker

#: a function giving the person boxes (P, 4) of a frame of a video
BoxSource = Callable[[VideoGT, FrameGT], np.ndarray]


def gt_boxes(video: VideoGT, frame: FrameGT) -> np.ndarray:
    """The frame's ground-truth person boxes (`PersonGT.crop_box`: the annotated box, else the
    keypoints' extent; persons with neither are left out)."""
    rows = [box for box in (p.crop_box() for p in frame.persons) if box is not None]
    return np.asarray(rows, dtype=np.float64).reshape(-1, 4)


@dataclasses.dataclass
class RunStats:
    """What a run did (counts only; the profiler times it)."""

    videos: int = 0
    frames: int = 0
    frames_with_persons: int = 0
    persons: int = 0


def run_video(method: TemporalPoseMethod, video: VideoGT, *, tracker: IoUTracker | None = None,
              boxes: BoxSource = gt_boxes, stats: RunStats | None = None) -> VideoPred:
    """Predictions for every frame of one video, online."""
    tracker = tracker or IoUTracker()
    tracker.reset()
    method.reset()
    frames = []
    for frame in video.frames:
        pred = FramePred(index=frame.index, file_name=frame.file_name, frame_id=frame.frame_id)
        frames.append(pred)
        frame_boxes = boxes(video, frame)
        if stats is not None:
            stats.frames += 1
        if len(frame_boxes) == 0:
            continue
        update = tracker.update(frame_boxes)
        out = method.step(FrameInput(image=frame.load_image(), boxes=frame_boxes,
                                     track_ids=update.track_ids, index=frame.index,
                                     ended_tracks=update.ended))
        for box, tid, kps in zip(frame_boxes, update.track_ids, out.keypoints):
            score = float(np.nanmean(kps[:, 2])) if np.isfinite(kps[:, 2]).any() else float("nan")
            pred.persons.append(PersonPred(kps, track_id=int(tid), score=score, box=box))
        if stats is not None:
            stats.frames_with_persons += 1
            stats.persons += len(frame_boxes)
    if stats is not None:
        stats.videos += 1
    method.reset()
    return VideoPred(name=video.name, skeleton=video.skeleton, frames=frames, meta=dict(video.meta))


def predict_videos(method: TemporalPoseMethod, videos: Iterable[VideoGT],
                   out_dir: str | os.PathLike[str], *, tracker: IoUTracker | None = None,
                   boxes: BoxSource = gt_boxes, on_video: Callable[[VideoPred], None] | None = None) -> RunStats:
    """Run `method` over `videos` and write one PoseTrack'18 JSON file per video to `out_dir`."""
    out = Path(out_dir)
    stats = RunStats()
    was_training = method.training
    method.eval()
    try:
        with torch.no_grad():
            for video in videos:
                pred = run_video(method, video, tracker=tracker, boxes=boxes, stats=stats)
                vid_id = video.meta.get("vid_id")
                write_predictions(pred, out / f"{video.name}.json",
                                  vid_id=None if vid_id is None else str(vid_id))
                if on_video is not None:
                    on_video(pred)
    finally:
        method.train(was_training)
    return stats
