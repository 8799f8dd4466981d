"""The malformed-input corpus: every reader and every command's arguments, broken one way at a time.

Each case writes a small input (a valid document changed by a mutator from
``helpers.malformed``) and runs a command in-process through ``vposebench.cli.main``, or, for
readers no command reaches directly, the reader itself. Every case must end in exactly one
line naming the file (and field or argument), exit status 2, no traceback, nothing on stdout
and an unchanged folder (no output, no temporary, no partial file). A handful of cases also
run as real subprocesses to prove the exit status and the absence of tracebacks end to end.
"""

from __future__ import annotations

import dataclasses
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from helpers.malformed import (
    VIDEO,
    cut,
    detections,
    drop,
    jhmdb_files,
    jhmdb_root,
    malicious_pickle,
    mutate_bytes,
    nested,
    pck_documents,
    penn_root,
    pt17_gt,
    pt17_json_root,
    pt17_mat_root,
    pt17_pred,
    pt18_gt,
    pt18_pred,
    pt18_root,
    put,
    raw,
    record,
    replace_all,
    savemat,
    text_swap,
    tree_snapshot,
    write,
)

from vposebench import cli
from vposebench.box_sources import DetectionBoxes
from vposebench.errors import UserError

pytestmark = pytest.mark.usefixtures("one_torch_thread")

#: what a case builds: the argv of a command (or a reader call) and the texts its error line must hold
Built = tuple[list[str] | Callable[[], Any], list[str]]


@dataclasses.dataclass
class Case:
    name: str
    build: Callable[[Path], Built]


CASES: list[Case] = []


def case(name: str, build: Callable[[Path], Built]) -> None:
    CASES.append(Case(name, build))


# ============================================================================ PoseTrack evaluation
def _evaluate(work: Path, gt: bytes | Path, pred: bytes | Path, extra: tuple[str, ...] = ()) -> list[str]:
    for kind, content in (("gt", gt), ("pred", pred)):
        if isinstance(content, bytes):
            (work / kind).mkdir(exist_ok=True)
            (work / kind / f"{VIDEO}.json").write_bytes(content)
    return ["evaluate", "--gt", str(work / "gt"), "--pred", str(work / "pred"),
            "--json", str(work / "out/result.json"), *extra]


def bad_gt(name: str, make_gt, make_pred, mutators, *texts: str, extra: tuple[str, ...] = ()) -> None:
    def build(work: Path) -> Built:
        gt = write(work / "gt" / f"{VIDEO}.json", make_gt(), *mutators)
        write(work / "pred" / f"{VIDEO}.json", make_pred())
        return _evaluate(work, gt, work / "pred", extra), [f"{gt}: ", *texts]
    case(name, build)


def bad_pred(name: str, make_gt, make_pred, mutators, *texts: str, extra: tuple[str, ...] = ()) -> None:
    def build(work: Path) -> Built:
        write(work / "gt" / f"{VIDEO}.json", make_gt())
        pred = write(work / "pred" / f"{VIDEO}.json", make_pred(), *mutators)
        return _evaluate(work, work / "gt", pred, extra), [f"{pred}: ", *texts]
    case(name, build)


A0 = ("annotations", 0)
I0 = ("images", 0)
# --- PoseTrack'18 ground truth
for label, mutators, texts in [
    ("no annotations key", [drop(("annotations",))], ["annotations: missing field"]),
    ("images not a list", [put(("images",), "frames")], ["images: expected a list"]),
    ("no frames (broken GT, not a prediction mismatch)", [put(("images",), []), put(("annotations",), [])],
     ["images: the video has no frames"]),
    ("image not an object", [put(I0, 5)], ["images[0]: expected an object"]),
    ("image id a string", [put((*I0, "id"), "1")], ["images[0].id: expected an integer"]),
    ("image id missing", [drop((*I0, "id"))], ["images[0].id: missing field"]),
    ("image id repeated", [put(("images", 1, "id"), 10003420000)], ["images[1].id: duplicate image id"]),
    ("absolute file_name", [put((*I0, "file_name"), "/etc/passwd")], ["images[0].file_name: ", "absolute"]),
    ("file_name climbing out", [put((*I0, "file_name"), "../../secret.jpg")], ["images[0].file_name: ", "'..'"]),
    ("file_name climbing out midway", [put((*I0, "file_name"), "images/../../x.jpg")],
     ["images[0].file_name: ", "'..'"]),
    ("windows absolute file_name", [put((*I0, "file_name"), "C:\\images\\x.jpg")],
     ["images[0].file_name: ", "absolute"]),
    ("file_name with a NUL", [put((*I0, "file_name"), "images/a\u0000b.jpg")],
     ["images[0].file_name: ", "control character"]),
    ("file_name a number", [put((*I0, "file_name"), 7)], ["images[0].file_name: expected a string"]),
    ("file_name missing", [drop((*I0, "file_name"))], ["images[0].file_name: missing field"]),
    ("is_labeled a string", [put((*I0, "is_labeled"), "yes")], ["images[0].is_labeled: expected true/false"]),
    ("frame_id a fraction", [put((*I0, "frame_id"), 1.5)], ["images[0].frame_id: expected an integer"]),
    ("frame_id beyond 64 bits", [put((*I0, "frame_id"), 2**70)], ["images[0].frame_id: ", "64-bit"]),
    ("ignore polygon x and y differ", [put((*I0, "ignore_regions_x"), [[1.0, 2.0, 3.0]]),
                                       put((*I0, "ignore_regions_y"), [])], ["images[0].ignore_regions_x"]),
    ("ignore polygon with text", [put((*I0, "ignore_regions_x"), [[1.0, "a", 3.0]]),
                                  put((*I0, "ignore_regions_y"), [[1.0, 2.0, 3.0]])],
     ["images[0].ignore_regions_x[0]: expected a list of numbers"]),
    ("annotations not a list", [put(("annotations",), "people")], ["annotations: expected a list"]),
    ("annotation not an object", [put(A0, [1, 2])], ["annotations[0]: expected an object"]),
    ("annotation without image_id", [drop((*A0, "image_id"))], ["annotations[0].image_id: missing field"]),
    ("annotation of an unknown image", [put((*A0, "image_id"), 999)], ["annotations[0].image_id: no image with id 999"]),
    ("50 keypoint values", [put((*A0, "keypoints"), [1.0] * 50)], ["annotations[0].keypoints: expected 51 numbers"]),
    ("keypoint text", [put((*A0, "keypoints", 4), "x")], ["annotations[0].keypoints: expected a list of numbers"]),
    ("keypoint null", [put((*A0, "keypoints", 4), None)], ["annotations[0].keypoints: expected a list of numbers"]),
    ("keypoint NaN literal", [text_swap('"keypoints": [', '"keypoints": [NaN, ')],
     ["annotations[0].keypoints: "]),
    ("keypoint Infinity literal", [put((*A0, "keypoints", 0), 1e999)],
     ["annotations[0].keypoints: contains NaN or infinite values"]),
    ("track_id text", [put((*A0, "track_id"), "0")], ["annotations[0].track_id: expected an integer"]),
    ("negative track_id", [put((*A0, "track_id"), -3)], ["annotations[0].track_id: ", "-3"]),
    ("track_id true", [put((*A0, "track_id"), True)], ["annotations[0].track_id: expected an integer"]),
    ("track_id beyond 64 bits", [put((*A0, "track_id"), 10**30)], ["annotations[0].track_id: "]),
    ("head box of zero size", [put((*A0, "bbox_head"), [100.0, 50.0, 0.0, 0.0])],
     ["annotations[0].bbox_head: ", "zero size"]),
    ("head box of 3 numbers", [put((*A0, "bbox_head"), [1.0, 2.0, 3.0])], ["annotations[0].bbox_head: expected 4 numbers"]),
    ("head box text", [put((*A0, "bbox_head"), "box")], ["annotations[0].bbox_head: expected a list"]),
    ("head box missing", [drop((*A0, "bbox_head"))], ["annotations[0].bbox_head: missing head box"]),
    ("person box of 3 numbers", [put((*A0, "bbox"), [1.0, 2.0, 3.0])], ["annotations[0].bbox: expected 4 numbers"]),
    ("unknown joint set", [put(("categories", 0, "keypoints"), ["a", "b"])], ["categories[0].keypoints: unknown joint set"]),
    ("categories not a list", [put(("categories",), "person")], ["categories: expected a list"]),
    ("top level a list", [replace_all([])], ["not a PoseTrack file"]),
    ("top level a string", [replace_all("images")], ["not a PoseTrack file"]),
    ("empty file", [raw(b"")], ["file is empty"]),
    ("blank file", [raw(b" \n\t\n")], ["file is empty"]),
    ("cut short", [cut(0.5)], ["invalid JSON at line"]),
    ("not UTF-8", [raw(b'{"images": ["\xff\xfe"]}')], ["not UTF-8"]),
    ("nested 100000 deep", [raw(nested(100_000))], ["nested"]),
    ("a field nested 5000 deep", [text_swap('"id": 10003420000', '"id": ' + "[" * 5000 + "1" + "]" * 5000)],
     ["nested"]),
]:
    bad_gt(f"pt18 gt: {label}", pt18_gt, pt18_pred, mutators, *texts)

