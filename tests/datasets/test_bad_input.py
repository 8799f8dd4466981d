"""Bad input ends with one UserError naming the file and field: exit 2 from the CLI, no
traceback, nothing written. Includes hypothesis-driven malformed files for every adapter."""

import copy
import json
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from vposebench import cli
from vposebench.errors import UserError
from vposebench.registry import DATASETS


def _convert(dataset, root, out, capsys, split=None):
    argv = ["convert", "--dataset", dataset, "--root", str(root), "--out", str(out)]
    status = cli.main(argv + (["--split", split] if split else []))
    captured = capsys.readouterr()
    return status, captured.err


def _pt18_root(writers, doc):
    root = writers.tmp / "pt18"
    path = writers.write_json(root / "annotations/val/009473_mpii_test.json", doc)
    return root, path


def _break_pt18(mutate):
    def build(writers):
        doc = writers.pt18_video(3, (0, 2))
        mutate(doc)
        return _pt18_root(writers, doc)
    return build


def _truncated(writers):
    root, path = _pt18_root(writers, writers.pt18_video(3, (0, 2)))
    path.write_text(path.read_text()[:500])
    return root, path


def _nan_literal(writers):
    doc = writers.pt18_video(3, (0, 2))
    root, path = _pt18_root(writers, doc)
    path.write_text(json.dumps(doc).replace("297.5", "NaN", 1))
    return root, path


def _train_only(writers):
    root = writers.tmp / "pt18"
    (root / "annotations/train").mkdir(parents=True)
    return root, root


