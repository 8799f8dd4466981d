"""The lockstep CLEAR-MOT accumulator equals motmetrics' MOTAccumulator, event for event."""

from __future__ import annotations

import motmetrics as mm
import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from vposebench.metrics.clear_mot import MOTUpdates, accumulate, solve_assignment

# few distinct values, so that ties in the assignment are common; NaN = impossible pair
DISTANCES = st.sampled_from([0.0, 0.1, 0.2, 0.2, 0.3, 0.5, np.nan, np.nan, np.nan])


@st.composite
def frames(draw, pool: int = 6) -> list[tuple[list[int], list[int], np.ndarray]]:
    """One sequence: per frame unique object ids, unique hypothesis ids, a distance matrix."""
    out = []
    for _ in range(draw(st.integers(1, 10))):
        oids = draw(st.lists(st.integers(0, pool - 1), max_size=5, unique=True))
        hids = draw(st.lists(st.integers(0, pool - 1), max_size=5, unique=True))
        dist = np.array([[draw(DISTANCES) for _ in hids] for _ in oids], dtype=np.float64)
        out.append((oids, hids, dist.reshape(len(oids), len(hids))))
    return out


def batch(sequences: list[list[tuple]]) -> MOTUpdates:
    """All sequences in one MOTUpdates (ids offset per sequence so that they never collide)."""
    step, obj_ids, hyp_ids, e_obj, e_hyp, e_dist = [], [], [], [], [], []
    obj_off, hyp_off = [0], [0]
    for s, seq in enumerate(sequences):
        for t, (oids, hids, dist) in enumerate(seq):
            step.append(t)
            o0, h0 = len(obj_ids), len(hyp_ids)
            obj_ids += [1000 * s + o for o in oids]
            hyp_ids += [1000 * s + h for h in hids]
            obj_off.append(len(obj_ids))
            hyp_off.append(len(hyp_ids))
            i, j = np.nonzero(np.isfinite(dist))
            e_obj += (i + o0).tolist()
            e_hyp += (j + h0).tolist()
            e_dist += dist[i, j].tolist()
    as_int = lambda v: np.array(v, dtype=np.int64)  # noqa: E731
    return MOTUpdates(step=as_int(step), obj_offsets=as_int(obj_off), obj_ids=as_int(obj_ids),
                      hyp_offsets=as_int(hyp_off), hyp_ids=as_int(hyp_ids), edge_obj=as_int(e_obj),
                      edge_hyp=as_int(e_hyp), edge_dist=np.array(e_dist, dtype=np.float64))


def reference(seq: list[tuple]) -> dict[str, np.ndarray]:
    """Per-frame event counts and distance sums from motmetrics itself."""
    acc = mm.MOTAccumulator(auto_id=True)
    for oids, hids, dist in seq:
        acc.update(oids, hids, dist)
    ev = acc.events.reset_index()
    n = len(seq)
    frame = ev["FrameId"].to_numpy()
    kind = ev["Type"].to_numpy()
    d = np.nan_to_num(ev["D"].to_numpy())

    def count(*kinds: str) -> np.ndarray:
        return np.bincount(frame[np.isin(kind, kinds)], minlength=n)

    def total(*kinds: str) -> np.ndarray:
        rows = np.isin(kind, kinds)
        return np.bincount(frame[rows], weights=d[rows], minlength=n)

    return {"matches": count("MATCH"), "switches": count("SWITCH"), "misses": count("MISS"),
            "false_positives": count("FP"), "transfers": count("TRANSFER"), "ascends": count("ASCEND"),
            "migrates": count("MIGRATE"), "sum_matched": total("MATCH", "SWITCH"),
            "sum_extra": total("ASCEND", "TRANSFER", "MIGRATE"), "sum_raw": total("RAW"),
            "sum_all_rows": np.full(1, acc.events["D"].sum())}


def check_equal(sequences: list[list[tuple]]) -> None:
    events = accumulate(batch(sequences))
    start = 0
    for seq in sequences:
        sl = slice(start, start + len(seq))
        start += len(seq)
        ref = reference(seq)
        for key in ("matches", "switches", "misses", "false_positives", "transfers", "ascends", "migrates"):
            np.testing.assert_array_equal(getattr(events, key)[sl], ref[key], err_msg=key)
        for key in ("sum_matched", "sum_extra", "sum_raw"):
            np.testing.assert_allclose(getattr(events, key)[sl], ref[key], atol=1e-12, err_msg=key)
        np.testing.assert_allclose(events.sum_all_rows[sl].sum(), ref["sum_all_rows"][0], atol=1e-12)


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(frames(), min_size=1, max_size=4))
def test_equals_motmetrics_on_random_sequences(sequences):
    check_equal(sequences)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(frames(pool=3), min_size=1, max_size=3))
def test_equals_motmetrics_with_few_ids(sequences):
    """A pool of three ids: objects and hypotheses reappear and trade partners all the time."""
    check_equal(sequences)


def test_switch_transfer_ascend_migrate_by_hand():
    nan = np.nan
    seq = [
        ([1, 2], [10, 20], np.array([[0.1, nan], [nan, 0.1]])),  # two matches
        ([1, 2], [10, 20], np.array([[nan, 0.2], [0.2, nan]])),  # both switch (transfers too)
        ([1, 3], [30, 20], np.array([[0.3, nan], [nan, 0.4]])),  # 1 -> new hyp 30: switch + ascend; 3 new takes 20: transfer + migrate
        ([1], [], np.zeros((1, 0))),  # a miss
        ([], [40], np.zeros((0, 1))),  # a false positive
    ]
    check_equal([seq])
    ev = accumulate(batch([seq]))
    assert ev.switches.tolist() == [0, 2, 1, 0, 0]
    assert ev.ascends.tolist() == [0, 0, 1, 0, 0] and ev.migrates.tolist() == [0, 0, 1, 0, 0]
    assert ev.misses.tolist() == [0, 0, 0, 1, 0] and ev.false_positives.tolist() == [0, 0, 0, 0, 1]


def test_contested_frames_use_the_same_assignment_as_motmetrics():
    """A tie: one object, two hypotheses at the same distance (the solver decides)."""
    seq = [([1, 2], [10, 20, 30], np.array([[0.2, 0.2, np.nan], [0.2, 0.2, 0.2]]))] * 3
    check_equal([seq])
    rows, cols = solve_assignment(np.array([[np.nan, 0.3], [0.1, np.nan]]))
    assert rows.tolist() == [0, 1] and cols.tolist() == [1, 0]
