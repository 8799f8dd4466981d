"""Evaluators: importing this package registers the built-in metrics (``posetrack``, ``pck``)."""

from . import pck, posetrack  # noqa: F401  (register "pck" and "posetrack")
