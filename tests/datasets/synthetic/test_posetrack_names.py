"""The synthetic PoseTrack'18 files carry names the official evaluation (poseval) accepts.

Source of the rules checked here: leonid-pishchulin/poseval, file poseval/posetrack18_id2fname.py
and poseval/convert.py at commit 4258a1575b9f2ddd0bdb85f74557235ab5df0f52 (read, not copied).
Reading a PoseTrack'18 file, the official code takes the folder of every image's `file_name`,
splits its name at "_", reads the first token as the sequence number and the second as the
sequence type, which must be one of ``mpii``, ``bonn``, ``mpiinew`` (source digits 1, 2, 3;
anything else stops it with "unknown sequence type"); the frame number is the image file's
name before the extension, below 10^4; the image id is packed as
``type * 10^10 + sequence * 10^4 + frame``. A file is read as one video: the images must share
the sequence number. The sequence lists in that file hold the real PoseTrack'17/'18 videos:
numbers 2..24985 (mpii), 1..48 (bonn) and 1..5 (mpiinew), so a number above 24985 names no real
video whatever its type.
"""

import json
import re
from pathlib import PurePosixPath

from vposebench.datasets.synthetic.generator import SEQUENCE_TYPE, SOURCE, VID_BASE

ACCEPTED_TYPES = {"mpii": 1, "bonn": 2, "mpiinew": 3}
LARGEST_REAL_SEQUENCE = 24985


def test_names_and_frame_ids_are_those_the_official_code_accepts(tiny_root):
    assert ACCEPTED_TYPES[SEQUENCE_TYPE] == SOURCE
    assert min(VID_BASE.values()) > LARGEST_REAL_SEQUENCE
    files = sorted((tiny_root / "annotations").rglob("*.json"))
    assert len(files) == 6
    for path in files:
        doc = json.loads(path.read_text())
        assert re.fullmatch(rf"\d{{6}}_{SEQUENCE_TYPE}_(train|test)", path.stem)
        assert path.stem.endswith("_test") == (path.parent.name == "val")
        sequences = set()
        for image in doc["images"]:
            name = PurePosixPath(image["file_name"])
            tokens = name.parent.name.split("_")
            assert name.parent.name == path.stem and tokens[1] in ACCEPTED_TYPES
            sequence, frame = int(tokens[0]), int(name.stem)
            assert 0 <= frame < 10**4 and sequence > LARGEST_REAL_SEQUENCE
            packed = ACCEPTED_TYPES[tokens[1]] * 10**10 + sequence * 10**4 + frame
            assert image["id"] == image["frame_id"] == packed
            assert image["vid_id"] == tokens[0]
            sequences.add(sequence)
        assert len(sequences) == 1
        ids = {image["id"] for image in doc["images"]}
        assert all(ann["image_id"] in ids for ann in doc["annotations"])
