"""Evaluators: importing this package registers the built-in metrics (``posetrack``, ``pck``,
``hota``, ``oks``, ``stability``)."""

from . import hota, oks, pck, posetrack  # noqa: F401  (register "hota", "oks", "pck", "posetrack")
