"""The PTM memory's store: every track's FIFO of stored maps (or their projections) and its
keypoint feature bank, one slot per track in one set of tensors (PTM paper, Sec. 2)."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable

import numpy as np
import torch


def index_rows(like: torch.Tensor, *arrays: np.ndarray) -> torch.Tensor:
    """Integer index arrays of one length as rows of one tensor on `like`'s device."""
    t = torch.from_numpy(np.stack(arrays).astype(np.int64, copy=False))
    return t if like.device.type == "cpu" else t.to(like.device)



@dataclasses.dataclass
class TrackState:
    """One track's memory taken out of a `MemoryStore` (for the shuffled control)."""

    parts: tuple[torch.Tensor, ...] | None  # the slot's entries, one tensor per part
    size: int  # entries held
    oldest: int  # ring position of the oldest entry once full
    bank: torch.Tensor | None  # (J, C) keypoint feature vectors
    bank_valid: np.ndarray | None  # (J,) which joints hold a vector
    bank_xy: np.ndarray | None  # (J, 2) their image positions


class MemoryStore:
    """Every track's memory in one set of tensors, a slot per track: a FIFO of stored maps (or
    their projections) and a keypoint feature bank.

    An entry is (map,) (C, H, W) or, with cached projections, (key, value) in head layout
    (N, H*W, c_bar/N) and (N, H*W, C/N). A slot holds `capacity` entries, so the parts are
    maps (S, L, C, H, W) or keys (S, N, L, H*W, c_bar/N) and values (S, N, L, H*W, C/N), with
    L = capacity; a read of the tracks in slot order uses them as they are, and a write
    stores all persons' entries with one indexed copy per part. A slot fills 0, 1, ...; once
    full, an entry replaces the slot's oldest (a ring: the read sums or normalises over all
    stored cells, so their order does not matter). Under autograd the parts are copied before
    a write, so earlier reads keep what they read. A track's slot is made when it first
    appears and removed (the others moved up) when it ends: the bytes held are the bytes
    reported, `capacity` entries per track from its first write on.
    """

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self.clear()

    def clear(self) -> None:
        #: track id -> slot
        self.slots: dict[int, int] = {}
        #: the stacked entries, one tensor per part (None before the first write)
        self.parts: tuple[torch.Tensor, ...] | None = None
        #: per slot: entries held, and the position of the oldest once full
        self.size = np.zeros(0, dtype=np.int64)
        self.oldest = np.zeros(0, dtype=np.int64)
        #: keypoint feature bank: (S, J, C) vectors, which joints hold one, their image positions
        self.bank: torch.Tensor | None = None
        self.bank_valid = np.zeros((0, 0), dtype=bool)
        self.bank_xy = np.zeros((0, 0, 2))

    def slots_for(self, track_ids: Iterable[int]) -> np.ndarray:
        """The slots of these tracks, new (empty) ones for tracks seen the first time."""
        out = []
        for t in track_ids:
            slot = self.slots.get(int(t))
            if slot is None:
                slot = self.slots[int(t)] = len(self.slots)
            out.append(slot)
        grow = len(self.slots) - len(self.size)
        if grow:
            self.size = np.concatenate([self.size, np.zeros(grow, dtype=np.int64)])
            self.oldest = np.concatenate([self.oldest, np.zeros(grow, dtype=np.int64)])
        return np.asarray(out, dtype=np.int64)

    def drop(self, track_ids: Iterable[int]) -> None:
        """Free the slots of ended tracks (the remaining slots move up)."""
        gone = {self.slots[int(t)] for t in track_ids if int(t) in self.slots}
        if not gone:
            return
        keep = [s for s in range(len(self.size)) if s not in gone]
        moved = {old: new for new, old in enumerate(keep)}
        self.slots = {track: moved[slot] for track, slot in self.slots.items() if slot not in gone}
        index = torch.as_tensor(keep, dtype=torch.int64)
        if self.parts is not None:
            self.parts = tuple(p.index_select(0, index.to(p.device)) for p in self.parts)
        if self.bank is not None:
            self.bank = self.bank.index_select(0, index.to(self.bank.device))
            self.bank_valid, self.bank_xy = self.bank_valid[keep], self.bank_xy[keep]
        self.size, self.oldest = self.size[keep], self.oldest[keep]

    @staticmethod
    def entry_axis(parts: tuple[torch.Tensor, ...]) -> int:
        """Where a slot's entries stack: 0 for maps, 1 for (key, value) projections."""
        return 1 if len(parts) == 2 else 0

    def _grown(self, like: tuple[torch.Tensor, ...] | None = None) -> tuple[torch.Tensor, ...] | None:
        """The parts with a slot for every track (zeros in new slots); `like` (one entry)
        gives the shapes before the first write."""
        slots = len(self.size)
        if self.parts is None:
            if like is None:
                return None
            axis = self.entry_axis(like)
            return tuple(t.new_zeros(slots, *t.shape[:axis], self.capacity, *t.shape[axis:]) for t in like)
        have = self.parts[0].shape[0]
        if have == slots:
            return self.parts
        return tuple(torch.cat([p, p.new_zeros(slots - have, *p.shape[1:])]) for p in self.parts)

    def append(self, slots: np.ndarray, entries: tuple[torch.Tensor, ...]) -> None:
        """Store entry i of `entries` (one (P, ...) tensor per part) in slot slots[i]; the
        oldest is replaced when a slot is full (FIFO). Slots must be distinct."""
        parts = self._grown(tuple(t[0] for t in entries))
        if torch.is_grad_enabled():
            parts = tuple(p.clone() for p in parts)
        full = self.size[slots] == self.capacity
        position = np.where(full, self.oldest[slots], self.size[slots])
        rows = index_rows(parts[0], slots, position)
        for part, entry in zip(parts, entries):
            if self.entry_axis(parts) == 1:
                part[rows[0], :, rows[1]] = entry
            else:
                part[rows[0], rows[1]] = entry
        self.parts = parts
        self.oldest[slots] = np.where(full, (position + 1) % self.capacity, self.oldest[slots])
        self.size[slots] = np.minimum(self.size[slots] + 1, self.capacity)

    def stored(self, slots: np.ndarray) -> tuple[torch.Tensor, ...]:
        """The parts of these slots, (B, ...) each (the parts themselves for all slots in order)."""
        self.parts = self._grown()
        if len(slots) == self.parts[0].shape[0] and np.array_equal(slots, np.arange(len(slots))):
            return self.parts
        index = index_rows(self.parts[0], slots)[0]
        return tuple(p.index_select(0, index) for p in self.parts)

    def entries(self, track_id: int) -> list[tuple[torch.Tensor, ...]]:
        """A track's stored entries, oldest first (views)."""
        slot = self.slots[int(track_id)]
        if self.parts is None or slot >= self.parts[0].shape[0]:
            return []
        axis = self.entry_axis(self.parts)
        size, oldest = int(self.size[slot]), int(self.oldest[slot])
        return [tuple(p[slot].select(axis, (oldest + i) % size) for p in self.parts)
                for i in range(size)]

    def _grow_bank(self, num_joints: int, like: torch.Tensor) -> None:
        """A bank row for every slot (zeros in new rows); `like` (..., C) gives dtype and width."""
        count = len(self.size)
        if self.bank is not None and self.bank.shape[0] >= count:
            return
        have = 0 if self.bank is None else self.bank.shape[0]
        zeros = like.new_zeros(count - have, num_joints, like.shape[-1])
        self.bank = zeros if self.bank is None else torch.cat([self.bank, zeros])
        self.bank_valid = np.concatenate([self.bank_valid.reshape(have, num_joints),
                                          np.zeros((count - have, num_joints), dtype=bool)])
        self.bank_xy = np.concatenate([self.bank_xy.reshape(have, num_joints, 2),
                                       np.zeros((count - have, num_joints, 2))])

    def save_keypoints(self, slots: np.ndarray, joints: np.ndarray, vectors: torch.Tensor,
                       xy: np.ndarray, num_joints: int) -> None:
        """Keep vectors (K, C) and image positions (K, 2) of joints[k] of slots[k]."""
        self._grow_bank(num_joints, vectors)
        at = index_rows(self.bank, slots, joints)
        self.bank[at[0], at[1]] = vectors.to(self.bank.dtype)
        self.bank_valid[slots, joints] = True
        self.bank_xy[slots, joints] = xy

    def export_track(self, track_id: int) -> TrackState | None:
        """A copy of one track's memory (its slot's entries, fill state and keypoint bank)."""
        slot = self.slots.get(int(track_id))
        if slot is None:
            return None
        parts = None
        if self.parts is not None and slot < self.parts[0].shape[0]:
            parts = tuple(p[slot].clone() for p in self.parts)
        bank = valid = xy = None
        if self.bank is not None and slot < self.bank.shape[0]:
            bank, valid, xy = self.bank[slot].clone(), self.bank_valid[slot].copy(), self.bank_xy[slot].copy()
        return TrackState(parts, int(self.size[slot]), int(self.oldest[slot]), bank, valid, xy)

    def import_track(self, track_id: int, state: TrackState | None) -> None:
        """Make `state` (from `export_track`, of any store with this capacity) the track's
        memory; None empties it."""
        if state is None:
            self.drop([track_id])
            return
        slot = int(self.slots_for([track_id])[0])
        if state.parts is not None:
            self.parts = self._grown(tuple(p.select(self.entry_axis(state.parts), 0) for p in state.parts))
            if torch.is_grad_enabled():
                self.parts = tuple(p.clone() for p in self.parts)
            for part, value in zip(self.parts, state.parts):
                part[slot] = value
        elif self.parts is not None:
            self.parts = self._grown()
            for part in self.parts:
                part[slot] = 0
        self.size[slot], self.oldest[slot] = state.size, state.oldest
        if state.bank is not None:
            self._grow_bank(state.bank.shape[0], state.bank)
            self.bank[slot] = state.bank
            self.bank_valid[slot], self.bank_xy[slot] = state.bank_valid, state.bank_xy
        elif self.bank is not None and slot < self.bank.shape[0]:
            self.bank_valid[slot] = False

    def nbytes(self) -> int:
        """Bytes of the stored entries and the keypoint bank."""
        tensors = (*(self.parts or ()), *(() if self.bank is None else (self.bank,)))
        return sum(t.numel() * t.element_size() for t in tensors)
