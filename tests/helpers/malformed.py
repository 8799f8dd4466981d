"""Building blocks of the malformed-input corpus (tests/test_malformed_corpus.py).

Valid documents of every format the suite reads, small mutators that break one thing in a
document (a field set to a wrong value, a field dropped, the file cut short, ...), and writers
of the folders and dataset roots the commands read. Everything here is SYNTHETIC except the
Penn Action label file copied from the samples.
"""

from __future__ import annotations

import copy
import hashlib
import json
import os
import pickle
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import scipy.io

from helpers.dataset_writers import PT17, Writers
from helpers.posetrack_cases import pt17_document, pt18_document

#: a mutation: document -> changed document, or the raw bytes to write instead
Mutator = Callable[[Any], Any]
Key = str | int

VIDEO = "000342_mpii_test"


# ----------------------------------------------------------------------------- mutators
def _parent(doc: Any, where: tuple[Key, ...]) -> Any:
    target = doc
    for key in where[:-1]:
        target = target[key]
    return target


def put(where: tuple[Key, ...], value: Any) -> Mutator:
    """Set the value at a key path (``("annotations", 0, "track_id")``)."""
    def mutate(doc: Any) -> Any:
        _parent(doc, where)[where[-1]] = copy.deepcopy(value)
        return doc
    return mutate


def drop(where: tuple[Key, ...]) -> Mutator:
    """Remove the key (or list item) at a key path."""
    def mutate(doc: Any) -> Any:
        del _parent(doc, where)[where[-1]]
        return doc
    return mutate


def replace_all(value: Any) -> Mutator:
    """Replace the whole document (e.g. by a list where an object belongs)."""
    return lambda doc: copy.deepcopy(value)


def text_swap(old: str, new: str) -> Mutator:
    """Edit the JSON text: replace the first `old` by `new` (for literals JSON cannot hold,
    like NaN)."""
    def mutate(doc: Any) -> bytes:
        text = doc.decode() if isinstance(doc, bytes) else json.dumps(doc)
        assert old in text, old
        return text.replace(old, new, 1).encode()
    return mutate


def raw(content: bytes) -> Mutator:
    """The file holds exactly these bytes."""
    return lambda doc: content


def cut(keep: float) -> Mutator:
    """The file cut short to this fraction of its bytes."""
    def mutate(doc: Any) -> bytes:
        data = doc if isinstance(doc, bytes) else json.dumps(doc).encode()
        return data[: int(len(data) * keep)]
    return mutate


def nested(depth: int) -> bytes:
    """A JSON array nested `depth` levels deep."""
    return b"[" * depth + b"]" * depth


def serialise(doc: Any, mutators: tuple[Mutator, ...] = ()) -> bytes:
    """The file content of a document after the mutators."""
    doc = copy.deepcopy(doc)
    for mutate in mutators:
        doc = mutate(doc)
    return doc if isinstance(doc, bytes) else json.dumps(doc).encode()


def write(path: Path, doc: Any, *mutators: Mutator) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(serialise(doc, mutators))
    return path


# ----------------------------------------------------------------------------- PoseTrack documents
def _person(dx: float, dy: float) -> np.ndarray:
    """15 joints in the official evaluation's internal order, around (dx, dy)."""
    t = np.linspace(0.0, 1.0, 15)
    return np.stack([200 + dx + 60 * np.sin(6 * t), 100 + dy + 300 * t], axis=1)


def posetrack_frames() -> list[dict]:
    """Three frames: 0 and 2 labelled with two persons each (every joint annotated), 1 not;
    predictions are the GT joints moved by 2 px with distinct scores."""
    frames = []
    for f in range(3):
        labeled = f != 1
        gt, pred = [], []
        for k, (dx, dy) in enumerate(((0.0, 0.0), (400.0, 20.0))):
            xy = _person(dx + 3 * f, dy)
            head = np.array([xy[14, 0] - 20, xy[14, 1] - 25, xy[14, 0] + 20, xy[14, 1] + 25])
            if labeled:
                gt.append({"xy": xy, "annotated": np.ones(15, bool), "head": head, "track": k,
                           "pt17_style": 0})
            scores = 0.3 + 0.01 * np.arange(15) + 0.2 * k + 0.001 * f
            pred.append({"xy": xy + 2.0, "predicted": np.ones(15, bool), "track": 5 + k,
                         "no_scores": False, "scores": scores})
        frames.append({"labeled": labeled, "gt": gt, "pred": pred, "region": None})
    return frames


def pt18_gt() -> dict:
    return pt18_document(VIDEO, posetrack_frames(), "gt")


def pt18_pred() -> dict:
    return pt18_document(VIDEO, posetrack_frames(), "pred")


def pt17_gt() -> dict:
    return pt17_document(VIDEO, posetrack_frames(), "gt")


def pt17_pred() -> dict:
    return pt17_document(VIDEO, posetrack_frames(), "pred")


