"""The pose temporal memory (PTM paper, Sec. 2): per-track FIFO stores, the attention read,
the heatmap quality score, and the write with keypoint feature replacement.

Read (Eq. 1-3), with x (n x c) the current map and m (l x c) the stored maps of one track:
s_ij = (W_K m_i)^T (W_Q x_j), d_ij = -|W_K m_i - W_Q x_j|_1 (per head, by `torch.cdist` p=1);
vanilla w_ij = softmax_i(s_ij / sqrt(c_bar / N)); CoDA w_ij = tanh(a s_ij) * 2 sigmoid(b d_ij)
(a, b fixed scales, no normalisation over i); m~_j = sum_i w_ij W_V m_i; y = alpha x +
(1 - alpha) m~ with alpha = sigmoid(theta) (theta = 0 at start: alpha = 0.5). An empty memory
gives y = x.

Tensor layout: attention weights are kept as (batch, head, j, i) (query position j, memory
position i), so "over i" is the last axis.
"""

from __future__ import annotations

import collections
import dataclasses
import math
from collections.abc import Callable, Iterable

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from .decoding import argmax_cells
from .geometry import apply_matrices, grid_matrices, invert_matrices
from .targets import gaussian_targets

#: CoDA's weights over the memory i: summed as in the paper ("none"), or averaged over the
#: stored cells ("mean": |m~| then no longer grows with the number of stored maps)
CODA_NORMALISE = ("none", "mean")
#: W_V's start: PyTorch's default conv initialisation, or the identity (zero bias)
VALUE_INIT = ("random", "identity")