# --- PoseTrack'18 predictions
for label, mutators, texts in [
    ("no annotations key", [drop(("annotations",))], ["annotations: missing field"]),
    ("one frame too few", [drop(("images", 2)),
                           lambda d: {**d, "annotations": [a for a in d["annotations"] if a["image_id"] != 10003420002]}],
     ["images: 2 frames, but the GT file has 3"]),
    ("track_id missing", [drop((*A0, "track_id"))], ["annotations[0].track_id: missing field"]),
    ("negative track_id", [put((*A0, "track_id"), -1)], ["annotations[0].track_id: ", "-1"]),
    ("track_id of 10000", [put((*A0, "track_id"), 10000)], ["annotations[0].track_id: track id 10000 is not below 10000"]),
    ("track_id twice in a frame", [put((*A0, "track_id"), 6)], ["images[0]: non-unique track id 6"]),
    ("scores too short", [put((*A0, "scores"), [0.5] * 5)], ["annotations[0].scores: expected 17 numbers"]),
    ("scores text", [put((*A0, "scores"), "high")], ["annotations[0].scores: expected a list"]),
    ("person score text", [put((*A0, "score"), "high")], ["annotations[0].score: expected a number"]),
    ("keypoint NaN literal", [text_swap('"keypoints": [', '"keypoints": [NaN, ')], ["annotations[0].keypoints: "]),
    ("absolute file_name", [put((*I0, "file_name"), "/tmp/x.jpg")], ["images[0].file_name: ", "absolute"]),
    ("top level a list", [replace_all([{"images": []}])], ["not a PoseTrack file"]),
    ("cut short", [cut(0.3)], ["invalid JSON at line"]),
    ("empty file", [raw(b"")], ["file is empty"]),
    ("annotation of an unknown image", [put((*A0, "image_id"), 5)], ["annotations[0].image_id: no image with id 5"]),
    ("another joint set", [lambda d: pck_documents()[1]], ["categories[0].keypoints: "]),
]:
    bad_pred(f"pt18 pred: {label}", pt18_gt, pt18_pred, mutators, *texts)

# --- PoseTrack'17 ground truth and predictions
def _pt17_zero_head(doc: dict) -> dict:
    rect = doc["annolist"][0]["annorect"][0]
    rect["x2"], rect["y2"] = rect["x1"], rect["y1"]
    return doc


R0 = ("annolist", 0, "annorect", 0)
P0 = (*R0, "annopoints", 0, "point", 0)
for label, mutators, texts in [
    ("annolist not a list", [put(("annolist",), 3)], ["annolist: expected a list"]),
    ("frame not an object", [put(("annolist", 0), "frame")], ["annolist[0]: expected an object"]),
    ("frame without image", [drop(("annolist", 0, "image"))], ["annolist[0].image: missing field"]),
    ("image name a number", [put(("annolist", 0, "image"), [{"name": [4]}])], ["annolist[0].image.name: expected a string"]),
    ("absolute image name", [put(("annolist", 0, "image"), [{"name": ["/etc/x.jpg"]}])],
     ["annolist[0].image.name: ", "absolute"]),
    ("image name climbing out", [put(("annolist", 0, "image"), [{"name": ["a/../../x.jpg"]}])],
     ["annolist[0].image.name: ", "'..'"]),
    ("person not an object", [put(R0, 7)], ["annolist[0].annorect[0]: expected an object"]),
    ("head box without x2", [drop((*R0, "x2"))], ["annolist[0].annorect[0].x2: missing field"]),
    ("head box y1 text", [put((*R0, "y1"), ["top"])], ["annolist[0].annorect[0].y1: expected a number"]),
    ("head box of zero size", [_pt17_zero_head], ["annolist[0].annorect[0]", "zero size"]),
    ("negative track_id", [put((*R0, "track_id"), [-2])], ["annolist[0].annorect[0].track_id: ", "-2"]),
    ("track_id text", [put((*R0, "track_id"), ["a"])], ["annolist[0].annorect[0].track_id: expected an integer"]),
    ("joint id 20", [put((*P0, "id"), [20])], ["annolist[0].annorect[0].annopoints.point[0].id: joint id 20"]),
    ("point x text", [put((*P0, "x"), ["left"])], ["annolist[0].annorect[0].annopoints.point[0].x: expected a number"]),
    ("point without y", [drop((*P0, "y"))], ["annolist[0].annorect[0].annopoints.point[0].y: missing field"]),
    ("annopoints text", [put((*R0, "annopoints"), "points")], ["annolist[0].annorect[0].annopoints: expected a list"]),
    ("is_labeled text", [put(("annolist", 0, "is_labeled"), ["maybe"])], ["annolist[0].is_labeled: expected true/false"]),
    ("no frames", [put(("annolist",), [])], ["annolist: the video has no frames"]),
    ("null frame list", [put(("annolist",), None)], ["annolist: the video has no frames"]),
]:
    bad_gt(f"pt17 gt: {label}", pt17_gt, pt17_pred, mutators, *texts)


for label, mutators, texts in [
    ("point score text", [put((*P0, "score"), ["sure"])], ["annolist[0].annorect[0].annopoints.point[0].score: expected a number"]),
    ("track_id missing", [drop((*R0, "track_id"))], ["annolist[0].annorect[0].track_id: missing field"]),
    ("one frame too few", [drop(("annolist", 2))], ["annolist: 2 frames, but the GT file has 3"]),
    ("negative track_id", [put((*R0, "track_id"), [-4])], ["annolist[0].annorect[0].track_id: ", "-4"]),
]:
    bad_pred(f"pt17 pred: {label}", pt17_gt, pt17_pred, mutators, *texts)

# --- PCK (single-person GT as `convert` writes it)
for label, mutators, texts in [
    ("gt without annotations key", [drop(("annotations",))], ["annotations: missing field"]),
    ("gt absolute file_name", [put((*I0, "file_name"), "/x/1.png")], ["images[0].file_name: ", "absolute"]),
]:
    bad_gt(f"pck gt: {label}", lambda: pck_documents()[0], lambda: pck_documents()[1], mutators, *texts,
           extra=("--metric", "pck"))
for label, mutators, texts in [
    ("one frame too few", [drop(("images", 2)),
                           lambda d: {**d, "annotations": d["annotations"][:2]}], ["images: 2 frames, but the GT file has 3"]),
    ("posetrack joints", [lambda d: pt18_pred()], ["categories[0].keypoints: joint set 'posetrack18' does not match"]),
    ("negative track_id", [put((*A0, "track_id"), -1)], ["annotations[0].track_id: "]),
]:
    bad_pred(f"pck pred: {label}", lambda: pck_documents()[0], lambda: pck_documents()[1], mutators, *texts,
             extra=("--metric", "pck"))


