"""The `one_torch_thread` fixture, applied by `pytestmark` to every test module that builds,
trains or runs a method (tests/methods and the runner, tracker and training tests)."""

from __future__ import annotations

import pytest


@pytest.fixture
def one_torch_thread():
    """Method tests run on one torch thread: on a shared, busy machine two-thread convolutions
    can be many times slower than one-thread ones. The previous setting is restored."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
