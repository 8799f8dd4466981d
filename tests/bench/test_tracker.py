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
    tracker = IoUTracker(threshold=0.3, max_age=0)
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
    tracker = IoUTracker(max_id=4, max_age=0)
    seen = []
    for f in range(6):  # every frame new, far-apart boxes: tracks never continue
        boxes = [[1000 * f + 100 * k, 0, 1000 * f + 100 * k + 10, 10] for k in range(2)]
        ids = tracker.update(boxes).track_ids.tolist()
        assert len(set(ids)) == 2 and all(0 <= i < 4 for i in ids)
        seen.append(ids)
    assert seen[:2] == [[0, 1], [2, 3]] and seen[2] == [0, 1]  # reused once ended


def test_lost_tracks_survive_max_age_frames_and_match_their_last_box():
    tracker = IoUTracker(threshold=0.3, max_age=2)
    assert tracker.update([[0, 0, 10, 10], [50, 0, 60, 10]]).track_ids.tolist() == [0, 1]
    # track 1 has no box for two frames: lost, not ended; its last box is remembered
    gone = tracker.update([[1, 0, 11, 10]])
    assert gone.track_ids.tolist() == [0] and gone.lost == (1,) and gone.ended == ()
    assert tracker.active == (0,) and tracker.alive == (0, 1)
    assert tracker.update([[2, 0, 12, 10]]).lost == (1,)
    # it comes back near where it was last seen: the same id, not a new track
    back = tracker.update([[3, 0, 13, 10], [51, 0, 61, 10]])
    assert back.track_ids.tolist() == [0, 1] and back.new == () and back.lost == ()
    # three frames without a box (> max_age): ended then, exactly once
    updates = [tracker.update([[3, 0, 13, 10]]) for _ in range(3)]
    assert [u.ended for u in updates] == [(), (), (1,)] and [u.lost for u in updates] == [(1,), (1,), ()]
    assert tracker.update([[50, 0, 60, 10]]).new == (2,)  # an ended id is not revived


def test_tracks_of_the_previous_frame_are_matched_before_lost_ones():
    tracker = IoUTracker(threshold=0.1, max_age=5)
    tracker.update([[0, 0, 10, 10], [4, 0, 14, 10]])  # tracks 0 and 1 overlap
    tracker.update([[4, 0, 14, 10]])  # track 1 continues (IoU 1), track 0 is lost
    # a box overlapping both last boxes goes to track 1 (seen last frame) even though it
    # overlaps track 0's last box more
    update = tracker.update([[1, 0, 11, 10]])
    assert update.track_ids.tolist() == [1] and update.lost == (0,)
    # with max_age=0 the frame-to-frame behaviour is unchanged: one missed frame ends a track
    plain = IoUTracker(max_age=0)
    plain.update([[0, 0, 10, 10]])
    assert plain.update(np.zeros((0, 4))).ended == (0,)


def test_exhausted_ids_end_the_longest_lost_track():
    tracker = IoUTracker(max_id=3, max_age=10)
    tracker.update([[0, 0, 10, 10], [100, 0, 110, 10]])
    tracker.update([[200, 0, 210, 10]])  # ids 0, 1 lost, 2 new
    update = tracker.update([[200, 0, 210, 10], [300, 0, 310, 10]])  # one more new box
    assert update.track_ids.tolist() == [2, 0] and update.ended == (0,) and update.lost == (1,)


def test_bad_arguments():
    with pytest.raises(ValueError):
        IoUTracker(matching="nearest")
    with pytest.raises(ValueError):
        IoUTracker(threshold=1.5)
    with pytest.raises(ValueError):
        IoUTracker(max_age=-1)
