"""The single-person layouts load with scipy and follow dataset-formats.md to the letter."""

import re

import cv2
import numpy as np
import scipy.io

from vposebench.datasets.synthetic import read_manifest
from vposebench.datasets.synthetic.writer import MAT_HEADER, mat_bytes


def _load(path):
    return {k: v for k, v in scipy.io.loadmat(path).items() if not k.startswith("__")}


def _signature(mat: dict) -> dict:
    return {k: (v.dtype.kind, v.ndim) for k, v in mat.items()}


def test_jhmdb_layout(tiny_root, samples_dir):
    root = tiny_root / "jhmdb"
    clips = [c for c in read_manifest(tiny_root).clips if c.layout == "jhmdb"]
    assert len(clips) == 4
    real = _load(next((samples_dir / "jhmdb/joint_positions").rglob("joint_positions.mat")))
    for clip in clips:
        joints = _load(root / "joint_positions" / clip.action / clip.name / "joint_positions.mat")
        assert _signature(joints) == _signature(real)  # pos_img and pos_world, float64, 3-D
        pos = joints["pos_img"]
        t = pos.shape[2]
        assert pos.shape == (2, 15, t) and pos.dtype == np.float64 and t == clip.frames
        mask = _load(root / "puppet_mask" / clip.action / clip.name / "puppet_mask.mat")["part_mask"]
        assert mask.shape == (240, 320, t) and mask.dtype == np.uint8 and set(np.unique(mask)) == {0, 1}
        assert mask.reshape(-1, t).any(axis=0).all()  # no empty frame
        # 1-based MATLAB coordinates: subtracting 1 puts every joint on the puppet silhouette
        x0, y0 = np.floor(pos[0] - 1 + 0.5).astype(int), np.floor(pos[1] - 1 + 0.5).astype(int)
        assert (x0 >= 0).all() and (x0 < 320).all() and (y0 >= 0).all() and (y0 < 240).all()
        assert mask[y0, x0, np.arange(t)[None, :].repeat(15, 0)].all()
        frames = sorted((root / "Rename_Images" / clip.action / clip.name).iterdir())
        assert [f.name for f in frames] == [f"{i:05d}.png" for i in range(1, t + 1)]
        assert cv2.imread(str(frames[0])).shape == (240, 320, 3)
        # head above neck above belly above the hips (image y grows downwards), as in the real sample
        neck, belly, head = pos[1, 0], pos[1, 1], pos[1, 2]
        hips = pos[1, [5, 6]].mean(axis=0)
        assert (head < neck).all() and (neck < belly).all() and (belly < hips).all()


def test_jhmdb_split_files(tiny_root):
    root = tiny_root / "jhmdb" / "sub_splits"
    clips = {c.name: c for c in read_manifest(tiny_root).clips if c.layout == "jhmdb"}
    actions = sorted({c.action for c in clips.values()})
    assert sorted(p.name for p in root.iterdir()) == sorted(
        f"{a}_test_split_{k}.txt" for a in actions for k in (1, 2, 3))
    tested = dict.fromkeys(clips, 0)
    for path in root.iterdir():
        action, split = re.fullmatch(r"(.+)_test_split_(\d)\.txt", path.name).groups()
        text = path.read_text()
        assert text.endswith("\n") and "\r" not in text
        for line in text.splitlines():
            clip, flag = line.split(" ")
            assert clip.endswith(".avi") and flag in ("1", "2")
            entry = clips[clip[:-4]]
            assert entry.action == action
            assert entry.split[split] == ("test" if flag == "2" else "train")
            tested[entry.name] += flag == "2"
    assert set(tested.values()) == {1}  # every clip is a test clip in exactly one of the 3 splits
    for k in "123":  # every split trains on some clips, however the actions are spread
        assert sum(c.split[k] == "train" for c in clips.values()) >= len(clips) // 3


def test_single_clip_actions_still_leave_training_clips():
    from vposebench.datasets.synthetic.writer import jhmdb_split_flag

    flags = [[jhmdb_split_flag(i, k) for i in range(6)] for k in (1, 2, 3)]
    assert flags == [[2, 1, 1, 2, 1, 1], [1, 2, 1, 1, 2, 1], [1, 1, 2, 1, 1, 2]]


def test_penn_layout(tiny_root, samples_dir):
    root = tiny_root / "penn_action"
    clips = [c for c in read_manifest(tiny_root).clips if c.layout == "penn_action"]
    real = _load(samples_dir / "penn_action/labels/0001.mat")
    assert [c.name for c in clips] == ["0001", "0002", "0003", "0004"]
    for clip in clips:
        mat = _load(root / "labels" / f"{clip.name}.mat")
        assert set(mat) == set(real) and _signature(mat) == _signature(real)
        t = clip.frames
        assert mat["x"].shape == mat["y"].shape == mat["visibility"].shape == (t, 13)
        assert mat["x"].dtype == np.float64 and mat["visibility"].dtype == np.uint8
        assert set(np.unique(mat["visibility"])) <= {0, 1}
        assert mat["bbox"].shape == (t, 4) and mat["bbox"].dtype == np.float64
        x1, y1, x2, y2 = mat["bbox"].T
        assert (x2 > x1).all() and (y2 > y1).all()  # corners, not xywh
        vis = mat["visibility"] == 1
        assert ((mat["x"] >= x1[:, None]) & (mat["x"] <= x2[:, None]))[vis].all()
        assert ((mat["y"] >= y1[:, None]) & (mat["y"] <= y2[:, None]))[vis].all()
        assert mat["dimensions"].tolist() == [[240, 320, t]] and mat["dimensions"].dtype == np.uint16
        assert mat["nframes"].tolist() == [[t]]
        assert mat["train"].dtype == np.int32 and mat["train"].item() == (1 if clip.split["penn"] == "train" else -1)
        assert str(mat["action"][0]) == clip.action and str(mat["pose"][0]) in ("front", "back", "left", "right")
        frames = sorted((root / "frames" / clip.name).iterdir())
        assert [f.name for f in frames] == [f"{i:06d}.jpg" for i in range(1, t + 1)]
    occluded = [c for c in clips if c.profile == "occlusion"]
    assert occluded and any((_load(root / "labels" / f"{c.name}.mat")["visibility"] == 0).any() for c in occluded)


def test_mat_files_carry_no_timestamp():
    data = mat_bytes({"a": np.arange(3.0)})
    assert data.startswith(MAT_HEADER) and data == mat_bytes({"a": np.arange(3.0)})