class MemoryAttention(nn.Module):
    """The read: multi-head attention (vanilla or CoDA) of a map over a track's stored maps."""

    def __init__(self, channels: int, heads: int = 8, embed: int | None = None,
                 sim_scale: float | None = None, dis_scale: float | None = None,
                 coda_normalise: str = "none", value_init: str = "random",
                 alpha_init: float = 0.5) -> None:
        super().__init__()
        embed = embed or min(channels // 4, 256)
        if embed % heads or channels % heads:
            raise ValueError(f"{heads} heads must divide the embedding ({embed}) and the "
                             f"channels ({channels})")
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
        """Stored maps (..., C, H, W) -> keys (..., c_bar, H, W) and values (..., C, H, W)."""
        flat = maps.reshape(-1, *maps.shape[-3:])
        keys, values = self.key(flat), self.value(flat)
        return keys.view(*maps.shape[:-3], *keys.shape[1:]), values.view(maps.shape)

    def _heads(self, t: torch.Tensor) -> torch.Tensor:
        """(B, L, D, H, W) -> (B, N, L*H*W, D/N)."""
        b, ell, d, h, w = t.shape
        t = t.view(b, ell, self.heads, d // self.heads, h * w)
        return t.permute(0, 2, 1, 4, 3).reshape(b, self.heads, ell * h * w, d // self.heads)

    def weights(self, q: torch.Tensor, k: torch.Tensor, valid: torch.Tensor, coda: bool) -> torch.Tensor:
        """Attention weights (B, N, n, l) for queries (B, N, n, dk), keys (B, N, l, dk) and a
        (B, l) validity mask (padding of shorter memories)."""
        s = q @ k.transpose(-1, -2)
        mask = valid[:, None, None, :]
        if not coda:
            logits = (s * self.scale).masked_fill(~mask, float("-inf"))
            return torch.softmax(logits, dim=-1)
        b, n_heads, n, dk = q.shape
        d = -torch.cdist(q.reshape(-1, n, dk), k.reshape(-1, k.shape[2], dk), p=1)
        d = d.view_as(s)
        w = torch.tanh(s * self.sim_scale) * (2.0 * torch.sigmoid(d * self.dis_scale))
        w = w * mask
        if self.coda_normalise == "mean":
            w = w / valid.sum(dim=1).clamp(min=1).view(-1, 1, 1, 1)
        return w

    def forward(self, x: torch.Tensor, keys: torch.Tensor, values: torch.Tensor,
                valid: torch.Tensor, coda: torch.Tensor) -> torch.Tensor:
        """y for current maps x (B, C, H, W), projected memories keys (B, L, c_bar, H, W) and
        values (B, L, C, H, W), `valid` (B, L) stored entries, `coda` (B,) bool per sample."""
        b, c, h, w = x.shape
        nonempty = valid.any(dim=1)
        if not bool(nonempty.any()):
            return x
        # a memory of padding only still needs finite softmax inputs: treat it as all valid
        # (its output is replaced by x below)
        cells = valid.repeat_interleave(h * w, dim=1) | ~nonempty[:, None]
        q = self._heads(self.query(x)[:, None])
        k, v = self._heads(keys), self._heads(values)
        all_valid = bool(cells.all())
        mixed = None
        for use_coda in (False, True):
            rows = coda == use_coda
            if not bool(rows.any()):
                continue
            if use_coda:
                att = self.weights(q, k, cells, True) @ v  # (B, N, n, C/N)
            else:  # softmax_i(s / sqrt(c_bar / N)) V, fused (no n x l weights kept on GPU)
                mask = None if all_valid else cells[:, None, None, :]
                att = F.scaled_dot_product_attention(q, k, v, attn_mask=mask, scale=self.scale)
            mixed = att if mixed is None else torch.where(rows.view(-1, 1, 1, 1), att, mixed)
        aligned = mixed.permute(0, 1, 3, 2).reshape(b, c, h, w)
        y = self.alpha * x + (1.0 - self.alpha) * aligned
        return torch.where(nonempty.view(-1, 1, 1, 1), y, x)


def blur_kernel(sigma: float) -> torch.Tensor:
    """(1, 1, k, k) normalised Gaussian, k = 2 ceil(3 sigma) + 1."""
    radius = math.ceil(3 * sigma)
    r = torch.arange(-radius, radius + 1, dtype=torch.float64)
    g = torch.exp(-(r**2) / (2 * sigma**2))
    g = g / g.sum()
    return (g[:, None] * g[None, :]).float()[None, None]


class QualityScore(nn.Module):
    """Per-joint heatmap quality (PTM paper): clamp to [0, 1], add 0.5, Gaussian-blur, take the
    maximum. Reported as a fraction of the range between an empty heatmap (0) and a heatmap
    equal to the training target, a Gaussian of `target_sigma` centred on a cell (1)."""

    def __init__(self, blur_sigma: float, target_sigma: float, size: tuple[int, int]) -> None:
        super().__init__()
        self.blur_sigma = blur_sigma
        self.register_buffer("kernel", blur_kernel(blur_sigma), persistent=False)
        w, h = size
        # the target centred on a cell (off-cell targets score a little lower)
        ideal, _ = gaussian_targets(np.array([[w // 2, h // 2]]), np.ones(1, bool), size, target_sigma)
        self.empty = float(self.raw(torch.zeros(1, 1, h, w))[0, 0])
        self.ideal = float(self.raw(torch.from_numpy(ideal)[None])[0, 0])

    def raw(self, heatmaps: torch.Tensor) -> torch.Tensor:
        """(N, J, h, w) -> (N, J): max of the blurred (clamped + 0.5) heatmap."""
        n, j, h, w = heatmaps.shape
        x = heatmaps.detach().float().clamp(0, 1).add(0.5).reshape(n * j, 1, h, w)
        pad = self.kernel.shape[-1] // 2
        blurred = F.conv2d(x, self.kernel.to(x.device), padding=pad)
        return blurred.view(n, j, -1).amax(dim=2)

    def forward(self, heatmaps: torch.Tensor) -> torch.Tensor:
        return (self.raw(heatmaps) - self.empty) / (self.ideal - self.empty)


@dataclasses.dataclass
class TrackMemory:
    """One track's memory: a FIFO of stored maps (or their projections) and a keypoint bank."""

    capacity: int
    #: stored entries, oldest first; each is (map,) or, with cached projections, (key, value)
    entries: collections.deque = dataclasses.field(default_factory=collections.deque)
    #: keypoint feature bank: (J, C) vectors, which joints hold one, their image positions
    bank: torch.Tensor | None = None
    bank_valid: np.ndarray | None = None
    bank_xy: np.ndarray | None = None

    def append(self, entry: tuple[torch.Tensor, ...]) -> None:
        """Store an entry; the oldest is dropped when over capacity (FIFO)."""
        self.entries.append(entry)
        while len(self.entries) > self.capacity:
            self.entries.popleft()

    def save_keypoints(self, joints: np.ndarray, vectors: torch.Tensor, xy: np.ndarray, num_joints: int) -> None:
        if self.bank is None:
            self.bank = vectors.new_zeros(num_joints, vectors.shape[1])
            self.bank_valid = np.zeros(num_joints, dtype=bool)
            self.bank_xy = np.zeros((num_joints, 2))
        self.bank[torch.as_tensor(joints, device=self.bank.device)] = vectors
        self.bank_valid[joints] = True
        self.bank_xy[joints] = xy

    def map_bytes(self) -> int:
        """Bytes of the stored maps (or projections)."""
        return sum(t.numel() * t.element_size() for entry in self.entries for t in entry)

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


def _index(values: np.ndarray, like: torch.Tensor) -> torch.Tensor:
    """Integer indices as a tensor on `like`'s device (GPU tensors are indexed on the GPU)."""
    return torch.as_tensor(values, dtype=torch.int64, device=like.device)


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
    their cell of y overwritten with the saved vector), then y is appended to the memory if
    the heatmap score passes `write_threshold` (or always when `gate` is off). `project`
    maps stored maps to the (key, value) entry when projections are cached.
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
    activity = WriteActivity(person_frames=len(memories))
    for p, mem in enumerate(memories):
        yp = y[p]
        replaced = 0
        if rule.kfr:
            high = real & (q[p] > rule.kfr_high) & pred_inside[p]
            saved = yp[:, _index(pred_cells[p, high, 1], y), _index(pred_cells[p, high, 0], y)].T.clone()
            if mem.bank is not None:
                low = real & (q[p] < rule.kfr_low) & mem.bank_valid
                if rule.kfr_cell == "saved":
                    cells, inside = feature_cells(mem.bank_xy[None], to_feature[p:p + 1], (fw, fh))
                    cells, inside = cells[0], inside[0]
                else:
                    cells, inside = pred_cells[p], pred_inside[p]
                low &= inside
                replaced = int(low.sum())
                if low.any():
                    yp = yp.clone()
                    rows = _index(np.flatnonzero(low), y)
                    yp[:, _index(cells[low, 1], y), _index(cells[low, 0], y)] = mem.bank[rows].T.to(yp.dtype)
            if high.any():
                mem.save_keypoints(np.flatnonzero(high), saved, joint_xy[p, high], num_joints)
            activity.saved_joints += int(high.sum())
            activity.replaced_joints += replaced
        if not gate or q[p][real].sum() > rule.write_threshold * real.sum():
            mem.append(tuple(t[0] for t in project(yp[None])) if project else (yp,))
            activity.appended += 1
            activity.replaced_stored += replaced
    return activity
