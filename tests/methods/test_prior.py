"""`prior`: the mean box-normalised pose, the replacement rule, and no temporal input."""

import dataclasses

import numpy as np
import pytest
import torch

from vposebench.errors import UserError
from vposebench.interface import FrameInput, build_method, has_track_state
from vposebench.methods.prior import mean_box_pose, mean_scores
from vposebench.runner import run_video
from vposebench.skeleton import POSETRACK18
from vposebench.structures import FrameGT, FramePred, PersonGT, PersonPred, VideoGT, VideoPred

#: one torch thread (helpers.torch_threads)
pytestmark = pytest.mark.usefixtures("one_torch_thread")

J = POSETRACK18.num_joints


def person(box, points):
    """A person with `box` whose joints `points` ({joint: (x, y)}) are annotated."""
    kp = np.zeros((J, 3))
    for j, xy in points.items():
        kp[j] = [*xy, 1]
    return PersonGT(kp, box=np.asarray(box, float))


def test_mean_box_pose_normalises_by_each_persons_box():
    frames = [FrameGT(0, "a", [person([0, 0, 10, 10], {5: (5, 5), 6: (10, 0)}),
                               person([0, 0, 20, 40], {5: (10, 30)})])]
    pose = mean_box_pose([VideoGT("v", POSETRACK18, frames)], lambda p: p.annotated, J)
    np.testing.assert_allclose(pose[5], [0.5, 0.625])
    np.testing.assert_allclose(pose[6], [1.0, 0.0])
    assert np.isnan(pose[[0, 7]]).all()  # never counted


def fitted_prior(**settings):
    prior = build_method("prior", POSETRACK18, preset="tiny", **settings)
    frames = [FrameGT(0, "a", [person([0, 0, 10, 20], {j: (j % 10, 2 * (j % 10)) for j in range(5, J)})])]
    scores = np.full((J, 3), 1.0)
    scores[:, 2] = np.linspace(0.2, 1.0, J)
    preds = [VideoPred("v", POSETRACK18, [FramePred(0, "a", [PersonPred(scores, 0)])])]
    prior.fit([VideoGT("v", POSETRACK18, frames)], preds, lambda p: p.annotated)
    return prior


def test_prior_replaces_exactly_the_joints_below_the_fraction_of_their_training_mean_score():
    prior = fitted_prior(prior_fraction=0.5)
    mean_score = np.linspace(0.2, 1.0, J)
    np.testing.assert_allclose(prior.mean_score.numpy(), mean_score)
    rng = np.random.default_rng(0)
    kp = np.stack([rng.uniform(0, 50, J), rng.uniform(0, 50, J), rng.uniform(0, 0.6, J)], 1)[None]
    box = np.array([[100.0, 50.0, 120.0, 90.0]])
    out = prior.adjust(FrameInput(np.zeros((4, 4, 3), np.uint8), box, np.array([0])), kp)
    low = (kp[0, :, 2] < 0.5 * mean_score) & (np.arange(J) >= 5)  # joints 0-4 have no mean pose
    assert 0 < low.sum() < J - 5
    pose = prior.mean_pose.numpy()
    np.testing.assert_allclose(out[0, low, 0], 100 + 20 * pose[low, 0])
    np.testing.assert_allclose(out[0, low, 1], 50 + 40 * pose[low, 1])
    np.testing.assert_array_equal(out[0, ~low, :2], kp[0, ~low, :2])
    np.testing.assert_array_equal(out[0, :, 2], kp[0, :, 2])  # scores stay the network's


def test_prior_output_of_a_frame_does_not_depend_on_earlier_frames(sticks):
    prior = fitted_prior().eval()
    assert not has_track_state(prior)
    video = sticks("val").load_video(sticks("val").video_names()[0])
    later = dataclasses.replace(video, frames=video.frames[3:])
    with torch.no_grad():
        whole, cut = run_video(prior, video), run_video(prior, later)
    for a, b in zip(whole.frames[3:], cut.frames):
        for pa, pb in zip(a.persons, b.persons):
            np.testing.assert_array_equal(pa.keypoints, pb.keypoints)


def test_an_unfitted_prior_refuses_to_run(sticks):
    prior = build_method("prior", POSETRACK18, preset="tiny").eval()
    video = sticks("val").load_video(sticks("val").video_names()[0])
    with pytest.raises(UserError, match="no mean pose"), torch.no_grad():
        run_video(prior, video)


def test_mean_scores_skip_joints_never_predicted():
    kp = np.full((J, 3), np.nan)
    kp[5:, 2] = 0.5
    kp[6, 2] = 0.7
    preds = [VideoPred("v", POSETRACK18, [FramePred(0, "a", [PersonPred(kp, 0), PersonPred(kp, 1)])])]
    scores = mean_scores(preds, J)
    assert np.isnan(scores[:5]).all() and scores[6] == pytest.approx(0.7) and scores[5] == 0.5
