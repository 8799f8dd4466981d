"""The pose temporal memory (PTM paper, Sec. 2): the store of per-track FIFOs, the attention
read, the heatmap quality score, and the write with keypoint feature replacement.

Read (Eq. 1-3), with x (n x c) the current map and m (l x c) the stored maps of one track:
s_ij = (W_K m_i)^T (W_Q x_j), d_ij = -|W_K m_i - W_Q x_j|_1 (per head, by `torch.cdist` p=1);
vanilla w_ij = softmax_i(s_ij / sqrt(c_bar / N)); CoDA w_ij = tanh(a s_ij) * 2 sigmoid(b d_ij)
(a, b fixed scales, no normalisation over i); m~_j = sum_i w_ij W_V m_i; y = alpha x +
(1 - alpha) m~ with alpha = sigmoid(theta) (theta = 0 at start: alpha = 0.5). An empty memory
gives y = x.

Tensor layout: attention weights are kept as (batch, head, j, i) (query position j, memory
position i), so "over i" is the last axis. Keys and values are kept per head, (head, cell,
channel), the cells of a track's stored entries one after another (`MemoryStore`), so a
read takes them as they lie.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Iterable

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from vposebench.errors import UserError

from .decoding import argmax_cells
from .geometry import apply_matrices, grid_matrices, invert_matrices
from .targets import gaussian_targets

#: CoDA's weights over the memory i: summed as in the paper ("none"), or averaged over the
#: stored cells ("mean": |m~| then no longer grows with the number of stored maps)
CODA_NORMALISE = ("none", "mean")
#: W_V's start: PyTorch's default conv initialisation, or the identity (zero bias)
VALUE_INIT = ("random", "identity")


#: the smallest head dimension the default widths give (one-dimensional keys rank every
#: memory cell the same way for every query)
MIN_HEAD_DIM = 8


def memory_width(channels: int, heads: int | None = None, embed: int | None = None) -> tuple[int, int]:
    """(heads N, embedding c_bar) of the read for maps of `channels`.

    Defaults: c_bar = c / 4, at most 256 (the method spec) and at least min(c, 8); N = 8 where
    that leaves c_bar / N >= 8, else as many heads as keep the head dimension at 8 (one head
    of c_bar when c_bar < 16). Explicit values are used as given; N must divide c_bar and c.
    """
    if embed is None:
        embed = max(min(channels // 4, 256), min(channels, MIN_HEAD_DIM))
    if heads is None:
        heads = max(1, min(8, embed // MIN_HEAD_DIM))
        while embed % heads or channels % heads:
            heads -= 1
    if embed % heads or channels % heads:
        raise UserError(f"{heads} heads must divide the embedding ({embed}) and the memory's "
                        f"channels ({channels})", field="heads")
    return heads, embed


#: vanilla attention: logits more than this below their row's largest are raised to it
#: (weights below e^-80 of the largest, never subnormal floats); CoDA: the sigmoid's argument
#: is kept above SIGMOID_FLOOR. Subnormal weights, left by a peaked softmax or a saturated
#: sigmoid, made the read several times slower on a CPU (paper preset, untrained memory).
LOGIT_RANGE = 80.0
SIGMOID_FLOOR = -60.0


def to_heads(t: torch.Tensor, heads: int) -> torch.Tensor:
    """(..., D, H, W) maps -> (..., N, H*W, D/N) per-head cell vectors (a view)."""
    *lead, d, h, w = t.shape
    return t.reshape(*lead, heads, d // heads, h * w).transpose(-1, -2)


class MemoryAttention(nn.Module):
    """The read: multi-head attention (vanilla or CoDA) of a map over a track's stored maps.

    Keys and values are handled in head layout, (..., N, cells, D/N) with the cells of stored
    entries one after another (entry-major); `project` gives that layout for stored maps.
    """

    def __init__(self, channels: int, heads: int | None = None, embed: int | None = None,
                 sim_scale: float | None = None, dis_scale: float | None = None,
                 coda_normalise: str = "none", value_init: str = "random",
                 alpha_init: float = 0.5) -> None:
        super().__init__()
        heads, embed = memory_width(channels, heads, embed)
        self.heads, self.embed, self.channels = heads, embed, channels
        head_dim = embed // heads
        self.scale = 1.0 / math.sqrt(head_dim)  # vanilla: s / sqrt(c_bar / N)
        self.sim_scale = self.scale if sim_scale is None else sim_scale
        self.dis_scale = 1.0 / head_dim if dis_scale is None else dis_scale
        if coda_normalise not in CODA_NORMALISE:
            raise ValueError(f"coda_normalise must be one of {CODA_NORMALISE}, got {coda_normalise!r}")
        if value_init not in VALUE_INIT:
            raise ValueError(f"value_init must be one of {VALUE_INIT}, got {value_init!r}")
        if not 0 < alpha_init < 1:
            raise ValueError(f"alpha_init must be in (0, 1), got {alpha_init}")
        self.coda_normalise = coda_normalise
        self.key = nn.Conv2d(channels, embed, 1)
        self.query = nn.Conv2d(channels, embed, 1)
        self.value = nn.Conv2d(channels, channels, 1)
        if value_init == "identity":  # W_V m = m: the read starts as a mix of stored maps
            with torch.no_grad():
                self.value.weight.copy_(torch.eye(channels)[:, :, None, None])
                self.value.bias.zero_()
        #: alpha = sigmoid(alpha_logit), kept in [0, 1]; starts at `alpha_init`
        self.alpha_logit = nn.Parameter(torch.tensor(math.log(alpha_init / (1 - alpha_init))))

    @property
    def alpha(self) -> torch.Tensor:
        return torch.sigmoid(self.alpha_logit)

    def project(self, maps: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Maps (..., C, H, W) -> keys (..., N, H*W, c_bar/N) and values (..., N, H*W, C/N)."""
        lead = maps.shape[:-3]
        flat = maps.reshape(-1, *maps.shape[-3:])
        keys = to_heads(self.key(flat), self.heads)
        values = to_heads(self.value(flat), self.heads)
        return keys.reshape(*lead, *keys.shape[1:]), values.reshape(*lead, *values.shape[1:])

    def gather(self, store: MemoryStore, slots: np.ndarray, like: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]:
        """The stored cells of these slots as keys (B, N, l, c_bar/N) and values (B, N, l, C/N),
        and the (B, l) mask of the cells that hold an entry (None when all do). Maps stored as
        they are are projected here, all persons in one batch."""
        b, _, h, w = like.shape
        n = h * w
        dk, dv = self.embed // self.heads, self.channels // self.heads
        sizes = store.size[slots] if len(store.size) else np.zeros(b, dtype=np.int64)
        if store.parts is None or not sizes.any():
            return (like.new_zeros(b, self.heads, n, dk), like.new_zeros(b, self.heads, n, dv),
                    torch.zeros(b, n, dtype=torch.bool, device=like.device))
        parts = store.stored(slots)
        capacity = store.capacity
        if len(parts) == 2:  # cached projections: (B, N, L, H*W, d)
            keys, values = parts[0].view(b, self.heads, -1, dk), parts[1].view(b, self.heads, -1, dv)
        else:  # maps (B, L, C, H, W): project the stored ones
            k, v = self.project(parts[0])  # (B, L, N, H*W, d)
            keys = k.transpose(1, 2).reshape(b, self.heads, -1, dk)
            values = v.transpose(1, 2).reshape(b, self.heads, -1, dv)
        if (sizes == capacity).all():
            return keys, values, None
        cells = torch.from_numpy(sizes * n).to(like.device)[:, None]
        valid = torch.arange(capacity * n, device=like.device)[None, :] < cells
        return keys, values, valid

    def weights(self, q: torch.Tensor, k: torch.Tensor, valid: torch.Tensor | None, coda: bool) -> torch.Tensor:
        """Attention weights (B, N, n, l) for queries (B, N, n, dk), keys (B, N, l, dk) and a
        (B, l) mask of the stored cells (None: all are; the rest is padding of shorter
        memories)."""
        s = q @ k.transpose(-1, -2)
        mask = None if valid is None else valid[:, None, None, :]
        if not coda:
            logits = s * self.scale
            if mask is not None:
                logits = logits.masked_fill(~mask, float("-inf"))
            logits = logits.clamp(min=logits.amax(dim=-1, keepdim=True) - LOGIT_RANGE)
            if mask is not None:
                logits = logits.masked_fill(~mask, float("-inf"))
            return torch.softmax(logits, dim=-1)
        b, n_heads, n, dk = q.shape
        d = -torch.cdist(q.reshape(-1, n, dk), k.reshape(-1, k.shape[2], dk), p=1)
        d = d.view_as(s)
        dissimilar = torch.sigmoid((d * self.dis_scale).clamp(min=SIGMOID_FLOOR))
        w = torch.tanh(s * self.sim_scale) * (2.0 * dissimilar)
        if mask is not None:
            w = w * mask
        if self.coda_normalise == "mean":
            stored = k.shape[2] if valid is None else valid.sum(dim=1).clamp(min=1).view(-1, 1, 1, 1)
            w = w / stored
        return w

    def forward(self, x: torch.Tensor, keys: torch.Tensor, values: torch.Tensor,
                valid: torch.Tensor | None, coda: torch.Tensor) -> torch.Tensor:
        """y for current maps x (B, C, H, W), stored keys (B, N, l, c_bar/N) and values
        (B, N, l, C/N) and the (B, l) mask of stored cells (see `gather`), `coda` (B,) bool
        per sample."""
        b, c, h, w = x.shape
        nonempty = None
        if valid is not None:
            nonempty = valid.any(dim=1)
            if not bool(nonempty.any()):
                return x
            # a memory of padding only still needs finite softmax inputs: treat it as all
            # valid (its output is replaced by x below)
            valid = valid | ~nonempty[:, None]
            if bool(valid.all()):
                valid = None
        q = to_heads(self.query(x), self.heads)
        kinds = coda.tolist()
        mixed = None
        for use_coda in sorted(set(kinds)):
            if use_coda:
                att = self.weights(q, keys, valid, True) @ values  # (B, N, n, C/N)
            elif x.is_cuda:  # softmax_i(s / sqrt(c_bar / N)) V, fused (no n x l weights kept)
                mask = None if valid is None else valid[:, None, None, :]
                att = F.scaled_dot_product_attention(q, keys, values, attn_mask=mask, scale=self.scale)
            else:  # on the CPU the same in plain ops: SDPA's CPU fallback took twice as long
                att = self.weights(q, keys, valid, False) @ values
            if mixed is None:
                mixed = att
            else:
                rows = torch.tensor(kinds, device=x.device).view(-1, 1, 1, 1)
                mixed = torch.where(rows, att, mixed)
        aligned = mixed.transpose(-1, -2).reshape(b, c, h, w)
        y = torch.lerp(aligned, x, self.alpha)  # alpha x + (1 - alpha) m~
        return y if nonempty is None else torch.where(nonempty.view(-1, 1, 1, 1), y, x)


