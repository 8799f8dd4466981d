"""Name -> object registries for methods, datasets, metrics and tables.

Built-in entries register with a decorator when their package is imported (plain imports:
``vposebench.methods`` imports its modules, each decorated class adds itself). Third-party
packages add entries through the entry-point groups ``vposebench.methods`` and
``vposebench.datasets``: an entry point ``name = "pkg.module:Class"`` registers ``Class`` under
``name`` (or the module's own decorator does, when importing it is enough). A plugin never
replaces a built-in of the same name. `Registry.set_plugin_paths` limits where plugins are
looked for (the tests use it so that installed plugins cannot change their results).

Registering a class sets its ``name`` attribute to the registered name, so a class states its
name once, in the decorator. An unknown name raises :class:`~vposebench.errors.UnknownNameError` listing the known names
and the closest match.
"""

from __future__ import annotations

import contextlib
import difflib
import importlib
import importlib.metadata
import os
import warnings
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from .errors import UnknownNameError, UserError

if TYPE_CHECKING:  # the registered kinds import the registry: no run-time imports here
    from vposebench.datasets.base import VideoDataset

    from .interface import TemporalPoseMethod
    from .metrics.base import Metric
    from .records import ResultRecord
    from .tables.base import Table

T = TypeVar("T")


class Registry(Generic[T]):
    """A named collection of objects of one kind (e.g. method classes)."""

    def __init__(
        self,
        kind: str,
        *,
        builtin_module: str | None = None,
        entry_point_group: str | None = None,
    ) -> None:
        self.kind = kind
        self.builtin_module = builtin_module
        self.entry_point_group = entry_point_group
        self._entries: dict[str, T] = {}
        self._loaded = False
        self._plugins_loaded = False
        self._plugins: set[str] = set()
        #: plugin name -> why it could not be loaded
        self.plugin_errors: dict[str, str] = {}
        #: folders whose distributions may hold plugins; None: every installed distribution
        self.plugin_paths: list[str] | None = None

    # -- registration -------------------------------------------------------------------
    def register(self, name: str) -> Callable[[T], T]:
        """Class/function decorator: ``@METHODS.register("ptm")``."""

        def decorator(obj: T) -> T:
            self.add(name, obj)
            return obj

        return decorator

    def add(self, name: str, obj: T) -> None:
        """Register `obj` under `name` (a class gets `name` as its ``name`` attribute);
        re-registering the same object is a no-op."""
        existing = self._entries.get(name)
        if existing is not None and existing is not obj:
            raise ValueError(f"{self.kind} {name!r} is already registered to {existing!r}")
        if isinstance(obj, type):
            obj.name = name  # type: ignore[attr-defined]
        self._entries[name] = obj

    @contextlib.contextmanager
    def scoped(self) -> Iterator[Registry[T]]:
        """Entries registered inside the block are gone when it ends; the built-ins and the
        plugins are loaded first and stay. For registering an example or a test double
        without leaving it behind (``tests/test_docs_examples.py``)."""
        self._ensure_loaded()
        before = dict(self._entries)
        try:
            yield self
        finally:
            self._entries = before
            self._plugins &= set(before)

    # -- lookup -------------------------------------------------------------------------
    def set_plugin_paths(self, paths: Iterable[str | os.PathLike[str]] | None) -> None:
        """Look for plugins only in the distributions found in `paths` (None: in every
        installed one). Plugins loaded before are dropped and looked up again on next use;
        the tests use this to control which plugins exist."""
        for name in self._plugins:
            self._entries.pop(name, None)
        self._plugins.clear()
        self.plugin_errors.clear()
        self.plugin_paths = None if paths is None else [os.fspath(p) for p in paths]
        self._plugins_loaded = False

    def _ensure_loaded(self) -> None:
        if not self._loaded:
            self._loaded = True
            if self.builtin_module:
                importlib.import_module(self.builtin_module)
        if self.entry_point_group and not self._plugins_loaded:
            self._plugins_loaded = True
            self._load_entry_points()

    def _entry_points(self) -> list[importlib.metadata.EntryPoint]:
        if self.plugin_paths is None:
            return list(importlib.metadata.entry_points(group=self.entry_point_group))
        return [ep for dist in importlib.metadata.distributions(path=self.plugin_paths)
                for ep in dist.entry_points if ep.group == self.entry_point_group]

    def _load_entry_points(self) -> None:
        for ep in self._entry_points():
            try:
                obj = ep.load()
            except Exception as exc:  # a broken plugin must not break the tool
                self.plugin_errors[ep.name] = f"{type(exc).__name__}: {exc}"
                warnings.warn(
                    f"could not load {self.kind} plugin {ep.name!r} ({ep.value}): {exc}",
                    RuntimeWarning,
                    stacklevel=2,
                )
                continue
            if ep.name not in self._entries:
                self.add(ep.name, obj)
                self._plugins.add(ep.name)

    def names(self) -> list[str]:
        """Registered names, sorted."""
        self._ensure_loaded()
        return sorted(self._entries)

    def get(self, name: str) -> T:
        """The object registered as `name`; an unknown name lists the known ones."""
        self._ensure_loaded()
        try:
            return self._entries[name]
        except KeyError:
            pass
        if name in self.plugin_errors:
            raise UserError(
                f"the {self.kind} plugin {name!r} failed to load: {self.plugin_errors[name]}"
            )
        known = self.names()
        close = difflib.get_close_matches(name, known, n=1, cutoff=0.5)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        listing = ", ".join(known) if known else "none"
        raise UnknownNameError(f"unknown {self.kind} {name!r} (known: {listing}){hint}")

    def __contains__(self, name: object) -> bool:
        self._ensure_loaded()
        return name in self._entries

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())

    def items(self) -> list[tuple[str, T]]:
        self._ensure_loaded()
        return sorted(self._entries.items())


METHODS: Registry[type[TemporalPoseMethod]] = Registry(
    "method", builtin_module="vposebench.methods", entry_point_group="vposebench.methods"
)
DATASETS: Registry[type[VideoDataset]] = Registry(
    "dataset", builtin_module="vposebench.datasets", entry_point_group="vposebench.datasets"
)
METRICS: Registry[type[Metric]] = Registry("metric", builtin_module="vposebench.metrics")
#: a table view: result records -> one table
TABLES: Registry[Callable[[list[ResultRecord]], Table]] = Registry(
    "table", builtin_module="vposebench.tables"
)

register_method = METHODS.register
register_dataset = DATASETS.register
register_metric = METRICS.register
register_table = TABLES.register

ALL_REGISTRIES: dict[str, Registry[Any]] = {
    "methods": METHODS,
    "datasets": DATASETS,
    "metrics": METRICS,
    "tables": TABLES,
}
