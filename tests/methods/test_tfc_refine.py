"""`tfc` and `refine` against a direct transcription of the TFC paper's equations."""

import numpy as np
import pytest
import torch

from vposebench.errors import UserError
from vposebench.interface import ClipBatch, FrameInput, build_method
from vposebench.methods.geometry import box_matrices, normalise, warp_crops
from vposebench.methods.tfc import correlation_maps, keypoint_features
from vposebench.skeleton import POSETRACK18

#: one torch thread (helpers.torch_threads)
pytestmark = pytest.mark.usefixtures("one_torch_thread")


def test_keypoint_features_and_correlation_match_the_equations():
    g = torch.Generator().manual_seed(0)
    heat = torch.randn(2, 3, 4, 5, generator=g)  # negative values are clamped away
    feats = torch.randn(2, 6, 4, 5, generator=g)
    kp = keypoint_features(heat, feats)
    for n in range(2):
        for p in range(3):
            pooled = sum(max(heat[n, p, h, w].item(), 0.0) * feats[n, :, h, w]
                         for h in range(4) for w in range(5))
            torch.testing.assert_close(kp[n, p], pooled / pooled.norm())
    corr = correlation_maps(kp, feats)
    for n, p, h, w in [(0, 0, 0, 0), (1, 2, 3, 4), (1, 1, 2, 1)]:
        torch.testing.assert_close(corr[n, p, h, w], kp[n, p] @ feats[n, :, h, w])
    assert keypoint_features(torch.zeros(1, 3, 4, 5), feats[:1]).abs().max() == 0


def test_cosine_correlation_normalises_each_location():
    g = torch.Generator().manual_seed(1)
    kp = keypoint_features(torch.rand(2, 3, 4, 5, generator=g), torch.randn(2, 6, 4, 5, generator=g))
    feats = torch.randn(2, 6, 4, 5, generator=g)
    feats[0, :, 1, 2] = 0  # an all-zero location correlates to 0, not NaN
    cos = correlation_maps(kp, feats, "cosine")
    for n, p, h, w in [(0, 0, 0, 0), (1, 2, 3, 4), (0, 1, 2, 1)]:
        v = feats[n, :, h, w]
        torch.testing.assert_close(cos[n, p, h, w], kp[n, p] @ v / v.norm())
    assert cos[0, :, 1, 2].abs().max() == 0 and cos.abs().max() <= 1 + 1e-6
    # scaling the current features changes inner products, not cosines
    torch.testing.assert_close(correlation_maps(kp, 3 * feats, "cosine"), cos)
    with pytest.raises(UserError, match="correlation"):
        build_method("tfc", POSETRACK18, preset="tiny", correlation="l1")


def _frame(boxes, ids, ended=()):
    image = np.random.default_rng(0).integers(0, 255, (120, 160, 3), dtype=np.uint8)
    return FrameInput(image, np.asarray(boxes, float), np.asarray(ids), ended_tracks=ended)


BOXES = [[10, 10, 60, 110], [80, 5, 140, 115]]


def _capture_stage1(method):
    """Record the extra Stage-1 input of every decode call."""
    seen = []
    decode = method.net.decode

    def spy(main, skips, extra=None):
        seen.append(None if extra is None else extra.detach().clone())
        return decode(main, skips, extra)

    method.net.decode = spy
    return seen


@pytest.mark.parametrize("name", ["tfc", "refine"])
@pytest.mark.parametrize("backbone", ["cpm", "simplebaseline"])
def test_zero_maps_on_a_tracks_first_frame(name, backbone):
    torch.manual_seed(0)
    method = build_method(name, POSETRACK18, preset="tiny", backbone=backbone).eval()
    seen = _capture_stage1(method)
    method.step(_frame(BOXES, [0, 1]))
    method.step(_frame(BOXES, [0, 5], ended=(1,)))  # track 1 ended, 5 is new
    assert seen[0].abs().max() == 0  # first frame of the video
    assert seen[1][0].abs().max() > 0  # track 0 continues
    assert seen[1][1].abs().max() == 0  # track 5 starts
    assert set(method.tracks) == {0, 5}
    method.reset()
    assert not method.tracks and method.state_bytes() == 0