CASES = {
    "missing folder": (lambda w: (w.tmp / "nowhere", w.tmp / "nowhere"), None, "folder not found"),
    "missing split folder": (lambda w: _train_only(w), None,
                             "folder not found: expected one of annotations/val/, posetrack_data/annotations/val/"),
    "truncated JSON": (_truncated, None, "invalid JSON at line"),
    "wrong field type": (_break_pt18(lambda d: d["annotations"][1].update(track_id="1")),
                         "annotations[1].track_id", "expected an integer, got '1'"),
    "string frame id": (_break_pt18(lambda d: d["images"][0].update(frame_id="10094730000")),
                        "images[0].frame_id", "expected an integer"),
    "empty video": (_break_pt18(lambda d: d.update(images=[], annotations=[])), "images",
                    "the video has no frames"),
    "NaN coordinate": (_nan_literal, "annotations[0].keypoints", "contains NaN"),
    "ignore polygon mismatch": (_break_pt18(lambda d: d["images"][0]["ignore_regions_y"].pop()),
                                "images[0].ignore_regions_x", "differ in length"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_posetrack18_bad_input_through_the_cli(writers, tmp_path, capsys, case):
    build, field, message = CASES[case]
    root, path = build(writers)
    out = tmp_path / "converted"
    status, err = _convert("posetrack18", root, out, capsys)
    assert status == 2 and not out.exists()
    assert err.startswith(f"vposebench convert: error: {path}: ") and err.count("\n") == 1
    assert message in err and (field is None or f": {field}: " in err)


def test_jhmdb_frame_count_mismatch_through_the_cli(writers, tmp_path, capsys):
    root = writers.tmp / "j"
    pos = np.random.default_rng(0).uniform(20, 200, (2, 15, 4))
    writers.jhmdb_clip(root, "run", "ok", pos, writers.puppet_mask(pos))
    writers.jhmdb_clip(root, "run", "bad", pos, writers.puppet_mask(pos)[:, :, :3])
    writers.jhmdb_split(root, "run", 1, {"ok": 2, "bad": 2})
    status, err = _convert("jhmdb", root, tmp_path / "out", capsys, split="test1")
    mask = root / "puppet_mask/run/bad/puppet_mask.mat"
    assert status == 2 and not (tmp_path / "out").exists()  # the good clip is not written either
    assert err.startswith(f"vposebench convert: error: {mask}: part_mask: frame count mismatch: 3 mask frames")
    assert str(root / "joint_positions/run/bad/joint_positions.mat") in err


def test_penn_nan_and_missing_labels_through_the_cli(writers, tmp_path, capsys):
    root = writers.tmp / "penn"
    status, err = _convert("penn_action", root, tmp_path / "out", capsys)
    assert status == 2 and "folder not found (Penn Action dataset root)" in err
    root.mkdir()
    status, err = _convert("penn_action", root, tmp_path / "out", capsys)
    assert status == 2 and f"{root / 'labels'}: folder not found (Penn Action labels)" in err
    x = np.full((6, 13), 50.0)
    x[4, 7] = np.nan
    writers.penn_label(root, "0001", nframes=6, overrides={"x": x})
    status, err = _convert("penn_action", root, tmp_path / "out", capsys)
    assert status == 2
    assert err == (f"vposebench convert: error: {root / 'labels/0001.mat'}: x: "
                   "contains NaN or infinite values (first at index (4, 7))\n")


def test_posetrack17_empty_video_through_the_cli(tmp_path, writers, capsys):
    path = writers.write_json(tmp_path / "pt17/annotations/val/v.json", {"annolist": []})
    status, err = _convert("posetrack17", tmp_path / "pt17", tmp_path / "out", capsys)
    assert status == 2 and err == f"vposebench convert: error: {path}: annolist: the video has no frames\n"


def test_unknown_split_through_the_cli(samples_dir, tmp_path, capsys):
    status, err = _convert("jhmdb", samples_dir / "jhmdb", tmp_path / "out", capsys, split="test4")
    assert status == 2 and "unknown split 'test4'" in err


def test_no_traceback_from_the_console_command(tmp_path):
    (tmp_path / "annotations/val").mkdir(parents=True)
    (tmp_path / "annotations/val/v.json").write_text('{"images": [{"id": 1, ')
    out = subprocess.run([sys.executable, "-m", "vposebench", "convert", "--dataset", "posetrack18",
                          "--root", str(tmp_path), "--out", str(tmp_path / "out")],
                         capture_output=True, text=True)
    assert out.returncode == 2 and "Traceback" not in out.stderr and out.stdout == ""
    assert out.stderr.startswith(f"vposebench convert: error: {tmp_path / 'annotations/val/v.json'}: invalid JSON")


# ---------------------------------------------------------------------------- hypothesis
json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-2**40, 2**40) | st.floats() | st.text(max_size=4),
    lambda children: st.lists(children, max_size=3)
    | st.dictionaries(st.sampled_from(["x", "y", "id", "point", "name", "image"]), children, max_size=3),
    max_leaves=10,
)
PT18_PATHS = [
    ("images",), ("images", 0), ("images", 1, "id"), ("images", 1, "frame_id"), ("images", 0, "is_labeled"),
    ("images", 0, "file_name"), ("images", 0, "vid_id"), ("images", 0, "ignore_regions_x"),
    ("images", 0, "ignore_regions_x", 0), ("images", 0, "ignore_regions_y", 1, 0), ("annotations",),
    ("annotations", 0), ("annotations", 1, "keypoints"), ("annotations", 0, "keypoints", 7),
    ("annotations", 0, "track_id"), ("annotations", 1, "bbox"), ("annotations", 0, "bbox_head"),
    ("annotations", 0, "image_id"), ("categories",), ("categories", 0, "keypoints"),
]
PT17_PATHS = [
    ("annolist",), ("annolist", 0), ("annolist", 0, "image"), ("annolist", 0, "image", 0, "name"),
    ("annolist", 0, "is_labeled"), ("annolist", 0, "annorect"), ("annolist", 0, "annorect", 1),
    ("annolist", 0, "annorect", 0, "x1"), ("annolist", 0, "annorect", 0, "track_id"),
    ("annolist", 0, "annorect", 0, "annopoints"), ("annolist", 0, "annorect", 0, "annopoints", 0, "point"),
    ("annolist", 0, "annorect", 0, "annopoints", 0, "point", 2, "id"),
    ("annolist", 0, "annorect", 0, "annopoints", 0, "point", 2, "x"),
    ("annolist", 2, "ignore_regions"), ("annolist", 2, "ignore_regions", 0, "point"),
    ("annolist", 2, "ignore_regions", 0, "point", 1, "y"),
]


