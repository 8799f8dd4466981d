"""Writers of small datasets in the real on-disk layouts, for the adapter tests.

Everything written here is SYNTHETIC (made for the tests) except where a function copies a
real file from the samples (``tests/data/samples``, copies of ``../shared/samples``). The layouts,
variable names, dtypes and quirks follow ``../shared/docs/dataset-formats.md``.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import cv2
import numpy as np
import pytest
import scipy.io

from vposebench.formats import load_json


class PT17:
    """SYNTHETIC PoseTrack'17 annotation builders (no real PT17 file exists to copy)."""

    @staticmethod
    def point(joint: int, x: float, y: float) -> dict:
        return {"id": [joint], "x": [x], "y": [y], "is_visible": [1]}

    @staticmethod
    def document(folder: str, names: list[str], seed: int = 0) -> dict:
        """A SYNTHETIC PoseTrack'17 ground-truth video in the annolist layout.

        Frame 0: two persons (one fully annotated, one with a single point); frame 1: unlabeled;
        frame 2: one person and an ignore polygon; further frames: unlabeled.
        """
        rng = np.random.default_rng(seed)
        frames = []
        for i, name in enumerate(names):
            rects = []
            if i == 0:
                rects.append({"x1": [100.0], "y1": [50.0], "x2": [130.0], "y2": [90.0], "track_id": [0],
                              "annopoints": [{"point": [PT17.point(j, *rng.uniform(50, 400, 2).round(2))
                                                        for j in range(15)]}]})
                rects.append({"x1": [300.0], "y1": [60.0], "x2": [320.0], "y2": [85.0], "track_id": [3],
                              "annopoints": [{"point": [PT17.point(13, 310.5, 70.25)]}]})
            if i == 2:
                rects.append({"x1": [110.0], "y1": [55.0], "x2": [140.0], "y2": [95.0], "track_id": [0],
                              "annopoints": [{"point": [PT17.point(j, *rng.uniform(50, 400, 2).round(2))
                                                        for j in (0, 5, 9, 12, 13, 14)]}]})
            frame = {"image": [{"name": f"images/{folder}/{name}"}], "imgnum": [i + 1],
                     "is_labeled": [1 if rects else 0], "annorect": rects}
            if i == 2:
                frame["ignore_regions"] = [{"point": [{"x": [0.0], "y": [0.0]}, {"x": [40.0], "y": [0.0]},
                                                      {"x": [40.0], "y": [30.0]}]}]
            frames.append(frame)
        return {"annolist": frames}

    @staticmethod
    def unwrap(value):
        while isinstance(value, list) and len(value) == 1 and not isinstance(value[0], dict):
            value = value[0]
        return value

    @staticmethod
    def struct_array(records: list[dict]) -> np.ndarray:
        """A 1 x N MATLAB struct array for savemat (fields missing in a record are left empty)."""
        keys = list(dict.fromkeys(k for r in records for k in r))
        arr = np.zeros((1, len(records)), dtype=[(k, "O") for k in keys])
        for i, record in enumerate(records):
            for key in keys:
                arr[0, i][key] = record.get(key, np.zeros((0, 0)))
        return arr

    @staticmethod
    def to_mat_value(value):
        """The JSON annolist value as MATLAB would store it (struct arrays, scalars, [] for none)."""
        if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
            return PT17.struct_array([{k: PT17.to_mat_value(v) for k, v in item.items()} for item in value])
        if isinstance(value, list) and not value:
            return np.zeros((0, 0))
        return PT17.unwrap(value)

    @staticmethod
    def write_mat(path: Path, document: dict) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        scipy.io.savemat(path, {"annolist": PT17.to_mat_value(document["annolist"])})
        return path


