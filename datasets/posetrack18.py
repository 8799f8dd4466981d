"""PoseTrack'18 in its original layout: one COCO-style JSON per video, frames under ``images/``.

Reads with the suite's PoseTrack reader (:func:`vposebench.formats.reader.read_annotations`),
so big-int ids, string ``vid_id``, the 17 slots (ears never labelled), ``bbox_head``, ignore
polygons and ``is_labeled`` come out as in the file, unlabeled frames included in file order.
mmpose's extra keys (``width``, ``height``, ``mask_file``, ``iscrowd``, ``num_keypoints``) are
accepted and never required. On top of the reader the adapter refuses empty videos, a track
id listed twice in a frame and frames out of temporal order (``frame_id`` must increase).
"""

from __future__ import annotations

from typing import ClassVar

from vposebench.formats import read_annotations
from vposebench.registry import register_dataset
from vposebench.skeleton import POSETRACK18, Skeleton
from vposebench.structures import VideoGT

from .posetrack_layout import PoseTrackFolderDataset, check_frame_order, check_video


@register_dataset("posetrack18")
class PoseTrack18(PoseTrackFolderDataset):
    """PoseTrack'18: annotations/{train,val,test}/*.json (or posetrack_data/annotations/...)."""

    skeleton: ClassVar[Skeleton] = POSETRACK18
    protocol: ClassVar[str] = "posetrack"

    def load_video(self, name: str) -> VideoGT:
        path = self.video_path(name)
        video = read_annotations(path, root=self.image_root, skeleton=POSETRACK18)
        check_video(video, path, "images", "annotations.track_id")
        check_frame_order(video, path)
        video.meta["split"] = self.split
        return video
