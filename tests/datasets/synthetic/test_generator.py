import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from vposebench.datasets.synthetic import generate, generator, read_manifest
from vposebench.datasets.synthetic.degradation import read_degradation
from vposebench.datasets.synthetic.generator import label_mask, make_video, video_name
from vposebench.datasets.synthetic.scene import frame_times
from vposebench.datasets.synthetic.truth import read_occlusion
from vposebench.errors import UserError
from vposebench.formats import read_annotations


def _tree(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_same_seed_gives_identical_bytes_whatever_the_worker_count(tmp_path, small_config):
    config = small_config(seed=3, burst_rate=0.6, burst_gap=0)  # bursts in every layout
    generate(tmp_path / "a", config, workers=1)
    generate(tmp_path / "b", config, workers=2)
    a, b = _tree(tmp_path / "a"), _tree(tmp_path / "b")
    assert a.keys() == b.keys() and len(a) > 20
    assert [k for k in a if a[k] != b[k]] == []
    sides = [json.loads(v) for k, v in a.items() if "degradation/" in k]
    assert len(sides) == 5 and all(doc["episodes"] for doc in sides)
    generate(tmp_path / "c", small_config(seed=4), workers=1)
    c = _tree(tmp_path / "c")
    assert any(c.get(k) != v for k, v in a.items() if k.endswith(".json") and "annotations" in k)


def test_the_root_is_a_cache_keyed_by_the_config(tmp_path, small_config):
    root = tmp_path / "root"
    config = small_config()
    first = generate(root, config, workers=1)
    stamp = (root / "synthetic.json").stat().st_mtime_ns
    again = generate(root, config, workers=1)
    assert again.config_hash == first.config_hash and (root / "synthetic.json").stat().st_mtime_ns == stamp
    other = generate(root, small_config(seed=99), workers=1)  # another config replaces the root
    assert other.config_hash != first.config_hash == config.config_hash()
    assert read_manifest(root).config_hash == other.config_hash
    generate(root, small_config(seed=99), workers=1, force=True)
    assert [p.name for p in tmp_path.iterdir()] == ["root"]  # no staging folders left behind


def test_refuses_to_replace_a_folder_it_did_not_make(tmp_path, small_config):
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "thesis.tex").write_text("precious")
    with pytest.raises(UserError, match="not a generated synthetic root"):
        generate(tmp_path / "mine", small_config())
    assert (tmp_path / "mine" / "thesis.tex").read_text() == "precious"
    (tmp_path / "file").write_text("x")
    with pytest.raises(UserError, match="not a folder"):
        generate(tmp_path / "file", small_config())
    (tmp_path / "empty").mkdir()
    generate(tmp_path / "empty", small_config(), workers=1)  # an empty folder is fine
    assert (tmp_path / "empty" / "synthetic.json").is_file()


def test_an_interrupted_generation_leaves_nothing_behind(tmp_path, small_config, monkeypatch):
    def boom(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(generator, "make_penn_clip", boom)  # the last job
    with pytest.raises(KeyboardInterrupt):
        generate(tmp_path / "root", small_config(), workers=1)
    assert list(tmp_path.iterdir()) == []


def test_posetrack_files_read_back_exactly(tmp_path, small_config):
    config = small_config(label_pattern="posetrack", frames=40)
    truth, scene, bursts = make_video(tmp_path, config, "val", 2, "occlusion")
    name = video_name("val", 2)
    assert name == "900003_mpiinew_test" and truth.video.name == name
    video = read_annotations(tmp_path / "annotations/val" / f"{name}.json", root=tmp_path)
    back = read_occlusion(tmp_path / "occlusion/val" / f"{name}.json", video)
    read_degradation(tmp_path / "degradation/val" / f"{name}.json", video)
    assert video.meta["vid_id"] == "900003" and len(video.frames) == 40
    np.testing.assert_array_equal([f.is_labeled for f in video.frames], label_mask(40, "val", "posetrack"))
    persons = 0
    for mine, read in zip(truth.video.frames, video.frames):
        assert (mine.file_name, mine.frame_id, mine.is_labeled) == (read.file_name, read.frame_id, read.is_labeled)
        assert read.frame_id == 3 * 10**10 + 900003 * 10**4 + mine.index
        assert read.image_path.is_file()
        assert len(mine.persons) == len(read.persons)
        for a, b in zip(mine.persons, read.persons):
            persons += 1
            assert a.track_id == b.track_id
            np.testing.assert_array_equal(a.keypoints, b.keypoints)  # bit-exact through JSON
            np.testing.assert_allclose(a.box, b.box, rtol=0, atol=1e-9)  # xyxy -> xywh -> xyxy
            np.testing.assert_array_equal(a.head_box, b.head_box)
            np.testing.assert_array_equal(a.occluded, b.occluded)
            assert (a.degradation, a.burst_position) == (b.degradation, b.burst_position)
    assert persons > 20
    assert bursts and any(p.degradation for f in video for p in f.persons)
    for mine, read in zip(truth.codes, back.codes):
        assert all((x == y).all() for x, y in zip(mine, read))
    def flat(nested: list[list[float]]) -> list[float]:
        return [h for frame in nested for h in frame]

    assert flat(back.heights) == pytest.approx(flat(truth.heights), abs=1e-3)


def test_written_frames_are_the_annotated_ones(tmp_path, small_config):
    """Frame f on disk matches frame f as rendered (JPEG-close), not its neighbours."""
    config = small_config(frames=6, noise=0.0)
    _, _, bursts = make_video(tmp_path, config, "train", 0, "fast")
    renderer = generator._renderer(
        generator.sample_scene(generator._rng(config, "train", 0), "fast", generator.PROFILES["fast"], config, 6),
        config, 6, bursts)
    assert len(renderer) == len(frame_times(6, 1))
    name = video_name("train", 0)
    for f in range(6):
        disk = cv2.cvtColor(cv2.imread(str(tmp_path / "images/train" / name / f"{f:06d}.jpg")), cv2.COLOR_BGR2RGB)
        errors = [np.abs(disk.astype(float) - renderer.frame(g).image).mean() for g in range(6)]
        assert int(np.argmin(errors)) == f and errors[f] < 3.0


def test_manifest_describes_the_root(tiny_root, tiny_config):
    manifest = read_manifest(tiny_root)
    assert manifest.config == json.loads(json.dumps(tiny_config.to_dict()))
    assert manifest.config_hash == tiny_config.config_hash()
    assert [v.split for v in manifest.videos] == ["train"] * 2 + ["val"] * 4
    assert [v.profile for v in manifest.videos_of("val")] == ["base", "crowd", "occlusion", "fast"]
    for v in manifest.videos:
        assert (tiny_root / "annotations" / v.split / f"{v.name}.json").is_file()
        assert (tiny_root / "occlusion" / v.split / f"{v.name}.json").is_file()
        assert (tiny_root / "degradation" / v.split / f"{v.name}.json").is_file()
        assert len(list((tiny_root / "images" / v.split / v.name).glob("*.jpg"))) == tiny_config.frames
    assert {c.layout for c in manifest.clips} == {"jhmdb", "penn_action"}
    assert set(manifest.summary) == {"train", "val", "jhmdb", "penn_action"}
    assert manifest.summary["val"]["all"]["videos"] == 4
