"""The posetrack21 adapter on real-layout PoseTrack21 files (the HOTA conformance cases' GT) and `convert`."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from vposebench import cli
from vposebench.boxes import xywh_to_xyxy
from vposebench.errors import UserError
from vposebench.metrics.hota import HOTAMetric
from vposebench.registry import DATASETS
from vposebench.skeleton import POSETRACK18

CASES = Path(__file__).resolve().parents[1] / "data" / "conformance" / "hota" / "cases"


def _root(tmp_path: Path, case: str, folder: str = "posetrack_data/val") -> Path:
    root = tmp_path / "PoseTrack21"
    shutil.copytree(CASES / case / "gt", root / folder)
    return root


def test_registered():
    assert DATASETS.get("posetrack21").skeleton is POSETRACK18


@pytest.mark.parametrize("folder", ["posetrack_data/val", "posetrack_data/annotations/val"])
def test_reads_every_field_of_the_files(tmp_path, folder):
    root = _root(tmp_path, "v02_ignore_empty", folder)
    dataset = DATASETS.get("posetrack21")(root)
    assert dataset.split == "val" and dataset.video_names() == ["000021_synth_val", "000022_synth_val"]
    for video in dataset:
        raw = json.loads((root / folder / f"{video.name}.json").read_text())
        assert len(video.frames) == len(raw["images"]) and video.meta["split"] == "val"
        anns = iter(raw["annotations"])
        for frame, image, ids in zip(video.frames, raw["images"], video.meta["person_ids"]):
            assert frame.is_labeled == image["is_labeled"] and frame.frame_id == image["id"]
            assert frame.image_path == root / image["file_name"]
            for polygon, xs, ys in zip(frame.ignore_regions, image["ignore_regions_x"], image["ignore_regions_y"]):
                np.testing.assert_array_equal(polygon, np.column_stack([xs, ys]))
            assert len(frame.ignore_regions) == len(image["ignore_regions_x"])
            for person, person_id in zip(frame.persons, ids):
                ann = next(anns)
                assert ann["image_id"] == image["id"] and person_id == ann["person_id"]
                assert person.track_id == ann["track_id"]
                np.testing.assert_array_equal(person.keypoints, np.reshape(ann["keypoints"], (17, 3)))
                np.testing.assert_allclose(person.head_box, xywh_to_xyxy(np.array(ann["bbox_head"])))
                np.testing.assert_allclose(person.box, xywh_to_xyxy(np.array(ann["bbox"])))
        assert next(anns, None) is None
    description = dataset.describe()
    assert description.videos == 2 and description.fingerprint.startswith("sha256:")


def test_convert_keeps_what_hota_reads(tmp_path, capsys):
    """GT converted by `vposebench convert` scores exactly like the original files."""
    case = CASES / "v03_mixed"
    root = _root(tmp_path, "v03_mixed")
    out = tmp_path / "converted"
    assert cli.main(["convert", "--dataset", "posetrack21", "--root", str(root), "--out", str(out)]) == 0
    assert "posetrack21 val: 3 videos" in capsys.readouterr().out
    original = HOTAMetric().evaluate(case / "gt", case / "pred").values()
    converted = HOTAMetric().evaluate(out, case / "pred").values()
    for key, value in original.items():
        np.testing.assert_array_equal(converted[key], value, err_msg=key)


def test_bad_input_is_one_line(tmp_path, capsys):
    root = _root(tmp_path, "v01_basic")
    path = root / "posetrack_data/val/000011_synth_val.json"
    doc = json.loads(path.read_text())
    doc["annotations"][3]["person_id"] = "7"
    path.write_text(json.dumps(doc))
    assert cli.main(["convert", "--dataset", "posetrack21", "--root", str(root), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "annotations[3].person_id: expected an integer, got '7'" in err
    assert not (tmp_path / "o").exists()
    with pytest.raises(UserError, match="expected one of posetrack_data/train/, posetrack_data/annotations/train/"):
        DATASETS.get("posetrack21")(root, "train")
    with pytest.raises(UserError, match="unknown split 'test'"):
        DATASETS.get("posetrack21")(root, "test")
