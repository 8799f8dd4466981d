"""The controls through the command line: `train` fits them from a baseline checkpoint,
`predict` runs them, `--temporal-input shuffled` runs a temporal method's shuffled control."""

import pytest

from vposebench import cli
from vposebench.checkpoint import load_checkpoint
from vposebench.formats import read_predictions

#: one torch thread (helpers.torch_threads)
pytestmark = pytest.mark.usefixtures("one_torch_thread")


def test_controls_are_fitted_and_predicted_through_the_cli(sticks, sticks_registered, baseline_checkpoint,
                                                           tmp_path, capsys):
    train_root, val = str(sticks("train").root), sticks("val")
    names = val.video_names()
    for method in ("hold", "oracle-hold", "prior"):
        ckpt = tmp_path / f"{method}.ckpt"
        assert cli.main(["train", "--method", method, "--dataset", "sticks", "--root", train_root,
                         "--set", f"init_checkpoint={baseline_checkpoint}", "--set", "score_videos=1"
                         if method == "prior" else "hold_momentum=0.3", "--out", str(ckpt), "--quiet"]) == 0
        assert "(a control: 0 gradient steps" in capsys.readouterr().out and load_checkpoint(ckpt).step == 0
        out = tmp_path / method
        assert cli.main(["predict", "--method", method, "--checkpoint", str(ckpt), "--dataset", "sticks",
                         "--root", train_root, "--split", "val", "--out", str(out)]) == 0
        assert sorted(p.stem for p in out.glob("*.json")) == names
        pred = read_predictions(out / f"{names[0]}.json")
        assert len(pred.frames) == len(val.load_video(names[0]).frames)

    shuffled = tmp_path / "hold-shuffled"
    assert cli.main(["predict", "--method", "hold", "--checkpoint", str(tmp_path / "hold.ckpt"),
                     "--dataset", "sticks", "--root", train_root, "--split", "val",
                     "--temporal-input", "shuffled", "--out", str(shuffled)]) == 0
    assert sorted(p.stem for p in shuffled.glob("*.json")) == names
    capsys.readouterr()
    assert cli.main(["predict", "--method", "prior", "--checkpoint", str(tmp_path / "prior.ckpt"),
                     "--dataset", "sticks", "--root", train_root, "--split", "val",
                     "--temporal-input", "shuffled", "--out", str(tmp_path / "no")]) == 2
    err = capsys.readouterr().err
    assert "no per-track temporal state" in err and err.count("\n") == 1
    assert not (tmp_path / "no").exists()
