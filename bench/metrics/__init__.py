"""Evaluators: importing this package registers the built-in metrics (``posetrack``, ``pck``,
``hota``, ``oks``, ``stability``)."""

from . import hota, pck, posetrack  # noqa: F401  (register "hota", "pck" and "posetrack")
