"""The on-disk layouts the generator writes, in the real datasets' formats.

- PoseTrack'18: ``annotations/{train,val}/<video>.json`` (PT18 JSON), frames
  ``images/{train,val}/<video>/%06d.jpg`` (0-based), plus the occlusion side files
  ``occlusion/{train,val}/<video>.json`` (format in `truth.py`) and the degradation side files
  ``degradation/{train,val}/<video>.json`` (format in `degradation.py`).
- JHMDB-style (under ``jhmdb/``): ``Rename_Images/<action>/<clip>/%05d.png`` (1-based),
  ``joint_positions/<action>/<clip>/joint_positions.mat`` (``pos_img``, ``pos_world``),
  ``puppet_mask/<action>/<clip>/puppet_mask.mat`` (``part_mask``),
  ``sub_splits/<action>_test_split_<k>.txt``, ``degradation/<clip>.json``.
- Penn-Action-style (under ``penn_action/``): ``frames/%04d/%06d.jpg`` (1-based),
  ``labels/%04d.mat``, ``degradation/%04d.json``.

Every file goes through `vposebench.atomic`; frames and MAT files are written without a
per-file fsync because the generator builds the whole root in an `atomic_directory` staging
folder that is synced once and renamed into place. MAT files are written with `scipy.io.savemat`,
whose header normally carries the creation time; the header text is replaced by a fixed one so
that the same seed gives the same bytes.
"""

from __future__ import annotations

import io
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import scipy.io

from vposebench.atomic import atomic_write, write_json
from vposebench.formats import write_annotations

from .degradation import degradation_file
from .truth import VideoTruth, occlusion_document

PathLike = str | os.PathLike[str]
SPLITS = ("train", "val")
MAT_HEADER = b"MATLAB 5.0 MAT-file, written by vposebench's synthetic benchmark generator"
_MAT_HEADER_BYTES = 116  # the description field of a MAT 5 header


def write_bytes(path: PathLike, data: bytes) -> None:
    """Write a file inside the generator's staging folder (synced once as a whole, see module doc)."""
    with atomic_write(path, "wb", durable=False) as handle:
        handle.write(data)


def encode_image(rgb: np.ndarray, ext: str, *, jpeg_quality: int = 90) -> bytes:
    """JPEG or PNG bytes of an RGB image (OpenCV encoders, deterministic for fixed parameters)."""
    bgr = cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR)
    params = [cv2.IMWRITE_JPEG_QUALITY, jpeg_quality] if ext == ".jpg" else [cv2.IMWRITE_PNG_COMPRESSION, 3]
    ok, buf = cv2.imencode(ext, bgr, params)
    if not ok:  # pragma: no cover - OpenCV failure
        raise RuntimeError(f"could not encode a {ext} image")
    return buf.tobytes()


def write_image(path: PathLike, rgb: np.ndarray, *, jpeg_quality: int = 90) -> None:
    write_bytes(path, encode_image(rgb, Path(path).suffix.lower(), jpeg_quality=jpeg_quality))


def mat_bytes(variables: Mapping[str, Any]) -> bytes:
    """A MAT 5 file (`scipy.io.savemat`) with a fixed header text instead of the creation time."""
    buf = io.BytesIO()
    scipy.io.savemat(buf, dict(variables), do_compression=False, oned_as="row")
    data = bytearray(buf.getvalue())
    data[:_MAT_HEADER_BYTES] = MAT_HEADER.ljust(_MAT_HEADER_BYTES, b" ")
    return bytes(data)


def write_mat(path: PathLike, variables: Mapping[str, Any]) -> None:
    write_bytes(path, mat_bytes(variables))


# ----------------------------------------------------------------------------- PoseTrack'18
def posetrack_image(split: str, video: str, index: int) -> str:
    """`file_name` of a frame, relative to the root (0-based, 6 digits)."""
    return f"images/{split}/{video}/{index:06d}.jpg"


def posetrack_annotation(root: PathLike, split: str, video: str) -> Path:
    return Path(root) / "annotations" / split / f"{video}.json"


def occlusion_file(root: PathLike, split: str, video: str) -> Path:
    return Path(root) / "occlusion" / split / f"{video}.json"


def write_posetrack_video(root: PathLike, split: str, truth: VideoTruth, degradation: dict) -> None:
    """The annotation file and the occlusion and degradation side files of one video (frames
    are written as rendered); `degradation` is the degradation side file's document."""
    write_annotations(truth.video, posetrack_annotation(root, split, truth.video.name))
    write_json(occlusion_file(root, split, truth.video.name), occlusion_document(truth), indent=None)
    write_side_file(degradation_file(root, truth.video.name, split), degradation)


