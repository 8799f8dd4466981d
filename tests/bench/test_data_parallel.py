"""Data-parallel training with 2 gloo processes on the CPU (torch's elastic launcher, as
torchrun): the same step as one process on the whole batch, checkpoints and resuming.

Tolerances: in float64 the 2-process gradients, loss and BatchNorm statistics equal the
1-process ones to 1e-10 (relative): the batch shares, the gradient averaging and the
synchronised BatchNorm are exact. In float32 the order of sums differs (per-rank partial
sums, then an all-reduce), and BatchNorm's backward cancels large terms, so small gradients
carry relative errors up to ~1 %; after 5 SGD steps the weights differ from the one-process
weights by under 0.1 % of the distance they moved (measured: 8e-5), and the losses by 1e-6.
"""

from __future__ import annotations

import pytest
import torch
from helpers.data_parallel_jobs import step_in_float64, train_interrupted

from vposebench import cli
from vposebench.checkpoint import load_checkpoint, partial_path
from vposebench.commands.train_cmd import TrainRequest
from vposebench.data_parallel import Ranks, launch, shard
from vposebench.errors import UserError
from vposebench.interface import build_method
from vposebench.skeleton import POSETRACK18

pytestmark = pytest.mark.usefixtures("one_torch_thread")

SETTINGS = {"preset": "tiny", "batch_size": "8", "iterations": "5", "optimizer": "sgd",
            "lr": "0.05", "save_every": "100"}


def relative(a: torch.Tensor, b: torch.Tensor) -> float:
    a, b = a.double(), b.double()
    return (a - b).norm().item() / max(a.norm().item(), 1e-30)


def test_batch_shares():
    assert [shard(8, Ranks(r, 2, r)) for r in (0, 1)] == [range(0, 4), range(4, 8)]
    assert shard(8, None) == range(8)
    with pytest.raises(UserError, match="batch of 6 does not split into 4"):
        shard(6, Ranks(0, 4, 0))


@pytest.mark.slow
def test_two_processes_take_the_one_process_step_in_float64(tiny_root):
    one = step_in_float64(str(tiny_root), 8)
    two = launch(2, step_in_float64, str(tiny_root), 8)
    assert two[0]["loss"] == pytest.approx(one["loss"], rel=1e-12)
    for name, grad in one["grads"].items():
        assert relative(grad, two[0]["grads"][name]) < 1e-10, name
        assert torch.equal(two[0]["grads"][name], two[1]["grads"][name]), name
    for name, buffer in one["buffers"].items():  # BatchNorm statistics of the whole batch
        assert relative(buffer, two[1]["buffers"][name]) < 1e-10, name


def train_args(root, out, **changes) -> list[str]:
    settings = [f"--set={k}={v}" for k, v in {**SETTINGS, **changes}.items()]
    return ["train", "--method", "baseline", "--dataset", "synthetic", "--root", str(root),
            *settings, "--out", str(out), "--quiet", "--threads", "1"]


@pytest.mark.slow
def test_two_processes_resume_and_match_one_process(tiny_root, tmp_path, capsys):
    assert cli.main(train_args(tiny_root, tmp_path / "one.ckpt")) == 0
    # Ctrl-C reaches rank 0 after step 2; the ranks agree to stop after step 3 and rank 0
    # writes the partial checkpoint
    out = tmp_path / "two.ckpt"
    request = TrainRequest("baseline", "synthetic", str(tiny_root), str(out),
                           {"preset": "tiny"}, {k: v for k, v in SETTINGS.items() if k != "preset"},
                           "cpu", 1, True, True)
    assert launch(2, train_interrupted, request, 2) == {0: "interrupted", 1: "interrupted"}
    assert not out.exists() and load_checkpoint(partial_path(out)).step == 3
    capsys.readouterr()
    assert cli.main([*train_args(tiny_root, out), "--nproc", "2"]) == 0
    assert "resumed at step 3" in capsys.readouterr().out and not partial_path(out).exists()
    a, b = load_checkpoint(tmp_path / "one.ckpt"), load_checkpoint(out)
    assert b.complete and b.step == 5
    assert b.losses == pytest.approx(a.losses, rel=1e-6)
    torch.manual_seed(0)
    start = build_method("baseline", POSETRACK18, preset="tiny").state_dict()
    weights = [k for k in a.model if "running" not in k and a.model[k].is_floating_point()]
    moved = torch.cat([(a.model[k] - start[k]).double().flatten() for k in weights]).norm()
    apart = torch.cat([(a.model[k] - b.model[k]).double().flatten() for k in weights]).norm()
    assert moved > 0 and apart / moved < 1e-3, float(apart / moved)


def test_nproc_user_errors(tiny_root, tmp_path, capsys, monkeypatch):
    assert cli.main([*train_args(tiny_root, tmp_path / "x.ckpt", batch_size=5), "--nproc", "2"]) == 2
    assert "batch_size: the batch of 5 does not split into 2" in capsys.readouterr().err
    monkeypatch.setenv("WORLD_SIZE", "2")
    monkeypatch.setenv("RANK", "0")
    assert cli.main([*train_args(tiny_root, tmp_path / "x.ckpt"), "--nproc", "2"]) == 2
    assert "MASTER_ADDR" in capsys.readouterr().err
    monkeypatch.setenv("RANK", "x")
    assert cli.main(train_args(tiny_root, tmp_path / "x.ckpt")) == 2
    assert "RANK: expected a number" in capsys.readouterr().err
