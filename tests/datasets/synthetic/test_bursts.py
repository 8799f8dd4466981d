"""Degraded-frame bursts: the per-frame schedule, the flags against the renderer's label channel,
what the whole-frame kinds do to a frame, and the flags in every layout."""

import json

import cv2
import numpy as np
import pytest
import scipy.io

from vposebench.datasets.synthetic import SyntheticDataset, generator
from vposebench.datasets.synthetic.annotate import joints_of, point_codes
from vposebench.datasets.synthetic.bursts import Burst, disk_kernel, sample_bursts
from vposebench.datasets.synthetic.config import BURST_KINDS, CLIP_PROFILES, PROFILES, SynthConfig
from vposebench.datasets.synthetic.degradation import (
    KIND_NAMES,
    attach_degradation,
    degradation_document,
    read_degradation,
)
from vposebench.datasets.synthetic.render import decode_labels
from vposebench.datasets.synthetic.scene import sample_scene
from vposebench.datasets.synthetic.truth import BY_OCCLUDER, NOT_ANNOTATED, VISIBLE, read_occlusion
from vposebench.errors import UserError
from vposebench.registry import DATASETS
from vposebench.skeleton import POSETRACK18
from vposebench.structures import FrameGT, PersonGT, VideoGT


def test_episodes_are_drawn_frame_by_frame_within_the_knobs():
    config = SynthConfig(burst_rate=0.2, burst_length=(2, 4), burst_gap=3, burst_cover=0.3)
    bursts = sample_bursts(np.random.default_rng(0), config, np.ones((3000, 3), dtype=bool))
    starts = np.array([b.start for b in bursts])
    assert starts.min() >= 1 and len(bursts) > 200
    assert all(2 <= b.length <= 4 for b in bursts[:-1]) and 1 <= bursts[-1].length <= 4
    assert all(b.start - (a.start + a.length) >= 3 for a, b in zip(bursts, bursts[1:]))
    assert {b.kind for b in bursts} == set(BURST_KINDS)
    # per frame, not per video: starts spread over the whole video, and the share of frames in
    # episodes is mean length / (gap + mean length + mean wait (1 - r) / r) = 3 / 10
    assert np.histogram(starts, bins=10, range=(0, 3000))[0].min() > 10
    share = sum(b.length for b in bursts) / 3000
    assert share == pytest.approx(0.3, abs=0.03)
    covered = [b for b in bursts if b.kind == "occluder"]
    assert all(len(b.targets) == 1 and len(b.boards) == 1 for b in covered)  # round(0.3 * 3) = 1
    crowd = sample_bursts(np.random.default_rng(0), config, np.ones((300, 12), dtype=bool))
    assert {len(b.targets) for b in crowd if b.kind == "occluder"} == {4}  # several in a crowd
    nobody = sample_bursts(np.random.default_rng(0), config, np.zeros((300, 3), dtype=bool))
    assert nobody and all(b.kind != "occluder" for b in nobody)  # nobody to cover: no occluder
    assert sample_bursts(np.random.default_rng(0), SynthConfig(burst_rate=0.0), np.ones((300, 3), bool)) == []


def test_occluder_bursts_cover_their_targets_in_the_label_channel(tmp_path):
    """Every target is annotated and flagged, no pixel of it is drawn on top, and the label
    channel says hidden by an occluder for each of its annotated joints (also in the side file)."""
    config = SynthConfig(frames=10, burst_rate=0.6, burst_gap=1, burst_kinds=(("occluder", 1.0),))
    truth, scene, bursts = generator.make_video(tmp_path, config, "val", 1, "crowd")
    renderer = generator._renderer(scene, config, config.frames, bursts)
    name = truth.video.name
    written = read_occlusion(tmp_path / "occlusion/val" / f"{name}.json", truth.video)
    track_ids = [p.track_id for p in scene.persons]
    assert bursts and max(len(b.targets) for b in bursts) > 1
    checked = 0
    for f in range(config.frames):
        rendered = renderer.frame(f)
        frame = truth.video.frames[f]
        burst = next((b for b in bursts if f in b.frames), None)
        targets = {track_ids[p]: p for p in (burst.targets if burst else ())}
        flagged = {p.track_id: p for p in frame.persons if p.degradation is not None}
        assert set(flagged) == set(targets)  # targets always annotated, nobody else flagged
        owner = decode_labels(rendered.labels)[0]
        codes = point_codes(rendered)
        for row, person in enumerate(frame.persons):
            if person.track_id not in targets:
                continue
            p = targets[person.track_id]
            assert (person.degradation, person.burst_position) == ("occluder", f - burst.start)
            assert not (owner == p).any()  # the whole person is covered
            annotated = person.annotated
            joints = joints_of(rendered, codes, p, POSETRACK18)[1]
            assert (joints[annotated] == BY_OCCLUDER).all() and (joints[~annotated] == NOT_ANNOTATED).all()
            assert (written.codes[f][row][annotated] == BY_OCCLUDER).all() and person.occluded[annotated].all()
            checked += int(annotated.sum())
    assert checked > 100


