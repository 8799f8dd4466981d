import subprocess
import sys
import textwrap

import pytest

from vposebench.errors import UnknownNameError, UserError
from vposebench.registry import DATASETS, METHODS, METRICS, Registry


def test_register_and_get():
    reg = Registry("widget")

    @reg.register("alpha")
    class Alpha:
        """First widget."""

    assert reg.get("alpha") is Alpha
    assert Alpha.name == "alpha"  # the decorator names the class
    assert "alpha" in reg and reg.names() == ["alpha"]
    reg.add("alpha", Alpha)  # same object again is fine
    with pytest.raises(ValueError, match="already registered"):
        reg.add("alpha", object())


def test_scoped_registrations_end_with_the_block():
    reg = Registry("widget", builtin_module="json")  # any importable module stands for the built-ins
    reg.add("kept", object())
    with reg.scoped():
        reg.add("temporary", object())
        assert reg.names() == ["kept", "temporary"]
    assert reg.names() == ["kept"]
    with reg.scoped():
        reg.add("temporary", object())  # a new object under the same name: nothing was left behind
    with pytest.raises(RuntimeError), reg.scoped():
        reg.add("during-a-failure", object())
        raise RuntimeError("the block failed")
    assert reg.names() == ["kept"]
    with METHODS.scoped():
        assert "baseline" in METHODS  # the built-ins were loaded before the block and stay
    assert "baseline" in METHODS


def test_unknown_name_lists_known_and_closest():
    reg = Registry("method")
    for name in ("baseline", "ptm", "tfc", "refine"):
        reg.add(name, object())
    with pytest.raises(UnknownNameError) as info:
        reg.get("basline")
    message = str(info.value)
    assert "unknown method 'basline'" in message
    assert "baseline, ptm, refine, tfc" in message
    assert "did you mean 'baseline'?" in message
    assert isinstance(info.value, UserError)
    with pytest.raises(UnknownNameError) as info:
        reg.get("zzzzzz")
    assert "did you mean" not in str(info.value)


def _make_plugin(tmp_path, body: str, group: str = "vposebench.methods", name: str = "plugmeth"):
    """A fake installed distribution whose module has a name unique to this test."""
    module = "vpb_plugin_" + tmp_path.name.replace("-", "_")
    (tmp_path / f"{module}.py").write_text(textwrap.dedent(body))
    dist = tmp_path / f"{module}-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {module}\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text(f"[{group}]\n{name} = {module}:PluginMethod\n")
    return tmp_path


def test_entry_point_plugin_is_found(tmp_path, monkeypatch):
    path = _make_plugin(tmp_path, '''
        class PluginMethod:
            """A method from a third-party package."""
    ''')
    monkeypatch.syspath_prepend(str(path))
    reg = Registry("method", entry_point_group="vposebench.methods")
    reg.set_plugin_paths([path])  # only this folder's plugins, whatever else is installed
    assert reg.names() == ["plugmeth"]
    assert reg.get("plugmeth").__doc__.startswith("A method from")


def test_broken_plugin_is_reported_not_fatal(tmp_path, monkeypatch):
    path = _make_plugin(tmp_path, "raise ImportError('needs a missing package')\n")
    monkeypatch.syspath_prepend(str(path))
    reg = Registry("method", entry_point_group="vposebench.methods")
    reg.set_plugin_paths([path])
    with pytest.warns(RuntimeWarning, match="plugmeth"):
        assert reg.names() == []
    with pytest.raises(UserError, match="failed to load"):
        reg.get("plugmeth")


def test_cli_list_shows_entry_point_plugin(tmp_path):
    path = _make_plugin(tmp_path, '''
        class PluginMethod:
            """Third-party method."""
    ''')
    out = subprocess.run(
        [sys.executable, "-m", "vposebench", "list", "methods"],
        capture_output=True, text=True, env={"PYTHONPATH": str(path), "PATH": ""}, check=True,
    )
    assert "plugmeth" in out.stdout and "Third-party method." in out.stdout


def test_global_registries_are_wired():
    assert METHODS.entry_point_group == "vposebench.methods"
    assert METHODS.builtin_module == "vposebench.methods"


def test_plugin_paths_limit_and_reset_the_plugins(tmp_path, monkeypatch):
    """Plugins come only from the folders named; changing them drops what was loaded."""
    path = _make_plugin(tmp_path, '''
        class PluginMethod:
            """Third-party method."""
    ''')
    monkeypatch.syspath_prepend(str(path))
    reg = Registry("method", entry_point_group="vposebench.methods")
    reg.add("builtin", object())
    reg.set_plugin_paths([])
    assert reg.names() == ["builtin"]  # the folder is on sys.path, but not a plugin path
    reg.set_plugin_paths([path])
    assert reg.names() == ["builtin", "plugmeth"]
    reg.set_plugin_paths([])
    assert reg.names() == ["builtin"]


def test_the_tests_see_no_installed_plugin():
    """The session fixture `isolated_registries` keeps installed plugins out of the tests."""
    assert METHODS.plugin_paths == []
    assert set(METHODS.names()) >= {"baseline", "ptm", "tfc", "refine"}


def test_builtin_classes_carry_their_registered_names():
    for registry in (METHODS, DATASETS, METRICS):
        for name, cls in registry.items():
            assert cls.name == name, (registry.kind, name)