def pck_documents() -> tuple[dict, dict]:
    """A single-person JHMDB-joint GT video (as `vposebench convert` writes it) and its
    predictions."""
    from vposebench.formats import annotations_to_dict, predictions_to_dict
    from vposebench.skeleton import JHMDB
    from vposebench.structures import FrameGT, FramePred, PersonGT, PersonPred, VideoGT, VideoPred

    frames, preds = [], []
    for t in range(3):
        xy = _person(5.0 * t, 0.0)
        kps = np.concatenate([xy, np.ones((15, 1))], axis=1)
        box = np.array([xy[:, 0].min(), xy[:, 1].min(), xy[:, 0].max(), xy[:, 1].max()])
        name = f"Rename_Images/run/clip/{t + 1:05d}.png"
        frames.append(FrameGT(index=t, file_name=name, persons=[PersonGT(kps, track_id=0, box=box)]))
        guess = kps.copy()
        guess[:, :2] += 1.5
        guess[:, 2] = 0.9
        preds.append(FramePred(index=t, file_name=name,
                               persons=[PersonPred(guess, track_id=0, score=0.9, box=box)]))
    gt = annotations_to_dict(VideoGT(name="clip", skeleton=JHMDB, frames=frames))
    pred = predictions_to_dict(VideoPred(name="clip", skeleton=JHMDB, frames=preds))
    return gt, pred


# ----------------------------------------------------------------------------- other documents
def detections() -> list[dict]:
    """A COCO detections file for the box source: two boxes in one frame."""
    return [{"image_id": 10003420000, "category_id": 1, "bbox": [10.0, 20.0, 100.0, 200.0], "score": 0.9},
            {"image_id": 10003420000, "category_id": 1, "bbox": [300.0, 20.0, 80.0, 190.0], "score": 0.7}]


def record() -> dict:
    """A valid result record as `ResultsStore` writes it."""
    from helpers.record_fixtures import posetrack_record

    return posetrack_record("ptm", "PTM", 70.0, 60.0, tags=["ptm-table1"]).to_dict()


def malicious_pickle(marker: Path) -> bytes:
    """A pickle whose loading would run `touch marker` (os.system via __reduce__)."""
    class Payload:
        def __reduce__(self):
            return os.system, (f"touch {marker}",)

    return pickle.dumps({"format": "vposebench-checkpoint", "model": Payload()}, protocol=2)


# ----------------------------------------------------------------------------- dataset roots
def pt18_root(base: Path, *mutators: Mutator) -> tuple[Path, Path]:
    """A PoseTrack'18 root (annotations/val/<video>.json, no images): (root, file)."""
    root = base / "pt18"
    return root, write(root / "annotations/val" / f"{VIDEO}.json", pt18_gt(), *mutators)


def pt17_json_root(base: Path, *mutators: Mutator) -> tuple[Path, Path]:
    root = base / "pt17"
    path = root / "annotations/val" / f"{VIDEO}_relpath_5sec_testsub.json"
    return root, write(path, pt17_gt(), *mutators)


def pt17_mat_root(base: Path, *byte_mutators: Mutator, document: dict | None = None) -> tuple[Path, Path]:
    """A PoseTrack'17 root whose video is a ``.mat`` file (mutators act on its bytes)."""
    root = base / "pt17"
    path = root / "annotations/val" / f"{VIDEO}_relpath_5sec_testsub.mat"
    PT17.write_mat(path, document or PT17.document("bonn_5sec/000342_mpii", [f"{i:08d}.jpg" for i in range(1, 4)]))
    data = path.read_bytes()
    for mutate in byte_mutators:
        data = mutate(data)
    path.write_bytes(data)
    return root, path


def jhmdb_root(base: Path, *, pos_img: Any = None, mask: Any = None, frames: int = 4) -> Path:
    """A sub-JHMDB root with one test clip `run/clip` (no PNG folder); `pos_img` and `mask`
    replace the valid variables."""
    root = base / "jhmdb"
    valid = np.random.default_rng(0).uniform(20, 200, (2, 15, frames))
    Writers(base, base).jhmdb_clip(root, "run", "clip", valid if pos_img is None else pos_img,
                                   Writers.puppet_mask(valid) if mask is None else mask, pngs=0)
    Writers.jhmdb_split(root, "run", 1, {"clip": 2})
    return root


def jhmdb_files(root: Path) -> tuple[Path, Path, Path]:
    """(joint_positions.mat, puppet_mask.mat, split file) of `jhmdb_root`."""
    return (root / "joint_positions/run/clip/joint_positions.mat",
            root / "puppet_mask/run/clip/puppet_mask.mat",
            root / "sub_splits/run_test_split_1.txt")


def penn_root(base: Path, **overrides: Any) -> tuple[Path, Path]:
    """A Penn Action root with one test clip 0001: (root, label file)."""
    root = base / "penn"
    Writers.penn_label(root, "0001", nframes=6, overrides=overrides or None)
    return root, root / "labels/0001.mat"


def savemat(path: Path, variables: dict) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    scipy.io.savemat(path, variables)
    return path


def mutate_bytes(path: Path, *mutators: Mutator) -> Path:
    data = path.read_bytes()
    for mutate in mutators:
        data = mutate(data)
    path.write_bytes(data)
    return path


# ----------------------------------------------------------------------------- snapshots
def tree_snapshot(root: Path) -> dict[str, tuple]:
    """Every entry under `root`: kind, permissions and a content hash (for "nothing written")."""
    out = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            path = Path(dirpath) / name
            rel = str(path.relative_to(root))
            if path.is_symlink():
                out[rel] = ("link", os.readlink(path))
            elif path.is_dir():
                out[rel] = ("dir", path.stat().st_mode)
            else:
                out[rel] = ("file", path.stat().st_mode, hashlib.sha256(path.read_bytes()).hexdigest())
    return out
