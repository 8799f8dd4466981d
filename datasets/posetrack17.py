"""PoseTrack'17 in its original layout: one ``annolist`` file per video, JSON or MATLAB.

``annotations/{train,val,test}/<video>_relpath_5sec_{trainsub,testsub}.{json,mat}`` (also below
``posetrack_data/``). The JSON goes through the suite's PoseTrack reader. The ``.mat`` variant
is loaded with ``squeeze_me=True, struct_as_record=False`` and normalised to the same
structure (bare structs for a single person or point become one-element lists there), then
parsed by the same reader, so both variants give identical videos. When a video exists in
both variants the JSON is read.

Frame file names are taken from ``image.name`` as written, never rebuilt (some videos use
irregular names). Frame ids follow the official converter: ``T SSSSSS FFFF`` from the
``<sequence>_<source>`` folder and the number the file name starts with; when names do not
yield distinct increasing numbers the frame's position is used instead of ``FFFF``.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import ClassVar

from vposebench.formats import annotations_from_document, packed_frame_id, read_annotations
from vposebench.registry import register_dataset
from vposebench.skeleton import POSETRACK17, Skeleton
from vposebench.structures import VideoGT

from .matlab import load_mat, to_python, variable
from .posetrack_layout import PoseTrackFolderDataset, check_video

#: the source digit of a packed PoseTrack frame id
SOURCE_IDS = {"mpii": 1, "bonn": 2, "mpiinew": 3}
_SEQUENCE = re.compile(r"(\d+)_(mpii|bonn|mpiinew)(?:_.*)?")
_LEADING_NUMBER = re.compile(r"(\d+)")


def read_pt17_mat(path: Path, image_root: Path | None = None) -> VideoGT:
    """A PoseTrack'17 ``.mat`` annotation file, read like its JSON twin."""
    data = load_mat(path, structs=True, variables=["annolist"])
    document = {"annolist": to_python(variable(data, "annolist", path))}
    return annotations_from_document(document, path, root=image_root, skeleton=POSETRACK17)


def assign_frame_ids(video: VideoGT) -> None:
    """Give every frame the official packed id and set ``meta['vid_id']`` where names allow."""
    first = Path(video.frames[0].file_name)
    match = _SEQUENCE.fullmatch(first.parent.name)
    if match is None:
        return
    sequence, source = int(match.group(1)), SOURCE_IDS[match.group(2)]
    numbers = []
    for frame in video.frames:
        number = _LEADING_NUMBER.match(Path(frame.file_name).stem)
        numbers.append(int(number.group(1)) if number else -1)
    if min(numbers) < 0 or max(numbers) >= 10**4 or any(b <= a for a, b in zip(numbers, numbers[1:])):
        numbers = list(range(len(video.frames)))
    for frame, number in zip(video.frames, numbers):
        frame.frame_id = packed_frame_id(sequence, number, source)
    video.meta["vid_id"] = match.group(1)


@register_dataset("posetrack17")
class PoseTrack17(PoseTrackFolderDataset):
    """PoseTrack'17: annotations/{train,val,test}/*.json or *.mat (annolist per video)."""

    skeleton: ClassVar[Skeleton] = POSETRACK17
    protocol: ClassVar[str] = "posetrack"
    suffixes: ClassVar[tuple[str, ...]] = (".json", ".mat")

    def load_video(self, name: str) -> VideoGT:
        path = self.video_path(name)
        if path.suffix == ".mat":
            video = read_pt17_mat(path, self.image_root)
        else:
            video = read_annotations(path, root=self.image_root, skeleton=POSETRACK17)
        check_video(video, path, "annolist", "annolist[{frame}].annorect")
        assign_frame_ids(video)
        video.meta.update({"split": self.split, "nframes": len(video.frames),
                           "variant": path.suffix.lstrip(".")})
        return video
