"""The pose temporal memory against a direct transcription of the PTM paper's equations."""

import math

import numpy as np
import pytest
import torch

from vposebench.errors import UserError
from vposebench.interface import ClipBatch, FrameInput, build_method
from vposebench.methods.geometry import normalise
from vposebench.methods.memory import MemoryAttention, QualityScore, memory_width, to_heads
from vposebench.methods.memory_store import MemoryStore
from vposebench.methods.memory_write import WriteActivity, WriteRule, write
from vposebench.methods.targets import gaussian_targets
from vposebench.skeleton import POSETRACK18

#: one torch thread (helpers.torch_threads)
pytestmark = pytest.mark.usefixtures("one_torch_thread")


def transcription(att: MemoryAttention, x: torch.Tensor, memory: torch.Tensor, coda: bool):
    """Eq. 1-3 written out with loops: x (C, H, W), memory (L, C, H, W) -> w (N, n, l), y."""
    c, h, w = x.shape
    xs = x.reshape(c, -1).T  # n x c, row j = x_j
    ms = memory.permute(0, 2, 3, 1).reshape(-1, c)  # l x c, row i = m_i (entry-major)
    wk, wq, wv = (m.weight[:, :, 0, 0] for m in (att.key, att.query, att.value))
    bk, bq, bv = att.key.bias, att.query.bias, att.value.bias
    heads, dk, dv = att.heads, att.embed // att.heads, c // att.heads
    weights = torch.zeros(heads, len(xs), len(ms), dtype=x.dtype)
    aligned = torch.zeros(len(xs), c, dtype=x.dtype)
    for head in range(heads):
        ks = slice(head * dk, (head + 1) * dk)
        vs = slice(head * dv, (head + 1) * dv)
        for j in range(len(xs)):
            q = wq[ks] @ xs[j] + bq[ks]
            s = torch.stack([(wk[ks] @ ms[i] + bk[ks]) @ q for i in range(len(ms))])
            if coda:
                d = torch.stack([-(wk[ks] @ ms[i] + bk[ks] - q).abs().sum() for i in range(len(ms))])
                wj = torch.tanh(s * att.sim_scale) * 2 * torch.sigmoid(d * att.dis_scale)
                if att.coda_normalise == "mean":
                    wj = wj / len(ms)
            else:
                wj = torch.softmax(s / math.sqrt(dk), dim=0)
            weights[head, j] = wj
            aligned[j, vs] = sum(wj[i] * (wv[vs] @ ms[i] + bv[vs]) for i in range(len(ms)))
    alpha = torch.sigmoid(att.alpha_logit)
    y = alpha * xs + (1 - alpha) * aligned
    return weights, y.T.reshape(c, h, w)


@pytest.fixture
def attention():
    torch.manual_seed(0)
    att = MemoryAttention(8, heads=2, embed=4).double()
    with torch.no_grad():
        att.alpha_logit.fill_(0.3)
    return att


def _store(memory: torch.Tensor, lengths=None, cached: MemoryAttention | None = None) -> MemoryStore:
    """(B, L, C, H, W) maps -> a store of B tracks (slots 0..B-1) holding the first lengths[b]
    of them (as maps, or as the (key, value) entries `cached` projects them to)."""
    count, capacity = memory.shape[:2]
    store = MemoryStore(capacity)
    slots = store.slots_for(range(count))
    for b, maps in enumerate(memory):
        for m in maps[: capacity if lengths is None else lengths[b]]:
            store.append(slots[b:b + 1], cached.project(m[None]) if cached else (m[None],))
    return store


def _read(att: MemoryAttention, x: torch.Tensor, store: MemoryStore, coda, slots=None) -> torch.Tensor:
    slots = np.arange(len(x)) if slots is None else np.asarray(slots)
    keys, values, valid = att.gather(store, slots, x)
    return att(x, keys, values, valid, torch.as_tensor(coda).view(-1).expand(len(x)))


