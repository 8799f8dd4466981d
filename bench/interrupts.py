"""Ctrl-C (SIGINT): how the command line stops on it, and blocks that must not be cut in two.

The CLI installs :func:`stop_on_interrupt` before anything heavy is imported: the first Ctrl-C
raises ``KeyboardInterrupt`` (clean-up code runs, the CLI prints ``interrupted``) and any
further Ctrl-C is ignored, so that the clean-up itself is not cut short. Code that must
finish a step as a whole (a training step and its checkpoint, the renames that publish a
folder) wraps it in :func:`deferred_interrupts`. Signal handlers belong to the main thread:
elsewhere both do nothing.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Callable, Iterator
from typing import Any

Handler = Callable[[int, Any], Any] | int | None


def _main_thread() -> bool:
    return threading.current_thread() is threading.main_thread()


def _raise_once(signum: int, frame: Any) -> None:  # noqa: ARG001
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not cut the clean-up short
    raise KeyboardInterrupt


@contextlib.contextmanager
def stop_on_interrupt() -> Iterator[None]:
    """Within the block, Ctrl-C raises KeyboardInterrupt once and is ignored afterwards; the
    previous handler is restored at the end."""
    if not _main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, _raise_once)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


@contextlib.contextmanager
def deferred_interrupts(*, second_stops: bool = False) -> Iterator[Callable[[], bool]]:
    """Hold Ctrl-C until the block ends; yields a function telling whether one arrived.

    The caller may act on it at a safe point (raise ``KeyboardInterrupt``); when the block ends
    with an interrupt pending and nothing raised, the interrupt goes to the handler that was
    in place before (by default: KeyboardInterrupt is raised then). With `second_stops`, a
    second Ctrl-C inside the block raises at once.
    """
    if not _main_thread():
        yield lambda: False
        return
    pending = {"set": False}

    def hold(signum: int, frame: Any) -> None:  # noqa: ARG001
        if pending["set"] and second_stops:
            raise KeyboardInterrupt
        pending["set"] = True

    previous = signal.signal(signal.SIGINT, hold)
    try:
        yield lambda: pending["set"]
    finally:
        signal.signal(signal.SIGINT, previous)
    if pending["set"]:
        if callable(previous):
            previous(signal.SIGINT, None)
        elif previous != signal.SIG_IGN:
            raise KeyboardInterrupt
