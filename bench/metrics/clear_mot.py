"""CLEAR-MOT accumulation with motmetrics' ``MOTAccumulator.update`` semantics, many sequences at once.

motmetrics (1.4.0, the reference) processes one frame of one sequence per Python call. Here
every sequence advances in lockstep: step t handles the t-th update of all sequences with a
few numpy operations over the candidate (object, hypothesis) edges of all of them. The rules
per update are motmetrics' own:

1. an object whose last partner is present again, at a finite distance, keeps it (MATCH);
   objects are visited in order, so when two claim one hypothesis the first wins;
2. the remaining finite edges are assigned by minimum-cost linear assignment on motmetrics'
   matrix (NaN = impossible, replaced by its "expensive edge" constant), solved with scipy.
   When no remaining object or hypothesis has two candidate edges the assignment is simply
   all of them (any optimum takes every edge of a matching), so the solver only runs on
   updates with a real choice, on exactly the matrix motmetrics would build;
3. an assigned pair is a SWITCH if the object was last matched to another hypothesis, plus
   ASCEND / TRANSFER / MIGRATE bookkeeping rows (they carry distances that the official
   PoseTrack MOTP sums); 4. unassigned objects are misses, unassigned hypotheses false positives.

Object ids must be unique within an update, and so must hypothesis ids (callers fall back to
motmetrics itself otherwise); ids are global, so different sequences must not share ids.
Equality with motmetrics is tested on randomized inputs in
``tests/bench/metrics/test_clear_mot.py``.
"""

from __future__ import annotations

import dataclasses

import numpy as np

#: event codes per edge
NONE, MATCH, SWITCH = 0, 1, 2


@dataclasses.dataclass
class MOTUpdates:
    """A batch of accumulator updates (one per frame of one sequence), flattened.

    Update u has objects ``obj_ids[obj_offsets[u]:obj_offsets[u + 1]]`` (in the order they
    would be passed to motmetrics), hypotheses likewise, and finite distances only as edges
    (every other entry of its distance matrix is NaN).
    """

    step: np.ndarray  # (U,) rank of the update within its sequence (0, 1, ...)
    obj_offsets: np.ndarray  # (U + 1,)
    obj_ids: np.ndarray  # (No,) int64 global object ids
    hyp_offsets: np.ndarray  # (U + 1,)
    hyp_ids: np.ndarray  # (Nh,) int64 global hypothesis ids
    edge_obj: np.ndarray  # (E,) object position (index into obj_ids)
    edge_hyp: np.ndarray  # (E,) hypothesis position (index into hyp_ids)
    edge_dist: np.ndarray  # (E,) finite distance

    @property
    def num_updates(self) -> int:
        return len(self.step)


@dataclasses.dataclass
class MOTEvents:
    """What the accumulator decided, per edge and per update."""

    edge_event: np.ndarray  # (E,) NONE / MATCH / SWITCH
    edge_extra: np.ndarray  # (E,) number of ASCEND + TRANSFER + MIGRATE rows for the pair
    obj_event: np.ndarray  # (No,) MATCH / SWITCH, NONE = miss
    matches: np.ndarray  # (U,) MATCH events
    switches: np.ndarray  # (U,) SWITCH events
    objects: np.ndarray  # (U,) objects (= matches + switches + misses)
    hypotheses: np.ndarray  # (U,) hypotheses (= matches + switches + false positives)
    sum_matched: np.ndarray  # (U,) distance summed over MATCH and SWITCH rows
    sum_extra: np.ndarray  # (U,) distance summed over ASCEND, TRANSFER and MIGRATE rows
    sum_raw: np.ndarray  # (U,) distance summed over RAW rows (= every finite entry)
    transfers: np.ndarray  # (U,)
    ascends: np.ndarray  # (U,)
    migrates: np.ndarray  # (U,)

    @property
    def misses(self) -> np.ndarray:
        return self.objects - self.matches - self.switches

    @property
    def false_positives(self) -> np.ndarray:
        return self.hypotheses - self.matches - self.switches

    @property
    def sum_all_rows(self) -> np.ndarray:
        """``acc.events['D'].sum()`` per update: every row that carries a distance."""
        return self.sum_raw + self.sum_matched + self.sum_extra