@pytest.mark.parametrize("coda", [False, True, "mean"])
@pytest.mark.parametrize("cached", [False, True])
def test_read_matches_the_equations(attention, coda, cached):
    attention.coda_normalise = "mean" if coda == "mean" else "none"
    coda = bool(coda)
    x = torch.randn(1, 8, 2, 3, dtype=torch.float64)
    memory = torch.randn(1, 2, 8, 2, 3, dtype=torch.float64)
    keys, values, valid = attention.gather(_store(memory, cached=attention if cached else None),
                                           np.arange(1), x)
    assert keys.shape == (1, 2, 2 * 6, 2) and values.shape == (1, 2, 2 * 6, 4) and valid is None
    y = attention(x, keys, values, valid, torch.tensor([coda]))
    w_ref, y_ref = transcription(attention, x[0], memory[0], coda)
    w = attention.weights(to_heads(attention.query(x), attention.heads), keys, valid, coda)
    torch.testing.assert_close(w[0], w_ref)
    torch.testing.assert_close(y[0], y_ref)
    if coda:  # no normalisation to a sum of 1 over i, values in (-2, 2)
        assert not torch.allclose(w.sum(-1), torch.ones_like(w.sum(-1)))
        assert w.abs().max() < 2
    else:
        torch.testing.assert_close(w.sum(-1), torch.ones_like(w.sum(-1)))


def test_softmax_and_coda_weights_differ_and_alpha_mixes(attention):
    x = torch.randn(1, 8, 2, 2, dtype=torch.float64)
    memories = _store(torch.randn(1, 3, 8, 2, 2, dtype=torch.float64))
    vanilla = _read(attention, x, memories, False)
    coda = _read(attention, x, memories, True)
    assert not torch.allclose(vanilla, coda)
    with torch.no_grad():
        attention.alpha_logit.fill_(40.0)  # alpha -> 1: y = x
    torch.testing.assert_close(_read(attention, x, memories, True), x)
    with torch.no_grad():
        attention.alpha_logit.fill_(0.0)
    assert attention.alpha.item() == 0.5


def _aligned(att: MemoryAttention, x: torch.Tensor, memory: torch.Tensor, coda: bool) -> torch.Tensor:
    """m~ for one sample: y = alpha x + (1 - alpha) m~ solved for m~."""
    y = _read(att, x, _store(memory), coda)
    alpha = att.alpha
    return (y - alpha * x) / (1 - alpha)


@pytest.mark.parametrize("normalise", ["none", "mean"])
def test_coda_magnitude_against_the_number_of_stored_maps(normalise):
    """The same map stored k times: the paper's sum gives k times the one-map m~ (the
    magnitude grows with the memory), the mean gives the one-map m~ for every k."""
    torch.manual_seed(0)
    att = MemoryAttention(8, heads=2, embed=4, coda_normalise=normalise).double()
    x = torch.randn(1, 8, 2, 3, dtype=torch.float64)
    stored = torch.randn(1, 1, 8, 2, 3, dtype=torch.float64)
    one = _aligned(att, x, stored, True)
    for k in (2, 5, 16):
        many = _aligned(att, x, stored.expand(1, k, 8, 2, 3), True)
        torch.testing.assert_close(many, one * (k if normalise == "none" else 1))


def test_identity_value_start_reads_a_weighted_average_of_stored_maps():
    torch.manual_seed(0)
    att = MemoryAttention(8, heads=2, embed=4, value_init="identity", alpha_init=0.8).double()
    assert att.alpha.item() == pytest.approx(0.8)
    torch.testing.assert_close(att.value.weight[:, :, 0, 0], torch.eye(8, dtype=torch.float64))
    x = torch.randn(1, 8, 2, 3, dtype=torch.float64)
    # every stored cell holds the same vector: any softmax average of them is that vector
    vector = torch.randn(8, dtype=torch.float64)
    memory = vector.view(1, 1, 8, 1, 1).expand(1, 3, 8, 2, 3)
    expected = vector.view(1, 8, 1, 1).expand_as(x)
    torch.testing.assert_close(_aligned(att, x, memory, False), expected)
    with pytest.raises(ValueError, match="alpha_init"):
        MemoryAttention(8, heads=2, embed=4, alpha_init=1.0)


