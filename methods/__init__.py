"""Backbones and the registered temporal pose methods (registered on import)."""

from . import (
    baseline,  # noqa: F401  (registers "baseline")
    blazepose,  # noqa: F401  (registers "blazepose"; mediapipe is imported only when built)
    hold,  # noqa: F401  (registers "hold" and "oracle-hold")
    onnx_model,  # noqa: F401  (registers "onnx"; onnxruntime is imported only when built)
    prior,  # noqa: F401  (registers "prior")
    ptm,  # noqa: F401  (registers "ptm")
    refine,  # noqa: F401  (registers "refine")
    tfc,  # noqa: F401  (registers "tfc")
)
