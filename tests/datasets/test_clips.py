"""Training samples cropped like a track window (`SampleGeometry.window`): all frames of a
sample share one crop, set from a box up to window - 1 frames before, and the person moves
inside it."""

import numpy as np
import pytest

from vposebench.datasets.clips import ClipIndex, ClipSampler, SampleGeometry, joint_rule
from vposebench.datasets.transforms import Augmentation, AugmentationRanges, augmented_matrix
from vposebench.interface import ClipSpec
from vposebench.methods.geometry import apply_matrices
from vposebench.skeleton import POSETRACK18


def _sampler(videos, spec, window):
    index = ClipIndex(videos, spec, trains_on=joint_rule("posetrack"), real=POSETRACK18.evaluated)
    geometry = SampleGeometry((64, 96), 1.875, 4, 1.0, window=window)
    still = AugmentationRanges(scale_factor=0.0, rotation_factor=0.0, flip_prob=0.0)
    return ClipSampler(videos, index, POSETRACK18, geometry, still, batch_size=6, seed=3,
                       trains_on=joint_rule("posetrack"))


@pytest.mark.parametrize("spec", [ClipSpec("consecutive", 3), ClipSpec("reference", 2, window=4)])
def test_window_samples_share_an_earlier_frames_crop_and_the_person_moves_in_it(sticks, spec):
    videos = [sticks("train").load_video(n) for n in sticks("train").video_names()]
    fixed, boxed = _sampler(videos, spec, window=4), _sampler(videos, spec, window=0)
    anchors, moves = set(), []
    for step in range(4):
        batch = fixed.batch(step)
        m = batch.crop_matrices.numpy()
        np.testing.assert_array_equal(m[:, 1:], np.broadcast_to(m[:, :1], m[:, 1:].shape))
        picks = np.random.default_rng([3, step]).integers(len(fixed.index), size=6)
        for slot in range(batch.batch_size):
            refs = fixed.index.draw(int(picks[slot]), np.random.default_rng([3, step, slot]))
            persons = [videos[v].frames[f].persons[p] for v, f, p in refs]
            v, first, _ = min(refs, key=lambda r: r[1])
            track = persons[0].track_id
            # the shared crop is that of the track's box 0..3 frames before the earliest frame
            back = [k for k in range(4) if first - k >= 0 and np.allclose(m[slot, 0], augmented_matrix(
                next(q for q in videos[v].frames[first - k].persons if q.track_id == track).crop_box(),
                (64, 96), 1.875, Augmentation()))]
            assert back, (step, slot)
            anchors.add(back[0])
            # the person moves inside the crop: its box centre in crop pixels changes
            centres = [apply_matrices(((q.box[:2] + q.box[2:]) / 2)[None, None], m[slot, :1])[0, 0]
                       for q in persons]
            moves.append(np.abs(centres[-1] - centres[0]).max())
        box_m = boxed.batch(step).crop_matrices.numpy()
        assert not np.allclose(box_m[:, 0], box_m[:, -1])  # box crops follow each frame's box
    assert len(anchors) > 1  # anchors at several distances
    assert max(moves) > 1.0 and np.mean(np.asarray(moves) > 0.05) > 0.5