def test_memory_start_options_are_validated_config_fields():
    method = build_method("ptm", POSETRACK18, preset="tiny", value_init="identity", alpha_init=0.7)
    assert method.memory.alpha.item() == pytest.approx(0.7)
    c = method.net.feature_channels
    torch.testing.assert_close(method.memory.value.weight[:, :, 0, 0], torch.eye(c))
    with pytest.raises(UserError, match="value_init|expected"):
        build_method("ptm", POSETRACK18, preset="tiny", value_init="zeros")
    with pytest.raises(UserError):
        build_method("ptm", POSETRACK18, preset="tiny", alpha_init=0.0)
    with pytest.raises(UserError):
        build_method("ptm", POSETRACK18, preset="tiny", coda_normalise="sum")


@pytest.mark.parametrize("cached", [False, True])
def test_empty_and_padded_memories(attention, cached):
    x = torch.randn(2, 8, 2, 2, dtype=torch.float64)
    memory = torch.randn(2, 3, 8, 2, 2, dtype=torch.float64)
    project = attention if cached else None
    # sample 0 has 3 entries, sample 1 only its first; sample 1 of a second read has none
    memories = _store(memory, [3, 1], project)
    keys, values, valid = attention.gather(memories, np.arange(2), x)
    assert valid.tolist() == [[True] * 12, [True] * 4 + [False] * 8]
    if cached:  # unfilled entries hold zeros (projected maps would hold the biases): masked
        assert keys[1, :, 4:].abs().max() == 0 and values[1, :, 4:].abs().max() == 0
    for coda in (False, True):
        both = _read(attention, x, memories, coda)
        alone = _read(attention, x[1:], memories, coda, slots=[1])
        torch.testing.assert_close(both[1:], alone)
        empty = _read(attention, x, _store(memory, [3, 0], project), coda)
        torch.testing.assert_close(empty[1], x[1])
    torch.testing.assert_close(_read(attention, x, _store(memory, [0, 0], project), True), x)
    mixed = _read(attention, x, memories, [True, False])
    torch.testing.assert_close(mixed[0], _read(attention, x, memories, True)[0])
    torch.testing.assert_close(mixed[1], _read(attention, x, memories, False)[1])


def test_auto_attention_uses_coda_above_the_crowd_threshold():
    method = build_method("ptm", POSETRACK18, preset="tiny", attention="auto", crowd_threshold=8)
    assert method.use_coda(torch.tensor([1, 8, 9, 20])).tolist() == [False, False, True, True]
    method = build_method("ptm", POSETRACK18, preset="tiny", attention="vanilla")
    assert not method.use_coda(torch.tensor([20])).any()


@pytest.mark.parametrize("grad", [True, False])
def test_fifo_eviction_drops_the_oldest(grad):
    store = MemoryStore(capacity=3)
    slots = store.slots_for([7, 9])
    with torch.set_grad_enabled(grad):  # a copy under autograd, in place without
        for i in range(5):
            store.append(slots, (torch.tensor([[float(i)], [10.0 + i]]),))
        store.append(slots[1:], (torch.tensor([[20.0]]),))
    assert [e[0].item() for e in store.entries(7)] == [2.0, 3.0, 4.0]
    assert [e[0].item() for e in store.entries(9)] == [13.0, 14.0, 20.0]
    assert store.nbytes() == 2 * 3 * 4
    store.drop([7])
    assert store.slots == {9: 0} and [e[0].item() for e in store.entries(9)] == [13.0, 14.0, 20.0]
    assert store.nbytes() == 3 * 4


