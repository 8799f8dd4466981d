"""`vposebench train` -> `vposebench predict` on stick-figure videos, and the prediction files.

Accuracy is measured here directly (PCK@0.2 of the person box's longer side); at integration
it moves to `vposebench evaluate`.
"""

import json

import numpy as np
import pytest
import torch

from vposebench import cli
from vposebench.checkpoint import load_checkpoint
from vposebench.formats import read_predictions
from vposebench.interface import build_method
from vposebench.runner import predict_videos
from vposebench.skeleton import POSETRACK18

#: one torch thread (helpers.torch_threads)
pytestmark = pytest.mark.usefixtures("one_torch_thread")

TINY = ["--set", "preset=tiny", "--set", "batch_size=16", "--set", "lr=3e-3"]


def pck(dataset, pred_dir, alpha=0.2):
    """Share of annotated joints within alpha x the GT box's longer side (boxes pair by order)."""
    hits = total = 0
    for name in dataset.video_names():
        gt, pred = dataset.load_video(name), read_predictions(pred_dir / f"{name}.json")
        for g_frame, p_frame in zip(gt.frames, pred.frames):
            assert len(g_frame.persons) == len(p_frame.persons)
            for g, p in zip(g_frame.persons, p_frame.persons):
                x1, y1, x2, y2 = g.box
                near = np.linalg.norm(g.keypoints[:, :2] - p.keypoints[:, :2], axis=1) < alpha * max(x2 - x1, y2 - y1)
                hits += int((near & g.annotated).sum())
                total += int(g.annotated.sum())
    return hits / total


def check_prediction_files(dataset, pred_dir):
    """One file per video, every GT frame in order, unique ids < 10000, scores per joint."""
    names = dataset.video_names()
    assert sorted(p.stem for p in pred_dir.glob("*.json")) == names
    for name in names:
        gt = dataset.load_video(name)
        raw = json.loads((pred_dir / f"{name}.json").read_text())
        assert [im["file_name"] for im in raw["images"]] == [f.file_name for f in gt.frames]
        assert all(im["vid_id"] == gt.meta["vid_id"] for im in raw["images"])
        for ann in raw["annotations"]:
            assert len(ann["keypoints"]) == 51 and len(ann["scores"]) == 17
            assert ann["keypoints"][3 * 3:3 * 5] == [0.0] * 6 and ann["scores"][3:5] == [0.0, 0.0]  # ears
        pred = read_predictions(pred_dir / f"{name}.json")
        for frame in pred.frames:
            ids = [p.track_id for p in frame.persons]
            assert len(set(ids)) == len(ids) and all(0 <= i < 10000 for i in ids)
            for person in frame.persons:
                assert np.isnan(person.keypoints[list(POSETRACK18.placeholders), :2]).all()
                assert np.isfinite(person.keypoints[POSETRACK18.evaluated]).all()


def test_train_then_predict_beats_the_untrained_model(sticks, sticks_registered, tmp_path, capsys):
    ckpt = tmp_path / "baseline.ckpt"
    code = cli.main(["train", "--method", "baseline", "--dataset", "sticks", "--root",
                     str(sticks("train").root), *TINY, "--set", "iterations=60", "--out", str(ckpt),
                     "--quiet", "--threads", "1"])
    assert code == 0 and "wrote" in capsys.readouterr().out
    assert load_checkpoint(ckpt).complete
    preds = tmp_path / "pred"
    code = cli.main(["predict", "--method", "baseline", "--checkpoint", str(ckpt), "--dataset",
                     "sticks", "--root", str(sticks("val").root), "--out", str(preds)])
    assert code == 0
    val = sticks("val")
    check_prediction_files(val, preds)
    trained = pck(val, preds)
    torch.manual_seed(0)
    untrained = build_method("baseline", POSETRACK18, **load_checkpoint(ckpt).config)
    predict_videos(untrained, (val.load_video(n) for n in val.video_names()), tmp_path / "untrained")
    before = pck(val, tmp_path / "untrained")
    print("PCK@0.2 trained", trained, "untrained", before)
    assert trained > 0.6 and trained > before + 0.3, (trained, before)

    # a temporal method from that checkpoint, through the same commands
    ptm_ckpt = tmp_path / "ptm.ckpt"
    assert cli.main(["train", "--method", "ptm", "--dataset", "sticks", "--root", str(val.root),
                     *TINY, "--set", "iterations=3", "--set", "clip_length=3",
                     "--set", f"init_checkpoint={ckpt}", "--out", str(ptm_ckpt), "--quiet"]) == 0
    assert cli.main(["predict", "--method", "ptm", "--checkpoint", str(ptm_ckpt), "--dataset",
                     "sticks", "--root", str(val.root), "--split", "val", "--tracker", "hungarian",
                     "--out", str(tmp_path / "ptm")]) == 0
    check_prediction_files(val, tmp_path / "ptm")


@pytest.mark.parametrize("args,message", [
    (["predict", "--method", "tfc", "--checkpoint", "{ckpt}"], "holds method 'baseline'"),
    (["predict", "--method", "baseline", "--checkpoint", "{missing}"], "file not found"),
    (["train", "--method", "baseline", "--set", "capacity=3"], "unknown setting 'capacity'"),
    (["train", "--method", "baseline", "--set", "iterations=zero"], "cannot parse 'zero' as int"),
    (["train", "--method", "basline"], "did you mean 'baseline'"),
    (["predict", "--method", "baseline", "--checkpoint", "{ckpt}", "--split", "val", "--root", "{empty}"],
     "no videos in split 'val'"),
])
def test_user_errors_are_one_line_exit_2(sticks, sticks_registered, tmp_path, capsys, args, message):
    ckpt = tmp_path / "b.ckpt"
    if "{ckpt}" in args:
        assert cli.main(["train", "--method", "baseline", "--dataset", "sticks", "--root",
                         str(sticks("train").root), *TINY, "--set", "iterations=1", "--out",
                         str(ckpt), "--quiet"]) == 0
        capsys.readouterr()
    args = [a.format(ckpt=ckpt, missing=tmp_path / "none.ckpt", empty=tmp_path) for a in args]
    common = ["--dataset", "sticks", "--out", str(tmp_path / "o")]
    if "--root" not in args:
        common += ["--root", str(sticks("train").root)]
    assert cli.main([*args, *common]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1 and "Traceback" not in err
    assert not (tmp_path / "o").exists()
