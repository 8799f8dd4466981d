"""Training: settings, schedule, clip sampling, augmentation, checkpoints, resuming, ptm init."""

import os
import signal

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from vposebench.checkpoint import Checkpoint, load_checkpoint, partial_path, save_checkpoint
from vposebench.datasets.clips import ClipIndex, ClipSampler, joint_rule
from vposebench.datasets.transforms import AugmentationRanges
from vposebench.errors import UserError
from vposebench.interface import ClipSpec, FrameInput, SampleGeometry, build_method
from vposebench.skeleton import POSETRACK18
from vposebench.training import TrainConfig, lr_factor, split_settings, train

#: one torch thread (helpers.torch_threads)
pytestmark = pytest.mark.usefixtures("one_torch_thread")

REAL = POSETRACK18.evaluated


def test_settings_are_routed_and_unknown_keys_named():
    method, training = split_settings("ptm", {"capacity": "4", "lr": "0.01", "preset": "tiny"})
    assert method == {"capacity": "4", "preset": "tiny"} and training == {"lr": "0.01"}
    with pytest.raises(UserError, match="did you mean 'capacity'"):
        split_settings("ptm", {"capacty": "4"})
    with pytest.raises(UserError, match="lr_schedule"):
        TrainConfig.from_dict({"lr_schedule": "linear"})
    assert not set(TrainConfig.field_names()) & {
        n for name in ("baseline", "ptm", "tfc", "refine")
        for n in build_method(name, POSETRACK18, preset="tiny").config_class.field_names()}


@settings(max_examples=150, deadline=None)
@given(key=st.sampled_from(["iterations", "lr", "lr_milestones", "optimizer", "split", "flip_prob"]),
       text=st.text(max_size=12))
def test_malformed_settings_are_user_errors(key, text):
    try:
        config = TrainConfig.from_dict({key: text})
    except UserError as exc:
        assert exc.field in (key, "config")
    else:
        assert isinstance(config.to_dict()[key], (int, float, str, list, type(None)))


def test_learning_rate_schedule():
    c = TrainConfig.from_dict({"iterations": 100, "lr_milestones": "0.5,0.8", "lr_gamma": 0.1})
    assert [lr_factor(s, c) for s in (0, 49, 50, 79, 80, 99)] == pytest.approx([1, 1, 0.1, 0.1, 0.01, 0.01])
    w = TrainConfig.from_dict({"iterations": 100, "warmup": 4, "lr_schedule": "cosine"})
    assert [lr_factor(s, w) for s in (0, 3)] == [0.25, 1.0]
    assert lr_factor(50, w) == pytest.approx(0.5) and lr_factor(99, w) < 0.01


@pytest.fixture
def videos(sticks):
    ds = sticks("train")
    return [ds.load_video(n) for n in ds.video_names()]


def _index(videos, spec, **kw):
    return ClipIndex(videos, spec, trains_on=joint_rule("posetrack"), real=REAL, **kw)


def test_clip_index_modes(videos):
    assert len(_index(videos, ClipSpec())) == 3 * 8 * 2
    consecutive = _index(videos, ClipSpec("consecutive", 4))
    assert len(consecutive) == 3 * 2 * (8 - 4 + 1)
    for clip in consecutive.clips:
        v, tracks = clip[0][0], {videos[r[0]].frames[r[1]].persons[r[2]].track_id for r in clip}
        assert len(tracks) == 1 and all(r[0] == v for r in clip)
        assert [r[1] for r in clip] == list(range(clip[0][1], clip[0][1] + 4))
    # a gap in the labels: no clip spans it unless max_gap allows
    videos[0].frames[3].is_labeled = False
    assert len(_index(videos, ClipSpec("consecutive", 4))) == 3 * 2 * 5 - 2 * 4
    assert len(_index(videos, ClipSpec("consecutive", 4), max_gap=2)) == 3 * 2 * 5 - 2 * 1
    reference = _index(videos, ClipSpec("reference", 2, window=3))
    rng = np.random.default_rng(0)
    for i, (current,) in enumerate(reference.clips):
        frames = sorted(r[1] for r in reference.references[i])
        assert len(frames) == 3 and current[1] not in frames
        ref, cur = reference.draw(i, rng)
        assert cur == current and ref in reference.references[i]
    # the 3 closest to frame 0 (frame 3 unlabeled in video 0) are 1, 2, 4
    first = reference.clips.index(((0, 0, 0),))
    assert sorted(r[1] for r in reference.references[first]) == [1, 2, 4]


def _sampler(videos, flip_prob, spec=None):
    spec = spec or ClipSpec("consecutive", 2)
    geometry = SampleGeometry((64, 96), 1.25, 4, 1.0)
    ranges = AugmentationRanges(scale_factor=0.0, rotation_factor=0.0, flip_prob=flip_prob)
    return ClipSampler(videos, _index(videos, spec), POSETRACK18, geometry, ranges, batch_size=3,
                       seed=7, trains_on=joint_rule("posetrack"))