def test_quality_score_range():
    q = QualityScore(blur_sigma=2.0, target_sigma=2.0, size=(24, 32))
    ideal, _ = gaussian_targets(np.array([[12.0, 16.0], [8.0, 10.0], [9.5, 9.5]]), np.ones(3, bool),
                                (24, 32), 2.0)
    maps = torch.from_numpy(ideal)[None]
    scores = q(torch.cat([maps, torch.zeros(1, 1, 32, 24)], dim=1))[0]
    torch.testing.assert_close(scores[0], torch.tensor(1.0))
    assert abs(scores[1].item() - 1.0) < 1e-3  # anywhere away from the border
    assert 0.9 < scores[2].item() < 1.0  # centred between cells: a little lower
    torch.testing.assert_close(scores[3], torch.tensor(0.0))
    # by hand: clamp, +0.5, blur with the 13x13 Gaussian of sigma 2 (zeros outside), max
    r = torch.arange(-6, 7, dtype=torch.float64)
    g = torch.exp(-r**2 / 8)
    kernel = g[:, None] * g[None, :] / g.sum() ** 2
    for j in range(3):
        padded = torch.nn.functional.pad(maps[0, j].double().clamp(0, 1) + 0.5, (6, 6, 6, 6))
        blurred = torch.nn.functional.conv2d(padded[None, None], kernel[None, None])
        assert abs(blurred.max().item() - q.raw(maps)[0, j].item()) < 1e-5


def _kfr_setup():
    """2 joints on a 4x4 heatmap (stride 4) and a 2x2 feature grid (stride 8)."""
    real = np.array([True, True, False])
    quality = torch.tensor([[0.95, 0.75, 0.0]])
    heat = torch.zeros(1, 3, 4, 4)
    heat[0, 0, 1, 1] = 1.0  # joint 0 at heatmap cell (1, 1) -> feature cell (0, 0)
    heat[0, 1, 3, 2] = 1.0  # joint 1 at (2, 3) -> feature cell (1, 1)
    crop = np.array([[[1.0, 0, 0], [0, 1, 0]]])  # the crop is the image
    return real, quality, heat, crop


def test_kfr_saves_high_and_overwrites_exactly_the_low_cells():
    real, quality, heat, crop = _kfr_setup()
    rule = WriteRule(kfr=True, kfr_high=0.9, kfr_low=0.6, kfr_cell="saved", write_threshold=0.0)
    mem = MemoryStore(capacity=4)
    slot = mem.slots_for([0])
    y1 = torch.randn(1, 5, 2, 2)
    first = write(mem, slot, y1, quality, heat, crop, 4, 8, real, rule)
    assert first == WriteActivity(person_frames=1, appended=1, saved_joints=1)
    np.testing.assert_array_equal(mem.bank_valid[0], [True, False, False])  # only joint 0 is high
    torch.testing.assert_close(mem.bank[0, 0], y1[0, :, 0, 0])
    torch.testing.assert_close(mem.entries(0)[-1][0], y1[0])  # nothing was low: y stored as is
    # next frame: joint 0 is low (0.3), joint 1 middling; the crop moved one feature cell left
    moved = crop.copy()
    moved[0, 0, 2] = 8.0  # image x + 8 -> crop x: the saved joint is now in feature cell (1, 0)
    y2 = torch.randn(1, 5, 2, 2)
    second = write(mem, slot, y2, torch.tensor([[0.3, 0.75, 0.0]]), heat, moved, 4, 8, real, rule)
    assert second == WriteActivity(person_frames=1, appended=1, replaced_joints=1, replaced_stored=1)
    stored = mem.entries(0)[-1][0]
    changed = (stored != y2[0]).any(dim=0)
    assert changed.tolist() == [[False, True], [False, False]]  # exactly the low joint's cell
    torch.testing.assert_close(stored[:, 0, 1], y1[0, :, 0, 0])
    # "predicted": the cell of the current argmax of the low joint instead
    mem_p = MemoryStore(capacity=4)
    rule_p = WriteRule(kfr=True, kfr_cell="predicted", write_threshold=0.0)
    write(mem_p, mem_p.slots_for([0]), y1, quality, heat, crop, 4, 8, real, rule_p)
    write(mem_p, mem_p.slots_for([0]), y2, torch.tensor([[0.3, 0.75, 0.0]]), heat, moved, 4, 8, real, rule_p)
    changed = (mem_p.entries(0)[-1][0] != y2[0]).any(dim=0)
    assert changed.tolist() == [[True, False], [False, False]]


