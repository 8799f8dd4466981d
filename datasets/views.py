"""Views of videos that the protocols need: temporal downsampling."""

from __future__ import annotations

import dataclasses

from vposebench.structures import VideoGT


def subsample_video(video: VideoGT, stride: int, offset: int = 0) -> VideoGT:
    """Every `stride`-th frame from `offset` on, re-indexed 0..n-1 (file names and ids kept).

    Neighbouring frames of the result are `stride` frames apart in the original, so keypoints
    move `stride` times as far between them (the TFC paper's Fig. 3 protocol).
    """
    if stride < 1 or not 0 <= offset < stride:
        raise ValueError(f"need stride >= 1 and 0 <= offset < stride, got {stride}, {offset}")
    frames = [dataclasses.replace(f, index=i) for i, f in enumerate(video.frames[offset::stride])]
    meta = {**video.meta, "temporal_stride": stride, "temporal_offset": offset}
    return VideoGT(name=video.name, skeleton=video.skeleton, frames=frames, meta=meta)