# --- folders and pairing
def _folder_cases() -> None:
    def gt_is_a_folder(work: Path) -> Built:
        write(work / "gt" / "a.json", pt18_gt())
        (work / "gt" / f"{VIDEO}.json").mkdir()
        write(work / "pred" / f"{VIDEO}.json", pt18_pred())
        return _evaluate(work, work / "gt", work / "pred"), [f"{work / 'gt' / VIDEO}.json: expected a file, found a folder"]
    case("folders: a GT file that is a folder", gt_is_a_folder)

    def gt_broken_link(work: Path) -> Built:
        write(work / "pred" / f"{VIDEO}.json", pt18_pred())
        (work / "gt").mkdir()
        (work / "gt" / f"{VIDEO}.json").symlink_to(work / "nowhere.json")
        return _evaluate(work, work / "gt", work / "pred"), [f"{work / 'gt' / VIDEO}.json: ", "broken link"]
    case("folders: a GT file that is a broken link", gt_broken_link)

    def pred_is_a_folder(work: Path) -> Built:
        write(work / "gt" / f"{VIDEO}.json", pt18_gt())
        (work / "pred" / f"{VIDEO}.json").mkdir(parents=True)
        return _evaluate(work, work / "gt", work / "pred"), [f"{work / 'pred' / VIDEO}.json: expected a file, found a folder"]
    case("folders: a prediction file that is a folder", pred_is_a_folder)

    def no_pred(work: Path) -> Built:
        write(work / "gt" / f"{VIDEO}.json", pt18_gt())
        write(work / "pred" / "other.json", pt18_pred())
        return _evaluate(work, work / "gt", work / "pred"), [f"{work / 'pred' / VIDEO}.json: no prediction file"]
    case("folders: a GT video without predictions", no_pred)

    def gt_missing(work: Path) -> Built:
        write(work / "pred" / f"{VIDEO}.json", pt18_pred())
        return _evaluate(work, work / "gt", work / "pred"), [f"{work / 'gt'}: folder not found"]
    case("folders: no GT folder", gt_missing)

    def gt_a_file(work: Path) -> Built:
        write(work / "gt", pt18_gt())
        write(work / "pred" / f"{VIDEO}.json", pt18_pred())
        return _evaluate(work, work / "gt", work / "pred"), [f"{work / 'gt'}: expected a folder"]
    case("folders: GT folder is a file", gt_a_file)

    def gt_empty(work: Path) -> Built:
        (work / "gt").mkdir()
        write(work / "pred" / f"{VIDEO}.json", pt18_pred())
        return _evaluate(work, work / "gt", work / "pred"), [f"{work / 'gt'}: no .json files"]
    case("folders: GT folder without files", gt_empty)

    def pred_missing(work: Path) -> Built:
        write(work / "gt" / f"{VIDEO}.json", pt18_gt())
        return _evaluate(work, work / "gt", work / "pred"), [f"{work / 'pred'}: prediction folder not found"]
    case("folders: no prediction folder", pred_missing)

    def newline_name(work: Path) -> Built:
        name = "bad\nname"
        write(work / "gt" / f"{name}.json", pt18_gt(), raw(b"{"))
        write(work / "pred" / f"{name}.json", pt18_pred())
        return _evaluate(work, work / "gt", work / "pred"), [f"{work / 'gt'}/bad\\nname.json: invalid JSON"]
    case("folders: a file name with a newline is printed escaped", newline_name)

    def escape_name(work: Path) -> Built:
        name = "bad\x1b[31mred\rname"
        write(work / "gt" / f"{name}.json", pt18_gt(), raw(b""))
        write(work / "pred" / f"{name}.json", pt18_pred())
        return _evaluate(work, work / "gt", work / "pred"), ["bad\\x1b[31mred\\rname.json: file is empty"]
    case("folders: a file name with terminal escapes is printed escaped", escape_name)


_folder_cases()


# ============================================================================ convert
def _convert(dataset: str, root: Path, work: Path, *extra: str) -> list[str]:
    return ["convert", "--dataset", dataset, "--root", str(root), "--out", str(work / "out"), *extra]


def convert_pt18(name: str, mutators, *texts: str) -> None:
    def build(work: Path) -> Built:
        root, path = pt18_root(work, *mutators)
        return _convert("posetrack18", root, work), [f"{path}: ", *texts]
    case(f"convert pt18: {name}", build)


for label, mutators, texts in [
    ("absolute file_name", [put((*I0, "file_name"), "/etc/passwd")], ["images[0].file_name: ", "absolute"]),
    ("file_name climbing out", [put(("images", 1, "file_name"), "../../../etc/x.jpg")],
     ["images[1].file_name: ", "'..'"]),
    ("no annotations key", [drop(("annotations",))], ["annotations: missing field"]),
    ("no frames", [put(("images",), []), put(("annotations",), [])], ["images: the video has no frames"]),
    ("frames out of order", [put(("images", 0, "frame_id"), 10003420009), put(("images", 0, "id"), 10003420009),
                             lambda d: [a.update(image_id=10003420009) for a in d["annotations"]
                                        if a["image_id"] == 10003420000] and d],
     ["images[1].frame_id: frames are not in temporal order"]),
    ("track id twice in a frame", [put((*A0, "track_id"), 1)], ["track id 1 appears twice"]),
    ("negative track id", [put((*A0, "track_id"), -7)], ["annotations[0].track_id: ", "-7"]),
    ("nested 100000 deep", [raw(nested(100_000))], ["nested"]),
]:
    convert_pt18(label, mutators, *texts)


