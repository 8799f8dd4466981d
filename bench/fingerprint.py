"""Fingerprints of the source code a cached result depends on.

The pipeline keys each cached stage by its inputs *and* by a hash of the code that produced
it, so changing a method, the training loop, the runner or the evaluator invalidates exactly
the checkpoints, predictions or records that code made (a config hash alone would silently
reuse results of the old code).
"""

from __future__ import annotations

import functools
import hashlib
import importlib
from pathlib import Path

#: what each cached stage depends on (modules; a package means all its .py files)
TRAINING_CODE = (
    "vposebench.methods", "vposebench.training", "vposebench.checkpoint", "vposebench.config",
    "vposebench.interface", "vposebench.affine", "vposebench.structures", "vposebench.formats",
    "vposebench.datasets.transforms", "vposebench.datasets.clips", "vposebench.datasets.base",
    "vposebench.datasets.synthetic.dataset", "vposebench.datasets.jhmdb",
    "vposebench.datasets.penn_action", "vposebench.fitting",
)
PREDICTION_CODE = (
    "vposebench.methods", "vposebench.runner", "vposebench.shuffle", "vposebench.stages",
    "vposebench.tracker", "vposebench.box_sources", "vposebench.checkpoint", "vposebench.config",
    "vposebench.interface", "vposebench.affine", "vposebench.structures", "vposebench.formats",
    "vposebench.datasets.views", "vposebench.datasets.base", "vposebench.datasets.synthetic.dataset",
    "vposebench.datasets.jhmdb", "vposebench.datasets.penn_action",
)
#: what an exported model file depends on (the export stage and the exported network's code)
EXPORT_CODE = ("vposebench.stages", "vposebench.methods", "vposebench.checkpoint", "vposebench.interface")
EVALUATION_CODE = (
    "vposebench.metrics", "vposebench.bootstrap", "vposebench.seed_bootstrap", "vposebench.evaluation",
    "vposebench.formats",
    "vposebench.records", "vposebench.datasets.convert", "vposebench.datasets.views", "vposebench.datasets.jhmdb",
    "vposebench.datasets.penn_action", "vposebench.datasets.synthetic.dataset",
)


def _files(module_name: str) -> list[tuple[str, Path]]:
    module = importlib.import_module(module_name)
    path = Path(module.__file__)
    if path.name == "__init__.py":  # a package: every module in it
        return sorted((f"{module_name}/{p.relative_to(path.parent).as_posix()}", p)
                      for p in path.parent.rglob("*.py"))
    return [(module_name, path)]


@functools.cache
def code_fingerprint(modules: tuple[str, ...]) -> str:
    """12 hex digits of sha256 over the names and bytes of the modules' source files."""
    digest = hashlib.sha256()
    for name, path in sorted({item for m in modules for item in _files(m)}):
        digest.update(name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]
