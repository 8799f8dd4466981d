"""Progress of a long job: the callbacks an engine reports through, and the terminal display.

An engine calls `begin(total)` once with its estimate of the wall time in seconds, `stage(text)`
whenever the set of running jobs changes, `advance(amount)` as estimated seconds of work get
done and `message(text)` for notes. :class:`TqdmProgress` draws a tqdm bar on a terminal; in a
log (no terminal) it prints each stage and a heartbeat line at least every `heartbeat_s`
seconds with the running jobs, the share done and an estimate of the time left.
"""

from __future__ import annotations

import sys
import threading
import time
from typing import TextIO

#: seconds between heartbeat lines when the output is not a terminal (the issue asks <= 30)
HEARTBEAT_S = 20.0


class Progress:
    """Callbacks through which a run reports progress; this base class ignores them."""

    def begin(self, total: float) -> None:
        """The whole run is estimated to take `total` units (about seconds)."""

    def advance(self, amount: float) -> None:
        """`amount` units of the estimate are done."""

    def stage(self, text: str) -> None:
        """What is running now."""

    def message(self, text: str) -> None:
        """A line for the user (cache hits, notes)."""


def format_duration(seconds: float) -> str:
    """`42 s`, `3 min 05 s`, `1 h 02 min`."""
    seconds = max(0, round(seconds))
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min {seconds % 60:02d} s"
    return f"{seconds // 3600} h {seconds % 3600 // 60:02d} min"


class TqdmProgress(Progress):
    """A tqdm bar over the estimated seconds on a terminal; stage and heartbeat lines otherwise.

    The time left is the estimate's remainder, scaled by how fast the estimate has been
    burning down once a tenth of it is done.
    """

    def __init__(self, enabled: bool = True, *, prefix: str = "run", stream: TextIO | None = None,
                 heartbeat_s: float = HEARTBEAT_S) -> None:
        self.enabled = enabled
        self.prefix = prefix
        self.stream = stream if stream is not None else sys.stderr
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self.heartbeat_s = heartbeat_s
        self.bar = None
        self.total = 0.0
        self.done = 0.0
        self.current = ""
        self.started = time.monotonic()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # -- the callbacks -------------------------------------------------------------------
    def begin(self, total: float) -> None:
        with self._lock:
            self.total, self.done = max(float(total), 1.0), 0.0
            self.started = time.monotonic()
            if self.enabled and self.tty:
                from tqdm import tqdm

                self.bar = tqdm(total=round(self.total), unit="s~", file=self.stream,
                                dynamic_ncols=True,
                                bar_format="{desc} {percentage:3.0f}%|{bar}| [{elapsed}<{remaining}]")
        if self.enabled and self._thread is None:
            self._thread = threading.Thread(target=self._beat, name="progress-heartbeat", daemon=True)
            self._thread.start()

    def advance(self, amount: float) -> None:
        with self._lock:
            step = min(max(amount, 0.0), max(0.0, self.total - self.done))
            self.done += step
            if self.bar is not None:
                self.bar.update(round(self.done) - self.bar.n)

    def stage(self, text: str) -> None:
        with self._lock:
            self.current = text
            if self.bar is not None:
                self.bar.set_description_str(text[:70])
            elif self.enabled:
                self._line(text)

    def message(self, text: str) -> None:
        if not self.enabled:
            return
        with self._lock:
            if self.bar is not None:
                self.bar.write(text, file=self.stream)
            else:
                print(f"{self.prefix}: {text}", file=self.stream, flush=True)

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        if self.bar is not None:
            self.bar.close()
            self.bar = None

    # -- estimates -----------------------------------------------------------------------
    def time_left(self) -> float:
        """Seconds the rest of the run should take, by the estimate and the pace so far."""
        remaining = max(0.0, self.total - self.done)
        elapsed = time.monotonic() - self.started
        if self.done >= 0.1 * self.total and elapsed > 0:
            return remaining * elapsed / self.done
        return remaining

    def status(self) -> str:
        """`37 % done, about 2 min 10 s left` (the heartbeat's text)."""
        share = 100.0 * self.done / self.total if self.total else 0.0
        return f"{share:.0f} % done, about {format_duration(self.time_left())} left"

    def _line(self, text: str) -> None:
        elapsed = time.monotonic() - self.started
        print(f"{self.prefix}: [{elapsed:5.0f} s] {text}", file=self.stream, flush=True)

    def _beat(self) -> None:
        """Refresh the bar every second on a terminal; print a status line every heartbeat."""
        last = time.monotonic()
        while not self._stop.wait(1.0 if self.tty else min(1.0, self.heartbeat_s)):
            with self._lock:
                if self.bar is not None:
                    self.bar.refresh()
                elif time.monotonic() - last >= self.heartbeat_s:
                    self._line(f"{self.status()}; running: {self.current or 'nothing'}")
                    last = time.monotonic()
