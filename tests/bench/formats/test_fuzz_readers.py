"""Property-based fuzzing of the JSON readers: random damage to valid documents (bytes flipped,
cut, inserted; values replaced anywhere in the tree) gives either a valid parse or a one-line
UserError naming the file, never another exception."""

from __future__ import annotations

import json

import numpy as np
from helpers.malformed import (
    detections,
    pck_documents,
    pt17_gt,
    pt17_pred,
    pt18_gt,
    pt18_pred,
    record,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from vposebench.box_sources import DetectionBoxes
from vposebench.errors import UserError
from vposebench.formats import load_json, read_file
from vposebench.records import ResultRecord

DOCUMENTS = {
    "pt18 gt": (pt18_gt(), "gt"), "pt18 pred": (pt18_pred(), "pred"),
    "pt17 gt": (pt17_gt(), "gt"), "pt17 pred": (pt17_pred(), "pred"),
    "pck gt": (pck_documents()[0], "gt"), "pck pred": (pck_documents()[1], "pred"),
}
FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-2**70, 2**70) | st.floats() | st.text(max_size=6),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=5), children, max_size=3),
    max_leaves=8,
)


def _byte_damage(data: st.DataObject, raw: bytes) -> bytes:
    """One to three random edits: flip a byte, cut the tail, delete a span, insert bytes."""
    out = bytearray(raw)
    for _ in range(data.draw(st.integers(1, 3))):
        kind = data.draw(st.sampled_from(["flip", "cut", "delete", "insert"]))
        at = data.draw(st.integers(0, max(len(out) - 1, 0)))
        if kind == "flip" and out:
            out[at] = data.draw(st.integers(0, 255))
        elif kind == "cut":
            del out[at:]
        elif kind == "delete":
            del out[at:at + data.draw(st.integers(1, 40))]
        else:
            out[at:at] = data.draw(st.binary(min_size=1, max_size=8))
    return bytes(out)


def _key_paths(doc, prefix=()):
    yield prefix
    if isinstance(doc, dict):
        for key, value in doc.items():
            yield from _key_paths(value, (*prefix, key))
    elif isinstance(doc, list):
        for i, value in enumerate(doc[:3]):
            yield from _key_paths(value, (*prefix, i))


def _replace(doc, where, value):
    if not where:
        return value
    target = doc
    for key in where[:-1]:
        target = target[key]
    target[where[-1]] = value
    return doc


def _read_or_user_error(path, read) -> None:
    try:
        read(path)
    except UserError as exc:
        assert exc.path is not None and exc.path.startswith(str(path))
        assert "\n" not in exc.format()


def _check_parse(parsed) -> None:
    parsed.require_frames()  # a frameless parse (`annolist: null`) is a UserError when scored
    assert parsed.frames
    assert np.isfinite(parsed.keypoints[..., :2][~np.isnan(parsed.keypoints[..., 0])]).all()
    assert (parsed.track_ids >= -1).all()


@FUZZ
@given(name=st.sampled_from(sorted(DOCUMENTS)), data=st.data())
def test_byte_damage_to_a_posetrack_file(tmp_path, name, data):
    doc, kind = DOCUMENTS[name]
    path = tmp_path / "v.json"
    path.write_bytes(_byte_damage(data, json.dumps(doc).encode()))
    _read_or_user_error(path, lambda p: _check_parse(read_file(p, kind)))


@FUZZ
@given(name=st.sampled_from(sorted(DOCUMENTS)), data=st.data(), value=json_values)
def test_any_value_anywhere_in_a_posetrack_file(tmp_path, name, data, value):
    doc, kind = DOCUMENTS[name]
    doc = json.loads(json.dumps(doc))
    where = data.draw(st.sampled_from(list(_key_paths(doc))))
    path = tmp_path / "v.json"
    path.write_text(json.dumps(_replace(doc, where, value)))
    _read_or_user_error(path, lambda p: _check_parse(read_file(p, kind)))


def _read_record(path):
    return ResultRecord.from_dict(load_json(path), source=str(path))


@FUZZ
@given(data=st.data(), value=json_values, damage=st.booleans())
def test_damaged_result_records_and_detection_files(tmp_path, data, value, damage):
    for doc, read in ((record(), _read_record), (detections(), DetectionBoxes)):
        if damage:
            content = _byte_damage(data, json.dumps(doc).encode())
        else:
            where = data.draw(st.sampled_from(list(_key_paths(doc))))
            content = json.dumps(_replace(json.loads(json.dumps(doc)), where, value)).encode()
        path = tmp_path / "doc.json"
        path.write_bytes(content)
        _read_or_user_error(path, read)