def test_write_threshold_and_kfr_off():
    real, quality, heat, crop = _kfr_setup()
    mem = MemoryStore(capacity=4)
    slot = mem.slots_for([0])
    # real joints sum 0.95 + 0.75 = 1.7 > 0.8 * 2 = 1.6: stored; at 0.9 * 2 = 1.8: not
    total = WriteActivity()
    for threshold in (0.8, 0.9):
        total.add(write(mem, slot, torch.randn(1, 5, 2, 2), quality, heat, crop, 4, 8, real,
                        WriteRule(write_threshold=threshold)))
    assert len(mem.entries(0)) == 1
    assert (total.person_frames, total.appended, total.saved_joints) == (2, 1, 2)
    assert total.per_person_frame()["appended"] == 0.5
    # a replacement in a frame that fails the gate never reaches the memory
    blocked = write(mem, slot, torch.randn(1, 5, 2, 2), torch.tensor([[0.3, 0.1, 0.0]]), heat, crop,
                    4, 8, real, WriteRule(write_threshold=0.9))
    assert (blocked.replaced_joints, blocked.replaced_stored, blocked.appended) == (1, 0, 0)
    write(mem, slot, torch.randn(1, 5, 2, 2), quality, heat, crop, 4, 8, real,
          WriteRule(write_threshold=0.9), gate=False)
    assert len(mem.entries(0)) == 2
    off = MemoryStore(capacity=4)
    write(off, off.slots_for([0]), torch.randn(1, 5, 2, 2), quality, heat, crop, 4, 8, real,
          WriteRule(kfr=False, write_threshold=0))
    assert off.bank is None


def _frame(boxes, ids, n=None, ended=()):
    image = np.random.default_rng(0).integers(0, 255, (120, 160, 3), dtype=np.uint8)
    return FrameInput(image, np.asarray(boxes, float), np.asarray(ids), ended_tracks=ended)


BOXES = [[10, 10, 60, 110], [80, 5, 140, 115]]


@pytest.mark.parametrize("cache", [False, True])
def test_state_bytes_equal_capacity_times_map_size_when_full(cache):
    torch.manual_seed(0)
    method = build_method("ptm", POSETRACK18, preset="small", capacity=3, write_threshold=-1e9,
                          kfr=False, cache_projections=cache).eval()
    for _ in range(5):
        method.step(_frame(BOXES, [0, 1]))
    c, (w, h) = method.net.feature_channels, method.feature_size
    assert (c, h, w) == (256, 4, 3)  # 128x96 crop: a 4x3 C5 grid
    per_entry = (c + method.memory.embed if cache else c) * h * w * 4
    for track in (0, 1):
        entries = method.store.entries(track)
        assert len(entries) == 3 and sum(t.numel() * 4 for t in entries[0]) == per_entry
    assert sum(p.numel() * p.element_size() for p in method.store.parts) == 2 * 3 * per_entry
    assert method.state_bytes() == 2 * 3 * per_entry
    assert method.describe().state_bytes == method.state_bytes()


