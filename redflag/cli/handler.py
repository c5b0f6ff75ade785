"""The top-level handler: exception -> message on stderr -> documented exit code.

Every command runs through `guarded`. A RedflagError prints its what/where/how and exits
with its code; a closed output pipe exits quietly; anything else is a bug (exit 70), shown
with a traceback only under --debug.
"""

from __future__ import annotations

import contextlib
import functools
import io
import os
import signal
import sys
import threading
import traceback
from collections.abc import Callable, Iterator
from typing import IO, ParamSpec, TypeVar

import typer

from redflag.errors import RedflagError

P = ParamSpec("P")
R = TypeVar("R")

EXIT_BUG = 70
EXIT_INTERRUPTED = 130


class State:
    """Process-wide options set by the top-level callback."""

    debug: bool = os.environ.get("REDFLAG_DEBUG", "") not in ("", "0")


def report(err: RedflagError) -> None:
    """Print a user error to stderr."""
    print(err.render(), file=sys.stderr)


def quiet_broken_pipe() -> None:
    """Point stdout at devnull so the interpreter's final flush cannot raise again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass


def guarded(fn: Callable[P, R]) -> Callable[P, R]:
    """Wrap a command so that errors become messages and exit codes, never tracebacks."""

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return fn(*args, **kwargs)
        except RedflagError as err:
            report(err)
            raise typer.Exit(err.exit_code) from None
        except BrokenPipeError:
            quiet_broken_pipe()
            raise typer.Exit(0) from None
        except KeyboardInterrupt:
            print("Interrupted.", file=sys.stderr)
            raise typer.Exit(EXIT_INTERRUPTED) from None
        except (typer.Exit, typer.Abort):
            raise
        except Exception:  # the one place that catches everything: a bug, not a user error
            if State.debug:
                traceback.print_exc()
            else:
                print(
                    "redflag: internal error (a bug). Please report it with the command you "
                    "ran; run again with --debug to see the traceback.",
                    file=sys.stderr,
                )
            raise typer.Exit(EXIT_BUG) from None

    return wrapper


@contextlib.contextmanager
def deferred_interrupt() -> Iterator[None]:
    """Hold Ctrl-C (SIGINT) until the block ends, then raise KeyboardInterrupt.

    Around an output write, so an interrupt never leaves half a result line behind.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    caught: list[int] = []
    previous = signal.signal(signal.SIGINT, lambda signum, frame: caught.append(signum))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
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
        with deferred_interrupt():
            self.raw.write(data)
        return len(data)

    def flush(self) -> None:
        with deferred_interrupt():
            self.raw.flush()
