import numpy as np

from vposebench.boxes import keypoint_box
from vposebench.datasets.synthetic.annotate import (
    annotate_persons,
    joints_of,
    point_codes,
    skeleton_points,
)
from vposebench.datasets.synthetic.people import BODY_POINTS, PART, POINT
from vposebench.datasets.synthetic.render import OCCLUDER_LABEL, RenderedFrame, person_label
from vposebench.datasets.synthetic.truth import (
    BY_OCCLUDER,
    BY_PERSON,
    BY_SELF,
    NOT_ANNOTATED,
    VISIBLE,
)
from vposebench.skeleton import JHMDB, PENN_ACTION, POSETRACK18


def _frame(labels: np.ndarray, points: list[np.ndarray]) -> RenderedFrame:
    n = len(points)
    return RenderedFrame(index=0, time=0.0, image=np.zeros((*labels.shape, 3), np.uint8), labels=labels,
                         points=points, heights=np.full(n, 100.0), head_boxes=np.tile([1.2, 2.5, 7.7, 9.1], (n, 1)))


def test_codes_from_the_label_under_each_joint():
    labels = np.zeros((20, 30), np.uint16)
    labels[5, 5] = person_label(0, PART["left_forearm"])  # own part of the left wrist
    labels[5, 6] = person_label(0, PART["torso"])  # not a part of the wrist: self-occlusion
    labels[5, 7] = person_label(1, PART["head"])  # another person
    labels[5, 8] = OCCLUDER_LABEL + 2
    pts = np.full((len(BODY_POINTS), 2), 15.0)  # background pixel: nothing on top
    wrist = POINT["left_wrist"]
    cases = {(5.3, 4.6): VISIBLE, (6.0, 5.0): BY_SELF, (7.49, 5.2): BY_PERSON, (8.0, 4.51): BY_OCCLUDER,
             (-0.6, 3.0): NOT_ANNOTATED, (29.6, 3.0): NOT_ANNOTATED, (29.4, 19.4): VISIBLE}
    for (x, y), expected in cases.items():
        pts[wrist] = (x, y)
        codes = point_codes(_frame(labels, [pts.copy()]))
        assert codes[0, wrist] == expected, (x, y)
        assert codes[0, POINT["nose"]] == VISIBLE


def test_skeleton_mappings_use_the_body_points_by_name():
    assert list(skeleton_points(POSETRACK18)[[3, 4]]) == [-1, -1]  # ears are placeholders
    assert skeleton_points(POSETRACK18)[1] == POINT["head_bottom"]
    jhmdb = skeleton_points(JHMDB)
    assert jhmdb[JHMDB.index("neck")] == POINT["head_bottom"] and jhmdb[JHMDB.index("head")] == POINT["head_centre"]
    assert jhmdb[JHMDB.index("belly")] == POINT["belly"]
    assert skeleton_points(PENN_ACTION)[0] == POINT["head_centre"]


def test_posetrack_annotation_rules():
    labels = np.zeros((40, 40), np.uint16)
    inside = np.tile([10.0, 10.0], (len(BODY_POINTS), 1)) + np.arange(len(BODY_POINTS))[:, None] * [1.0, 1.5]
    partly = inside.copy()
    partly[:, 0] += 33  # only the first joints stay in the image
    hidden = inside.copy()
    labels[10:37, 10:31] = OCCLUDER_LABEL  # covers every joint of `inside` and `hidden`
    labels[10, 10] = person_label(0, PART["head"])  # ... except the nose of person 0
    labels[12, 11] = person_label(0, PART["neck"])  # ... and its head bottom (11, 11.5)
    frame = _frame(labels, [inside, partly, hidden])
    out = annotate_persons(frame, [7, 8, 9], POSETRACK18, min_in_image=4, min_unhidden=2)
    assert [p.gt.track_id for p in out] == [7]  # 8: too few joints inside; 9: everything hidden
    gt = out[0].gt
    assert gt.keypoints.shape == (17, 3) and (gt.keypoints[[3, 4]] == 0).all()
    xy, codes = joints_of(frame, point_codes(frame), 0, POSETRACK18)
    np.testing.assert_array_equal(gt.keypoints[gt.annotated, :2], xy[gt.annotated])
    assert (gt.keypoints[gt.annotated, 2] == 1).all()
    assert list(out[0].codes[:3]) == [VISIBLE, VISIBLE, BY_OCCLUDER]
    np.testing.assert_array_equal(gt.occluded, out[0].codes == BY_OCCLUDER)
    np.testing.assert_allclose(gt.box, keypoint_box(gt.keypoints, gt.annotated, 1.3))
    np.testing.assert_array_equal(gt.head_box, [1, 2, 8, 10])  # floor / ceil of the drawn head's extent
