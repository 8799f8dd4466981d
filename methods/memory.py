"""The pose temporal memory (PTM paper, Sec. 2): the attention read and the heatmap quality
score. The store of per-track FIFOs is `memory_store.py`, the write `memory_write.py`.

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

import math

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from vposebench.errors import UserError

from .memory_store import MemoryStore
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
