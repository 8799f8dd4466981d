"""The pose temporal memory (PTM paper, Sec. 2): per-track FIFO stores, the attention read,
the heatmap quality score, and the write with keypoint feature replacement.

Read (Eq. 1-3), with x (n x c) the current map and m (l x c) the stored maps of one track:
s_ij = (W_K m_i)^T (W_Q x_j), d_ij = -|W_K m_i - W_Q x_j|_1 (per head, by `torch.cdist` p=1);
vanilla w_ij = softmax_i(s_ij / sqrt(c_bar / N)); CoDA w_ij = tanh(a s_ij) * 2 sigmoid(b d_ij)
(a, b fixed scales, no normalisation over i); m~_j = sum_i w_ij W_V m_i; y = alpha x +
(1 - alpha) m~ with alpha = sigmoid(theta) (theta = 0 at start: alpha = 0.5). An empty memory
gives y = x.

Tensor layout: attention weights are kept as (batch, head, j, i) (query position j, memory
position i), so "over i" is the last axis. Keys and values are kept per head, (head, cell,
channel), cells of the stored entries one after another, so a read concatenates stored
entries without reordering them.
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

    Defaults: c_bar = c / 4, at most 256 (methods.md) and at least min(c, 8); N = 8 where that
    leaves c_bar / N >= 8, else as many heads as keep the head dimension at 8 (one head of
    c_bar when c_bar < 16). Explicit values are used as given; N must divide c_bar and c.
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

    def gather(self, memories: list[TrackMemory], like: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """The stored cells of each memory as keys (B, N, l, c_bar/N) and values
        (B, N, l, C/N), zero-padded to the longest memory, and the (B, l) mask of stored
        cells. Maps stored as they are are projected here, all persons in one batch."""
        b, _, h, w = like.shape
        n = h * w
        lengths = [len(m) for m in memories]
        longest = max(lengths, default=0)
        dk, dv = self.embed // self.heads, self.channels // self.heads
        if longest == 0:
            return (like.new_zeros(b, self.heads, n, dk), like.new_zeros(b, self.heads, n, dv),
                    torch.zeros(b, n, dtype=torch.bool, device=like.device))
        filled = [m for m in memories if len(m)]
        if len(filled[0].parts) == 2:  # cached projections: (N, L, H*W, d) per memory
            keys = [m.parts[0] for m in filled]
            values = [m.parts[1] for m in filled]
        else:
            k, v = self.project(torch.cat([m.parts[0] for m in filled]))  # (sum L, N, H*W, d)
            counts = [len(m) for m in filled]
            keys = [t.transpose(0, 1) for t in k.split(counts)]
            values = [t.transpose(0, 1) for t in v.split(counts)]
        cells = torch.tensor(lengths, device=like.device)[:, None] * n
        valid = torch.arange(longest * n, device=like.device)[None, :] < cells
        if len(filled) == b and min(lengths) == longest:
            return (torch.stack(keys).view(b, self.heads, -1, dk),
                    torch.stack(values).view(b, self.heads, -1, dv), valid)
        out_k = keys[0].new_zeros(b, self.heads, longest, n, dk)
        out_v = values[0].new_zeros(b, self.heads, longest, n, dv)
        rows = [i for i, length in enumerate(lengths) if length]
        for i, key, value in zip(rows, keys, values):
            out_k[i, :, : key.shape[1]] = key
            out_v[i, :, : value.shape[1]] = value
        return out_k.view(b, self.heads, -1, dk), out_v.view(b, self.heads, -1, dv), valid

    def weights(self, q: torch.Tensor, k: torch.Tensor, valid: torch.Tensor, coda: bool,
                padded: bool | None = None) -> torch.Tensor:
        """Attention weights (B, N, n, l) for queries (B, N, n, dk), keys (B, N, l, dk) and a
        (B, l) validity mask (padding of shorter memories; `padded`: whether any is False)."""
        s = q @ k.transpose(-1, -2)
        mask = valid[:, None, None, :]
        if padded is None:
            padded = not bool(valid.all())
        if not coda:
            logits = s * self.scale
            if padded:
                logits = logits.masked_fill(~mask, float("-inf"))
            logits = logits.clamp(min=logits.amax(dim=-1, keepdim=True) - LOGIT_RANGE)
            if padded:
                logits = logits.masked_fill(~mask, float("-inf"))
            return torch.softmax(logits, dim=-1)
        b, n_heads, n, dk = q.shape
        d = -torch.cdist(q.reshape(-1, n, dk), k.reshape(-1, k.shape[2], dk), p=1)
        d = d.view_as(s)
        dissimilar = torch.sigmoid((d * self.dis_scale).clamp(min=SIGMOID_FLOOR))
        w = torch.tanh(s * self.sim_scale) * (2.0 * dissimilar)
        if padded:
            w = w * mask
        if self.coda_normalise == "mean":
            w = w / valid.sum(dim=1).clamp(min=1).view(-1, 1, 1, 1)
        return w

    def forward(self, x: torch.Tensor, keys: torch.Tensor, values: torch.Tensor,
                valid: torch.Tensor, coda: torch.Tensor) -> torch.Tensor:
        """y for current maps x (B, C, H, W), stored keys (B, N, l, c_bar/N) and values
        (B, N, l, C/N) (see `gather`), `valid` (B, l) stored cells, `coda` (B,) bool per sample."""
        b, c, h, w = x.shape
        padded = not bool(valid.all())
        nonempty = None
        if padded:
            nonempty = valid.any(dim=1)
            if not bool(nonempty.any()):
                return x
            # a memory of padding only still needs finite softmax inputs: treat it as all
            # valid (its output is replaced by x below)
            valid = valid | ~nonempty[:, None]
            padded = not bool(valid.all())
        q = to_heads(self.query(x), self.heads)
        kinds = coda.tolist()
        mixed = None
        for use_coda in sorted(set(kinds)):
            if use_coda:
                att = self.weights(q, keys, valid, True, padded) @ values  # (B, N, n, C/N)
            elif x.is_cuda:  # softmax_i(s / sqrt(c_bar / N)) V, fused (no n x l weights kept)
                mask = valid[:, None, None, :] if padded else None
                att = F.scaled_dot_product_attention(q, keys, values, attn_mask=mask, scale=self.scale)
            else:  # on the CPU the same in plain ops: SDPA's CPU fallback took twice as long
                att = self.weights(q, keys, valid, False, padded) @ values
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
class TrackMemory:
    """One track's memory: a FIFO of stored maps (or their projections) and a keypoint bank.

    An entry is (map,) (C, H, W) or, with cached projections, (key, value) in head layout
    (N, H*W, c_bar/N) and (N, H*W, C/N). The entries are kept stacked, one tensor per part:
    maps (L, C, H, W), keys (N, L, H*W, c_bar/N), values (N, L, H*W, C/N), so a read takes a
    track's cells as one view. Once full, an entry replaces the oldest in place (without
    autograd; with it, the oldest is dropped by a copy): the slots are then in ring order,
    which the read does not depend on (it sums or normalises over all stored cells).
    """

    capacity: int
    #: the stacked entries, one tensor per part (None while empty)
    parts: tuple[torch.Tensor, ...] | None = None
    #: entries held, and the slot of the oldest one
    size: int = 0
    oldest: int = 0
    #: keypoint feature bank: (J, C) vectors, which joints hold one, their image positions
    bank: torch.Tensor | None = None
    bank_valid: np.ndarray | None = None
    bank_xy: np.ndarray | None = None

    def __len__(self) -> int:
        return self.size

    @staticmethod
    def entry_axis(parts: tuple[torch.Tensor, ...]) -> int:
        """Where entries stack: 0 for maps, 1 for (key, value) projections (head layout)."""
        return 1 if len(parts) == 2 else 0

    def append(self, entry: tuple[torch.Tensor, ...]) -> None:
        """Store an entry (tensors the memory may keep); the oldest is dropped when over
        capacity (FIFO)."""
        axis = self.entry_axis(entry)
        if self.size == self.capacity and not torch.is_grad_enabled():
            for p, t in zip(self.parts, entry):
                p.select(axis, self.oldest).copy_(t)
            self.oldest = (self.oldest + 1) % self.capacity
            return
        new = tuple(t.unsqueeze(axis) for t in entry)
        if self.parts is None:  # a copy of its own: the bytes reported are the bytes held
            self.parts = tuple(t.clone(memory_format=torch.contiguous_format) for t in new)
        elif self.size < self.capacity:
            self.parts = tuple(torch.cat([p, t], dim=axis) for p, t in zip(self.parts, new))
        else:  # keep the autograd history of earlier reads intact: drop the oldest by a copy
            order = self.chronological()[1:]
            self.parts = tuple(torch.cat([p.index_select(axis, order), t], dim=axis)
                               for p, t in zip(self.parts, new))
            self.oldest = 0
        self.size = min(self.size + 1, self.capacity)

    def chronological(self) -> torch.Tensor:
        """Slots of the stored entries, oldest first."""
        device = self.parts[0].device if self.parts else None
        return (torch.arange(self.size, device=device) + self.oldest) % max(self.size, 1)

    @property
    def entries(self) -> list[tuple[torch.Tensor, ...]]:
        """The stored entries, oldest first (views)."""
        if self.parts is None:
            return []
        axis = self.entry_axis(self.parts)
        return [tuple(p.select(axis, int(slot)) for p in self.parts) for slot in self.chronological()]

    def save_keypoints(self, joints: np.ndarray, vectors: torch.Tensor, xy: np.ndarray, num_joints: int) -> None:
        if self.bank is None:
            self.bank = vectors.new_zeros(num_joints, vectors.shape[1])
            self.bank_valid = np.zeros(num_joints, dtype=bool)
            self.bank_xy = np.zeros((num_joints, 2))
        self.bank[_indices(self.bank, joints)[0]] = vectors
        self.bank_valid[joints] = True
        self.bank_xy[joints] = xy

    def map_bytes(self) -> int:
        """Bytes of the stored maps (or projections)."""
        return sum(p.numel() * p.element_size() for p in self.parts or ())

    def nbytes(self) -> int:
        bank = 0 if self.bank is None else self.bank.numel() * self.bank.element_size()
        return self.map_bytes() + bank


class MemoryStore:
    """Track id -> TrackMemory; a memory is created when a track first appears."""

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self.tracks: dict[int, TrackMemory] = {}

    def get(self, track_id: int) -> TrackMemory:
        mem = self.tracks.get(track_id)
        if mem is None:
            mem = self.tracks[track_id] = TrackMemory(self.capacity)
        return mem

    def drop(self, track_ids: Iterable[int]) -> None:
        for t in track_ids:
            self.tracks.pop(int(t), None)

    def clear(self) -> None:
        self.tracks.clear()

    def nbytes(self) -> int:
        return sum(m.nbytes() for m in self.tracks.values())


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


def feature_cells(points: np.ndarray, image_to_feature: np.ndarray, size: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """Image points (P, J, 2) -> nearest feature cells (P, J, 2) int and whether inside."""
    cells = np.rint(apply_matrices(points, image_to_feature)).astype(np.int64)
    w, h = size
    inside = (cells[..., 0] >= 0) & (cells[..., 0] < w) & (cells[..., 1] >= 0) & (cells[..., 1] < h)
    return cells, inside


def write(memories: list[TrackMemory], y: torch.Tensor, quality: torch.Tensor,
          heatmaps: torch.Tensor, crop_matrices: np.ndarray, heatmap_stride: int,
          feature_stride: int, real: np.ndarray, rule: WriteRule, gate: bool = True,
          project: Callable[[torch.Tensor], tuple[torch.Tensor, torch.Tensor]] | None = None) -> WriteActivity:
    """The write for a batch of persons (PTM paper, Sec. 2.2, "Write operation"); returns
    what it did.

    For each person: keypoint feature replacement (joints above `kfr_high` save their cell's
    vector of y and their image position in the track's bank; joints below `kfr_low` get
    their cell of y overwritten with the vector saved earlier), then y is appended to the
    memory if the heatmap score passes `write_threshold` (or always when `gate` is off).
    `project` maps the stored maps to (key, value) entries when projections are cached. The
    persons are handled as one batch.
    """
    n, c, fh, fw = y.shape
    q = quality.detach().cpu().numpy()
    cells_hm, _ = argmax_cells(heatmaps.detach())
    hm_points = cells_hm.cpu().numpy().astype(np.float64)
    to_image = invert_matrices(grid_matrices(crop_matrices, heatmap_stride))
    to_feature = grid_matrices(crop_matrices, feature_stride)
    joint_xy = apply_matrices(hm_points, to_image)
    pred_cells, pred_inside = feature_cells(joint_xy, to_feature, (fw, fh))
    num_joints = q.shape[1]
    stored = y
    high = np.zeros((n, num_joints), dtype=bool)
    low = np.zeros((n, num_joints), dtype=bool)
    if rule.kfr:
        high = real & (q > rule.kfr_high) & pred_inside
        hp, hj = np.nonzero(high)
        at = _indices(y, hp, pred_cells[hp, hj, 1], pred_cells[hp, hj, 0])
        saved = y[at[0], :, at[1], at[2]]
        low_cells = np.zeros((n, num_joints, 2), dtype=np.int64)
        rows = []
        for p, mem in enumerate(memories):
            if mem.bank is None:
                continue
            if rule.kfr_cell == "saved":
                cells, inside = feature_cells(mem.bank_xy[None], to_feature[p:p + 1], (fw, fh))
                cells, inside = cells[0], inside[0]
            else:
                cells, inside = pred_cells[p], pred_inside[p]
            low[p] = real & (q[p] < rule.kfr_low) & mem.bank_valid & inside
            if low[p].any():
                low_cells[p] = cells
                rows.append(mem.bank[_indices(y, np.flatnonzero(low[p]))[0]])
        if rows:  # overwrite the low joints' cells with their saved vectors
            lp, lj = np.nonzero(low)
            at = _indices(y, lp, low_cells[lp, lj, 1], low_cells[lp, lj, 0])
            stored = y.clone()
            stored[at[0], :, at[1], at[2]] = torch.cat(rows).to(y.dtype)
        first = np.searchsorted(hp, np.arange(n + 1))
        for p in np.flatnonzero(high.any(axis=1)):
            memories[p].save_keypoints(np.flatnonzero(high[p]), saved[first[p]:first[p + 1]],
                                       joint_xy[p, high[p]], num_joints)
    passes = np.ones(n, dtype=bool) if not gate else \
        q[:, real].sum(axis=1) > rule.write_threshold * real.sum()
    kept = np.flatnonzero(passes)
    if len(kept):
        chosen = stored if len(kept) == n else stored[_indices(y, kept)[0]]
        parts = project(chosen) if project else (chosen,)
        for p, *entry in zip(kept, *(t.unbind(0) for t in parts)):
            memories[p].append(tuple(entry))
    return WriteActivity(person_frames=n, appended=len(kept), saved_joints=int(high.sum()),
                         replaced_joints=int(low.sum()), replaced_stored=int(low[passes].sum()))
