"""A time budget for the proof search: the clock the pure core does not read.

`rules analyze --max-seconds`, `diff --exhaustive --max-seconds` and every `ask` plan (the
interview's 2-second limit) make a `TimeBudget` here and pass it to the core, which only
asks it `check()` and runs each solver call under `watching`. One watchdog thread per budget
interrupts the solver at work when the time is up (Glucose can be interrupted mid-search);
the core then raises `OutOfTime`, reported as "not proved", never as "proved".
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from redflag.core.solve import Budget

if TYPE_CHECKING:
    from pysat.solvers import Solver


class TimeBudget(Budget):
    """`seconds` of wall time from its creation, shared by every solver call of one analysis
    (None: no limit). Use it as a context manager so the watchdog thread ends with it."""

    def __init__(self, seconds: float | None) -> None:
        self.seconds = seconds
        self.expired = False
        self.started = time.monotonic()
        self._current: Any = None
        self._timer: threading.Timer | None = None
        self._lock = threading.Lock()

    def __exit__(self, *exc: object) -> None:
        if self._timer is not None:
            self._timer.cancel()

    @property
    def remaining(self) -> float | None:
        """Seconds left, or None without a limit."""
        if self.seconds is None:
            return None
        return self.seconds - (time.monotonic() - self.started)

    def check(self) -> None:
        left = self.remaining
        if left is not None and left <= 0:
            self.expired = True
        super().check()

    @contextmanager
    def watching(self, solver: Solver) -> Iterator[None]:
        """Interrupt `solver` if the budget runs out while it works."""
        left = self.remaining
        self.check()
        if left is None:
            yield
            return
        with self._lock:
            self._current = solver
            if self._timer is None:
                self._timer = threading.Timer(max(left, 0.0), self._interrupt)
                self._timer.daemon = True
                self._timer.start()
        try:
            yield
        finally:
            with self._lock:
                self._current = None

    def _interrupt(self) -> None:
        with self._lock:
            self.expired = True
            if self._current is not None:
                self._current.interrupt()
