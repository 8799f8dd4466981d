"""Checkpoints and state dicts load with `torch.load(weights_only=True)`: a file whose unpickling
would run code is refused, named, and its code never runs."""

from __future__ import annotations

import pickle

import pytest
import torch
from helpers.malformed import malicious_pickle

from vposebench.checkpoint import load_checkpoint, network_weights, read_state_dict
from vposebench.errors import UserError


@pytest.mark.parametrize("reader", [load_checkpoint, read_state_dict, network_weights])
def test_a_pickle_that_would_run_code_is_refused_and_named(tmp_path, reader):
    marker = tmp_path / "PWNED"
    payload = malicious_pickle(marker)
    plain = tmp_path / "model.pkl"
    plain.write_bytes(payload)

    class Payload:  # the same code, saved in torch's own zip format
        def __reduce__(self):
            return __import__("os").system, (f"touch {marker}",)

    zipped = tmp_path / "model.ckpt"
    torch.save({"format": "vposebench-checkpoint", "model": Payload()}, zipped)
    for path in (plain, zipped):
        with pytest.raises(UserError) as info:
            reader(path)
        message = info.value.format()
        assert message.startswith(f"{path}: ") and "refused" in message and "\n" not in message
        assert not marker.exists()
    pickle.loads(payload)  # the file really is malicious: an ordinary unpickler runs its code
    assert marker.exists()


def test_an_empty_file_is_named(tmp_path):
    path = tmp_path / "empty.ckpt"
    path.write_bytes(b"")
    with pytest.raises(UserError) as info:
        load_checkpoint(path)
    assert info.value.format() == f"{path}: file is empty"