class Writers:
    """Builders of dataset roots; one instance per test (its own tmp folder)."""

    pt17 = PT17

    def __init__(self, tmp: Path, samples: Path) -> None:
        self.tmp = tmp
        self.samples = samples

    # ------------------------------------------------------------------ images
    @staticmethod
    def image(path: Path, width: int = 32, height: int = 24, value: int = 0) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        assert cv2.imwrite(str(path), np.full((height, width, 3), value, np.uint8))

    # ------------------------------------------------------------------ JHMDB
    def jhmdb_clip(self, root: Path, action: str, clip: str, pos_img: np.ndarray, mask: np.ndarray, *,
                   pngs: int | None = None, real_pngs: list[Path] = (), scale: np.ndarray | None = None,
                   viewpoint: str | None = None) -> None:
        """joint_positions.mat (pos_img as given: 1-based), puppet_mask.mat and `pngs` frames."""
        joints = {"pos_img": pos_img, "pos_world": np.zeros_like(pos_img)}
        if scale is not None:
            joints["scale"] = scale
        if viewpoint is not None:
            joints["viewpoint"] = viewpoint
        (root / "joint_positions" / action / clip).mkdir(parents=True, exist_ok=True)
        scipy.io.savemat(root / "joint_positions" / action / clip / "joint_positions.mat", joints)
        (root / "puppet_mask" / action / clip).mkdir(parents=True, exist_ok=True)
        scipy.io.savemat(root / "puppet_mask" / action / clip / "puppet_mask.mat",
                         {"part_mask": mask.astype(np.uint8)}, do_compression=True)
        count = pos_img.shape[2] if pngs is None else pngs
        folder = root / "Rename_Images" / action / clip
        for t in range(count):
            target = folder / f"{t + 1:05d}.png"
            if t < len(real_pngs):
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(real_pngs[t], target)
            else:
                self.image(target, 320, 240, value=t)

    @staticmethod
    def jhmdb_split(root: Path, action: str, fold: int, flags: dict[str, int], *, full: bool = False,
                    line_end: str = "\n") -> Path:
        folder, name = ("splits", f"{action}_test_split{fold}.txt") if full else \
            ("sub_splits", f"{action}_test_split_{fold}.txt")
        path = root / folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("".join(f"{clip}.avi {flag} {line_end}" for clip, flag in flags.items()),
                        newline="")
        return path

    @staticmethod
    def puppet_mask(pos_img: np.ndarray, box0: list[tuple[int, int, int, int]] | None = None,
                    shape: tuple[int, int] = (240, 320)) -> np.ndarray:
        """A (H, W, T) silhouette: thick limbs through the joints (pos_img - 1).

        With `box0` (per frame: xmin, ymin, xmax, ymax, 0-based inclusive), the silhouette is
        clipped to the box and touches all four sides, so its extent is exactly the box.
        """
        from vposebench.skeleton import JHMDB

        count = pos_img.shape[2]
        mask = np.zeros((*shape, count), np.uint8)
        for t in range(count):
            frame = np.zeros(shape, np.uint8)
            pts = np.round(pos_img[:, :, t].T - 1).astype(int)
            for a, b in JHMDB.limbs:
                cv2.line(frame, tuple(pts[a]), tuple(pts[b]), 1, thickness=7)
            if box0 is not None:
                x0, y0, x1, y1 = box0[t]
                clipped = np.zeros_like(frame)
                clipped[y0:y1 + 1, x0:x1 + 1] = frame[y0:y1 + 1, x0:x1 + 1]
                cx, cy = (x0 + x1) // 2, (y0 + y1) // 2
                clipped[y0, cx] = clipped[y1, cx] = clipped[cy, x0] = clipped[cy, x1] = 1
                frame = clipped
            mask[:, :, t] = frame
        return mask

    def mmpose_jhmdb_root(self) -> tuple[Path, dict]:
        """The three clips of mmpose's JHMDB test json, rebuilt in the real layout.

        pos_img frame 1 is mmpose's keypoints (raw 1-based puppet coordinates); frames 2 and 3
        move them by a few pixels. The masks are silhouettes whose extent is mmpose's bbox minus
        1 (its 1-based xywh -> 0-based pixel indices), so the adapter's box can be checked
        against the file. Frame 1 is the real PNG; the others are synthetic.
        """
        doc = json.loads((self.samples / "jhmdb/mmpose_coco/test_jhmdb_sub1.json").read_text())
        root = self.tmp / "jhmdb_mmpose"
        flags = {}
        for image, ann in zip(doc["images"], doc["annotations"]):
            clip = image["file_name"].split("/")[0]
            kps = np.asarray(ann["keypoints"], float).reshape(15, 3)[:, :2]
            shifts = [(0, 0), (2, 1), (-1, 3)]
            pos = np.stack([(kps + s).T for s in shifts], axis=2)
            x, y, w, h = (int(v) for v in ann["bbox"])
            box0 = [(x - 1 + dx, y - 1 + dy, x - 1 + w - 1 + dx, y - 1 + h - 1 + dy) for dx, dy in shifts]
            real = self.samples / "jhmdb/Rename_Images/catch" / clip / "00001.png"
            self.jhmdb_clip(root, "catch", clip, pos, self.puppet_mask(pos, box0), real_pngs=[real])
            flags[clip] = 2
        self.jhmdb_split(root, "catch", 1, flags)
        self.jhmdb_split(root, "catch", 2, dict.fromkeys(flags, 1))
        return root, doc

    # ------------------------------------------------------------------ Penn Action
    @staticmethod
    def penn_label(root: Path, clip: str, *, nframes: int = 6, train: int = -1, seed: int = 0,
                   dtype: str = "float64", bbox_rows: int | None = None, degenerate: int | None = None,
                   overrides: dict | None = None) -> dict:
        """labels/<clip>.mat with Penn's variables; returns what was written (before savemat)."""
        rng = np.random.default_rng(seed)
        x = rng.uniform(20, 200, (nframes, 13))
        y = rng.uniform(20, 150, (nframes, 13))
        if dtype != "float64":
            x, y = np.round(x).astype(dtype), np.round(y).astype(dtype)
        vis = (rng.random((nframes, 13)) < 0.8).astype(np.uint8)
        bbox = np.stack([x.min(1) - 5.0, y.min(1) - 5.0, x.max(1) + 5.0, y.max(1) + 5.0], axis=1)
        if degenerate is not None:
            bbox[degenerate] = [0.75, 0.75, 0, 0]
        bbox = bbox[: nframes if bbox_rows is None else bbox_rows]
        data = {
            "action": np.array(["tennis_serve"]), "pose": np.array(["front"]), "x": x, "y": y,
            "visibility": vis, "train": np.array([[train]], np.int32),
            "bbox": bbox.astype(dtype) if dtype != "float64" else bbox,
            "dimensions": np.array([[240, 320, nframes]], np.uint16),
            "nframes": np.array([[nframes]], np.uint8 if nframes < 256 else np.uint16),
        }
        data.update(overrides or {})
        (root / "labels").mkdir(parents=True, exist_ok=True)
        scipy.io.savemat(root / "labels" / f"{clip}.mat", data)
        return data

    def penn_frames(self, root: Path, clip: str, count: int) -> None:
        for t in range(count):
            self.image(root / "frames" / clip / f"{t + 1:06d}.jpg")

    # ------------------------------------------------------------------ PoseTrack
    def posetrack18_root(self, *, official: bool = False) -> Path:
        """The three real PT18 sample videos (and their frames) in a fresh root."""
        root = self.tmp / "pt18"
        base = root / "posetrack_data" if official else root
        shutil.copytree(self.samples / "posetrack18/annotations/val", base / "annotations/val")
        shutil.copytree(self.samples / "posetrack18/images", base / "images")
        return root

    @staticmethod
    def write_json(path: Path, doc: dict) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(doc))
        return path

    def pt18_video(self, frames: int = 5, labeled: tuple[int, ...] = (0, 2, 4)) -> dict:
        """A PT18 document with `frames` frames built around the real 009473 sample frame:
        labeled frames carry its two persons (shifted), the others are unlabeled and empty."""
        sample = load_json(self.samples / "posetrack18/annotations/val/009473_mpii_test.json")
        image0 = sample["images"][0]
        images, annotations = [], []
        for f in range(frames):
            frame_id = image0["frame_id"] + f
            image = {**image0, "id": frame_id, "frame_id": frame_id, "is_labeled": f in labeled,
                     "file_name": f"images/val/009473_mpii_test/{f:06d}.jpg"}
            if f not in labeled:
                image.update(ignore_regions_x=[], ignore_regions_y=[])
            images.append(image)
            for k, ann in enumerate(sample["annotations"] if f in labeled else []):
                kps = [v + f if i % 3 != 2 and v else v for i, v in enumerate(ann["keypoints"])]
                annotations.append({**ann, "keypoints": kps, "image_id": frame_id, "id": frame_id * 100 + k})
        return {"images": images, "annotations": annotations, "categories": sample["categories"]}


@pytest.fixture
def writers(tmp_path: Path, samples_dir: Path) -> Writers:
    return Writers(tmp_path, samples_dir)


@pytest.fixture
def pt17_root(tmp_path: Path) -> Path:
    """SYNTHETIC PoseTrack'17 val split: two JSON videos (one with irregular frame names) and
    one .mat video, under posetrack_data/annotations/val/ as in the official archive."""
    root = tmp_path / "pt17"
    ann = root / "posetrack_data/annotations/val"
    regular = PT17.document("bonn_mpii_test_5sec/000342_mpii", [f"{i:08d}.jpg" for i in range(1, 5)])
    Writers.write_json(ann / "000342_mpii_relpath_5sec_testsub.json", regular)
    odd = PT17.document("mpii_5sec/00044_mpii", [f"00{i:02d}_crop.jpg" for i in range(1, 4)], seed=1)
    Writers.write_json(ann / "00044_mpii_step1_relpath_5sec_testsub.json", odd)
    mat = PT17.document("bonn_5sec/000001_bonn", [f"{i:08d}.jpg" for i in range(1, 4)], seed=2)
    PT17.write_mat(ann / "000001_bonn_relpath_5sec_testsub.mat", mat)
    return root
