import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vposebench.affine import (
    box_to_center_size,
    crop_matrix,
    invert_matrix,
    scale_matrix,
    transform_points,
    warp_crop,
)
from vposebench.boxes import (
    box_iou,
    box_is_valid,
    clip_box,
    keypoint_box,
    xywh_to_xyxy,
    xyxy_to_xywh,
)

finite = st.floats(-2000, 2000, allow_nan=False)


def test_box_conversions_and_iou():
    xywh = np.array([[10.0, 20.0, 30.0, 40.0]])
    xyxy = xywh_to_xyxy(xywh)
    np.testing.assert_array_equal(xyxy, [[10, 20, 40, 60]])
    np.testing.assert_array_equal(xyxy_to_xywh(xyxy), xywh)
    a = np.array([[0, 0, 10, 10]])
    b = np.array([[5, 0, 15, 10], [20, 20, 30, 30], [0, 0, 10, 10]])
    np.testing.assert_allclose(box_iou(a, b), [[50 / 150, 0.0, 1.0]])
    assert box_iou(np.zeros((0, 4)), b).shape == (0, 3)
    np.testing.assert_array_equal(box_is_valid(np.array([[0, 0, 1, 1], [0, 0, 0, 1], [np.nan, 0, 1, 1]])),
                                  [True, False, False])
    np.testing.assert_array_equal(clip_box([-5, -5, 700, 500], 640, 480), [0, 0, 640, 480])


def test_keypoint_box_posetrack_rule():
    # PT18 `bbox` = keypoint extent enlarged by 30 % about its centre
    kps = np.array([[100, 200, 1], [300, 600, 1], [0, 0, 0]], dtype=float)
    box = keypoint_box(kps, kps[:, 2] > 0, scale=1.3)
    np.testing.assert_allclose(box, [200 - 130, 400 - 260, 200 + 130, 400 + 260])
    assert np.isnan(keypoint_box(kps, np.zeros(3, bool))).all()


@settings(max_examples=200, deadline=None)
@given(
    x1=finite, y1=finite, w=st.floats(1, 800), h=st.floats(1, 800),
    rot=st.floats(-45, 45), flip=st.booleans(),
    pts=st.lists(st.tuples(finite, finite), min_size=1, max_size=8),
)
def test_crop_round_trip_within_1e4_px(x1, y1, w, h, rot, flip, pts):
    center, size = box_to_center_size(np.array([x1, y1, x1 + w, y1 + h]), aspect=0.75)
    assert size[0] / size[1] == pytest.approx(0.75)
    m = crop_matrix(center, size, (192, 256), rotation=rot, flip=flip)
    inv = invert_matrix(m)
    p = np.array(pts)
    back = transform_points(transform_points(p, m), inv)
    assert np.abs(back - p).max() < 1e-4
    # through the heatmap grid (stride 4) and back
    hm = scale_matrix(m, 4.0)
    back = transform_points(transform_points(p, hm), invert_matrix(hm))
    assert np.abs(back - p).max() < 1e-4


def test_crop_geometry():
    center, size = box_to_center_size(np.array([100, 100, 196, 228]), aspect=0.75, padding=1.0)
    m = crop_matrix(center, size, (96, 128))
    # box corners land on the crop's pixel-centre extent
    np.testing.assert_allclose(transform_points(np.array([[148.0, 164.0]]), m), [[47.5, 63.5]])
    np.testing.assert_allclose(transform_points(np.array([[100.0, 100.0]]), m), [[-0.5, -0.5]])
    flipped = crop_matrix(center, size, (96, 128), flip=True)
    np.testing.assert_allclose(transform_points(np.array([[100.0, 164.0]]), flipped), [[95.5, 63.5]])
    # heatmap cell of crop pixel u is (u + 0.5) / 4 - 0.5
    np.testing.assert_allclose(transform_points(np.array([[47.5, 63.5]]), scale_matrix(np.hstack([np.eye(2), np.zeros((2, 1))]), 4)),
                               [[11.5, 15.5]])


def test_warp_crop_moves_a_bright_pixel_where_the_matrix_says():
    image = np.zeros((240, 320, 3), np.uint8)
    image[150, 200] = 255
    center, size = box_to_center_size(np.array([150, 100, 250, 200]), aspect=1.0, padding=1.0)
    m = crop_matrix(center, size, (101, 101), rotation=30)
    crop = warp_crop(image, m, (101, 101))
    expect = transform_points(np.array([[200.0, 150.0]]), m)[0]
    y, x = np.unravel_index(crop[..., 0].argmax(), crop.shape[:2])
    assert abs(x - expect[0]) <= 1 and abs(y - expect[1]) <= 1
