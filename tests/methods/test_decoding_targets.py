"""Targets, decoding (argmax + quarter shift, inverse warp) and the crop geometry."""

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from vposebench.methods.decoding import decode_heatmaps, decode_to_image
from vposebench.methods.geometry import (
    apply_matrices,
    box_matrices,
    compose,
    grid_matrices,
    invert_matrices,
    warp_maps,
)
from vposebench.methods.targets import gaussian_targets

#: one torch thread (helpers.torch_threads)
pytestmark = pytest.mark.usefixtures("one_torch_thread")


def test_gaussian_target_peak_weight_and_shape():
    maps, weight = gaussian_targets(np.array([[5.0, 7.0], [2.3, 1.6], [40.0, 2.0], [3.0, 3.0]]),
                                    np.array([True, True, True, False]), (12, 16), 2.0)
    assert maps.shape == (4, 16, 12) and maps.dtype == np.float32
    np.testing.assert_array_equal(weight, [1, 1, 0, 0])  # far outside / unannotated: 0
    assert maps[0, 7, 5] == 1.0 and np.unravel_index(maps[0].argmax(), maps[0].shape) == (7, 5)
    assert maps[2].max() == 0 and maps[3].max() == 0
    # the exact sub-cell centre: value at a cell is exp(-d^2 / (2 sigma^2))
    np.testing.assert_allclose(maps[1, 1, 2], np.exp(-(0.3**2 + 0.6**2) / 8), rtol=1e-6)


def test_quarter_shift_moves_towards_the_higher_neighbour():
    h = torch.zeros(1, 3, 5, 6)
    h[0, 0, 2, 3], h[0, 0, 2, 4], h[0, 0, 3, 3] = 1.0, 0.5, 0.2  # right and down are higher
    h[0, 1, 2, 3], h[0, 1, 2, 2], h[0, 1, 1, 3] = 1.0, 0.5, 0.2  # left and up
    h[0, 2, 0, 0] = 1.0  # corner: no neighbours on one side, no shift
    coords, scores = decode_heatmaps(h)
    np.testing.assert_allclose(coords[0].numpy(), [[3.25, 2.25], [2.75, 1.75], [0, 0]])
    np.testing.assert_allclose(scores[0].numpy(), [1, 1, 1])


@settings(max_examples=60, deadline=None)
@given(x=st.floats(20, 300), y=st.floats(20, 200), w=st.floats(30, 120), h=st.floats(60, 200),
       fx=st.floats(0.1, 0.9), fy=st.floats(0.1, 0.9))
def test_target_decodes_back_to_the_image_point(x, y, w, h, fx, fy):
    """A keypoint -> heatmap grid -> Gaussian target -> decode -> image: within a quarter
    cell (the decoder's resolution) times the stride and the crop scale."""
    box = np.array([[x, y, x + w, y + h]])
    point = np.array([[[x + fx * w, y + fy * h]]])
    crop = box_matrices(box, (48, 64), 1.25)
    grid = grid_matrices(crop, 4)
    cell = apply_matrices(point, grid)
    maps, weight = gaussian_targets(cell[0], np.ones(1, bool), (12, 16), 1.0)
    decoded = decode_to_image(torch.from_numpy(maps)[None], crop, 4)
    cell_px = np.abs(invert_matrices(grid)[0, :, :2]).max()  # image pixels per cell
    assert np.abs(decoded[0, 0, :2] - point[0, 0]).max() <= 0.5 * cell_px + 1e-6
    assert decoded[0, 0, 2] >= np.exp(-0.25) - 1e-6  # the nearest cell is at most half a cell off per axis


def test_warp_maps_matches_an_integer_shift_and_identity():
    maps = torch.rand(2, 3, 8, 6)
    shift = np.array([[[1.0, 0, 2], [0, 1, 1]]] * 2)  # x + 2, y + 1
    out = warp_maps(maps, shift)
    torch.testing.assert_close(out[:, :, 1:, 2:], maps[:, :, :-1, :-2])
    assert out[:, :, 0].abs().max() < 1e-6 and out[:, :, :, :2].abs().max() < 1e-6
    torch.testing.assert_close(warp_maps(maps, np.array([np.eye(2, 3)] * 2)), maps)
    np.testing.assert_allclose(compose(shift, invert_matrices(shift)), [np.eye(2, 3)] * 2, atol=1e-12)
