"""vposebench: benchmark and evaluation suite for temporal (video) human pose estimation."""

from .errors import UserError
from .registry import DATASETS, METHODS, METRICS, TABLES

__version__ = "0.1.0"

__all__ = ["DATASETS", "METHODS", "METRICS", "TABLES", "UserError", "__version__"]
