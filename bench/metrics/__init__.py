"""Evaluators: importing this package registers the built-in metrics (``posetrack``, ``pck``,
``hota``, ``oks``, ``stability``)."""

from . import hota, oks, pck, posetrack, stability  # noqa: F401  (register the metrics)