def _convert_cases() -> None:
    def annotation_folder(work: Path) -> Built:
        root, _ = pt18_root(work)
        folder = root / "annotations/val/000001_mpii_test.json"
        folder.mkdir()
        return _convert("posetrack18", root, work), [f"{folder}: expected a file, found a folder"]
    case("convert pt18: an annotation file that is a folder", annotation_folder)

    def out_parent_file(work: Path) -> Built:
        root, _ = pt18_root(work)
        (work / "taken").write_text("a file")
        argv = ["convert", "--dataset", "posetrack18", "--root", str(root), "--out", str(work / "taken/out")]
        return argv, [f"{work / 'taken/out'}: --out: ", "is a file"]
    case("convert: --out below a file", out_parent_file)

    def out_is_file(work: Path) -> Built:
        root, _ = pt18_root(work)
        (work / "out").write_text("a file")
        return _convert("posetrack18", root, work), [f"{work / 'out'}: --out: ", "a file"]
    case("convert: --out is a file", out_is_file)

    def out_has_other_files(work: Path) -> Built:
        root, _ = pt18_root(work)
        (work / "out").mkdir()
        (work / "out/notes.txt").write_text("mine")
        return _convert("posetrack18", root, work), [f"{work / 'out'}: ", "notes.txt"]
    case("convert: --out holds other files", out_has_other_files)

    def out_has_other_json(work: Path) -> Built:
        root, _ = pt18_root(work)
        (work / "out").mkdir()
        (work / "out/stale.json").write_text("{}")
        return _convert("posetrack18", root, work), [f"{work / 'out'}: ", "stale.json"]
    case("convert: --out holds other .json files", out_has_other_json)

    case("convert: unknown dataset", lambda w: (_convert("posetrack19", w, w), ["posetrack19"]))
    case("convert: unknown split", lambda w: (_convert("posetrack18", pt18_root(w)[0], w, "--split", "dev"),
                                              ["unknown split 'dev'"]))
    case("convert: no root", lambda w: (_convert("posetrack18", w / "none", w), [f"{w / 'none'}: folder not found"]))

    def root_is_file(work: Path) -> Built:
        (work / "root").write_text("x")
        return _convert("penn_action", work / "root", work), [f"{work / 'root'}: "]
    case("convert: root is a file", root_is_file)

    # PoseTrack'17 JSON and MAT
    def pt17_absolute(work: Path) -> Built:
        root, path = pt17_json_root(work, put(("annolist", 1, "image"), [{"name": ["/abs/x.jpg"]}]))
        return _convert("posetrack17", root, work), [f"{path}: annolist[1].image.name: ", "absolute"]
    case("convert pt17: absolute image name", pt17_absolute)

    def pt17_mat(label: str, mutators, *texts: str, document: dict | None = None) -> None:
        def build(work: Path) -> Built:
            root, path = pt17_mat_root(work, *mutators, document=document)
            return _convert("posetrack17", root, work), [f"{path}: ", *texts]
        case(f"convert pt17 mat: {label}", build)

    pt17_mat("cut in half", [cut(0.5)], "truncated")
    pt17_mat("cut after the header", [lambda d: d[:140]], "truncated")
    pt17_mat("zero bytes", [raw(b"")], "file is empty")
    pt17_mat("garbage", [raw(b"not a mat file at all" * 10)], "MATLAB")
    pt17_mat("HDF5 (v7.3)", [lambda d: b"MATLAB 7.3 MAT-file".ljust(116) + b"\0" * 8 + b"\x00\x02IM" + b"\0" * 64],
             "v7.3")
    pt17_mat("a flipped compression byte", [lambda d: d[:200] + bytes([d[200] ^ 0xFF]) + d[201:]], "MATLAB")

    def pt17_mat_no_annolist(work: Path) -> Built:
        root = work / "pt17"
        path = savemat(root / "annotations/val/v_relpath_5sec_testsub.mat", {"other": np.zeros(3)})
        return _convert("posetrack17", root, work), [f"{path}: annolist: missing variable"]
    case("convert pt17 mat: no annolist variable", pt17_mat_no_annolist)

    def pt17_mat_annolist_number(work: Path) -> Built:
        root = work / "pt17"
        path = savemat(root / "annotations/val/v_relpath_5sec_testsub.mat", {"annolist": np.float64(3)})
        return _convert("posetrack17", root, work), [f"{path}: annolist: expected a list"]
    case("convert pt17 mat: annolist a number", pt17_mat_annolist_number)

    # JHMDB
    def jhmdb(label: str, make: Callable[[Path], tuple[Path, list[str]]]) -> None:
        def build(work: Path) -> Built:
            root, texts = make(work)
            return _convert("jhmdb", root, work, "--split", "test1"), texts
        case(f"convert jhmdb: {label}", build)

    def cut_joints(work: Path):
        root = jhmdb_root(work)
        joints, _, _ = jhmdb_files(root)
        mutate_bytes(joints, cut(0.6))
        return root, [f"{joints}: ", "truncated"]
    jhmdb("joint positions cut short", cut_joints)

    def cut_mask(work: Path):
        root = jhmdb_root(work)
        _, mask, _ = jhmdb_files(root)
        mutate_bytes(mask, cut(0.7))
        return root, [f"{mask}: ", "truncated"]
    jhmdb("puppet mask cut short", cut_mask)

    def bad_shape(work: Path):
        root = jhmdb_root(work, pos_img=np.ones((3, 15, 4)))
        return root, [f"{jhmdb_files(root)[0]}: pos_img: expected shape (2, 15, T)"]
    jhmdb("pos_img of the wrong shape", bad_shape)

    def nan_pos(work: Path):
        pos = np.random.default_rng(1).uniform(20, 200, (2, 15, 4))
        pos[0, 3, 1] = np.nan
        root = jhmdb_root(work, pos_img=pos)
        return root, [f"{jhmdb_files(root)[0]}: pos_img: contains NaN"]
    jhmdb("pos_img with NaN", nan_pos)

    def text_pos(work: Path):
        root = jhmdb_root(work, pos_img="joints")
        return root, [f"{jhmdb_files(root)[0]}: pos_img: expected a numeric array"]
    jhmdb("pos_img text", text_pos)

    def no_pos(work: Path):
        root = jhmdb_root(work)
        joints = jhmdb_files(root)[0]
        savemat(joints, {"pos_world": np.zeros((2, 15, 4))})
        return root, [f"{joints}: pos_img: missing variable"]
    jhmdb("no pos_img variable", no_pos)

    def mask_frames(work: Path):
        root = jhmdb_root(work, mask=np.ones((24, 32, 3), np.uint8))
        return root, [f"{jhmdb_files(root)[1]}: part_mask: frame count mismatch"]
    jhmdb("mask frame count", mask_frames)

    def mask_empty(work: Path):
        mask = np.ones((24, 32, 4), np.uint8)
        mask[:, :, 2] = 0
        root = jhmdb_root(work, mask=mask)
        return root, [f"{jhmdb_files(root)[1]}: part_mask: the puppet mask is empty in frame 2"]
    jhmdb("empty mask frame", mask_empty)

    def split_line(work: Path):
        root = jhmdb_root(work)
        split = jhmdb_files(root)[2]
        split.write_text("clip.avi 2\nclip2.avi seven\n")
        return root, [f"{split}: line 2: expected '<clip>.avi <0|1|2>'"]
    jhmdb("bad split line", split_line)

    def split_twice(work: Path):
        root = jhmdb_root(work)
        split = jhmdb_files(root)[2]
        split.write_text("clip.avi 2\nclip.avi 1\n")
        return root, [f"{split}: line 2: clip 'clip' is listed twice"]
    jhmdb("clip listed twice", split_twice)

    def split_binary(work: Path):
        root = jhmdb_root(work)
        split = jhmdb_files(root)[2]
        split.write_bytes(b"\xff\xfe\x00clip")
        return root, [f"{split}: cannot read split file"]
    jhmdb("split file not text", split_binary)

    def split_newline_clip(work: Path):
        root = jhmdb_root(work)
        split = jhmdb_files(root)[2]
        split.write_text("clip.avi 2\nodd\x1bname.avi 2\n")
        return root, [f"{root / 'joint_positions/run/odd'}\\x1bname/joint_positions.mat: file not found"]
    jhmdb("a clip name with an escape character", split_newline_clip)

    def no_splits(work: Path):
        root = jhmdb_root(work)
        jhmdb_files(root)[2].unlink()
        return root, [f"{root / 'sub_splits'}: no split files"]
    jhmdb("no split files", no_splits)

    def joints_folder(work: Path):
        root = jhmdb_root(work)
        joints = jhmdb_files(root)[0]
        joints.unlink()
        joints.mkdir()
        return root, [f"{joints}: expected a file, found a folder"]
    jhmdb("joint positions a folder", joints_folder)

    def joints_missing(work: Path):
        root = jhmdb_root(work)
        joints = jhmdb_files(root)[0]
        joints.unlink()
        return root, [f"{joints}: file not found"]
    jhmdb("joint positions missing", joints_missing)

    # Penn Action
    def penn(label: str, make: Callable[[Path], tuple[Path, list[str]]]) -> None:
        def build(work: Path) -> Built:
            root, texts = make(work)
            return _convert("penn_action", root, work), texts
        case(f"convert penn: {label}", build)

    def penn_override(label: str, overrides: dict, *texts: str) -> None:
        def make(work: Path):
            root, path = penn_root(work, **overrides)
            return root, [f"{path}: ", *texts]
        penn(label, make)

    x = np.full((6, 13), 50.0)
    x[2, 3] = np.nan
    penn_override("x with NaN", {"x": x}, "x: contains NaN")
    penn_override("visibility 2", {"visibility": np.full((6, 13), 2, np.uint8)}, "visibility: expected only 0 and 1")
    penn_override("nframes 0", {"nframes": np.array([[0]], np.uint8)}, "nframes: the video has no frames")
    penn_override("bbox of 3 columns", {"bbox": np.ones((6, 3))}, "bbox: expected 4 columns")
    penn_override("dimensions of 2 values", {"dimensions": np.array([[240, 320]], np.uint16)}, "dimensions: expected [H, W, nframes=6]")
    penn_override("train flag 0", {"train": np.array([[0]], np.int32)}, "train: expected 1 (train) or -1 (test)")
    penn_override("x of 5 frames", {"x": np.ones((5, 13))}, "x: frame count mismatch")
    penn_override("x text", {"x": "coordinates"}, "x: expected a numeric array")
    penn_override("action a number", {"action": np.array([[3.0]])}, "action: expected text")

    def penn_cut(keep: float):
        def make(work: Path):
            root, path = penn_root(work)
            mutate_bytes(path, cut(keep))
            return root, [f"{path}: ", "truncated"]
        return make
    penn("label file cut at 40 %", penn_cut(0.4))
    penn("label file cut at 90 %", penn_cut(0.9))

    def penn_real_cut(work: Path):
        root = work / "penn"
        path = root / "labels/2326.mat"
        path.parent.mkdir(parents=True)
        data = (Path(__file__).parent / "data/samples/penn_action/labels/2326.mat").read_bytes()
        path.write_bytes(data[: len(data) * 3 // 4])
        return root, [f"{path}: ", "truncated"]
    penn("a real label file cut short", penn_real_cut)

    def penn_empty(work: Path):
        root, path = penn_root(work)
        path.write_bytes(b"")
        return root, [f"{path}: file is empty"]
    penn("label file of zero bytes", penn_empty)

    def penn_folder(work: Path):
        root, _ = penn_root(work)
        folder = root / "labels/0002.mat"
        folder.mkdir()
        return root, [f"{folder}: expected a file, found a folder"]
    penn("a label file that is a folder", penn_folder)

    def penn_no_variable(work: Path):
        root, path = penn_root(work)
        savemat(path, {"train": np.array([[-1]], np.int32), "nframes": np.array([[6]])})
        return root, [f"{path}: x: missing variable"]
    penn("label file without x", penn_no_variable)


_convert_cases()


# ============================================================================ result records
def _records(name: str, mutators, *texts: str) -> None:
    def build(work: Path) -> Built:
        doc = record()
        path = write(work / "results/records" / f"{doc['key']}.json", doc, *mutators)
        return ["leaderboard", "--results", str(work / "results")], [f"{path}: ", *texts]
    case(f"records: {name}", build)


for label, mutators, texts in [
    ("top level a list", [replace_all([1, 2])], ["expected a record object, got list"]),
    ("top level a string", [replace_all("record")], ["expected a record object, got str"]),
    ("top level null", [replace_all(None)], ["expected a record object"]),
    ("cut short", [cut(0.5)], ["invalid JSON"]),
    ("empty file", [raw(b"")], ["file is empty"]),
    ("nested 100000 deep", [raw(nested(100_000))], ["nested"]),
    ("schema version 3", [put(("schema_version",), 3)], ["schema_version: unsupported record schema version 3"]),
    ("no method", [drop(("method",))], ["method: missing field"]),
    ("method a number", [put(("method",), 5)], ["method: expected a string"]),
    ("label a list", [put(("label",), ["PTM"])], ["label: expected a string"]),
    ("metrics a string", [put(("metrics",), "good")], ["metrics: expected an object"]),
    ("a metric value text", [put(("metrics", "AP", "Total", "value"), "70")], ["metrics.AP.Total.value: expected a number"]),
    ("a metric table a list", [put(("metrics", "AP"), [70])], ["metrics.AP: expected an object"]),
    ("seed text", [put(("seed",), "zero")], ["seed: expected an integer"]),
    ("seed a fraction", [put(("seed",), 0.5)], ["seed: expected an integer"]),
    ("notes a string", [put(("notes",), "a note")], ["notes: expected a list"]),
    ("tags a number", [put(("tags",), 5)], ["tags: expected a list"]),
    ("a tag a number", [put(("tags",), [5])], ["tags[0]: expected a string"]),
    ("dataset a string", [put(("dataset",), "synthetic")], ["dataset: expected an object"]),
    ("dataset without split", [drop(("dataset", "split"))], ["dataset.split: missing field"]),
    ("protocol with an unknown key", [put(("protocol", "colour"), "red")], ["protocol: unknown field 'colour'"]),
    ("protocol metric a number", [put(("protocol", "metric"), 3)], ["protocol.metric: expected a string"]),
    ("speed a list", [put(("speed",), [1, 2])], ["speed: expected an object"]),
    ("speed without pose", [drop(("speed", "pose"))], ["speed.pose: missing field"]),
    ("created a number", [put(("created",), 2026)], ["created: expected a string"]),
    ("comparisons an object", [put(("comparisons",), {"a": 1})], ["comparisons: expected a list"]),
    ("breakdowns a list", [put(("breakdowns",), [])], ["breakdowns: expected an object"]),
    ("key edited", [put(("key",), "ptm-edited")], ["key: key 'ptm-edited' does not match"]),
    ("training a string", [put(("training",), "yes")], ["training: expected an object"]),
]:
    _records(label, mutators, *texts)


def _record_folder_cases() -> None:
    def record_folder(work: Path) -> Built:
        folder = work / "results/records/x.json"
        folder.mkdir(parents=True)
        return ["leaderboard", "--results", str(work / "results")], [f"{folder}: expected a file, found a folder"]
    case("records: a record that is a folder", record_folder)

    case("records: no records", lambda w: (["leaderboard", "--results", str(w / "none")],
                                           [f"{w / 'none/records'}: no result records"]))

    def check_manifest(work: Path) -> Built:
        doc = record()
        write(work / "results/records" / f"{doc['key']}.json", doc)
        manifest = write(work / "results/run.json", [1, 2])
        return ["check", "--results", str(work / "results"), "--cache", str(work / "cache")], \
            [f"{manifest}: preset: not a run manifest"]
    case("records: run manifest a list", check_manifest)

    def check_record(work: Path) -> Built:
        doc = record()
        path = write(work / "results/records" / f"{doc['key']}.json", doc, put(("label",), 3))
        write(work / "results/run.json", {"preset": "quick"})
        return ["check", "--results", str(work / "results"), "--cache", str(work / "cache")], [f"{path}: label"]
    case("records: check reads a bad record", check_record)


_record_folder_cases()


# ============================================================================ checkpoints
def _tiny_checkpoint() -> dict:
    from vposebench.checkpoint import Checkpoint
    from vposebench.interface import build_method
    from vposebench.skeleton import POSETRACK18
    from vposebench.training import TrainConfig

    method = build_method("baseline", POSETRACK18, preset="tiny")
    return Checkpoint(method="baseline", config=method.config.to_dict(), train_config=TrainConfig().to_dict(),
                      skeleton=POSETRACK18, model=method.state_dict(), step=1, complete=True).to_dict()


def _predict(work: Path, checkpoint: Path) -> list[str]:
    root, _ = pt18_root(work)
    return ["predict", "--method", "baseline", "--checkpoint", str(checkpoint), "--dataset", "posetrack18",
            "--root", str(root), "--out", str(work / "preds")]


def checkpoint_case(name: str, content: Callable[[Path], bytes | dict], *texts: str) -> None:
    def build(work: Path) -> Built:
        path = work / "model.ckpt"
        data = content(work)
        if isinstance(data, bytes):
            path.write_bytes(data)
        else:
            torch.save(data, path)
        return _predict(work, path), [f"{path}: ", *texts]
    case(f"checkpoint: {name}", build)


def _saved_bytes(data: dict) -> bytes:
    import io

    buffer = io.BytesIO()
    torch.save(data, buffer)
    return buffer.getvalue()


def _without(key: str) -> Callable[[Path], dict]:
    def make(work: Path) -> dict:
        data = _tiny_checkpoint()
        del data[key]
        return data
    return make


def _reshaped(work: Path) -> dict:
    data = _tiny_checkpoint()
    name = next(k for k, v in data["model"].items() if v.ndim == 4)
    data["model"][name] = torch.zeros(3, 3, 1, 1)
    del data["model"][next(k for k in data["model"] if k.endswith("running_var"))]
    return data


checkpoint_case("zero bytes", lambda w: b"", "file is empty")
checkpoint_case("garbage", lambda w: b"\x80\x02garbage" * 7, "not a loadable checkpoint")
checkpoint_case("a torch zip cut short", lambda w: _saved_bytes(_tiny_checkpoint())[:5000], "not a loadable checkpoint")
checkpoint_case("code in the pickle", lambda w: malicious_pickle(w / "PWNED"), "refused")
checkpoint_case("a plain dict", lambda w: {"weights": torch.zeros(2)}, "not a vposebench checkpoint")
checkpoint_case("version 2", lambda w: {**_tiny_checkpoint(), "version": 2}, "version: checkpoint version 2")
checkpoint_case("no skeleton", _without("skeleton"), "skeleton")
checkpoint_case("no model", _without("model"), "model")
checkpoint_case("skeleton a string", lambda w: {**_tiny_checkpoint(), "skeleton": "pt18"}, "skeleton")
checkpoint_case("another method", lambda w: {**_tiny_checkpoint(), "method": "ptm"}, "method: the checkpoint holds method 'ptm'")
checkpoint_case("training not finished", lambda w: {**_tiny_checkpoint(), "complete": False}, "complete: training stopped")
checkpoint_case("weights that do not fit", _reshaped, "model: weights do not fit", "Missing key(s)", "size mismatch")
checkpoint_case("config with a negative width", lambda w: {**_tiny_checkpoint(), "config": {
    **_tiny_checkpoint()["config"], "width": -16}}, "width")
checkpoint_case("config with NaN padding", lambda w: {**_tiny_checkpoint(), "config": {
    **_tiny_checkpoint()["config"], "box_padding": float("nan")}}, "box_padding")


def _checkpoint_paths() -> None:
    def folder(work: Path) -> Built:
        (work / "model.ckpt").mkdir()
        return _predict(work, work / "model.ckpt"), [f"{work / 'model.ckpt'}: expected a checkpoint file, found a folder"]
    case("checkpoint: a folder", folder)
    case("checkpoint: missing", lambda w: (_predict(w, w / "none.ckpt"), [f"{w / 'none.ckpt'}: file not found"]))

    def predict_into_a_used_folder(work: Path) -> Built:
        torch.save(_tiny_checkpoint(), work / "model.ckpt")
        (work / "preds").mkdir()
        (work / "preds/keep.txt").write_text("mine")
        return _predict(work, work / "model.ckpt"), [f"{work / 'preds'}: ", "keep.txt"]
    case("checkpoint: predictions into a folder holding other files", predict_into_a_used_folder)

    def init_empty(work: Path) -> Built:
        root, _ = pt18_root(work)
        (work / "init.ckpt").write_bytes(b"")
        return ["train", "--method", "baseline", "--dataset", "posetrack18", "--root", str(root),
                "--set", "preset=tiny", "--set", "split=val", "--set", f"init_checkpoint={work / 'init.ckpt'}",
                "--out", str(work / "m.ckpt"), "--quiet"], [f"{work / 'init.ckpt'}: file is empty"]
    case("checkpoint: an empty init_checkpoint", init_empty)


_checkpoint_paths()


# ============================================================================ COCO detections
def detections_case(name: str, mutators, *texts: str) -> None:
    def build(work: Path) -> Built:
        path = write(work / "dets.json", detections(), *mutators)
        return (lambda: DetectionBoxes(path)), [f"{path}: ", *texts]
    case(f"detections: {name}", build)


for label, mutators, texts in [
    ("top level a string", [replace_all("boxes")], ["detections: expected a list"]),
    ("an entry a number", [put((0,), 3)], ["[0]: expected an object"]),
    ("image_id missing", [drop((0, "image_id"))], ["[0].image_id: missing field"]),
    ("image_id text", [put((0, "image_id"), "frame")], ["[0].image_id: expected an integer"]),
    ("bbox of 3 numbers", [put((1, "bbox"), [1.0, 2.0, 3.0])], ["[1].bbox: expected 4 numbers"]),
    ("bbox text", [put((0, "bbox"), "box")], ["[0].bbox: expected a list"]),
    ("negative width", [put((0, "bbox"), [10.0, 20.0, -5.0, 30.0])], ["[0].bbox: ", "negative"]),
    ("score NaN", [text_swap('"score": 0.9', '"score": NaN')], ["[0].score: expected a finite number"]),
    ("score missing", [drop((1, "score"))], ["[1].score: missing field"]),
    ("cut short", [cut(0.6)], ["invalid JSON"]),
    ("empty file", [raw(b"")], ["file is empty"]),
    ("nested 100000 deep", [raw(nested(100_000))], ["nested"]),
]:
    detections_case(label, mutators, *texts)
case("detections: a folder", lambda w: ((w / "d.json").mkdir() or (lambda: DetectionBoxes(w / "d.json")),
                                        [f"{w / 'd.json'}: expected a file, found a folder"]))


# ============================================================================ arguments
def _valid_eval(work: Path) -> tuple[Path, Path]:
    write(work / "gt" / f"{VIDEO}.json", pt18_gt())
    write(work / "pred" / f"{VIDEO}.json", pt18_pred())
    return work / "gt", work / "pred"


def evaluate_args(name: str, args: list[str], *texts: str, corrupt_gt: bool = False) -> None:
    """Arguments of `evaluate`; with `corrupt_gt` the GT is broken too, so a refusal naming the
    argument proves the argument was checked before any file was read."""
    def build(work: Path) -> Built:
        gt, pred = _valid_eval(work)
        if corrupt_gt:
            (gt / f"{VIDEO}.json").write_text("{")
        argv = ["evaluate", "--gt", str(gt), "--pred", str(pred), *[a.format(w=work) for a in args]]
        return argv, [t.format(w=work) for t in texts]
    case(f"evaluate args: {name}", build)


evaluate_args("--bootstrap -1", ["--bootstrap", "-1"], "--bootstrap: must be 0 or more", corrupt_gt=True)
evaluate_args("--bootstrap text", ["--bootstrap", "many"], "argument --bootstrap: invalid int value")
evaluate_args("--ci-level 1.5", ["--ci-level", "1.5"], "--ci-level: must be between 0 and 1", corrupt_gt=True)
evaluate_args("--ci-level nan", ["--ci-level", "nan"], "--ci-level", corrupt_gt=True)
evaluate_args("--seed -1", ["--bootstrap", "10", "--seed", "-1"], "--seed", corrupt_gt=True)
evaluate_args("--pck-alpha nan", ["--metric", "pck", "--pck-alpha", "nan"], "--pck-alpha", corrupt_gt=True)
evaluate_args("--pck-alpha -0.2", ["--metric", "pck", "--pck-alpha", "-0.2"], "--pck-alpha", corrupt_gt=True)
evaluate_args("--pck-alpha inf", ["--metric", "pck", "--pck-alpha", "inf"], "--pck-alpha", corrupt_gt=True)
evaluate_args("--metric unknown", ["--metric", "mAP"], "argument --metric: invalid choice")
evaluate_args("--mode unknown", ["--mode", "strict"], "argument --mode: invalid choice")
evaluate_args("--format unknown", ["--format", "html"], "argument --format: invalid choice")
evaluate_args("--videos unknown", ["--videos", "nope"], "{w}/gt: unknown video(s) ['nope']")
evaluate_args("--json an existing folder", ["--json", "{w}"], "{w}: --json: ", corrupt_gt=True)
evaluate_args("--json below a file", ["--json", "{w}/gt/" + VIDEO + ".json/r.json"], "--json: ", "is a file",
              corrupt_gt=True)
evaluate_args("--compare-pred missing", ["--compare-pred", "{w}/nothing"], "{w}/nothing: prediction folder not found")
evaluate_args("unknown option", ["--colour"], "unrecognized arguments: --colour")
case("evaluate args: no --gt", lambda w: (["evaluate", "--pred", str(w)], ["the following arguments are required: --gt"]))


def command_args(name: str, argv: list[str], *texts: str, setup: Callable[[Path], Any] | None = None) -> None:
    def build(work: Path) -> Built:
        if setup is not None:
            setup(work)
        return [a.format(w=work) for a in argv], [t.format(w=work) for t in texts]
    case(name, build)


def _root(work: Path) -> None:
    pt18_root(work)


TRAIN = ["train", "--method", "baseline", "--dataset", "posetrack18", "--root", "{w}/pt18", "--quiet"]
for label, settings, texts in [
    ("lr=nan", ["lr=nan"], ["lr: ", "finite"]),
    ("lr=inf", ["lr=inf"], ["lr: ", "finite"]),
    ("lr=-1", ["lr=-1"], ["lr: "]),
    ("iterations=-5", ["iterations=-5"], ["iterations: "]),
    ("iterations=0", ["iterations=0"], ["iterations: "]),
    ("iterations=1e3", ["iterations=1e3"], ["iterations: cannot parse '1e3'"]),
    ("iterations beyond 64 bits", ["iterations=" + "9" * 30], ["iterations: "]),
    ("batch_size=0", ["batch_size=0"], ["batch_size: "]),
    ("momentum=nan", ["momentum=nan"], ["momentum: ", "finite"]),
    ("weight_decay=-inf", ["weight_decay=-inf"], ["weight_decay: "]),
    ("seed=-1", ["seed=-1"], ["seed: "]),
    ("flip_prob=nan", ["flip_prob=nan"], ["flip_prob: ", "finite"]),
    ("lr_milestones with nan", ["lr_milestones=0.5,nan"], ["lr_milestones: "]),
    ("width=-8", ["width=-8"], ["width: "]),
    ("box_padding=nan", ["box_padding=nan"], ["box_padding: ", "finite"]),
    ("sigma=inf", ["sigma=inf"], ["sigma: ", "finite"]),
    ("input_size negative", ["input_size=-64,96"], ["input_size: "]),
    ("unknown setting", ["colour=red"], ["--set: unknown setting 'colour'"]),
    ("no equals sign", ["lr"], ["--set: expected key=value"]),
    ("optimizer unknown", ["optimizer=lbfgs"], ["optimizer: expected one of adam, sgd"]),
]:
    command_args(f"train args: --set {label}", [*TRAIN, *sum((["--set", s] for s in settings), []),
                                                "--out", "{w}/m.ckpt"], *texts, setup=_root)
command_args("train args: --threads 0", [*TRAIN, "--threads", "0", "--out", "{w}/m.ckpt"], "--threads: must be >= 1",
             setup=_root)
command_args("train args: --out an existing folder", [*TRAIN, "--out", "{w}"], "{w}: --out: ", setup=_root)
command_args("train args: --out below a file", [*TRAIN, "--out", "{w}/pt18/annotations/val/" + VIDEO + ".json/m.ckpt"],
             "--out: ", "is a file", setup=_root)
command_args("train args: unknown method", [*TRAIN[:2], "mystery", *TRAIN[3:], "--out", "{w}/m.ckpt"],
             "unknown method 'mystery'", setup=_root)
command_args("train args: unknown dataset", ["train", "--method", "baseline", "--dataset", "coco", "--root", "{w}",
                                             "--out", "{w}/m.ckpt"], "unknown dataset 'coco'")
command_args("train args: no --out", TRAIN, "the following arguments are required: --out", setup=_root)

PREDICT = ["predict", "--method", "baseline", "--checkpoint", "{w}/none.ckpt", "--dataset", "posetrack18",
           "--root", "{w}/pt18"]
command_args("predict args: --iou-threshold 1.5", [*PREDICT, "--out", "{w}/p", "--iou-threshold", "1.5"],
             "--iou-threshold: must be in [0, 1]")
command_args("predict args: --iou-threshold nan", [*PREDICT, "--out", "{w}/p", "--iou-threshold", "nan"],
             "--iou-threshold")
command_args("predict args: --threads -2", [*PREDICT, "--out", "{w}/p", "--threads", "-2"], "--threads: must be >= 1")
command_args("predict args: --tracker unknown", [*PREDICT, "--out", "{w}/p", "--tracker", "psychic"],
             "argument --tracker: invalid choice")
command_args("predict args: --out is a file", [*PREDICT, "--out", "{w}/file"], "{w}/file: --out: ",
             setup=lambda w: (w / "file").write_text("x"))
command_args("predict args: --out below a file", [*PREDICT, "--out", "{w}/file/p"], "--out: ", "is a file",
             setup=lambda w: (w / "file").write_text("x"))
command_args("predict args: --device unknown", [*PREDICT, "--out", "{w}/p", "--device", "tpu"],
             "argument --device: invalid choice")

RUN = ["run", "--preset", "quick", "--cache", "{w}/cache", "--results", "{w}/results", "--quiet"]
command_args("run args: --workers 0", [*RUN, "--workers", "0"], "--workers: must be >= 1")
command_args("run args: --threads 0", [*RUN, "--threads", "0"], "--threads: must be >= 1")
command_args("run args: --seed -1", [*RUN, "--seed", "-1"], "--seed")
command_args("run args: unknown method", [*RUN, "--methods", "mystery"], "mystery")
command_args("run args: unknown preset", ["run", "--preset", "huge"], "argument --preset: invalid choice")
command_args("run args: --results below a file", [*RUN[:5], "--results", "{w}/file/r", "--quiet"], "--results: ",
             "is a file", setup=lambda w: (w / "file").write_text("x"))
command_args("run args: --cache is a file", ["run", "--preset", "quick", "--cache", "{w}/file", "--results",
                                             "{w}/results", "--quiet"], "{w}/file: --cache: ",
             setup=lambda w: (w / "file").write_text("x"))

# ============================================================================ plan files
TINY_PLAN = Path(__file__).resolve().parent / "data" / "plans" / "tiny.toml"


def plan_file(old: str, new: str) -> Callable[[Path], Any]:
    """A setup writing the tiny plan as {w}/plan.toml with its first `old` replaced by `new`."""
    def setup(work: Path) -> None:
        text = TINY_PLAN.read_text()
        assert old in text, old
        (work / "plan.toml").write_text(text.replace(old, new, 1))
    return setup


PLAN_RUN = ["run", "--plan", "{w}/plan.toml", "--cache", "{w}/cache", "--results", "{w}/results", "--quiet"]
for label, old, new, texts in [
    ("not TOML", 'name = "test"', 'name = "test', ["plan.toml: not valid TOML"]),
    ("unknown top-level field", 'name = "test"', 'name = "test"\ncolour = "red"', ["plan.toml: colour: unknown field"]),
    ("a name with a slash", 'name = "sb"', 'name = "s/b"', ["models[0].name: 's/b' is not a name"]),
    ("unknown method", 'method = "baseline"', 'method = "basline"', ["models[0].method: unknown method 'basline'",
                                                                   "did you mean 'baseline'"]),
    ("unknown setting", 'settings = {preset = "tiny"}', 'settings = {preset = "tiny", colour = 1}',
     ["models[0].settings.colour: unknown setting of method 'baseline'"]),
    ("bad setting value", 'settings = {preset = "tiny"}', 'settings = {preset = "huge"}',
     ["models[0].settings.preset: unknown preset 'huge'"]),
    ("train iterations 0", "iterations = 3", "iterations = 0", ["models[0].train.iterations: must be > 0"]),
    ("train lr text", "iterations = 3,", 'iterations = 3, lr = "fast",', ["models[0].train.lr: cannot parse 'fast'"]),
    ("train seed", "iterations = 3,", "iterations = 3, seed = 4,", ["models[0].train.seed: is set by the plan's `seeds`"]),
    ("trainable without train", "train = {iterations = 3, batch_size = 4}\n", "",
     ["models[0]: method 'baseline' learns its weights"]),
    ("init_from unknown", 'init_from = "sb"', 'init_from = "nobody"', ["models[1].init_from: no model 'nobody'"]),
    ("init_from itself", 'init_from = "sb"', 'init_from = "ptm"', ["models[1].init_from: models are made from each other in a cycle"]),
    ("checkpoint file missing", 'train = {iterations = 2, batch_size = 2}\ninit_from = "sb"', 'checkpoint = "none.ckpt"', ["models[1].checkpoint: file not found"]),
    ("checkpoint and train", 'init_from = "sb"', 'init_from = "sb"\ncheckpoint = "plan.toml"',
     ["models[1].checkpoint: a model is trained (train, init_from) or loaded from a checkpoint, not both"]),
    ("export_from a non-exporting method", 'init_from = "sb"', 'export_from = "sb"', ["models[1].export_from: only onnx models are exported"]),
    ("model of an unknown protocol", 'protocol = "posetrack"', 'protocol = "coco"', ["models[0].protocol: no protocol 'coco'"]),
    ("unknown adapter", 'adapter = "jhmdb"', 'adapter = "jhmbd"', ["datasets.jhmdb.adapter: unknown dataset 'jhmbd'"]),
    ("dataset root missing", 'synthetic = "jhmdb"', 'root = "no/such/folder"', ["datasets.jhmdb.root: folder not found"]),
    ("dataset with root and synthetic", 'synthetic = "jhmdb"', 'synthetic = "jhmdb"\nroot = "."',
     ["datasets.jhmdb: give exactly one of `synthetic`"]),
    ("unknown dataset option", 'synthetic = "jhmdb"', 'synthetic = "jhmdb"\noptions = {colour = 1}',
     ["datasets.jhmdb.options: unknown key 'colour'"]),
    ("training without a train split", 'train_split = "train"\n', "", ["models[0].protocol: protocol 'posetrack' has no train_split"]),
    ("unknown split", 'test_split = "sub-test1"', 'test_split = "sub-test9"', ["protocols.jhmdb.test_split: dataset 'jhmdb' has no split 'sub-test9'"]),
    ("unknown tracker field", "tracker = {iou_threshold = 0.0}", "tracker = {iou = 0.0}", ["protocols.jhmdb.tracker.iou: unknown field"]),
    ("unknown metric", 'metric = "pck"', 'metric = "pcx"', ["protocols.jhmdb.metric: unknown metric 'pcx'"]),
    ("unknown metric option", "all_joints = false}", "all_joints = false, colour = 1}", ["protocols.jhmdb.metric_options: "]),
    ("stride on a protocol", 'metric = "pck"', 'metric = "pck"\ntemporal_stride = 2', ["protocols.jhmdb.temporal_stride: is set per entry"]),
    ("unknown synthetic override", "frames = 6,", "frame = 6,", ["synthetic.overrides.frame: unknown field"]),
    ("negative seed", "seeds = [0]", "seeds = [-1]", ["seeds[0]: expected an integer >= 0"]),
    ("entry of an unknown model", 'model = "sb"', 'model = "sbb"', ["entries[0].model: no model 'sbb'"]),
    ("entry temporal input", 'model = "sb"', 'model = "sb"\ntemporal_input = "sideways"',
     ["entries[0].temporal_input: expected one of own, shuffled"]),
    ("shuffled without temporal state", 'model = "sb"', 'model = "sb"\ntemporal_input = "shuffled"',
     ["entries[0].temporal_input: method 'baseline' has no per-track temporal state"]),
    ("entry stride 0", 'model = "sb"', 'model = "sb"\ntemporal_stride = 0', ["entries[0].temporal_stride: must be >= 1"]),
    ("entry tags not strings", 'tags = ["ptm-table3"]', "tags = [3]", ["entries[0].tags[0]: expected a string"]),
    ("entry compare_to unknown", 'compare_to = "Baseline"', 'compare_to = "Basline"', ["entries[1].compare_to: no entry labelled 'Basline'"]),
    ("entry timed text", 'model = "sb"', 'model = "sb"\ntimed = "yes"', ["entries[0].timed: expected a boolean"]),
    ("entry compare_to empty array", 'compare_to = "Baseline"', "compare_to = []", ["entries[1].compare_to: is empty"]),
    ("entry compare_to array of numbers", 'compare_to = "Baseline"', "compare_to = [1]",
     ["entries[1].compare_to[0]: expected a string"]),
    ("entry compare_to array with an unknown label", 'compare_to = "Baseline"', 'compare_to = ["Baseline", "Basline"]',
     ["entries[1].compare_to: no entry labelled 'Basline'"]),
    ("train_seeds 0", "seeds = [0]", "seeds = [0]\ntrain_seeds = 0", ["plan.toml: train_seeds: must be >= 1"]),
    ("model train_seeds text", "iterations = 3, batch_size = 4}", 'iterations = 3, batch_size = 4}\ntrain_seeds = "3"',
     ["models[0].train_seeds: expected an integer"]),
    ("extends a missing plan", 'name = "test"', 'extends = "nowhere.toml"\nname = "test"', ["plan.toml: extends: neither a built-in plan"]),
    ("extends itself", 'name = "test"', 'extends = "plan.toml"\nname = "test"', ["plan.toml: extends: plans extend each other in a cycle"]),
    ("extends a number", 'name = "test"', 'extends = 3\nname = "test"', ["plan.toml: extends: expected a string"]),
]:
    command_args(f"plan: {label}", PLAN_RUN, "{w}/plan.toml: ", *texts, setup=plan_file(old, new))
command_args("plan: no such file", PLAN_RUN, "{w}/plan.toml: plan file not found")
command_args("run args: --plan and --preset", [*PLAN_RUN, "--preset", "quick"], "not allowed with argument")
command_args("check args: --plan of another plan", ["check", "--plan", "{w}/plan.toml", "--results", "{w}/results",
                                                    "--cache", "{w}/c"], "run.json: preset: was made by plan 'quick', not the plan 'test'",
             setup=lambda w: (plan_file("", "")(w), write(w / "results/records/r.json", record()),
                              write(w / "results/run.json", {"preset": "quick"})))
command_args("check args: run.json names a missing plan", ["check", "--results", "{w}/results", "--cache", "{w}/c"],
             "run.json: plan: names the plan file", setup=lambda w: (write(w / "results/records/r.json", record()),
                                                                    write(w / "results/run.json", {"preset": "x", "plan": "../x.toml"})))

command_args("check args: no results", ["check", "--results", "{w}/none", "--cache", "{w}/c"], "{w}/none/records: no result records")
command_args("check args: --speed-tolerance 1.5", ["check", "--results", "{w}/results", "--cache", "{w}/c",
                                                   "--speed-tolerance", "1.5"], "--speed-tolerance: must be in [0, 1)",
             setup=lambda w: (write(w / "results/records/r.json", record()) and
                              write(w / "results/run.json", {"preset": "quick"})))
command_args("check args: --cache is a file", ["check", "--results", "{w}/results", "--cache", "{w}/file"],
             "{w}/file: --cache: ",
             setup=lambda w: ((w / "file").write_text("x"), write(w / "results/records/r.json", record()),
                              write(w / "results/run.json", {"preset": "quick"})))
command_args("check args: --workers 0", ["check", "--results", "{w}/results", "--cache", "{w}/c", "--workers", "0"],
             "--workers",
             setup=lambda w: (write(w / "results/records/r.json", record()),
                              write(w / "results/run.json", {"preset": "quick"})))


def _one_record(work: Path) -> None:
    doc = record()
    write(work / "results/records" / f"{doc['key']}.json", doc)


command_args("leaderboard args: unknown table", ["leaderboard", "--results", "{w}/results", "--table", "nope"],
             "unknown table 'nope'", setup=_one_record)
command_args("leaderboard args: --out an existing folder", ["leaderboard", "--results", "{w}/results", "--out", "{w}"],
             "{w}: --out: ", setup=_one_record)
command_args("leaderboard args: --out below a file", ["leaderboard", "--results", "{w}/results", "--out",
                                                      "{w}/file/board.md"], "--out: ", "is a file",
             setup=lambda w: (_one_record(w), (w / "file").write_text("x")))
command_args("leaderboard args: --format unknown", ["leaderboard", "--format", "pdf"], "argument --format: invalid choice")

SYNTH = ["synth", "--out", "{w}/synth", "--preset", "quick"]
command_args("synth args: --videos 0", [*SYNTH, "--videos", "0"], "--videos: must be at least 1")
command_args("synth args: --frames -1", [*SYNTH, "--frames", "-1"], "--frames: must be at least 1")
command_args("synth args: --clips -1", [*SYNTH, "--clips", "-1"], "--clips: must be at least 0")
command_args("synth args: --workers 0", [*SYNTH, "--workers", "0"], "--workers: must be at least 1")
command_args("synth args: --seed -1", [*SYNTH, "--seed", "-1"], "seed")
command_args("synth args: --set noise=nan", [*SYNTH, "--set", "noise=nan"], "noise")
command_args("synth args: --set crowd_min_persons=inf", [*SYNTH, "--set", "crowd_min_persons=inf"],
             "crowd_min_persons")
command_args("synth args: --set fast_min_displacement=nan", [*SYNTH, "--set", "fast_min_displacement=nan"],
             "fast_min_displacement")
command_args("synth args: --set unknown", [*SYNTH, "--set", "colour=red"], "--set: unknown synthetic config field 'colour'")
command_args("synth args: --set without =", [*SYNTH, "--set", "noise"], "--set: expected KEY=VALUE")
command_args("synth args: unknown preset", ["synth", "--out", "{w}/s", "--preset", "huge"], "--preset: unknown preset 'huge'")
command_args("synth args: --out is a file", ["synth", "--out", "{w}/file", "--preset", "quick"], "{w}/file: --out: ",
             setup=lambda w: (w / "file").write_text("x"))
command_args("synth args: --preview below a file", [*SYNTH, "--preview", "{w}/file/p"], "--preview: ", "is a file",
             setup=lambda w: (w / "file").write_text("x"))

command_args("list args: unknown kind", ["list", "widgets"], "argument kind: invalid choice")
command_args("top level: unknown command", ["dance"], "invalid choice: 'dance'")
command_args("top level: no command", [], "the following arguments are required: COMMAND")


# ============================================================================ the harness
def run_case(target: list[str] | Callable[[], Any], capsys) -> tuple[int, str, str]:
    """(exit status, stdout, stderr) of a command line, or of a reader call shown as the CLI shows it."""
    if callable(target):
        try:
            target()
        except UserError as exc:
            captured = capsys.readouterr()
            return exc.exit_status, captured.out, captured.err + f"vposebench: error: {exc.format()}\n"
        captured = capsys.readouterr()
        return 0, captured.out, captured.err
    status = cli.main(target)
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def test_the_corpus_is_large_and_its_names_unique():
    assert len(CASES) >= 150
    assert len({c.name for c in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_malformed_input_ends_in_one_line(case, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)  # anything written to a default location would show up here
    work = tmp_path / "w"
    work.mkdir()
    target, texts = case.build(work)
    before = tree_snapshot(tmp_path)
    status, out, err = run_case(target, capsys)
    assert status == 2, err
    assert err.count("\n") == 1 and err.endswith("\n"), err
    assert err.startswith("vposebench") and ": error: " in err, err
    assert "Traceback" not in err and out == ""
    for text in texts:
        assert text in err, (text, err)
    assert tree_snapshot(tmp_path) == before  # nothing written, nothing removed
    assert not (work / "PWNED").exists()


#: cases also run as a real process: exit status and stderr end to end
END_TO_END = [
    "pt18 gt: nested 100000 deep",
    "checkpoint: zero bytes",
    "folders: a file name with a newline is printed escaped",
    "evaluate args: --bootstrap text",
]


@pytest.mark.slow
@pytest.mark.parametrize("name", END_TO_END)
def test_malformed_input_as_a_real_process(name, tmp_path):
    (found,) = [c for c in CASES if c.name == name]
    work = tmp_path / "w"
    work.mkdir()
    argv, texts = found.build(work)
    before = tree_snapshot(tmp_path)
    proc = subprocess.run([sys.executable, "-m", "vposebench", *argv], capture_output=True, text=True,
                          cwd=tmp_path, timeout=300)
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr and proc.stdout == ""
    assert all(text in proc.stderr for text in texts), proc.stderr
    assert tree_snapshot(tmp_path) == before
