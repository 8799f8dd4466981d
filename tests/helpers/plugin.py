"""A third-party method package for the tests, registered through the real entry-point route.

`write_plugin_package(folder)` writes a module and a `*.dist-info` folder with an
``entry_points.txt`` in the ``vposebench.methods`` group, exactly what ``pip install`` of a
plugin leaves in site-packages. The `method_plugin` fixture puts that folder on `sys.path`,
lets the method registry look for plugins there (and only there: see `isolated_registries`),
and gives the environment a subprocess needs to find it too (``PYTHONPATH``).

The package (SYNTHETIC, written for the tests) registers two methods:
  - ``plugin_boxpose``: no model, no training: every joint at a fixed place in the person
    box (a standing pose); one setting, `spread`. Not a torch module's worth of parameters.
  - ``plugin_baseline``: the built-in per-frame baseline under a plugin's name (trainable).
"""

from __future__ import annotations

import dataclasses
import os
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from vposebench.registry import ALL_REGISTRIES, METHODS

MODULE = "vpb_test_plugin"
METHOD_NAMES = ("plugin_baseline", "plugin_boxpose")

SOURCE = '''
"""A vposebench plugin package written by the tests (SYNTHETIC)."""

import dataclasses

import numpy as np

from vposebench.config import ConfigBase, positive
from vposebench.interface import MethodDescription, StepOutput, TemporalPoseMethod
from vposebench.methods.baseline import Baseline

#: joint name -> (u, v) in the person box: a person standing, facing the camera
STANDING = {
    "head_top": (0.5, 0.02), "head": (0.5, 0.08), "nose": (0.5, 0.1), "head_bottom": (0.5, 0.15),
    "neck": (0.5, 0.17), "belly": (0.5, 0.4),
    "right_shoulder": (0.35, 0.2), "left_shoulder": (0.65, 0.2),
    "right_elbow": (0.3, 0.35), "left_elbow": (0.7, 0.35),
    "right_wrist": (0.28, 0.48), "left_wrist": (0.72, 0.48),
    "right_hip": (0.4, 0.52), "left_hip": (0.6, 0.52),
    "right_knee": (0.4, 0.72), "left_knee": (0.6, 0.72),
    "right_ankle": (0.4, 0.92), "left_ankle": (0.6, 0.92),
}


@dataclasses.dataclass
class BoxPoseConfig(ConfigBase):
    """How far the joints spread from the box's vertical centre line (1 = as in STANDING)."""

    spread: float = 1.0

    def validate(self) -> None:
        positive(self.spread, "spread")


class BoxPose(TemporalPoseMethod):
    """Plugin: joints at fixed places in each person box (no model, no training)."""

    config_class = BoxPoseConfig

    def __init__(self, skeleton, config=None, **overrides):
        super().__init__(skeleton, config, **overrides)
        uv = [STANDING.get(joint, (np.nan, np.nan)) for joint in skeleton.joints]
        self.uv = np.array(uv, dtype=np.float64)
        self.uv[:, 0] = 0.5 + (self.uv[:, 0] - 0.5) * self.config.spread

    def reset(self):
        pass

    def step(self, frame):
        boxes = np.asarray(frame.boxes, dtype=np.float64).reshape(-1, 4)
        size = boxes[:, None, 2:] - boxes[:, None, :2]
        xy = boxes[:, None, :2] + self.uv[None] * size
        score = np.where(np.isnan(xy[..., :1]), np.nan, 0.5)
        return StepOutput(np.concatenate([xy, score], axis=2))

    def describe(self):
        return MethodDescription(name=self.name, config=self.settings(), runtime="numpy",
                                 parameters=0, flops_per_person=None)


class PluginBaseline(Baseline):
    """Plugin: the built-in per-frame baseline under a plugin's name (trainable)."""
'''


@dataclasses.dataclass(frozen=True)
class PluginPackage:
    """Where the plugin lives and how a subprocess finds it."""

    path: Path
    module: str
    methods: tuple[str, ...]

    def env(self) -> dict[str, str]:
        """The current environment with the plugin folder first on PYTHONPATH."""
        parts = [str(self.path), os.environ.get("PYTHONPATH", "")]
        return {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in parts if p)}


def write_plugin_package(folder: Path) -> PluginPackage:
    """The plugin module and its dist-info (entry points) in `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{MODULE}.py").write_text(textwrap.dedent(SOURCE))
    dist = folder / f"{MODULE}-1.0.dist-info"
    dist.mkdir(exist_ok=True)
    (dist / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {MODULE}\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text(
        "[vposebench.methods]\n"
        f"plugin_boxpose = {MODULE}:BoxPose\n"
        f"plugin_baseline = {MODULE}:PluginBaseline\n")
    return PluginPackage(folder, MODULE, METHOD_NAMES)


@pytest.fixture(scope="session", autouse=True)
def isolated_registries() -> Iterator[None]:
    """No installed plugin reaches the tests: registries look for plugins in no folder
    unless a test's fixture (e.g. `method_plugin`) names one."""
    for registry in ALL_REGISTRIES.values():
        registry.set_plugin_paths([])
    yield
    for registry in ALL_REGISTRIES.values():
        registry.set_plugin_paths(None)


@pytest.fixture
def method_plugin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[PluginPackage]:
    """The plugin package installed in a temporary folder and registered through its entry
    points, in this process (and for subprocesses through `PluginPackage.env()`)."""
    package = write_plugin_package(tmp_path / "site")
    monkeypatch.syspath_prepend(str(package.path))
    METHODS.set_plugin_paths([package.path])
    try:
        yield package
    finally:
        METHODS.set_plugin_paths([])
        sys.modules.pop(MODULE, None)
