"""The degradation side file: which person-frames lie inside a degraded-frame burst.

Written beside the occlusion side file for the PoseTrack'18 layout,
``degradation/<split>/<video>.json``, and, since the real JHMDB and Penn Action formats have no
place for it, under the root of each single-person layout: ``jhmdb/degradation/<clip>.json``
and ``penn_action/degradation/<clip number>.json``.

```json
{"format": "vposebench-synthetic-degradation", "version": 1, "video": "900001_mpiinew_test",
 "frames": 40,
 "kinds": {"occluder": "a board in front of everyone covers the person", ...},
 "episodes": [{"kind": "defocus", "start": 5, "length": 3, "tracks": [],
               "params": {"radius": 3.1, "noise": 11.2}}, ...],
 "persons": [{"frame": 5, "track_id": 3, "kind": "defocus", "position": 0}, ...]}
```

`persons` has one entry per annotated person-frame inside an episode (clean person-frames
have none): `frame` is the 0-based frame position, `track_id` the annotation's track id (0 in
the single-person layouts), `position` the 0-based position of the frame in its episode.
`episodes` lists every episode, also where no person is annotated; `tracks` are the track ids
an occluder episode covers (empty for the whole-frame kinds). Reading a file sets
`PersonGT.degradation` (the kind) and `PersonGT.burst_position` of the persons it names.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from vposebench.errors import UserError
from vposebench.structures import VideoGT

from .config import BURST_KINDS
from .truth import integer_entry, load_side_file, person_entries

if TYPE_CHECKING:  # bursts.py loads OpenCV; readers of side files do not need it
    from .bursts import Burst

FORMAT = "vposebench-synthetic-degradation"
VERSION = 1
#: the side files' folder, in the PoseTrack'18 root (per split) and in each single-person root
FOLDER = "degradation"
KIND_NAMES = {
    "occluder": "a board in front of everyone covers the person's whole body",
    "defocus": "the whole frame defocused (disk blur) with added sensor noise",
    "exposure": "the whole frame over- or under-exposed (gain), with sensor noise",
}


def degradation_document(video: VideoGT, bursts: Sequence[Burst], track_ids: Sequence[int]) -> dict:
    """The side-file document of a video; `track_ids` maps scene person indices to track ids."""
    episodes = [{"kind": b.kind, "start": b.start, "length": b.length,
                 "tracks": [int(track_ids[p]) for p in b.targets], "params": b.params()}
                for b in bursts]
    persons = [{"frame": frame.index, "track_id": int(person.track_id), "kind": person.degradation,
                "position": int(person.burst_position)}
               for frame in video.frames for person in frame.persons if person.degradation is not None]
    return {"format": FORMAT, "version": VERSION, "video": video.name, "frames": len(video.frames),
            "kinds": dict(KIND_NAMES), "episodes": episodes, "persons": persons}


def read_degradation(path: str | os.PathLike[str], video: VideoGT) -> VideoGT:
    """Read a side file and set the flags of the persons of `video` it names (in place)."""
    p, doc = load_side_file(path, FORMAT, VERSION, "degradation")
    if doc.get("frames") != len(video.frames):
        raise UserError(f"expected {len(video.frames)} frames (the video's), got {doc.get('frames')!r}",
                        path=p, field="frames")
    flags: dict[tuple[int, int], tuple[str, int]] = {}
    for field, entry, key in person_entries(doc, p):
        kind = entry.get("kind")
        if kind not in BURST_KINDS:
            raise UserError(f"expected one of {', '.join(BURST_KINDS)}, got {kind!r}", path=p,
                            field=f"{field}.kind")
        position = integer_entry(entry, "position", p, field)
        if position < 0:
            raise UserError(f"expected a position >= 0, got {position}", path=p, field=f"{field}.position")
        if key in flags:
            raise UserError(f"duplicate entry for frame {key[0]}, track {key[1]}", path=p, field=field)
        flags[key] = (kind, position)
    for frame in video.frames:
        for person in frame.persons:
            flag = flags.pop((frame.index, int(person.track_id)), None)
            person.degradation, person.burst_position = flag if flag is not None else (None, None)
    if flags:
        frame_index, track = next(iter(flags))
        raise UserError(f"entry for frame {frame_index}, track {track} matches no annotated person",
                        path=p, field="persons")
    return video


def degradation_file(root: str | os.PathLike[str], name: str, split: str | None = None) -> Path:
    """``root/degradation/[split/]<name>.json``."""
    folder = Path(root) / FOLDER
    return (folder / split if split else folder) / f"{name}.json"


def has_degradation(root: str | os.PathLike[str]) -> bool:
    """True when a single-person layout's root holds burst flags (a generated root)."""
    return (Path(root) / FOLDER).is_dir()


def attach_degradation(video: VideoGT, root: str | os.PathLike[str]) -> VideoGT:
    """Set the burst flags of a single-person layout's video from ``root/degradation/``.

    The JHMDB and Penn Action adapters call this on every video they load: a root without a
    ``degradation/`` folder (every real dataset) leaves the video as it is; in a root that has
    one (a generated JHMDB-style or Penn-Action-style layout), every clip must have its file.
    """
    if not has_degradation(root):
        return video
    path = degradation_file(root, video.name)
    if not path.is_file():
        raise UserError(f"no degradation file for clip {video.name!r} (the folder "
                        f"{FOLDER}/ holds one per clip)", path=path)
    return read_degradation(path, video)