def test_reset_and_ended_tracks_forget():
    torch.manual_seed(0)
    method = build_method("ptm", POSETRACK18, preset="tiny", write_threshold=-1e9).eval()
    first = method.step(_frame(BOXES, [0, 1])).keypoints
    second = method.step(_frame(BOXES, [0, 1])).keypoints
    assert not np.allclose(first, second)  # the memory changed the output
    assert (method.activity.person_frames, method.activity.appended) == (4, 4)
    method.step(_frame(BOXES[:1], [0], ended=(1,)))
    assert set(method.store.slots) == {0}
    # a track that appears next to one with a memory reads nothing (its slot is empty)
    three = method.step(_frame(BOXES + [[20, 15, 70, 112]], [0, 5, 6]))
    assert method.store.size.tolist() == [4, 1, 1] and np.isfinite(three.keypoints[:, :, :2]).any()
    method.reset()
    assert method.state_bytes() == 0 and not method.store.slots
    np.testing.assert_array_equal(method.step(_frame(BOXES, [0, 1])).keypoints, first)


def test_without_temporal_input_every_frame_is_a_first_frame():
    """`temporal_input=False`: the same weights with the memory neither read nor written, so
    every frame gives what the first frame of a fresh track gives, and no state is kept."""
    torch.manual_seed(0)
    method = build_method("ptm", POSETRACK18, preset="tiny", write_threshold=-1e9).eval()
    off = build_method("ptm", POSETRACK18, preset="tiny", write_threshold=-1e9, clip_length=3,
                       temporal_input=False).eval()
    off.load_state_dict(method.state_dict())
    first = method.step(_frame(BOXES, [0, 1])).keypoints
    assert not np.allclose(method.step(_frame(BOXES, [0, 1])).keypoints, first)  # memory used
    for _ in range(3):
        np.testing.assert_allclose(off.step(_frame(BOXES, [0, 1])).keypoints, first, rtol=0, atol=1e-5)
    assert off.state_bytes() == 0 and off.activity.person_frames == 0
    loss_off = off.train().loss(_clip_batch(off, k=3))  # training without reads: a per-frame loss
    assert torch.isfinite(loss_off)


def _clip_batch(method, b=2, k=3, persons=(1, 12)):
    w, h = method.config.crop_size
    hw, hh = method.config.heatmap_size
    g = torch.Generator().manual_seed(0)
    targets = torch.rand(b, k, 17, hh, hw, generator=g)
    crop = torch.tensor(np.eye(2, 3)).expand(b, k, 2, 3).clone()
    return ClipBatch(
        images=torch.randint(0, 255, (b, k, h, w, 3), dtype=torch.uint8, generator=g),
        targets=targets, target_weight=torch.ones(b, k, 17), crop_matrices=crop,
        num_persons=torch.tensor(persons).view(b, 1).expand(b, k).clone(),
        zero_temporal=torch.zeros(b, dtype=torch.bool))


@pytest.mark.parametrize("backbone", ["simplebaseline", "cpn"])
def test_every_learnable_part_receives_gradient(backbone):
    torch.manual_seed(0)
    method = build_method("ptm", POSETRACK18, preset="tiny", backbone=backbone, clip_length=3,
                          attention="auto", train_quality_gate=False).train()
    loss = method.loss(_clip_batch(method))  # one crowded and one uncrowded clip
    loss.backward()
    missing = [n for n, p in method.named_parameters() if p.grad is None or not p.grad.abs().sum() > 0]
    assert not missing, missing
    assert torch.isfinite(loss)


def test_state_is_per_track_and_describe_counts_full_memory():
    method = build_method("ptm", POSETRACK18, preset="tiny", capacity=2)
    d = method.describe()
    base = build_method("baseline", POSETRACK18, preset="tiny").describe()
    assert d.past_frames is None and "FIFO of up to 2" in d.state_per_track
    assert d.flops_per_person > base.flops_per_person
    assert d.parameters == base.parameters + sum(p.numel() for p in method.memory.parameters())
    store = MemoryStore(2)
    store.slots_for([3])
    store.drop([3, 4])
    assert not store.slots


