"""The shared IoU tracker: greedy vs Hungarian, threshold, new ids, ended tracks, id limit."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vposebench.boxes import box_iou
from vposebench.tracker import IoUTracker, greedy_match, hungarian_match

#: one torch thread (helpers.torch_threads)
pytestmark = pytest.mark.usefixtures("one_torch_thread")


def test_continuing_new_and_ended_tracks():
    tracker = IoUTracker(threshold=0.3)
    first = tracker.update([[0, 0, 10, 10], [20, 0, 30, 10]])
    assert first.track_ids.tolist() == [0, 1] and first.new == (0, 1) and first.ended == ()
    # box 0 moved a little (IoU 0.67), box 1 gone, a new box appears far away
    second = tracker.update([[100, 0, 110, 10], [2, 0, 12, 10]])
    assert second.track_ids.tolist() == [2, 0]
    assert second.ended == (1,) and second.new == (2,)
    assert tracker.active == (2, 0)
    third = tracker.update(np.zeros((0, 4)))
    assert third.track_ids.size == 0 and set(third.ended) == {0, 2}
    tracker.reset()
    assert tracker.update([[0, 0, 1, 1]]).track_ids.tolist() == [0]


def test_threshold_is_inclusive_and_configurable():
    a, b = [[0, 0, 10, 10]], [[0, 0, 10, 3]]  # IoU = 30 / 100 = 0.3
    assert box_iou(np.array(a), np.array(b))[0, 0] == 0.3
    for threshold, continues in [(0.3, True), (0.31, False), (0.1, True)]:
        tracker = IoUTracker(threshold=threshold)
        tracker.update(a)
        assert bool(tracker.update(b).track_ids[0] == 0) is continues


def test_greedy_and_hungarian_differ_where_greedy_is_myopic():
    iou = np.array([[0.9, 0.8], [0.8, 0.1]])
    assert sorted(greedy_match(iou, 0.05)) == [(0, 0), (1, 1)]  # total 1.0
    assert sorted(hungarian_match(iou, 0.05)) == [(0, 1), (1, 0)]  # total 1.6
    # with a threshold above 0.1 both leave the weak pair out
    assert sorted(greedy_match(iou, 0.3)) == [(0, 0)]
    assert sorted(hungarian_match(iou, 0.3)) == [(0, 1), (1, 0)]


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(st.floats(0, 200), st.floats(0, 200), st.floats(1, 80), st.floats(1, 80)),
                min_size=0, max_size=8),
       st.lists(st.tuples(st.floats(0, 200), st.floats(0, 200), st.floats(1, 80), st.floats(1, 80)),
                min_size=0, max_size=8),
       st.sampled_from(["greedy", "hungarian"]))
def test_matches_are_one_to_one_above_threshold(prev, cur, matching):
    to_xyxy = lambda rows: np.array([[x, y, x + w, y + h] for x, y, w, h in rows]).reshape(-1, 4)  # noqa: E731
    iou = box_iou(to_xyxy(prev), to_xyxy(cur))
    pairs = (greedy_match if matching == "greedy" else hungarian_match)(iou, 0.3)
    assert len({r for r, _ in pairs}) == len(pairs) == len({c for _, c in pairs})
    assert all(iou[r, c] >= 0.3 for r, c in pairs)
    tracker = IoUTracker(matching=matching)
    tracker.update(to_xyxy(prev))
    ids = tracker.update(to_xyxy(cur)).track_ids
    assert len(set(ids.tolist())) == len(ids)  # unique within the frame


def test_ids_stay_below_the_limit_and_unique():
    tracker = IoUTracker(max_id=4)
    seen = []
    for f in range(6):  # every frame new, far-apart boxes: tracks never continue
        boxes = [[1000 * f + 100 * k, 0, 1000 * f + 100 * k + 10, 10] for k in range(2)]
        ids = tracker.update(boxes).track_ids.tolist()
        assert len(set(ids)) == 2 and all(0 <= i < 4 for i in ids)
        seen.append(ids)
    assert seen[:2] == [[0, 1], [2, 3]] and seen[2] == [0, 1]  # reused once ended


def test_bad_arguments():
    with pytest.raises(ValueError):
        IoUTracker(matching="nearest")
    with pytest.raises(ValueError):
        IoUTracker(threshold=1.5)
