"""Leaderboards and paper tables: registered views over result records."""

from . import leaderboard, ptm, sensitivity, tfc
from .base import FORMATS, Table

__all__ = ["FORMATS", "Table", "leaderboard", "ptm", "sensitivity", "tfc"]
