"""Dataset adapters (registered on import), the synthetic generator and transforms."""

from . import jhmdb, penn_action, posetrack17, posetrack18, posetrack21, synthetic
from .base import VideoDataset

__all__ = ["VideoDataset", "jhmdb", "penn_action", "posetrack17", "posetrack18", "posetrack21", "synthetic"]
