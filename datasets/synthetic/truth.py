"""A synthetic video's ground truth beyond PoseTrack'18: per-joint occlusion codes and heights.

The side file ``occlusion/<split>/<video>.json`` sits next to ``annotations/<split>/`` (a
separate folder, so that the annotation folder holds only PoseTrack files):

```json
{"format": "vposebench-synthetic-occlusion", "version": 1,
 "video": "000001_synth_train",
 "joints": ["nose", "head_bottom", ...],           # the annotation file's 17 slots
 "codes": {"0": "visible", "1": "hidden by another person", ...},
 "persons": [{"frame": 0, "track_id": 3, "codes": [0, 0, 0, 4, 4, 1, ...], "height": 97.4}, ...]}
```

`frame` is the 0-based frame position in the video (the `images[]` order), `track_id` the
annotation's track id; each annotated person of the PoseTrack file has exactly one entry, and
`codes` has one code per joint slot (see `annotate.py` for the codes). `height` is the
person's body height (ankle to head top, standing) in image pixels.
"""

from __future__ import annotations

import dataclasses
import math
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from vposebench.errors import UserError
from vposebench.formats import load_json
from vposebench.structures import VideoGT

FORMAT = "vposebench-synthetic-occlusion"
VERSION = 1
VISIBLE, BY_PERSON, BY_OCCLUDER, BY_SELF, NOT_ANNOTATED = 0, 1, 2, 3, 4
CODE_NAMES = {
    VISIBLE: "visible",
    BY_PERSON: "hidden by another person",
    BY_OCCLUDER: "hidden by an occluder",
    BY_SELF: "hidden by the person's own body",
    NOT_ANNOTATED: "not annotated (outside the image, or a placeholder slot)",
}
#: the codes that count as occluded (`PersonGT.occluded`)
OCCLUDED_CODES = (BY_PERSON, BY_OCCLUDER)


def occluded_mask(codes: np.ndarray) -> np.ndarray:
    """True where a code means hidden by another person or an occluder."""
    codes = np.asarray(codes)
    return (codes == BY_PERSON) | (codes == BY_OCCLUDER)


@dataclasses.dataclass
class VideoTruth:
    """A video's annotations plus, per frame and person (in annotation order), codes and heights."""

    video: VideoGT
    codes: list[list[np.ndarray]]
    heights: list[list[float]]

    def __post_init__(self) -> None:
        if len(self.codes) != len(self.video.frames) or len(self.heights) != len(self.video.frames):
            raise ValueError("one codes/heights list per frame is required")


def occlusion_document(truth: VideoTruth) -> dict:
    """The side-file document of a video."""
    persons = []
    for frame, codes, heights in zip(truth.video.frames, truth.codes, truth.heights):
        for person, c, h in zip(frame.persons, codes, heights):
            persons.append({"frame": frame.index, "track_id": int(person.track_id),
                            "codes": [int(v) for v in c], "height": round(float(h), 3)})
    return {"format": FORMAT, "version": VERSION, "video": truth.video.name,
            "joints": list(truth.video.skeleton.joints),
            "codes": {str(k): v for k, v in CODE_NAMES.items()}, "persons": persons}


def is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def integer_entry(entry: dict, key: str, path: Path, field: str) -> int:
    """`entry[key]` when it is an int (not a bool), else a UserError naming `field.key`."""
    value = entry.get(key)
    if not is_int(value):
        raise UserError(f"expected an integer, got {value!r}", path=path, field=f"{field}.{key}")
    return value


def load_side_file(path: str | os.PathLike[str], fmt: str, version: int,
                   kind: str) -> tuple[Path, dict[str, Any]]:
    """A synthetic side file (occlusion, degradation) as a dict whose `format` is `fmt` and
    `version` is `version`; else a UserError naming the file and the field."""
    p = Path(path)
    doc = load_json(p)
    if not isinstance(doc, dict) or doc.get("format") != fmt:
        raise UserError(f"not a synthetic {kind} file (expected format {fmt!r})", path=p,
                        field="format")
    if doc.get("version") != version:
        raise UserError(f"unsupported version {doc.get('version')!r} (this reader knows {version})",
                        path=p, field="version")
    return p, doc


def person_entries(doc: dict[str, Any], path: Path) -> Iterator[tuple[str, dict, tuple[int, int]]]:
    """(field name, entry, (frame, track_id)) of each entry of a side file's `persons` list;
    a list that is not one, an entry that is not an object or a key that is not an integer is
    a UserError naming the field."""
    persons = doc.get("persons")
    if not isinstance(persons, list):
        raise UserError("expected a list", path=path, field="persons")
    for i, entry in enumerate(persons):
        field = f"persons[{i}]"
        if not isinstance(entry, dict):
            raise UserError("expected an object", path=path, field=field)
        yield field, entry, (integer_entry(entry, "frame", path, field),
                             integer_entry(entry, "track_id", path, field))


def read_occlusion(path: str | os.PathLike[str], video: VideoGT) -> VideoTruth:
    """Read a side file and attach it to `video` (sets every `PersonGT.occluded`)."""
    p, doc = load_side_file(path, FORMAT, VERSION, "occlusion")
    joints = video.skeleton.num_joints
    entries: dict[tuple[int, int], tuple[np.ndarray, float]] = {}
    for field, entry, key in person_entries(doc, p):
        codes = entry.get("codes")
        if (not isinstance(codes, list) or len(codes) != joints
                or not all(is_int(c) and c in CODE_NAMES for c in codes)):
            raise UserError(f"expected a list of {joints} codes in 0..4", path=p, field=f"{field}.codes")
        height = entry.get("height")
        if is_int(height) or isinstance(height, float):
            height = float(height)
        if not isinstance(height, float) or not math.isfinite(height) or height <= 0:
            raise UserError(f"expected a positive number, got {entry.get('height')!r}", path=p,
                            field=f"{field}.height")
        if key in entries:
            raise UserError(f"duplicate entry for frame {key[0]}, track {key[1]}", path=p, field=field)
        entries[key] = (np.array(codes, dtype=np.int8), height)
    all_codes, all_heights = [], []
    for frame in video.frames:
        fc, fh = [], []
        for person in frame.persons:
            key = (frame.index, int(person.track_id))
            if key not in entries:
                raise UserError(f"no entry for frame {key[0]}, track {key[1]}", path=p, field="persons")
            codes, height = entries.pop(key)
            person.occluded = occluded_mask(codes)
            fc.append(codes)
            fh.append(height)
        all_codes.append(fc)
        all_heights.append(fh)
    if entries:
        frame, track = next(iter(entries))
        raise UserError(f"entry for frame {frame}, track {track} matches no annotated person",
                        path=p, field="persons")
    return VideoTruth(video=video, codes=all_codes, heights=all_heights)