def _set(doc, key_path, value):
    target = doc
    for key in key_path[:-1]:
        target = target[key]
    target[key_path[-1]] = value


def _loads_or_user_error(dataset, root, name, path):
    try:
        video = DATASETS.get(dataset)(root, "val").load_video(name)
    except UserError as exc:
        assert exc.path == str(path)
        return
    # accepted: then it is a usable video
    assert video.frames
    for frame in video.frames:
        for person in frame.persons:
            assert np.isfinite(person.keypoints).all()


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(key_path=st.sampled_from(PT18_PATHS), value=json_values)
def test_any_malformed_posetrack18_value_is_a_user_error_or_a_usable_video(writers, key_path, value):
    doc = writers.pt18_video(3, (0, 2))
    _set(doc, key_path, value)
    root, path = _pt18_root(writers, doc)
    _loads_or_user_error("posetrack18", root, "009473_mpii_test", path)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(key_path=st.sampled_from(PT17_PATHS), value=json_values, as_mat=st.booleans())
def test_any_malformed_posetrack17_value_is_a_user_error_or_a_usable_video(writers, tmp_path, key_path,
                                                                           value, as_mat):
    doc = copy.deepcopy(writers.pt17.document("bonn_5sec/000001_bonn", [f"{i:08d}.jpg" for i in range(1, 4)]))
    _set(doc, key_path, value)
    folder = tmp_path / "pt17/annotations/val"
    for old in folder.glob("v.*"):
        old.unlink()
    if as_mat:
        try:
            path = writers.pt17.write_mat(folder / "v.mat", doc)
        except Exception:  # savemat cannot store every JSON value (e.g. None): not a reader case
            return
    else:
        path = writers.write_json(folder / "v.json", doc)
    _loads_or_user_error("posetrack17", tmp_path / "pt17", "v", path)


SHAPES = st.tuples(st.integers(0, 8), st.integers(0, 14))
PENN_VALUES = (arrays(np.float64, SHAPES, elements=st.floats(-10, 400) | st.just(np.nan))
               | arrays(np.uint8, SHAPES, elements=st.integers(0, 255))
               | arrays(np.int32, SHAPES, elements=st.integers(-2, 300))
               | st.text(max_size=3))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(variable=st.sampled_from(["x", "y", "visibility", "bbox", "nframes", "train", "dimensions", "action"]),
       value=PENN_VALUES)
def test_any_malformed_penn_variable_is_a_user_error_or_a_usable_video(writers, variable, value):
    root = writers.tmp / "penn"
    writers.penn_label(root, "0001", nframes=6, overrides={variable: value})
    try:
        dataset = DATASETS.get("penn_action")(root, "test")
        videos = list(dataset)
    except UserError as exc:
        assert exc.path == str(root / "labels/0001.mat")
        return
    for video in videos:
        assert all(np.isfinite(f.persons[0].box).all() for f in video.frames)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(cut=st.integers(0, 2000), flip=st.integers(0, 2000))
def test_damaged_mat_files_are_user_errors_or_usable_videos(writers, samples_dir, cut, flip):
    data = bytearray((samples_dir / "penn_action/labels/2326.mat").read_bytes())
    if flip < len(data):
        data[flip] ^= 0xFF
    root = writers.tmp / "penn"
    (root / "labels").mkdir(parents=True, exist_ok=True)
    path = root / "labels/2326.mat"
    path.write_bytes(bytes(data[: len(data) - cut]))
    try:
        videos = list(DATASETS.get("penn_action")(root, "test"))
    except UserError as exc:
        assert exc.path == str(path)
        return
    for video in videos:  # the damage missed everything that is read: a complete, valid clip
        assert len(video.frames) == 52
        assert all(np.isfinite(f.persons[0].keypoints).all() for f in video.frames)
