"""Property-based fuzzing of the MATLAB readers: random damage to valid .mat files (PoseTrack'17,
JHMDB joint positions and puppet masks, Penn Action labels) gives a usable video or a
one-line UserError naming the file, never another exception."""

from __future__ import annotations

import numpy as np
from helpers.malformed import jhmdb_files, jhmdb_root, penn_root, pt17_mat_root
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from vposebench.errors import UserError
from vposebench.registry import DATASETS

FUZZ = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def _damage(data: st.DataObject, raw: bytes) -> bytes:
    out = bytearray(raw)
    for _ in range(data.draw(st.integers(1, 3))):
        kind = data.draw(st.sampled_from(["flip", "cut", "insert"]))
        at = data.draw(st.integers(0, max(len(out) - 1, 0)))
        if kind == "flip" and out:
            out[at] ^= data.draw(st.integers(1, 255))
        elif kind == "cut":
            del out[at:]
        else:
            out[at:at] = data.draw(st.binary(min_size=1, max_size=8))
    return bytes(out)


def _load_all_or_user_error(dataset_name: str, root, split: str, damaged) -> None:
    try:
        dataset = DATASETS.get(dataset_name)(root, split)
        videos = [dataset.load_video(name) for name in dataset.video_names()]
    except UserError as exc:
        assert exc.path == str(damaged) and "\n" not in exc.format()
        return
    for video in videos:
        assert video.frames
        for frame in video.frames:
            for person in frame.persons:
                assert np.isfinite(person.keypoints).all()


@FUZZ
@given(data=st.data(), which=st.sampled_from(["pt17", "jhmdb joints", "jhmdb mask", "penn"]))
def test_damaged_mat_files(tmp_path_factory, data, which):
    base = tmp_path_factory.mktemp("mat")
    if which == "pt17":
        root, path = pt17_mat_root(base)
        name, split = "posetrack17", "val"
    elif which == "penn":
        root, path = penn_root(base)
        name, split = "penn_action", "test"
    else:
        root = jhmdb_root(base)
        path = jhmdb_files(root)[0 if which == "jhmdb joints" else 1]
        name, split = "jhmdb", "test1"
    path.write_bytes(_damage(data, path.read_bytes()))
    _load_all_or_user_error(name, root, split, path)