@pytest.mark.parametrize("name", ["tfc", "refine"])
def test_without_temporal_input_every_frame_gets_zero_maps(name):
    torch.manual_seed(0)
    method = build_method(name, POSETRACK18, preset="tiny")
    off = build_method(name, POSETRACK18, preset="tiny", temporal_input=False)
    off.load_state_dict(method.state_dict())
    method.eval(), off.eval()
    seen = _capture_stage1(off)
    for _ in range(2):
        first = method.step(_frame(BOXES, [0, 1]))
        method.reset()  # a fresh start: the first-frame output
        later = off.step(_frame(BOXES, [0, 1]))
        torch.testing.assert_close(later.heatmaps, first.heatmaps)
    assert all(e.abs().max() == 0 for e in seen) and len(seen) == 2
    assert set(off.tracks) == {0, 1}  # state is still kept (and reported), just not used


@pytest.mark.parametrize("kind", ["inner", "cosine"])
def test_tfc_stage1_gets_scaled_correlation_of_the_previous_frame(kind):
    torch.manual_seed(0)
    method = build_method("tfc", POSETRACK18, preset="tiny", correlation=kind).eval()
    with torch.no_grad():
        method.scale.weight.uniform_(0.5, 2.0)
        method.scale.bias.uniform_(-0.1, 0.1)
    seen = _capture_stage1(method)
    first = method.step(_frame(BOXES, [0, 1]))
    crops = normalise(torch.from_numpy(warp_crops(_frame(BOXES, [0]).image,
                                                  box_matrices(np.array(BOXES, float), (64, 64), 1.25),
                                                  (64, 64))))
    with torch.no_grad():
        feats, _ = method.net.encode(crops)
        kp = keypoint_features(first.heatmaps, feats)  # the previous frame: same image and boxes
        expected = correlation_maps(kp, feats, kind) * method.scale.weight.view(1, -1, 1, 1) \
            + method.scale.bias.view(1, -1, 1, 1)
    method.step(_frame(BOXES, [0, 1]))
    torch.testing.assert_close(seen[1], expected)
    assert method.state_bytes() == 2 * 17 * method.net.feature_channels * 4


def test_refine_stage1_gets_the_previous_heatmaps_in_the_current_crop():
    torch.manual_seed(0)
    method = build_method("refine", POSETRACK18, preset="tiny").eval()
    seen = _capture_stage1(method)
    first = method.step(_frame(BOXES, [0, 1]))
    second = method.step(_frame(BOXES, [0, 1]))  # same boxes: the warp is the identity
    torch.testing.assert_close(seen[1], first.heatmaps, atol=1e-5, rtol=1e-5)
    # a 50x100 box becomes a 125 px square crop at 64 px: one heatmap cell (8 crop px) is
    # 15.625 image px; moving the boxes that far right moves the previous maps one cell left
    moved = [[b[0] + 15.625, b[1], b[2] + 15.625, b[3]] for b in BOXES[:1]]
    method.step(_frame(moved, [0]))
    torch.testing.assert_close(seen[2][0, ..., :-1], second.heatmaps[0, ..., 1:], atol=1e-5, rtol=1e-5)
    assert seen[2][0, ..., -1].abs().max() < 1e-6  # nothing known to the right


def _pair_batch(method, zero):
    w, h = method.config.crop_size
    hw, hh = method.config.heatmap_size
    g = torch.Generator().manual_seed(0)
    return ClipBatch(
        images=torch.randint(0, 255, (2, 2, h, w, 3), dtype=torch.uint8, generator=g),
        targets=torch.rand(2, 2, 17, hh, hw, generator=g), target_weight=torch.ones(2, 2, 17),
        crop_matrices=torch.tensor(np.eye(2, 3)).expand(2, 2, 2, 3).clone(),
        num_persons=torch.ones(2, 2, dtype=torch.int64), zero_temporal=torch.tensor(zero))


