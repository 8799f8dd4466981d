"""Heatmap losses: target-weighted MSE and online hard keypoint mining (CPN)."""

from __future__ import annotations

import torch


def joint_mse(pred: torch.Tensor, target: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
    """(N, J) per-joint mean squared error, times the joint's target weight (0 = unannotated).

    Half the squared error, as SimpleBaseline's JointsMSELoss.
    """
    err = 0.5 * (pred - target).pow(2).flatten(2).mean(dim=2)
    return err * weight


def weighted_mse(pred: torch.Tensor, target: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
    """Mean over samples and joints of the target-weighted heatmap MSE."""
    return joint_mse(pred, target, weight).mean()


def ohkm_mse(pred: torch.Tensor, target: torch.Tensor, weight: torch.Tensor, topk: int) -> torch.Tensor:
    """CPN's online hard keypoint mining: per sample, the mean of the `topk` largest joint losses."""
    losses = joint_mse(pred, target, weight)
    k = min(topk, losses.shape[1])
    return losses.topk(k, dim=1).values.mean()