def write_side_file(path: PathLike, document: dict) -> None:
    """A side file (compact JSON) inside the generator's staging folder."""
    write_json(path, document, indent=None)


# ----------------------------------------------------------------------------- JHMDB
def jhmdb_frame(root: PathLike, action: str, clip: str, index: int) -> Path:
    """Frame `index` (0-based) of a clip: ``Rename_Images/<action>/<clip>/%05d.png``, 1-based."""
    return Path(root) / "Rename_Images" / action / clip / f"{index + 1:05d}.png"


def write_jhmdb_clip(root: PathLike, action: str, clip: str, joints: np.ndarray, masks: np.ndarray) -> None:
    """`joints` (T, 15, 2) 0-based image pixels in JHMDB order; `masks` (T, H, W) {0, 1}.

    ``pos_img`` is (2, 15, T) in MATLAB's 1-based pixel coordinates (x + 1, y + 1), the
    convention mmpose undoes by subtracting 1. ``pos_world`` is the same points centred on
    their mean and divided by the body extent, like JHMDB's normalised puppet frame.
    """
    root = Path(root)
    pos_img = np.transpose(joints + 1.0, (2, 1, 0)).astype(np.float64)
    centred = joints - joints.mean(axis=1, keepdims=True)
    extent = np.maximum(np.ptp(joints[..., 1], axis=1), 1.0)[:, None, None]
    pos_world = np.transpose(centred / extent * [1.0, -1.0], (2, 1, 0)).astype(np.float64)
    write_mat(root / "joint_positions" / action / clip / "joint_positions.mat",
              {"pos_img": pos_img, "pos_world": pos_world})
    part_mask = np.ascontiguousarray(np.transpose(masks, (1, 2, 0)).astype(np.uint8))
    write_mat(root / "puppet_mask" / action / clip / "puppet_mask.mat", {"part_mask": part_mask})


def jhmdb_split_flag(index: int, split: int) -> int:
    """1 (train) or 2 (test) for JHMDB-style clip number `index` (0-based, over all clips) in
    split `split` (1..3).

    Clip i is a test clip in split (i mod 3) + 1: every clip is tested in exactly one split,
    and each split tests about a third of the clips however few clips an action has.
    """
    return 2 if index % 3 == split - 1 else 1


def write_jhmdb_splits(root: PathLike, clips_by_action: Mapping[str, list[tuple[str, int]]]) -> None:
    """``sub_splits/<action>_test_split_<k>.txt`` with lines ``<clip>.avi <1|2>`` for k = 1, 2, 3;
    `clips_by_action` maps an action to its (clip name, clip number) pairs."""
    for action, clips in sorted(clips_by_action.items()):
        for k in (1, 2, 3):
            lines = [f"{clip}.avi {jhmdb_split_flag(index, k)}\n" for clip, index in clips]
            with atomic_write(Path(root) / "sub_splits" / f"{action}_test_split_{k}.txt",
                              durable=False) as handle:
                handle.write("".join(lines))


# ----------------------------------------------------------------------------- Penn Action
def penn_frame(root: PathLike, clip: int, index: int) -> Path:
    """Frame `index` (0-based) of clip number `clip`: ``frames/%04d/%06d.jpg``, 1-based."""
    return Path(root) / "frames" / f"{clip:04d}" / f"{index + 1:06d}.jpg"


def write_penn_label(root: PathLike, clip: int, *, joints: np.ndarray, visible: np.ndarray,
                     boxes: np.ndarray, size: tuple[int, int], train: bool, action: str, pose: str) -> None:
    """``labels/%04d.mat``: `joints` (T, 13, 2) image pixels, `visible` (T, 13), `boxes` (T, 4) xyxy."""
    t = len(joints)
    height, width = size
    write_mat(Path(root) / "labels" / f"{clip:04d}.mat", {
        "action": action,
        "pose": pose,
        "x": joints[..., 0].astype(np.float64),
        "y": joints[..., 1].astype(np.float64),
        "visibility": visible.astype(np.uint8),
        "bbox": boxes.astype(np.float64),
        "dimensions": np.array([[height, width, t]], dtype=np.uint16),
        "nframes": np.array([[t]], dtype=np.uint8 if t < 256 else np.uint16),
        "train": np.array([[1 if train else -1]], dtype=np.int32),
    })