@pytest.mark.parametrize("name, settings", [("tfc", {}), ("tfc", {"correlation": "cosine"}),
                                            ("refine", {})])
def test_training_uses_the_reference_frame_and_zeroes_samples(name, settings):
    torch.manual_seed(0)
    method = build_method(name, POSETRACK18, preset="tiny", **settings).train()
    seen = _capture_stage1(method)
    batch = _pair_batch(method, [False, True])
    loss = method.loss(batch)
    extra = seen[-1]
    assert extra[1].abs().max() == 0 and extra[0].abs().max() > 0
    if name == "refine":  # identity crops: the reference's ground-truth heatmaps themselves
        torch.testing.assert_close(extra[0], batch.targets[0, 0], atol=1e-5, rtol=1e-5)
    else:  # keypoint features from the reference weighted by its ground truth
        with torch.no_grad():
            feats, _ = method.net.encode(normalise(batch.images.flatten(0, 1)))
            kp = keypoint_features(batch.targets[:1, 0], feats[:1])
            maps = correlation_maps(kp, feats[1:2], method.config.correlation)
            torch.testing.assert_close(extra[0], method.scale(maps)[0])
    loss.backward()
    missing = [n for n, p in method.named_parameters() if p.grad is None or not p.grad.abs().sum() > 0]
    assert not missing, missing


def test_tfc_starts_from_a_baseline_checkpoint_with_widened_stage1():
    torch.manual_seed(0)
    base = build_method("baseline", POSETRACK18, preset="tiny", backbone="cpm")
    tfc = build_method("tfc", POSETRACK18, preset="tiny")
    before = tfc.net.stages[0][0].weight[:, 16:].clone()
    tfc.load_network_state(base.net.state_dict(), "baseline")
    w = tfc.net.stages[0][0].weight
    torch.testing.assert_close(w[:, :16], base.net.stages[0][0].weight)
    torch.testing.assert_close(w[:, 16:], before)  # the added filters keep their N(0, 0.01) start
    d = tfc.describe()
    assert d.past_frames == 1 and d.backbone.startswith("CPM-3")


@pytest.mark.parametrize("name", ["tfc", "refine"])
def test_pred_source_uses_the_models_own_reference_heatmaps(name):
    torch.manual_seed(0)
    method = build_method(name, POSETRACK18, preset="tiny", temporal_source="pred").train()
    seen = _capture_stage1(method)
    batch = _pair_batch(method, [False, False])
    predicted = []
    own = method.predicted_heatmaps

    def spy(crops):
        out = own(crops)
        predicted.append((crops, out, method.net.training))
        return out

    method.predicted_heatmaps = spy
    loss = method.loss(batch)
    extra = seen[-1]
    (crops, heatmaps, training_after), = predicted
    assert training_after and not heatmaps.requires_grad  # back in train mode; no gradient
    torch.testing.assert_close(crops, normalise(batch.images[:, 0]))  # the reference crops
    method.eval()
    with torch.no_grad():  # as at test time on a track's first frame: zero temporal input
        first = method.net(normalise(batch.images[:, 0]), torch.zeros_like(extra))
        torch.testing.assert_close(heatmaps, first)
    assert not torch.allclose(heatmaps, batch.targets[:, 0])
    if name == "refine":  # identity crops: the predicted heatmaps themselves
        torch.testing.assert_close(extra, heatmaps)
    else:
        method.train()  # features as the loss computed them (BatchNorm in train mode)
        feats, _ = method.net.encode(normalise(batch.images.flatten(0, 1)))
        maps = correlation_maps(keypoint_features(heatmaps, feats[0::2]), feats[1::2])
        torch.testing.assert_close(extra, method.scale(maps), atol=1e-4, rtol=1e-4)
    loss.backward()
    assert all(p.grad is not None for p in method.parameters())
    with pytest.raises(UserError, match="temporal_source"):
        build_method(name, POSETRACK18, preset="tiny", temporal_source="previous")
