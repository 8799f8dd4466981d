"""BatchNorm over the global batch when one model trains in several processes.

Plain BatchNorm in N processes normalises each rank's share of the batch with that share's
statistics, which is not what one process does with the whole batch. Synchronised BatchNorm
computes the mean and variance over every rank's share, so the step is the same. On CUDA this
is `torch.nn.SyncBatchNorm`; torch has no CPU version (it raises for CPU tensors), so on the
CPU (gloo) `GlobalBatchNorm2d` does the same with differentiable all-reduces
(`torch.distributed.nn.functional.all_reduce`, whose backward sums the gradients of the
statistics over the ranks). In eval mode, and outside a process group, both are plain
BatchNorm. Their parameters and buffers have BatchNorm's names, so checkpoints do not change.
"""

from __future__ import annotations

import warnings

import torch
import torch.distributed as dist
from torch import nn

# torch 2.13 marks the differentiable all_reduce deprecated in favour of a private module's;
# the public one is kept (pinned torch), without a warning at every BatchNorm call
warnings.filterwarnings("ignore", message=r"torch\.distributed\.nn\.functional\.all_reduce is deprecated",
                        category=FutureWarning)


class GlobalBatchNorm2d(nn.BatchNorm2d):
    """BatchNorm2d whose training statistics are those of the batch of every rank together."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not (self.training and dist.is_available() and dist.is_initialized()
                and dist.get_world_size() > 1):
            return super().forward(x)
        from torch.distributed.nn.functional import all_reduce

        channels = x.shape[1]
        dims = [0, 2, 3]
        # two passes (mean, then squared deviations) for the precision of one-process BN
        sums = all_reduce(torch.cat([x.sum(dims), x.new_tensor([x.numel() / channels])]))
        count = sums[-1]
        mean = sums[:channels] / count
        centred = x - mean[None, :, None, None]
        var = all_reduce((centred * centred).sum(dims)) / count  # biased, as BN normalises
        if self.track_running_stats:
            with torch.no_grad():
                self.num_batches_tracked.add_(1)
                momentum = (1.0 / float(self.num_batches_tracked) if self.momentum is None
                            else self.momentum)
                unbiased = var * (count / (count - 1))
                self.running_mean.mul_(1 - momentum).add_(momentum * mean)
                self.running_var.mul_(1 - momentum).add_(momentum * unbiased)
        y = centred * torch.rsqrt(var + self.eps)[None, :, None, None]
        if self.affine:
            y = y * self.weight[None, :, None, None] + self.bias[None, :, None, None]
        return y


def _global(bn: nn.BatchNorm2d) -> GlobalBatchNorm2d:
    out = GlobalBatchNorm2d(bn.num_features, bn.eps, bn.momentum, bn.affine,
                            bn.track_running_stats, device=bn.weight.device if bn.affine else None)
    out.load_state_dict(bn.state_dict())
    if bn.affine:
        out.weight.requires_grad_(bn.weight.requires_grad)
        out.bias.requires_grad_(bn.bias.requires_grad)
    out.train(bn.training)
    return out


def synchronise_batchnorm(module: nn.Module, device: torch.device) -> nn.Module:
    """Replace every BatchNorm2d in `module` (in place) by its synchronised form for `device`;
    return `module`."""
    if device.type == "cuda":
        return nn.SyncBatchNorm.convert_sync_batchnorm(module)
    for name, child in module.named_children():
        if type(child) is nn.BatchNorm2d:
            setattr(module, name, _global(child))
        else:
            synchronise_batchnorm(child, device)
    return module