def test_whole_frame_bursts_change_the_frame_as_intended():
    """Frames outside episodes equal the clean render byte for byte; a defocus frame is the clean
    frame convolved with the episode's disk plus noise of its standard deviation; an exposure
    frame is the clean frame times the gain plus noise, clipped; labels do not change."""
    config = SynthConfig(burst_rate=0.5, burst_gap=1, burst_kinds=(("defocus", 1.0), ("exposure", 1.0)))
    frames = 16
    scene = sample_scene(np.random.default_rng(5), "base", PROFILES["base"], config, frames)
    bursts = sample_bursts(np.random.default_rng(3), config, np.ones((frames, len(scene.persons)), bool))
    degraded, clean = generator._renderer(scene, config, frames, bursts), generator._renderer(scene, config, frames, [])
    gains = []
    for f in range(frames):
        a, b = degraded.frame(f), clean.frame(f)
        assert (a.labels == b.labels).all()
        burst = next((x for x in bursts if f in x.frames), None)
        if burst is None:
            assert (a.image == b.image).all()
            continue
        image, plain = a.image.astype(np.float64), b.image.astype(np.float64)
        if burst.kind == "defocus":
            expected = cv2.filter2D(b.image.astype(np.float32), -1, disk_kernel(burst.radius),
                                    borderType=cv2.BORDER_REFLECT).astype(np.float64)
            sharp = np.abs(cv2.Laplacian(plain, cv2.CV_64F)).mean()
            assert np.abs(cv2.Laplacian(expected, cv2.CV_64F)).mean() < 0.4 * sharp  # really defocused
        else:
            expected = plain * burst.gain
            gains.append(burst.gain)
            if burst.gain < 1:
                assert image.mean() == pytest.approx(burst.gain * plain.mean(), rel=0.05)
            else:
                assert image.mean() > 1.4 * plain.mean() and (a.image == 255).mean() > 0.2
        unclipped = (a.image > 0) & (a.image < 255)
        residual = (image - expected)[unclipped]
        assert abs(residual.mean()) < 0.5
        assert residual.std() == pytest.approx(np.hypot(burst.noise, 0.29), rel=0.1)  # + rounding
    assert {b.kind for b in bursts} == {"defocus", "exposure"}
    assert min(gains) < 1 < max(gains)  # over- and under-exposed frames both appear


def test_penn_visibility_is_what_the_frames_around_show(tmp_path):
    """During an occluder burst Penn's visibility keeps the unoccluded view (the board hides
    every joint, the annotator sees the person before and after it), so PCK still counts them."""
    config = SynthConfig(clip_frames=(12, 12), burst_rate=0.6, burst_gap=1, burst_kinds=(("occluder", 1.0),))
    entry, truth = generator.make_penn_clip(tmp_path, config, 0, "base")
    label = scipy.io.loadmat(tmp_path / "penn_action/labels/0001.mat")
    rng = generator._rng(config, "penn_action", 0)
    frames = int(rng.integers(config.clip_frames[0], config.clip_frames[1] + 1))
    scene = sample_scene(rng, "base", CLIP_PROFILES["base"], config, frames, single=True)
    clean = generator._renderer(scene, config, frames, [])
    visible = np.stack([joints_of(r, point_codes(r), 0, truth.video.skeleton)[1] for r in clean]) == VISIBLE
    np.testing.assert_array_equal(label["visibility"].astype(bool), visible)
    covered = [f for f, frame in enumerate(truth.video.frames) if frame.persons[0].degradation == "occluder"]
    assert covered and all((truth.codes[f][0] == BY_OCCLUDER).all() for f in covered)
    assert visible[covered].sum() > 5 * len(covered)
    assert entry.knobs["bursts"] >= 1


