"""Name -> object registries for methods, datasets, metrics and tables.

Built-in entries register with a decorator when their package is imported (plain imports:
``vposebench.methods`` imports its modules, each decorated class adds itself). Third-party
packages add entries through the entry-point groups ``vposebench.methods`` and
``vposebench.datasets``: an entry point ``name = "pkg.module:Class"`` registers ``Class`` under
``name`` (or the module's own decorator does, when importing it is enough).

Registering a class sets its ``name`` attribute to the registered name, so a class states its
name once, in the decorator. An unknown name raises :class:`~vposebench.errors.UnknownNameError` listing the known names
and the closest match.
"""

from __future__ import annotations

import difflib
import importlib
import warnings
from collections.abc import Callable, Iterator
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
        #: plugin name -> why it could not be loaded
        self.plugin_errors: dict[str, str] = {}

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

    # -- lookup -------------------------------------------------------------------------
    def _ensure_loaded(self) -> None:
        if self._loaded:
            return
        self._loaded = True
        if self.builtin_module:
            importlib.import_module(self.builtin_module)
        if self.entry_point_group:
            self._load_entry_points()

    def _load_entry_points(self) -> None:
        import importlib.metadata  # here, not at the top: the CLI's start-up stays cheap

        for ep in importlib.metadata.entry_points(group=self.entry_point_group):
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
