"""The reference workload every other benchmark is divided by (see ratios.py).

A fixed mix of what the hot paths do (numpy array work, a small CPU convolution, a Python
loop), so machine speed cancels out of the committed ratios.
"""

import numpy as np
import torch


def _workload() -> float:
    rng = np.random.default_rng(0)
    a = rng.random((200, 200))
    total = float((a @ a).sum())
    x = torch.ones(1, 8, 32, 32)
    w = torch.ones(8, 8, 3, 3)
    total += float(torch.nn.functional.conv2d(x, w, padding=1).sum())
    total += sum(i * 0.5 for i in range(20_000))
    return total


def test_calibration(benchmark):
    torch.set_num_threads(1)
    assert benchmark(_workload) > 0