def test_every_layout_carries_the_flags(tiny_root):
    """PoseTrack videos (SyntheticDataset) and JHMDB / Penn clips (their adapters) have the flags
    of their side files, consistent with the episodes listed there."""
    checked = 0
    views = [(SyntheticDataset(tiny_root, "val"), tiny_root / "degradation/val")]
    views += [(DATASETS.get("jhmdb")(tiny_root / "jhmdb", s), tiny_root / "jhmdb/degradation")
              for s in ("sub-train1", "sub-test1")]
    views += [(DATASETS.get("penn_action")(tiny_root / "penn_action", s), tiny_root / "penn_action/degradation")
              for s in ("train", "test")]
    for dataset, folder in views:
        for name in dataset.video_names():
            video = dataset.load_video(name)
            doc = json.loads((folder / f"{name}.json").read_text())
            assert doc["frames"] == len(video.frames) and doc["video"] == name
            for episode in doc["episodes"]:
                for position, f in enumerate(range(episode["start"], episode["start"] + episode["length"])):
                    for person in video.frames[f].persons:
                        inside = episode["kind"] != "occluder" or person.track_id in episode["tracks"]
                        assert (person.degradation, person.burst_position) == (
                            (episode["kind"], position) if inside else (None, None))
                        checked += inside
            flagged = sum(p.degradation is not None for f in video for p in f.persons)
            assert flagged == len(doc["persons"])
    assert checked > 10


def _video(flags):
    frames = []
    for f, row in enumerate(flags):
        persons = [PersonGT(np.ones((17, 3)), track_id=t, degradation=k, burst_position=pos)
                   for t, (k, pos) in row]
        frames.append(FrameGT(index=f, file_name=f"{f}.jpg", persons=persons))
    return VideoGT("900001_mpiinew_test", POSETRACK18, frames)


def _stripped(video):
    return _video([[(p.track_id, (None, None)) for p in f.persons] for f in video.frames])


def test_side_file_round_trip_and_bad_files(tmp_path):
    flags = [[(5, (None, None)), (6, (None, None))], [(5, ("defocus", 0)), (6, ("defocus", 0))],
             [(5, ("occluder", 0)), (6, (None, None))], [(6, ("occluder", 1))]]
    video = _video(flags)
    bursts = [Burst("defocus", 1, 1, radius=2.5, noise=9.0), Burst("occluder", 2, 2, targets=(1,), boards=(((1, 2, 3), None),))]
    doc = degradation_document(video, bursts, [5, 6])
    assert [e["tracks"] for e in doc["episodes"]] == [[], [6]] and doc["kinds"] == KIND_NAMES
    path = tmp_path / "side.json"
    path.write_text(json.dumps(doc))
    back = read_degradation(path, _stripped(video))
    assert [[(p.track_id, (p.degradation, p.burst_position)) for p in f.persons] for f in back.frames] == flags

    def broken(change, match):
        bad = json.loads(json.dumps(doc))
        change(bad)
        path.write_text(json.dumps(bad))
        with pytest.raises(UserError, match=match):
            read_degradation(path, _stripped(video))

    broken(lambda d: d.update(version=9), "unsupported version")
    broken(lambda d: d.update(frames=3), "expected 4 frames")
    broken(lambda d: d["persons"][0].update(kind="fog"), "expected one of occluder")
    broken(lambda d: d["persons"][0].update(position=-1), "position >= 0")
    broken(lambda d: d["persons"].append(dict(d["persons"][0])), "duplicate entry")
    broken(lambda d: d["persons"].append({"frame": 0, "track_id": 9, "kind": "defocus", "position": 0}),
           "matches no annotated person")
    # the single-person adapters' hook: no folder (a real dataset) leaves a video as it is
    assert attach_degradation(video, tmp_path) is video
    (tmp_path / "degradation").mkdir()
    with pytest.raises(UserError, match="no degradation file"):
        attach_degradation(video, tmp_path)


def test_burst_knobs_are_checked_and_hashed():
    config = SynthConfig().with_overrides({"burst_kinds": "occluder:2,defocus:1", "burst_length": "3,5"})
    assert config.burst_kinds == (("occluder", 2.0), ("defocus", 1.0)) and config.burst_length == (3, 5)
    assert config.config_hash() != SynthConfig().config_hash()
    for changes, field in (({"burst_kinds": (("fog", 1.0),)}, "burst_kinds"), ({"burst_rate": 1.0}, "burst_rate"),
                           ({"burst_length": (0, 2)}, "burst_length"), ({"burst_cover": 0.0}, "burst_cover"),
                           ({"burst_kinds": ()}, "burst_kinds")):
        with pytest.raises(UserError) as err:
            SynthConfig(**changes)
        assert err.value.field == field