def blur_matrix(size: int, sigma: float) -> torch.Tensor:
    """(size, size) B with B @ v = v convolved with the normalised 1-D Gaussian of `sigma`
    (radius ceil(3 sigma), zeros beyond the ends): B_h X B_w^T is the 2-D Gaussian blur of X
    with zero padding, computed as two small matrix products."""
    radius = math.ceil(3 * sigma)
    r = torch.arange(-radius, radius + 1, dtype=torch.float64)
    g = torch.exp(-(r**2) / (2 * sigma**2))
    g = g / g.sum()
    offset = torch.arange(size)[None, :] - torch.arange(size)[:, None]
    band = offset.abs() <= radius
    return torch.where(band, g[(offset + radius).clamp(0, 2 * radius)], 0.0).float()


class QualityScore(nn.Module):
    """Per-joint heatmap quality (PTM paper): clamp to [0, 1], add 0.5, Gaussian-blur, take the
    maximum. Reported as a fraction of the range between an empty heatmap (0) and a heatmap
    equal to the training target, a Gaussian of `target_sigma` centred on a cell (1)."""

    def __init__(self, blur_sigma: float, target_sigma: float, size: tuple[int, int]) -> None:
        super().__init__()
        self.blur_sigma = blur_sigma
        w, h = size
        self.register_buffer("blur_rows", blur_matrix(h, blur_sigma), persistent=False)
        self.register_buffer("blur_cols", blur_matrix(w, blur_sigma).T.contiguous(), persistent=False)
        # the target centred on a cell (off-cell targets score a little lower)
        ideal, _ = gaussian_targets(np.array([[w // 2, h // 2]]), np.ones(1, bool), size, target_sigma)
        self.empty = float(self.raw(torch.zeros(1, 1, h, w))[0, 0])
        self.ideal = float(self.raw(torch.from_numpy(ideal)[None])[0, 0])

    def raw(self, heatmaps: torch.Tensor) -> torch.Tensor:
        """(N, J, h, w) -> (N, J): max of the blurred (clamped + 0.5) heatmap."""
        x = heatmaps.detach().float().clamp(0, 1).add_(0.5)
        return (self.blur_rows @ x @ self.blur_cols).flatten(2).amax(dim=2)

    def forward(self, heatmaps: torch.Tensor) -> torch.Tensor:
        return (self.raw(heatmaps) - self.empty) / (self.ideal - self.empty)


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
        rows = _indices(parts[0], slots, position)
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
        index = _indices(self.parts[0], slots)[0]
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
        at = _indices(self.bank, slots, joints)
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


@dataclasses.dataclass(frozen=True)
class WriteRule:
    """The write's thresholds (fractions of the quality range, see QualityScore)."""

    kfr: bool = True
    kfr_high: float = 0.9
    kfr_low: float = 0.6
    #: where a saved vector is written back: "saved" (the joint's image position when it was
    #: saved, mapped through the current crop) or "predicted" (the current argmax cell)
    kfr_cell: str = "saved"
    #: store y when the sum of joint qualities exceeds this times the number of real joints
    write_threshold: float = 0.5


@dataclasses.dataclass
class WriteActivity:
    """What writes did, summed over persons and frames: whether the quality gate and keypoint
    feature replacement ever fire on a model (a diagnostic; it changes nothing)."""

    person_frames: int = 0
    #: maps appended to a memory (the quality gate passed)
    appended: int = 0
    #: joints whose feature vector was saved in the keypoint bank (quality above kfr_high)
    saved_joints: int = 0
    #: joints whose cell of y was overwritten with a saved vector (quality below kfr_low)
    replaced_joints: int = 0
    #: replaced joints in maps that were then appended (the only ones that reach a later read)
    replaced_stored: int = 0

    def add(self, other: WriteActivity) -> None:
        for f in dataclasses.fields(self):
            setattr(self, f.name, getattr(self, f.name) + getattr(other, f.name))

    def per_person_frame(self) -> dict[str, float]:
        n = max(self.person_frames, 1)
        return {f.name: getattr(self, f.name) / n for f in dataclasses.fields(self)
                if f.name != "person_frames"}


def _indices(like: torch.Tensor, *arrays: np.ndarray) -> torch.Tensor:
    """Integer index arrays of one length as rows of one tensor on `like`'s device."""
    t = torch.from_numpy(np.stack(arrays).astype(np.int64, copy=False))
    return t if like.device.type == "cpu" else t.to(like.device)


def inside_grid(cells: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """(..., 2) integer cells -> whether they lie on a (w, h) grid."""
    w, h = size
    return (cells[..., 0] >= 0) & (cells[..., 0] < w) & (cells[..., 1] >= 0) & (cells[..., 1] < h)


def feature_cells(points: np.ndarray, image_to_feature: np.ndarray, size: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """Image points (P, J, 2) -> nearest feature cells (P, J, 2) int and whether inside."""
    cells = np.rint(apply_matrices(points, image_to_feature)).astype(np.int64)
    return cells, inside_grid(cells, size)


def write(store: MemoryStore, slots: np.ndarray, y: torch.Tensor, quality: torch.Tensor,
          heatmaps: torch.Tensor, crop_matrices: np.ndarray, heatmap_stride: int,
          feature_stride: int, real: np.ndarray, rule: WriteRule, gate: bool = True,
          project: Callable[[torch.Tensor], tuple[torch.Tensor, torch.Tensor]] | None = None) -> WriteActivity:
    """The write for a batch of persons (PTM paper, Sec. 2.2, "Write operation") into their
    tracks' slots of `store`; returns what it did.

    For each person: keypoint feature replacement (joints above `kfr_high` save their cell's
    vector of y and their image position in the track's bank; joints below `kfr_low` get
    their cell of y overwritten with the vector saved earlier), then y is appended to the
    memory if the heatmap score passes `write_threshold` (or always when `gate` is off).
    `project` maps the stored maps to (key, value) entries when projections are cached. The
    persons are handled as one batch.
    """
    n, c, fh, fw = y.shape
    q = quality.detach().cpu().numpy()
    num_joints = q.shape[1]
    stored = y
    high = np.zeros((n, num_joints), dtype=bool)
    low = np.zeros((n, num_joints), dtype=bool)
    if rule.kfr:
        cells_hm = argmax_cells(heatmaps.detach())[0].cpu().numpy()
        # a joint's feature cell: both grids are cut from the same crop, so a heatmap cell
        # maps to the feature grid by the ratio of the strides (pixel centres aligned)
        pred_cells = np.rint((cells_hm + 0.5) * (heatmap_stride / feature_stride) - 0.5).astype(np.int64)
        pred_inside = inside_grid(pred_cells, (fw, fh))
        high = real & (q > rule.kfr_high) & pred_inside
        if store.bank is not None:
            banked = slots < store.bank.shape[0]
            has_vector = np.zeros((n, num_joints), dtype=bool)
            has_vector[banked] = store.bank_valid[slots[banked]]
            if rule.kfr_cell == "saved":  # the saved image position, through this frame's crop
                saved_xy = np.zeros((n, num_joints, 2))
                saved_xy[banked] = store.bank_xy[slots[banked]]
                low_cells, low_inside = feature_cells(saved_xy, grid_matrices(crop_matrices, feature_stride),
                                                      (fw, fh))
            else:
                low_cells, low_inside = pred_cells, pred_inside
            low = real & (q < rule.kfr_low) & has_vector & low_inside
        if low.any():  # overwrite the low joints' cells with their saved vectors
            lp, lj = np.nonzero(low)
            at = _indices(y, lp, low_cells[lp, lj, 1], low_cells[lp, lj, 0], slots[lp], lj)
            stored = y.clone()
            stored[at[0], :, at[1], at[2]] = store.bank[at[3], at[4]].to(y.dtype)
        if high.any():  # save the high joints' vectors (of y before replacement)
            hp, hj = np.nonzero(high)
            at = _indices(y, hp, pred_cells[hp, hj, 1], pred_cells[hp, hj, 0])
            to_image = invert_matrices(grid_matrices(crop_matrices, heatmap_stride))
            joint_xy = apply_matrices(cells_hm.astype(np.float64), to_image)
            store.save_keypoints(slots[hp], hj, y[at[0], :, at[1], at[2]], joint_xy[hp, hj], num_joints)
    passes = np.ones(n, dtype=bool) if not gate else \
        q[:, real].sum(axis=1) > rule.write_threshold * real.sum()
    kept = np.flatnonzero(passes)
    if len(kept):
        chosen = stored if len(kept) == n else stored[_indices(y, kept)[0]]
        store.append(slots[kept], project(chosen) if project else (chosen,))
    return WriteActivity(person_frames=n, appended=len(kept), saved_joints=int(high.sum()),
                         replaced_joints=int(low.sum()), replaced_stored=int(low[passes].sum()))