@pytest.mark.parametrize("preset", ["tiny", "small"])
@pytest.mark.parametrize("backbone", ["simplebaseline", "cpn"])
def test_default_heads_keep_eight_dimensions_per_head(preset, backbone):
    method = build_method("ptm", POSETRACK18, preset=preset, backbone=backbone)
    att, c = method.memory, method.net.feature_channels
    assert att.embed // att.heads >= 8 and c % att.heads == 0
    assert (method.config.heads, method.config.embed_channels) == (att.heads, att.embed)
    explicit = build_method("ptm", POSETRACK18, preset=preset, backbone=backbone, heads=1, embed_channels=16)
    assert (explicit.memory.heads, explicit.memory.embed) == (1, 16)


def test_memory_width_rule_at_the_paper_sizes_and_errors():
    assert memory_width(2048) == (8, 256)  # SimpleBaseline ResNet-50 C5: head dimension 32
    assert memory_width(256) == (8, 64)  # CPN's C5 lateral, SimpleBaseline small: 8
    assert memory_width(64) == (2, 16) and memory_width(32) == (1, 8)  # the tiny models
    assert memory_width(256, heads=4) == (4, 64) and memory_width(256, embed=128) == (8, 128)
    with pytest.raises(UserError, match="heads"):
        memory_width(256, heads=3)
    with pytest.raises(UserError, match="heads"):
        build_method("ptm", POSETRACK18, preset="tiny", heads=5)


def _record_reads(method):
    """(stored entries per clip, grad enabled) at every read."""
    reads = []
    read = method.read

    def spy(x, store, slots, num_persons):
        sizes = store.size[slots].tolist() if len(store.size) else [0] * len(slots)
        reads.append((sizes, torch.is_grad_enabled()))
        return read(x, store, slots, num_persons)

    method.read = spy
    return reads


@pytest.mark.parametrize("loss_frames", [None, 2])
def test_training_clips_fill_the_memory_to_capacity(loss_frames):
    torch.manual_seed(0)
    method = build_method("ptm", POSETRACK18, preset="tiny", capacity=3, loss_frames=loss_frames,
                          train_quality_gate=False).train()
    assert method.config.clip_length == 4 and method.clip_spec().length == 4  # capacity + 1
    reads = _record_reads(method)
    loss = method.loss(_clip_batch(method, k=4))
    assert [r[0] for r in reads] == [[0, 0], [1, 1], [2, 2], [3, 3]]  # the last frame: full
    warm = 4 - (loss_frames or 4)
    assert [r[1] for r in reads] == [False] * warm + [True] * (4 - warm)
    loss.backward()
    assert method.memory.alpha_logit.grad is not None and torch.isfinite(loss)
    with pytest.raises(UserError, match="loss_frames"):
        build_method("ptm", POSETRACK18, preset="tiny", capacity=3, loss_frames=5)
    assert build_method("ptm", POSETRACK18, preset="tiny", clip_length=6).clip_spec().length == 6


def test_cpn_memory_on_p5_reaches_every_pyramid_level():
    """The memory reads and writes CPN's C5 lateral (P5, the paper's (12, 9, 256) maps); its
    output flows down GlobalNet's top-down pathway into every level and RefineNet."""
    torch.manual_seed(0)
    method = build_method("ptm", POSETRACK18, preset="tiny", backbone="cpn").eval()
    x = normalise(torch.randint(0, 255, (1, 96, 64, 3), dtype=torch.uint8))
    with torch.no_grad():
        main, skips = method.net.encode(x)
        assert main.shape[1] == method.net.feature_channels == 32 and main.shape[-2:] == (3, 2)
        plain = method.net.decode(main, skips)
        moved = method.net.decode(main + 0.5 * torch.randn_like(main), skips)
    assert len(plain) == 5  # four GlobalNet levels and RefineNet
    assert all(not torch.allclose(a, b) for a, b in zip(plain, moved))
