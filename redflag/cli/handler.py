"""The top-level handler: exception -> message on stderr -> documented exit code.

Every command runs through `guarded`. A RedflagError prints its what/where/how and exits
with its code; a closed output pipe exits quietly; anything else is a bug (exit 70), shown
with a traceback only under --debug.
"""

from __future__ import annotations

import functools
import os
import sys
import traceback
from collections.abc import Callable
from typing import ParamSpec, TypeVar

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
