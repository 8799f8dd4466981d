"""The examples of docs/contributing.md run: a method, a dataset adapter and a metric, each one
file under docs/examples/ with one decorator.

They are imported from their files and registered inside `Registry.scoped()` blocks, so they
are gone when this module's tests end. Then they do their jobs end to end on a tiny generated
video: the dataset reads CSV files written from it, the method predicts online on it, and the
metric scores the predictions against the GT folder `convert_dataset` writes.
"""

from __future__ import annotations

import csv
import importlib.util
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest

from vposebench.bootstrap import bootstrap
from vposebench.commands.list_cmd import listing
from vposebench.datasets.base import VideoDataset
from vposebench.datasets.convert import convert_dataset
from vposebench.errors import UserError
from vposebench.formats import write_predictions
from vposebench.interface import FrameInput, build_method
from vposebench.registry import DATASETS, METHODS, METRICS
from vposebench.runner import predict_videos
from vposebench.skeleton import POSETRACK18
from vposebench.structures import FramePred, PersonPred, VideoGT, VideoPred

EXAMPLES = Path(__file__).resolve().parents[1] / "docs" / "examples"
MODULES = ("box_template_method", "csv_dataset", "normalised_error_metric")


def load_example(name: str) -> ModuleType:
    """Import docs/examples/<name>.py under a private module name (its decorators run)."""
    spec = importlib.util.spec_from_file_location(f"vposebench_docs_example_{name}",
                                                  EXAMPLES / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while they are made
    try:
        spec.loader.exec_module(module)
    finally:
        del sys.modules[spec.name]
    return module


@pytest.fixture(scope="module")
def examples() -> Iterator[dict[str, ModuleType]]:
    with METHODS.scoped(), DATASETS.scoped(), METRICS.scoped():
        yield {name: load_example(name) for name in MODULES}


def write_csv(video: VideoGT, path: Path) -> None:
    """A video in the example CSV format (a frame without persons gets one row without them)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as handle:
        out = csv.writer(handle)
        out.writerow(["frame", "image", "track", "joint", "x", "y", "visible"])
        for frame in video.frames:
            if not frame.persons:
                out.writerow([frame.index, frame.file_name, "", "", "", "", ""])
            for person in frame.persons:
                for joint, (x, y, v) in zip(video.skeleton.joints, person.keypoints):
                    out.writerow([frame.index, frame.file_name, person.track_id, joint,
                                  repr(float(x)), repr(float(y)), repr(float(v))])


@pytest.fixture(scope="module")
def synthetic_val(tiny_root: Path) -> list[VideoGT]:
    dataset = DATASETS.get("synthetic")(tiny_root, "val")
    return [dataset.load_video(name) for name in dataset.video_names()[:2]]


@pytest.fixture(scope="module")
def csv_root(tmp_path_factory: pytest.TempPathFactory, tiny_root: Path,
             synthetic_val: list[VideoGT]) -> Path:
    root = tmp_path_factory.mktemp("csv") / "root"
    for video in synthetic_val:
        write_csv(video, root / "val" / f"{video.name}.csv")
    (root / "images").symlink_to(tiny_root / "images")  # file names are relative to the root
    return root


@pytest.fixture(scope="module")
def csv_dataset(examples: dict[str, ModuleType], csv_root: Path) -> VideoDataset:
    return DATASETS.get("csv_keypoints")(csv_root, "val")


@pytest.fixture(scope="module")
def gt_dir(csv_dataset: VideoDataset, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("gt") / "val"
    convert_dataset(csv_dataset, out)
    return out


def test_each_example_is_registered_by_its_decorator(examples: dict[str, ModuleType]) -> None:
    assert METHODS.get("box_template") is examples["box_template_method"].BoxTemplate
    assert DATASETS.get("csv_keypoints") is examples["csv_dataset"].CSVKeypoints
    assert METRICS.get("normalised_error") is examples["normalised_error_metric"].NormalisedError
    shown = listing(["methods", "datasets", "metrics"])  # what `vposebench list` prints
    assert shown["methods"]["box_template"].startswith("Example: a standing pose")
    assert shown["datasets"]["csv_keypoints"].startswith("Example: videos annotated in CSV")
    assert shown["metrics"]["normalised_error"].startswith("Example: mean joint error")


def test_dataset_example_reads_the_videos_it_was_written_from(
        csv_dataset: VideoDataset, synthetic_val: list[VideoGT], csv_root: Path) -> None:
    assert csv_dataset.video_names() == [video.name for video in synthetic_val]
    for original in synthetic_val:
        video = csv_dataset.load_video(original.name)
        assert [f.file_name for f in video.frames] == [f.file_name for f in original.frames]
        for frame, source in zip(video.frames, original.frames):
            persons = sorted(source.persons, key=lambda p: p.track_id)
            assert [p.track_id for p in frame.persons] == [p.track_id for p in persons]
            for person, expected in zip(frame.persons, persons):
                np.testing.assert_array_equal(person.keypoints, expected.keypoints)
                assert person.box is not None and person.box[2] > person.box[0]
    first = csv_dataset.load_video(synthetic_val[0].name).frames[0]
    assert first.load_image().ndim == 3
    assert csv_dataset.describe().fingerprint  # the CSV files are its annotation files
    bad = csv_root.parent / "bad"
    (bad / "val").mkdir(parents=True)
    (bad / "val" / "v.csv").write_text("frame,image,track,joint,x,y,visible\n0,a.jpg,1,elbow,1,2,1\n")
    with pytest.raises(UserError, match=r"v\.csv: line 2: unknown joint 'elbow'"):
        DATASETS.get("csv_keypoints")(bad, "val").load_video("v")


def test_method_example_predicts_online(csv_dataset: VideoDataset, tmp_path: Path) -> None:
    method = build_method("box_template", POSETRACK18, smoothing="0")  # as `--set` gives it
    video = csv_dataset.load_video(csv_dataset.video_names()[0])
    stats = predict_videos(method, [video], tmp_path)
    assert stats.frames == len(video.frames) and stats.persons == video.num_persons
    assert method.boxes == {}  # the runner resets the method after each video
    written = (tmp_path / f"{video.name}.json").read_text()
    assert '"keypoints"' in written
    # smoothing 0: the template stretched over this frame's box
    frame = next(f for f in video.frames if f.persons)
    box = frame.persons[0].box
    out = method.step(FrameInput(image=np.zeros((1, 1, 3), np.uint8), boxes=box[None],
                                 track_ids=np.array([7])))
    head = POSETRACK18.index("head_top")
    np.testing.assert_allclose(out.keypoints[0, head, :2],
                               box[:2] + method.places[head] * (box[2:] - box[:2]))
    assert method.describe().state_bytes == method.state_bytes() == 32
    method.end_tracks([7])
    assert method.state_bytes() == 0
    with pytest.raises(UserError, match="smoothing"):
        build_method("box_template", POSETRACK18, smoothing="1.5")


def test_method_example_smooths_each_track_over_time() -> None:
    method = build_method("box_template", POSETRACK18, smoothing=0.5)
    image = np.zeros((1, 1, 3), np.uint8)
    first = np.array([[0.0, 0.0, 100.0, 200.0]])
    method.step(FrameInput(image=image, boxes=first, track_ids=np.array([1])))
    out = method.step(FrameInput(image=image, boxes=first + 50.0, track_ids=np.array([1])))
    np.testing.assert_allclose(method.boxes[1], first[0] + 25.0)  # halfway: smoothing 0.5
    assert np.isfinite(out.keypoints[0, :, :2]).all()


def test_metric_example_scores_predictions(csv_dataset: VideoDataset, gt_dir: Path,
                                           tmp_path: Path) -> None:
    metric = METRICS.get("normalised_error")()
    perfect, guessed = tmp_path / "perfect", tmp_path / "guessed"
    perfect.mkdir()
    for video in csv_dataset:
        frames = [FramePred(f.index, f.file_name, [
            PersonPred(np.column_stack([p.keypoints[:, :2], np.ones(len(p.keypoints))]), p.track_id)
            for p in f.persons]) for f in video.frames]
        write_predictions(VideoPred(video.name, video.skeleton, frames), perfect / f"{video.name}.json")
    assert metric.evaluate(gt_dir, perfect).headline()["Error/Mean"] == 0.0

    predict_videos(build_method("box_template", POSETRACK18), csv_dataset, guessed)
    result = metric.evaluate(gt_dir, guessed)
    cells = result.headline()
    assert set(cells) == {f"Error/{k}" for k, _ in POSETRACK18.groups} | {"Error/Mean"}
    assert 0.0 < cells["Error/Mean"] < 100.0
    report = bootstrap(result, 200, seed=0)
    interval = report.intervals["Error/Mean"]
    assert interval.lo <= cells["Error/Mean"] <= interval.hi
    np.testing.assert_allclose(result.resample(np.ones((1, 2)))["Error/Mean"], [cells["Error/Mean"]])
    one = result.videos[0]
    assert result.subset([one]).headline() == metric.evaluate(gt_dir, guessed, videos=[one]).headline()
    assert result.tables()[0].render("markdown").count("|") > 10


def test_contributing_shows_each_example_file_verbatim() -> None:
    text = (EXAMPLES.parent / "contributing.md").read_text(encoding="utf-8")
    shown = dict(re.findall(r"<!-- example: docs/examples/(\S+) -->\n```python\n(.*?)```", text, re.S))
    assert sorted(shown) == sorted(f"{name}.py" for name in MODULES)
    for name, block in shown.items():
        assert block == (EXAMPLES / name).read_text(encoding="utf-8"), f"docs/contributing.md: {name}"
