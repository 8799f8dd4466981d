"""Dataset adapters (registered on import), the synthetic generator and transforms."""

from .base import VideoDataset

__all__ = ["VideoDataset"]
