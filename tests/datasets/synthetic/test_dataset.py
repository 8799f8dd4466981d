"""The registered `synthetic` dataset, and the subsets re-measured from the files it reads."""

import json

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from vposebench.datasets.base import VideoDataset
from vposebench.datasets.synthetic import SyntheticDataset, read_manifest, read_occlusion
from vposebench.errors import UserError
from vposebench.formats import read_annotations
from vposebench.registry import DATASETS
from vposebench.skeleton import POSETRACK18


def test_registered_and_lists_videos_per_split_and_subset(tiny_root):
    assert DATASETS.get("synthetic") is SyntheticDataset and issubclass(SyntheticDataset, VideoDataset)
    manifest = read_manifest(tiny_root)
    val = SyntheticDataset(tiny_root, "val")
    assert val.video_names() == sorted(v.name for v in manifest.videos_of("val")) and len(val) == 4
    assert len(SyntheticDataset(tiny_root, None)) == len(manifest.videos)
    for subset in SyntheticDataset.subsets:
        names = SyntheticDataset(tiny_root, "train", subset).video_names()
        assert names == sorted(v.name for v in manifest.videos_of("train") if subset in v.tags)
    assert val.jhmdb_root.is_dir() and val.penn_root.is_dir()


def test_videos_carry_occlusion_flags_and_tags(tiny_root):
    data = SyntheticDataset(tiny_root, "val")
    for name in data.video_names():
        video = data.load_video(name)
        assert video.skeleton is POSETRACK18 and video.name == name
        entry = data.entry(name)
        assert video.meta["tags"] == entry.tags and video.meta["profile"] == entry.profile
        assert all(p.occluded is not None and p.occluded.shape == (17,) for f in video for p in f.persons)
        assert all(f.image_path.is_file() for f in video)
        plain = read_annotations(tiny_root / "annotations/val" / f"{name}.json")
        assert [len(f.persons) for f in plain] == [len(f.persons) for f in video]
    occluded = sum(int(p.occluded.sum()) for n in data.video_names() for f in data.load_video(n) for p in f.persons)
    assert occluded > 0


def _mean_relative_displacement(truth) -> float:
    values = []
    frames = truth.video.frames
    for f in range(1, len(frames)):
        before = {p.track_id: p for p in frames[f - 1].persons}
        for person, height in zip(frames[f].persons, truth.heights[f]):
            if person.track_id in before:
                both = person.annotated & before[person.track_id].annotated
                delta = person.keypoints[both, :2] - before[person.track_id].keypoints[both, :2]
                values.extend(np.hypot(delta[:, 0], delta[:, 1]) / height)
    return float(np.mean(values))


def test_subsets_satisfy_their_definitions(tiny_root, tiny_config):
    """Crowd, occlusion, fast and burst re-measured here from the annotation and side files
    (occlusion without the person-frames an occluder burst covers)."""
    found = set()
    for split in ("train", "val"):
        data = SyntheticDataset(tiny_root, split)
        for name in data.video_names():
            truth = data.load_truth(name)
            video = truth.video
            persons_per_frame = np.mean([len(f.persons) for f in video.labeled_frames])
            scene = [p for f in video for p in f.persons if p.degradation != "occluder"]
            annotated = sum(int(p.annotated.sum()) for p in scene)
            occluded = sum(int((p.occluded & p.annotated).sum()) for p in scene)
            seen, after_visible = {}, 0
            for frame, codes in zip(video.frames, truth.codes):
                for person, c in zip(frame.persons, codes):
                    if person.degradation == "occluder":
                        continue
                    was = seen.setdefault(person.track_id, np.zeros(17, bool))
                    after_visible += int((person.occluded & was).sum())
                    was |= c == 0
            expected = set()
            if persons_per_frame > tiny_config.crowd_min_persons:
                expected.add("crowd")
            if occluded / annotated >= tiny_config.occlusion_min_fraction and after_visible > 0:
                expected.add("occlusion")
            if _mean_relative_displacement(truth) >= tiny_config.fast_min_displacement:
                expected.add("fast")
            labelled = [p for f in video.labeled_frames for p in f.persons]
            if np.mean([p.degradation is not None for p in labelled]) >= tiny_config.burst_min_fraction:
                expected.add("burst")
            assert set(video.meta["tags"]) == expected, name
            found |= expected
            if "crowd" in expected:
                assert max(len(f.persons) for f in video) > 8
    assert found == {"crowd", "occlusion", "fast", "burst"}  # every condition exists in the data


def test_bad_roots_and_names_are_user_errors(tiny_root, tmp_path):
    with pytest.raises(UserError, match="synthetic.json"):
        SyntheticDataset(tmp_path)
    with pytest.raises(UserError, match="unknown split 'test'"):
        SyntheticDataset(tiny_root, "test")
    with pytest.raises(UserError, match="unknown subset 'crowded'"):
        SyntheticDataset(tiny_root, "val", "crowded")
    with pytest.raises(UserError, match="no video 'nope'"):
        SyntheticDataset(tiny_root, "val").load_video("nope")
    (tmp_path / "synthetic.json").write_text('{"format": "something else"}')
    with pytest.raises(UserError) as err:
        SyntheticDataset(tmp_path)
    assert err.value.field == "format"


_values = st.one_of(st.none(), st.booleans(), st.integers(-3, 20), st.floats(allow_nan=True),
                    st.text(max_size=3), st.lists(st.integers(-1, 6), max_size=18))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(field=st.sampled_from(["frame", "track_id", "codes", "height", "persons", "format", "version", "extra"]),
       value=_values, drop=st.booleans())
def test_malformed_side_files_are_user_errors(tiny_root, tmp_path_factory, field, value, drop):
    name = SyntheticDataset(tiny_root, "val").video_names()[0]
    path = tiny_root / "occlusion/val" / f"{name}.json"
    doc = json.loads(path.read_text())
    if field in ("format", "version", "persons"):
        doc[field] = value
    elif field == "extra":  # an entry that matches no annotated person
        doc["persons"].append({**doc["persons"][0], "frame": 10_000})
    elif drop:
        del doc["persons"][0][field]
    else:
        doc["persons"][0][field] = value
    bad = tmp_path_factory.mktemp("side") / "bad.json"
    bad.write_text(json.dumps(doc))
    video = read_annotations(tiny_root / "annotations/val" / f"{name}.json")
    try:
        truth = read_occlusion(bad, video)
    except UserError as exc:
        assert str(bad) in str(exc)
        return
    # accepted: then it must still describe every person exactly
    assert all(c.shape == (17,) for frame in truth.codes for c in frame)
    assert sum(map(len, truth.codes)) == video.num_persons