def _expensive_edges(costs: np.ndarray) -> np.ndarray:
    """motmetrics' replacement of NaN entries before scipy's solver (same constant)."""
    valid = np.isfinite(costs)
    if valid.all():
        return costs.copy()
    if not valid.any():
        return np.zeros_like(costs)
    r = min(costs.shape)
    c = np.abs(costs[valid]).max() + 1
    return np.where(valid, costs, 2 * r * c + 1)


def solve_assignment(costs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Row and column indices of the finite pairs of motmetrics' scipy assignment."""
    from scipy.optimize import linear_sum_assignment  # imported on first use: costly to load

    rows, cols = linear_sum_assignment(_expensive_edges(costs))
    keep = np.isfinite(costs[rows, cols])
    return rows[keep], cols[keep]


def dense_ids(ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``np.unique(ids, return_inverse=True)`` for non-negative integer ids; by a lookup table
    when the ids span a range not much larger than their number (one pass, no sort)."""
    ids = np.asarray(ids)
    if len(ids) == 0 or ids.min() < 0 or ids.max() > 4 * len(ids) + 1024:
        unique, inverse = np.unique(ids, return_inverse=True)
        return unique, inverse.reshape(-1)
    present = np.zeros(int(ids.max()) + 1, dtype=bool)
    present[ids] = True
    unique = np.flatnonzero(present)
    table = np.cumsum(present) - 1
    return unique.astype(ids.dtype, copy=False), table[ids]


def _repeated(keys: np.ndarray) -> np.ndarray:
    """Mask of the elements whose key occurs more than once."""
    _, inverse, counts = np.unique(keys, return_inverse=True, return_counts=True)
    return counts[inverse] > 1


def _first_per_key(keys: np.ndarray, order_key: np.ndarray) -> np.ndarray:
    """Indices (into keys) of the element with the smallest order_key for each distinct key."""
    order = np.lexsort((order_key, keys))
    first = np.ones(len(order), dtype=bool)
    first[1:] = keys[order][1:] != keys[order][:-1]
    return np.sort(order[first])


def _assign_with_solver(u: int, upd: MOTUpdates, obj_pos: np.ndarray, hyp_pos: np.ndarray,
                        dist: np.ndarray) -> np.ndarray:
    """Solve one update's remaining assignment; returns a mask over its remaining edges."""
    o0, h0 = upd.obj_offsets[u], upd.hyp_offsets[u]
    costs = np.full((upd.obj_offsets[u + 1] - o0, upd.hyp_offsets[u + 1] - h0), np.nan)
    costs[obj_pos - o0, hyp_pos - h0] = dist
    rows, cols = solve_assignment(costs)
    chosen = np.zeros(costs.shape, dtype=bool)
    chosen[rows, cols] = True
    return chosen[obj_pos - o0, hyp_pos - h0]


def accumulate(upd: MOTUpdates) -> MOTEvents:
    """Run the accumulator over every sequence of `upd` (see the module docstring)."""
    n_upd = upd.num_updates
    n_obj, n_hyp, n_edge = len(upd.obj_ids), len(upd.hyp_ids), len(upd.edge_obj)
    obj_update = np.repeat(np.arange(n_upd), np.diff(upd.obj_offsets))
    edge_update = obj_update[upd.edge_obj]

    # dense state over compressed ids
    obj_state_ids, obj_state = dense_ids(upd.obj_ids)
    hyp_state_ids, hyp_state = dense_ids(upd.hyp_ids)
    partner = np.full(len(obj_state_ids), -1)  # self.m: object -> last hypothesis
    owner = np.full(len(hyp_state_ids), -1)  # self.res_m: hypothesis -> last object
    was_matched = np.zeros(len(obj_state_ids), dtype=bool)  # o in self.last_match
    hyp_seen = np.zeros(len(hyp_state_ids), dtype=bool)  # h in self.hypHistory

    edge_event = np.zeros(n_edge, dtype=np.int8)
    edge_extra = np.zeros(n_edge, dtype=np.int8)
    edge_asc = np.zeros(n_edge, dtype=bool)
    edge_tr = np.zeros(n_edge, dtype=bool)
    edge_mig = np.zeros(n_edge, dtype=bool)
    obj_used = np.zeros(n_obj, dtype=bool)
    hyp_used = np.zeros(n_hyp, dtype=bool)

    by_step = np.argsort(upd.step[edge_update], kind="stable")
    step_bounds = np.searchsorted(upd.step[edge_update][by_step], np.arange(upd.step.max(initial=-1) + 2))
    for t in range(len(step_bounds) - 1):
        e = by_step[step_bounds[t]:step_bounds[t + 1]]
        if len(e) == 0:
            continue
        op, hp = upd.edge_obj[e], upd.edge_hyp[e]
        o, h = obj_state[op], hyp_state[hp]
        # 1. keep established correspondences (first object in order wins a contested hypothesis)
        keep = np.flatnonzero(partner[o] == h)
        if len(keep) > 1:
            keep = keep[_first_per_key(hp[keep], op[keep])]
        obj_used[op[keep]] = True
        hyp_used[hp[keep]] = True
        edge_event[e[keep]] = MATCH
        was_matched[o[keep]] = True
        hyp_seen[h[keep]] = True
        # 2. assignment of what remains
        rest = np.flatnonzero(~obj_used[op] & ~hyp_used[hp])
        if len(rest):
            r_op, r_hp = op[rest], hp[rest]
            contested = _repeated(r_op) | _repeated(r_hp)
            chosen = np.ones(len(rest), dtype=bool)
            if contested.any():
                r_upd = edge_update[e[rest]]
                for u in np.unique(r_upd[contested]):
                    sel = np.flatnonzero(r_upd == u)
                    chosen[sel] = _assign_with_solver(int(u), upd, r_op[sel], r_hp[sel],
                                                      upd.edge_dist[e[rest[sel]]])
            a = rest[chosen]
            ao, ah = o[a], h[a]
            switch = (partner[ao] >= 0) & (partner[ao] != ah)
            transfer = (owner[ah] >= 0) & (owner[ah] != ao)
            edge_asc[e[a]] = switch & ~hyp_seen[ah]
            edge_tr[e[a]] = transfer
            edge_mig[e[a]] = transfer & ~was_matched[ao]
            edge_event[e[a]] = np.where(switch, SWITCH, MATCH)
            hyp_seen[ah] = True
            was_matched[ao] = True
            partner[ao] = ah
            owner[ah] = ao
            obj_used[op[a]] = True
            hyp_used[hp[a]] = True

    edge_extra[:] = edge_asc.astype(np.int8) + edge_tr + edge_mig
    obj_event = np.zeros(n_obj, dtype=np.int8)
    hit = edge_event > 0
    obj_event[upd.edge_obj[hit]] = edge_event[hit]

    def per_update(mask: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
        w = None if weights is None else weights[mask]
        return np.bincount(edge_update[mask], weights=w, minlength=n_upd)

    d = upd.edge_dist
    return MOTEvents(
        edge_event=edge_event, edge_extra=edge_extra, obj_event=obj_event,
        matches=per_update(edge_event == MATCH).astype(np.int64),
        switches=per_update(edge_event == SWITCH).astype(np.int64),
        objects=np.diff(upd.obj_offsets), hypotheses=np.diff(upd.hyp_offsets),
        sum_matched=per_update(hit, d), sum_extra=per_update(edge_extra > 0, d * edge_extra),
        sum_raw=per_update(np.ones(n_edge, dtype=bool), d),
        transfers=per_update(edge_tr).astype(np.int64), ascends=per_update(edge_asc).astype(np.int64),
        migrates=per_update(edge_mig).astype(np.int64),
    )
