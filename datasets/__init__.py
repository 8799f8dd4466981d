"""Dataset adapters (registered on import), the synthetic generator and transforms."""

from . import synthetic  # noqa: F401  (registers `synthetic`)
from .base import VideoDataset

__all__ = ["VideoDataset"]
