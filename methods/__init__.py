"""Backbones and the registered temporal pose methods (registered on import)."""

from . import (
    baseline,  # noqa: F401  (registers "baseline")
    hold,  # noqa: F401  (registers "hold" and "oracle-hold")
    prior,  # noqa: F401  (registers "prior")
    ptm,  # noqa: F401  (registers "ptm")
    refine,  # noqa: F401  (registers "refine")
    tfc,  # noqa: F401  (registers "tfc")
)