def test_batches_are_deterministic_and_flips_swap_joints(videos):
    plain, flipped = _sampler(videos, 0.0), _sampler(videos, 1.0)
    a, b = plain.batch(5), plain.batch(5)
    assert torch.equal(a.images, b.images) and torch.equal(a.targets, b.targets)
    assert not torch.equal(a.images, plain.batch(6).images)
    f = flipped.batch(5)
    assert a.images.shape == (3, 2, 96, 64, 3) and a.targets.shape == (3, 2, 17, 24, 16)
    # a mirror image: OpenCV 5 samples at exact positions (difference <= 1 from rounding);
    # OpenCV 4.x at 1/32-pixel positions (INTER_BITS = 5), which mirroring does not preserve, so
    # a sample may move by 1/32 pixel: up to the steepest horizontal step / 32 more
    diff = (a.images.int() - f.images.flip(3).int()).abs()
    steepest = (a.images[:, :, :, 1:].int() - a.images[:, :, :, :-1].int()).abs().max()
    assert diff.max() <= 1 + -(-int(steepest) // 32) and diff.float().mean() < 0.05
    perm = POSETRACK18.flip_permutation()
    torch.testing.assert_close(f.targets, a.targets[:, :, perm].flip(-1), atol=1e-5, rtol=0)
    torch.testing.assert_close(f.target_weight, a.target_weight[:, :, perm])
    assert a.target_weight[..., list(POSETRACK18.placeholders)].abs().max() == 0
    assert (a.num_persons == 2).all() and not a.zero_temporal.any()
    zeroing = _sampler(videos, 0.0, ClipSpec("reference", 2, window=10, zero_prob=1.0))
    assert zeroing.batch(0).zero_temporal.all()


def _frame():
    image = np.random.default_rng(1).integers(0, 255, (96, 128, 3), dtype=np.uint8)
    return FrameInput(image, np.array([[10.0, 5, 50, 90], [70, 10, 110, 92]]), np.array([0, 1]))


def test_checkpoint_round_trip_loads_with_weights_only(tmp_path):
    torch.manual_seed(0)
    method = build_method("ptm", POSETRACK18, preset="tiny", capacity=3).eval()
    ckpt = Checkpoint(method="ptm", config=method.config.to_dict(), train_config={},
                      skeleton=POSETRACK18, model=method.state_dict(), step=7, complete=True)
    path = tmp_path / "ptm.ckpt"
    save_checkpoint(ckpt, path)
    raw = torch.load(path, weights_only=True)
    assert raw["format"] == "vposebench-checkpoint" and raw["config"]["capacity"] == 3
    loaded = load_checkpoint(path)
    assert loaded.skeleton == POSETRACK18 and loaded.step == 7
    rebuilt = loaded.build()
    assert rebuilt.config == method.config
    for _ in range(3):
        np.testing.assert_array_equal(rebuilt.step(_frame()).keypoints, method.step(_frame()).keypoints)
    (tmp_path / "junk.ckpt").write_bytes(b"not a checkpoint")
    with pytest.raises(UserError, match="junk.ckpt"):
        load_checkpoint(tmp_path / "junk.ckpt")


def _run(dataset, out, method="baseline", iterations=4, progress=None, **settings):
    config = TrainConfig.from_dict({"iterations": iterations, "batch_size": 4, "save_every": 2,
                                    **{k: v for k, v in settings.items() if k in TrainConfig.field_names()}})
    method_settings = {"preset": "tiny", **{k: v for k, v in settings.items()
                                            if k not in TrainConfig.field_names()}}
    return train(method, dataset, out, method_settings=method_settings,
                 config=config, progress=progress)


def _interrupt_at(step, how):
    def progress(done, total, loss):
        if done == step:
            if how == "signal":
                os.kill(os.getpid(), signal.SIGINT)  # deferred to the end of this step
            else:
                raise KeyboardInterrupt
    return progress


@pytest.mark.parametrize("how,resume_step", [("signal", 3), ("exception", 2)])
def test_resume_after_interruption_gives_the_uninterrupted_result(sticks, tmp_path, how, resume_step):
    train_set = sticks("train")
    whole = _run(train_set, tmp_path / "whole.ckpt")
    out = tmp_path / "cut.ckpt"
    with pytest.raises(KeyboardInterrupt):
        _run(train_set, out, progress=_interrupt_at(3, how))
    assert not out.exists() and load_checkpoint(partial_path(out)).step == resume_step
    resumed = _run(train_set, out)
    assert resumed.resumed_from == resume_step and not partial_path(out).exists()
    a, b = load_checkpoint(tmp_path / "whole.ckpt"), load_checkpoint(out)
    assert a.complete and b.complete and a.losses == b.losses == whole.losses
    for key in a.model:
        assert torch.equal(a.model[key], b.model[key]), key
    # a partial run with other settings is refused
    with pytest.raises(KeyboardInterrupt):
        _run(train_set, out, progress=_interrupt_at(3, "exception"))
    with pytest.raises(UserError, match="other settings"):
        _run(train_set, out, lr=0.5)


def test_ptm_starts_from_a_baseline_checkpoint_and_trains_the_memory(sticks, tmp_path):
    _run(sticks("train"), tmp_path / "base.ckpt", iterations=2)
    base = load_checkpoint(tmp_path / "base.ckpt")
    _run(sticks("train"), tmp_path / "ptm.ckpt", method="ptm", iterations=2, clip_length=2,
         init_checkpoint=str(tmp_path / "base.ckpt"), train_quality_gate=False)
    ptm = load_checkpoint(tmp_path / "ptm.ckpt")
    assert ptm.train_config["train_scope"] == "auto"
    for key, value in base.model.items():  # the network is the baseline's, frozen
        assert torch.equal(ptm.model[key], value), key
    torch.manual_seed(0)
    fresh = build_method("ptm", POSETRACK18, **ptm.config).state_dict()
    changed = [k for k in ptm.model if k.startswith("memory.") and not torch.equal(ptm.model[k], fresh[k])]
    assert {"memory.alpha_logit", "memory.key.weight", "memory.value.weight"} <= set(changed)


def test_steps_without_anything_to_train_make_no_update(sticks, tmp_path):
    _run(sticks("train"), tmp_path / "base.ckpt", iterations=1)
    result = _run(sticks("train"), tmp_path / "ptm.ckpt", method="ptm", iterations=2, clip_length=2,
                  init_checkpoint=str(tmp_path / "base.ckpt"), write_threshold=1e9)
    assert result.idle_steps == 2 and len(result.losses) == 2
    torch.manual_seed(0)
    ptm = load_checkpoint(tmp_path / "ptm.ckpt")
    fresh = build_method("ptm", POSETRACK18, **ptm.config).state_dict()
    assert all(torch.equal(ptm.model[k], fresh[k]) for k in fresh if k.startswith("memory."))
    with pytest.raises(UserError, match="clip_length"):
        build_method("ptm", POSETRACK18, clip_length=1)


def test_ptm_alpha_and_memory_train_at_their_own_rates(sticks, tmp_path):
    _run(sticks("train"), tmp_path / "base.ckpt", iterations=1)
    _run(sticks("train"), tmp_path / "ptm.ckpt", method="ptm", iterations=3, clip_length=2,
         init_checkpoint=str(tmp_path / "base.ckpt"), train_quality_gate=False,
         lr_schedule="constant", lr=1e-4, temporal_lr=2e-3, alpha_lr=0.05)
    ptm = load_checkpoint(tmp_path / "ptm.ckpt")
    groups = {g["name"]: g["lr"] for g in ptm.optimizer["param_groups"]}
    assert groups == {"temporal": 2e-3, "alpha": 0.05}  # the frozen network has no group
    torch.manual_seed(0)
    fresh = build_method("ptm", POSETRACK18, **ptm.config).state_dict()
    # Adam moves a parameter by at most about its rate per step: alpha far beyond what the
    # network's rate would allow in 3 steps (3e-4), the memory's weights within theirs
    moved = (ptm.model["memory.alpha_logit"] - fresh["memory.alpha_logit"]).abs().item()
    assert 0.01 < moved <= 3 * 0.05 * 1.01
    assert (ptm.model["memory.key.weight"] - fresh["memory.key.weight"]).abs().max() <= 3 * 2e-3 * 1.01


def test_ptm_fine_tunes_end_to_end_with_train_scope_all(sticks, tmp_path):
    _run(sticks("train"), tmp_path / "base.ckpt", iterations=1)
    base = load_checkpoint(tmp_path / "base.ckpt")
    _run(sticks("train"), tmp_path / "ptm.ckpt", method="ptm", iterations=2, capacity=2,
         init_checkpoint=str(tmp_path / "base.ckpt"), train_quality_gate=False, train_scope="all",
         temporal_lr=1e-2)
    ptm = load_checkpoint(tmp_path / "ptm.ckpt")
    assert ptm.config["clip_length"] == 3
    assert {g["name"] for g in ptm.optimizer["param_groups"]} == {"network", "temporal", "alpha"}
    changed = {k.split(".")[1] for k, v in base.model.items()
               if v.is_floating_point() and not torch.equal(ptm.model[k], v)}
    assert {"conv1", "layer1", "deconv_layers", "final_layer"} <= changed  # backbone and head adapt
    with pytest.raises(UserError, match="alpha_lr"):
        TrainConfig.from_dict({"alpha_lr": -1})
