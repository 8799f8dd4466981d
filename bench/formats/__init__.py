"""PoseTrack JSON, the suite's interchange format: read PT18 and PT17 files, write PT18.

One module per job: ``jsonfile`` (loading JSON, typed field access that names the field),
``parsed`` (a file as flat arrays), ``posetrack18`` and ``posetrack17`` (the two readers),
``reader`` (format detection and the object model), ``writer`` (PT18 documents) and
``folders`` (listing and pairing per-video files). The names most callers need are re-exported here.
"""

from .folders import list_video_files, pair_files
from .jsonfile import Fields, load_json
from .parsed import FrameInfo, PoseTrackFile
from .reader import (
    annotations_from_document,
    parse_document,
    read_annotations,
    read_file,
    read_predictions,
)
from .writer import (
    annotations_to_dict,
    packed_frame_id,
    predictions_to_dict,
    write_annotations,
    write_predictions,
)

__all__ = [
    "Fields",
    "FrameInfo",
    "PoseTrackFile",
    "annotations_from_document",
    "annotations_to_dict",
    "list_video_files",
    "load_json",
    "packed_frame_id",
    "pair_files",
    "parse_document",
    "predictions_to_dict",
    "read_annotations",
    "read_file",
    "read_predictions",
    "write_annotations",
    "write_predictions",
]
