"""Controls are fitted, not trained: the wrapped network copied, 0 steps, statistics saved."""

import hashlib

import numpy as np
import pytest
import torch
from helpers.checkpoints import save_untrained

from vposebench.checkpoint import load_checkpoint
from vposebench.datasets.clips import joint_rule
from vposebench.errors import UserError
from vposebench.fitting import evenly
from vposebench.interface import build_method
from vposebench.methods.prior import mean_box_pose, mean_scores
from vposebench.runner import run_video
from vposebench.skeleton import POSETRACK18
from vposebench.training import TrainConfig, train

#: one torch thread (helpers.torch_threads)
pytestmark = pytest.mark.usefixtures("one_torch_thread")


def test_hold_wraps_the_baseline_network_with_its_config_and_no_steps(sticks, baseline_checkpoint, tmp_path):
    result = train("hold", sticks("train"), tmp_path / "hold.ckpt", method_settings={"hold_fraction": "0.3"},
                   config=TrainConfig(init_checkpoint=str(baseline_checkpoint)))
    assert result.steps == 0 and result.losses == []
    base, hold = load_checkpoint(baseline_checkpoint), load_checkpoint(tmp_path / "hold.ckpt")
    assert hold.method == "hold" and hold.complete and hold.step == 0
    assert hold.train_config["iterations"] == 0
    assert hold.config["hold_fraction"] == 0.3
    assert {k: v for k, v in hold.config.items() if k in base.config} == base.config  # preset tiny etc.
    assert hold.model.keys() == base.model.keys()
    assert all(torch.equal(hold.model[k], base.model[k]) for k in base.model)
    wraps = hold.provenance["wraps"]
    assert wraps == {"method": "baseline", "step": base.step,
                     "sha256": hashlib.sha256(baseline_checkpoint.read_bytes()).hexdigest()}


def test_prior_stores_the_training_pose_and_the_wrapped_models_scores(sticks, baseline_checkpoint, tmp_path):
    train_set = sticks("train")
    train("prior", train_set, tmp_path / "prior.ckpt", method_settings={"score_videos": "2"},
          config=TrainConfig(init_checkpoint=str(baseline_checkpoint)))
    prior = load_checkpoint(tmp_path / "prior.ckpt").build()
    names = train_set.video_names()
    videos = [train_set.load_video(n) for n in names]
    expected_pose = mean_box_pose(videos, joint_rule("posetrack"), POSETRACK18.num_joints)
    np.testing.assert_allclose(prior.mean_pose.numpy(), expected_pose)
    base = load_checkpoint(baseline_checkpoint).build()
    assert evenly(names, 2) == [names[0], names[1]] and evenly(names, 0) == names
    with torch.no_grad():
        preds = [run_video(base, train_set.load_video(n)) for n in evenly(names, 2)]
    np.testing.assert_allclose(prior.mean_score.numpy(), mean_scores(preds, POSETRACK18.num_joints))
    assert bool(prior.fitted)


def test_a_control_needs_a_complete_baseline_checkpoint(sticks, tmp_path):
    with pytest.raises(UserError, match="init_checkpoint=BASELINE.ckpt"):
        train("hold", sticks("train"), tmp_path / "h.ckpt", config=TrainConfig())
    ptm = save_untrained(build_method("ptm", POSETRACK18, preset="tiny"), tmp_path / "ptm.ckpt")
    with pytest.raises(UserError, match="holds 'ptm'"):
        train("oracle-hold", sticks("train"), tmp_path / "h.ckpt",
              config=TrainConfig(init_checkpoint=str(ptm)))
    assert not (tmp_path / "h.ckpt").exists()
