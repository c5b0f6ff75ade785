"""Stage 5 of `batch`: encoded results -> the output, in order, in whole writes; signals.

Every write completes even if Ctrl-C (or SIGTERM, once `terminate_as_interrupt` asked for
it) arrives: the signal is held until the write is out, then raised, so an interrupted
run never leaves half a result line behind. The top-level handler (cli/handler.py) turns
the KeyboardInterrupt (or `Terminated`) into exit 130 (or 143).
"""

from __future__ import annotations

import contextlib
import io
import signal
import threading
from collections.abc import Callable, Iterator
from typing import IO

from redflag.errors import Terminated


class Sink:
    """Where a run's output goes: each chunk's parts in one write, or, with `flush_lines`
    (--line-buffered), each part written and flushed as it comes."""

    def __init__(self, out: IO[bytes], *, flush_lines: bool) -> None:
        self.out = out
        self.flush_lines = flush_lines

    def write(self, parts: list[bytes]) -> None:
        """Write the parts, in order, then flush."""
        out = self.out
        if self.flush_lines:
            for part in parts:
                out.write(part)
                out.flush()
            return
        out.write(b"".join(parts))
        out.flush()


def terminate_as_interrupt() -> Callable[[], None]:
    """From now on SIGTERM ends the command as Ctrl-C does (after the write under way, exit
    143); returns the undo. For `batch`, which `timeout` or a service manager may stop."""
    previous = signal.signal(signal.SIGTERM, _raise_terminated)

    def undo() -> None:
        signal.signal(signal.SIGTERM, previous)

    return undo


def _raise_terminated(signum: int, frame: object) -> None:
    raise Terminated


@contextlib.contextmanager
def deferred_interrupt() -> Iterator[None]:
    """Hold Ctrl-C (SIGINT), and SIGTERM where it is handled, until the block ends; then
    raise KeyboardInterrupt (Terminated for SIGTERM).

    Around an output write, so an interrupt never leaves half a result line behind.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    caught: list[int] = []
    held = [signal.SIGINT]
    if signal.getsignal(signal.SIGTERM) is _raise_terminated:
        held.append(signal.SIGTERM)
    previous = {s: signal.signal(s, lambda signum, frame: caught.append(signum)) for s in held}
    try:
        yield
    finally:
        for held_signal, handler in previous.items():
            signal.signal(held_signal, handler)
    if signal.SIGTERM in caught:
        raise Terminated
    if caught:
        raise KeyboardInterrupt


class WholeWrites(io.BufferedIOBase):
    """A binary output whose every write and flush completes even if Ctrl-C arrives."""

    def __init__(self, raw: IO[bytes]) -> None:
        super().__init__()
        self.raw = raw

    def writable(self) -> bool:
        return True

    def write(self, data: bytes) -> int:  # type: ignore[override]  # batch writes bytes only
        # A signal arriving while a pipe is full makes BufferedWriter.write return after a
        # partial write, without error: the rest would be lost and the last line cut in
        # half (seen once 0.2.0's result lines outgrew the pipe). Write until all is out.
        with deferred_interrupt():
            view = memoryview(data)
            while view:
                written = self.raw.write(view)
                view = view[written or 0 :]
            self.raw.flush()
        return len(data)

    def flush(self) -> None:
        with deferred_interrupt():
            self.raw.flush()
