"""Crops held fixed over a track's window (`crop_mode=track_window`): the crop stays put for
`crop_window` frames of a track and the person moves inside it; per-frame box crops follow."""

import numpy as np
import pytest
import torch

from vposebench.errors import UserError
from vposebench.interface import FrameInput, build_method
from vposebench.methods.crops import CropWindows
from vposebench.methods.geometry import apply_matrices, box_matrices
from vposebench.skeleton import POSETRACK18

#: one torch thread (helpers.torch_threads)
pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _boxes(t: int) -> np.ndarray:
    """Two persons walking right (4 px per frame) and left (3 px per frame)."""
    return np.array([[10.0 + 4 * t, 10, 60 + 4 * t, 110], [100.0 - 3 * t, 5, 150 - 3 * t, 115]])


def _centres(matrices: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    """Box centres in crop pixels."""
    centre = (boxes[:, :2] + boxes[:, 2:]) / 2
    return apply_matrices(centre[:, None], matrices)[:, 0]


def test_a_window_keeps_each_tracks_crop_for_its_frames():
    windows = CropWindows((64, 96), 1.25 * 1.5, window=3)
    seen = [windows.matrices(_boxes(t), [0, 1]) for t in range(7)]
    for t in (1, 2):  # frames 1, 2 reuse the crops of frame 0; frame 3 starts a new window
        np.testing.assert_array_equal(seen[t], seen[0])
    np.testing.assert_array_equal(seen[3], box_matrices(_boxes(3), (64, 96), 1.875))
    np.testing.assert_array_equal(seen[6], box_matrices(_boxes(6), (64, 96), 1.875))
    # inside a window each person moves across its fixed crop, in its own direction
    shifts = [_centres(seen[t], _boxes(t)) - _centres(seen[0], _boxes(0)) for t in (1, 2)]
    assert shifts[0][0, 0] > 0 and shifts[0][1, 0] < 0 and shifts[1][0, 0] > shifts[0][0, 0]
    np.testing.assert_allclose(_centres(seen[3], _boxes(3)), [[31.5, 47.5]] * 2)  # re-centred
    # tracks are independent: a track seen for the first time starts its own window
    late = windows.matrices(_boxes(7)[:1], [5])
    np.testing.assert_array_equal(late, box_matrices(_boxes(7)[:1], (64, 96), 1.875))
    assert windows.nbytes() == 3 * 6 * 8
    windows.end([5])
    assert set(windows.tracks) == {0, 1}
    windows.clear()
    assert windows.nbytes() == 0


def _frame(t, ids=(0, 1), ended=()):
    image = np.random.default_rng(t).integers(0, 255, (120, 200, 3), dtype=np.uint8)
    return FrameInput(image, _boxes(t)[: len(ids)], np.asarray(ids), index=t, ended_tracks=ended)


def _record_matrices(method):
    seen = []
    infer = method.infer

    def spy(x, frame, matrices):
        seen.append(matrices.copy())
        return infer(x, frame, matrices)

    method.infer = spy
    return seen


@pytest.mark.parametrize("name", ["baseline", "ptm", "refine"])
def test_methods_crop_a_track_window_alike_and_forget_it(name):
    torch.manual_seed(0)
    method = build_method(name, POSETRACK18, preset="tiny", crop_mode="track_window",
                          crop_window=4, crop_margin=1.5).eval()
    boxed = build_method(name, POSETRACK18, preset="tiny").eval()
    seen, seen_box = _record_matrices(method), _record_matrices(boxed)
    for t in range(5):
        method.step(_frame(t))
        boxed.step(_frame(t))
    assert all(np.array_equal(m, seen[0]) for m in seen[1:4]) and not np.array_equal(seen[4], seen[0])
    np.testing.assert_array_equal(seen[4], box_matrices(_boxes(4), method.config.crop_size, 1.875))
    # per-frame box crops re-centre: the box centre is the crop centre in every frame
    w, h = boxed.config.crop_size
    for t, m in enumerate(seen_box):
        np.testing.assert_allclose(_centres(m, _boxes(t)), [[(w - 1) / 2, (h - 1) / 2]] * 2)
    moved = _centres(seen[3], _boxes(3)) - _centres(seen[0], _boxes(0))
    assert moved[0, 0] > 1 and moved[1, 0] < -1  # both persons moved inside the fixed crops
    assert method.windows.nbytes() == 2 * 48 and not boxed.windows.tracks  # a 2x3 matrix per track
    if name == "baseline":  # the fixed crops are its only state
        assert method.state_bytes() == 2 * 48 and boxed.state_bytes() == 0
    method.step(_frame(5, ids=(0,), ended=(1,)))
    assert set(method.windows.tracks) == {0}
    method.reset()
    assert not method.windows.tracks


def _record_stage1(method):
    """The extra Stage-1 input of every decode call."""
    seen = []
    decode = method.net.decode

    def spy(main, skips, extra=None):
        seen.append(extra.clone())
        return decode(main, skips, extra)

    method.net.decode = spy
    return seen


def test_refine_in_a_fixed_crop_sees_the_previous_heatmaps_unmoved():
    """Within a window the crop is the same, so aligned and unaligned previous heatmaps agree:
    the person's displacement is in the input (the displacement-unaware comparator)."""
    torch.manual_seed(0)
    outputs = {}
    for align in (True, False):
        torch.manual_seed(0)
        method = build_method("refine", POSETRACK18, preset="tiny", crop_mode="track_window",
                              crop_window=8, align_previous=align).eval()
        extras = _record_stage1(method)
        previous = [method.step(_frame(t)).heatmaps for t in range(3)]
        torch.testing.assert_close(extras[1], previous[0])
        torch.testing.assert_close(extras[2], previous[1])
        outputs[align] = extras
    torch.testing.assert_close(outputs[True][2], outputs[False][2])


def test_crop_settings_are_validated():
    with pytest.raises(UserError, match="crop_mode"):
        build_method("baseline", POSETRACK18, preset="tiny", crop_mode="frame")
    with pytest.raises(UserError, match="crop_margin"):
        build_method("baseline", POSETRACK18, preset="tiny", crop_margin=0.5)
    with pytest.raises(UserError, match="crop_window"):
        build_method("tfc", POSETRACK18, preset="tiny", crop_window=0)
