"""Reading and writing video files with OpenCV (`cv2.VideoCapture`, `cv2.VideoWriter`).

Frames come out as (H, W, 3) uint8 RGB, the suite's image convention. A written video goes to
a temporary file beside the target and is renamed into place once complete, so an interrupted
run leaves no half-written file under the target's name.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np

from .errors import UserError

PathLike = str | os.PathLike[str]


@dataclasses.dataclass(frozen=True)
class VideoInfo:
    """What the container says about a video."""

    width: int
    height: int
    fps: float
    frames: int  # as the container states it (0 when unknown)


def open_video(path: PathLike) -> tuple[cv2.VideoCapture, VideoInfo]:
    """An opened capture and its info; a file OpenCV cannot decode is a UserError."""
    p = Path(path)
    if not p.is_file():
        raise UserError("file not found", path=p)
    capture = cv2.VideoCapture(str(p))
    ok, first = capture.read() if capture.isOpened() else (False, None)
    if not ok or first is None:
        capture.release()
        raise UserError("OpenCV cannot decode a frame of this video", path=p)
    capture.set(cv2.CAP_PROP_POS_FRAMES, 0)
    fps = capture.get(cv2.CAP_PROP_FPS)
    info = VideoInfo(width=first.shape[1], height=first.shape[0],
                     fps=fps if fps and np.isfinite(fps) and fps > 0 else 25.0,
                     frames=max(int(capture.get(cv2.CAP_PROP_FRAME_COUNT)), 0))
    return capture, info


def read_frames(path: PathLike, max_frames: int | None = None, start: int = 0) -> Iterator[np.ndarray]:
    """The video's frames in order as RGB arrays, from frame `start` (0-based; earlier frames
    are decoded and dropped, which is exact where seeking is not), at most `max_frames`."""
    capture, _ = open_video(path)
    try:
        for _ in range(start):
            if not capture.grab():
                return
        count = 0
        while max_frames is None or count < max_frames:
            ok, frame = capture.read()
            if not ok:
                return
            count += 1
            yield cv2.cvtColor(frame, cv2.COLOR_BGR2RGB)
    finally:
        capture.release()


@contextlib.contextmanager
def video_writer(path: PathLike, fps: float, size: tuple[int, int]) -> Iterator[cv2.VideoWriter]:
    """A `cv2.VideoWriter` (MPEG-4 Part 2, 'mp4v') whose file appears at `path` only when the
    block completes; `size` is (width, height). Write RGB frames with `write_rgb`."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temp = tempfile.mkstemp(prefix=f".{target.stem}.", suffix=target.suffix or ".mp4",
                                    dir=target.parent)
    os.close(handle)
    writer = cv2.VideoWriter(temp, cv2.VideoWriter_fourcc(*"mp4v"), float(fps), size)
    try:
        if not writer.isOpened():
            raise UserError("OpenCV cannot write an mp4v video here", path=target)
        yield writer
        writer.release()
        os.chmod(temp, 0o666 & ~_umask())
        os.replace(temp, target)
    finally:
        writer.release()
        Path(temp).unlink(missing_ok=True)


def write_rgb(writer: cv2.VideoWriter, frame: np.ndarray) -> None:
    """Append one RGB frame."""
    writer.write(cv2.cvtColor(frame, cv2.COLOR_RGB2BGR))


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
