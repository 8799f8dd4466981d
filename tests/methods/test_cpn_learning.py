"""CPN trains like SimpleBaseline: heatmap outputs start near zero, and it learns the sticks.

Regression for a CPN whose He-initialised output convs started with heatmap noise of std ~1.4
against targets peaking at 1 (loss 5.1 at step 0): it never learned (AP 0.2 after 1500 steps
on the synthetic benchmark, SimpleBaseline 49.3).
"""

import numpy as np
import pytest
import torch

from vposebench.interface import FrameInput, build_method
from vposebench.methods.decoding import argmax_cells
from vposebench.methods.geometry import normalise
from vposebench.skeleton import POSETRACK18
from vposebench.training import TrainConfig, build_sampler

#: one torch thread (helpers.torch_threads)
pytestmark = pytest.mark.usefixtures("one_torch_thread")

#: augmentation off: the held-out batch is the plain crops
PLAIN = {"scale_factor": 0.0, "rotation_prob": 0.0, "flip_prob": 0.0}


def sampler_of(method, dataset, config: TrainConfig):
    return build_sampler(method, dataset, [dataset.load_video(n) for n in dataset.video_names()],
                         config)


@pytest.mark.parametrize("backbone", ["simplebaseline", "cpn", "cpm"])
def test_untrained_loss_is_near_that_of_zero_heatmaps(backbone, sticks):
    """An untrained network's outputs are small next to the targets: its loss is at most twice
    the loss of predicting zeros everywhere (He-initialised CPN heads gave ~280 times)."""
    torch.manual_seed(0)
    method = build_method("baseline", POSETRACK18, preset="tiny", backbone=backbone).train()
    batch = sampler_of(method, sticks("train"), TrainConfig(batch_size=8)).batch(0)
    x, target = normalise(batch.images.flatten(0, 1)), batch.targets.flatten(0, 1)
    weight = batch.target_weight.flatten(0, 1)
    with torch.no_grad():
        outputs = method.net.decode(*method.net.encode(x))
        loss = method.net.loss(outputs, target, weight)
        zero = method.net.loss([torch.zeros_like(o) for o in outputs], target, weight)
    assert zero > 0 and loss <= 2 * zero, (float(loss), float(zero))


def fit_and_score(backbone: str, sticks, steps: int):
    """Train `baseline` tiny for `steps` Adam steps on the stick videos; return the share of
    labelled joints of a plain validation batch whose heatmap argmax is within one cell, and
    the trained method (in eval mode)."""
    torch.manual_seed(0)
    method = build_method("baseline", POSETRACK18, preset="tiny", backbone=backbone)
    train = sampler_of(method, sticks("train"), TrainConfig(batch_size=16, seed=0))
    held_out = sampler_of(method, sticks("val"), TrainConfig(batch_size=32, seed=1, **PLAIN)).batch(0)
    optimizer = torch.optim.Adam(method.parameters(), lr=1e-3)  # TrainConfig's default
    method.train()
    for step in range(steps):
        loss = method.loss(train.batch(step))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    method.eval()
    with torch.no_grad():
        heatmaps = method.net(normalise(held_out.images.flatten(0, 1)))
    found, _ = argmax_cells(heatmaps)
    truth, _ = argmax_cells(held_out.targets.flatten(0, 1))
    near = (found - truth).abs().max(dim=2).values <= 1
    return float(near[held_out.target_weight.flatten(0, 1) > 0].float().mean()), method


def test_cpn_learns_the_sticks_as_well_as_simplebaseline_and_serves_ptm(sticks):
    steps = 40
    simple, _ = fit_and_score("simplebaseline", sticks, steps)
    cpn, baseline = fit_and_score("cpn", sticks, steps)
    print(f"joints within one cell after {steps} steps: SimpleBaseline {simple:.2f}, CPN {cpn:.2f}")
    assert simple > 0.4, simple  # the fixture is learnable at this budget
    assert cpn >= 0.75 * simple, (cpn, simple)

    # ptm on that CPN (memory at the C5 lateral): its first frame is the baseline's (an empty
    # memory reads y = x) and the trained heatmaps pass the write gate, so the memory fills
    ptm = build_method("ptm", POSETRACK18, preset="tiny", backbone="cpn").eval()
    ptm.load_network_state(baseline.net.state_dict(), "the CPN trained above")
    assert ptm.net.feature_channels == ptm.config.cpn_channels and ptm.net.feature_stride == 32
    video = sticks("val").load_video(sticks("val").video_names()[0])
    for frame in video.frames:
        inputs = FrameInput(image=frame.load_image(), index=frame.index,
                            boxes=np.array([p.box for p in frame.persons]),
                            track_ids=np.array([p.track_id for p in frame.persons]))
        out = ptm.step(inputs)
        if frame.index == video.frames[0].index:
            np.testing.assert_allclose(out.keypoints, baseline.step(inputs).keypoints)
    assert ptm.state_bytes() > 0
