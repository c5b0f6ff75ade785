"""The top-level handler: exception -> message on stderr -> documented exit code.

Every command runs through `guarded`, called once by the root command (cli/usage.py,
`RedflagGroup.invoke`) around whichever command the line names. A RedflagError prints its
what/where/how and exits with its code; a closed output pipe exits quietly; anything else is
a bug (exit 70), shown with a traceback only under --debug. The codes are errors.ExitCode.
"""

from __future__ import annotations

import contextlib
import errno
import io
import os
import sys
import traceback
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn, TypeVar

import typer

try:  # typer 0.2x carries its own copy of click: its parser raises these classes
    from typer._click import exceptions as click
except ImportError:  # older typer runs on click itself
    from click import exceptions as click  # type: ignore[no-redef]

from redflag.errors import ExitCode, InputError, OutputError, RedflagError, Terminated

if TYPE_CHECKING:  # the output model (formats/json_model.py); not imported at run time
    from redflag.formats.json_model import ErrorJSON

R = TypeVar("R")


class State:
    """Process-wide options set by the top-level callback."""

    debug: bool = False  # --debug / REDFLAG_DEBUG: tracebacks instead of one-line messages
    # --require-approved / REDFLAG_REQUIRE_APPROVED: evaluate only signed, approved rule sets,
    # verified against --trust FILE / REDFLAG_TRUST or one --key PUBLIC_KEY (issue 17)
    require_approved: bool = False
    trust: str | None = None
    key: str | None = None
    json_errors: bool = False  # --json on the line: errors on stderr as JSON too

    @classmethod
    def from_environment(cls) -> None:
        """Set every option from the environment, as each run starts (so nothing one run set
        on the command line stays for the next run in the same process)."""
        cls.debug = os.environ.get("REDFLAG_DEBUG", "") not in ("", "0")
        cls.require_approved = os.environ.get("REDFLAG_REQUIRE_APPROVED", "") not in ("", "0")
        cls.trust = os.environ.get("REDFLAG_TRUST") or None
        cls.key = None
        cls.json_errors = False


def report(err: RedflagError) -> None:
    """Print a user error to stderr: as text, or under --json as one JSON object,
    `{"error": {"code", "message", "hint", "where"}}` (issue 17)."""
    if State.json_errors:
        import json

        # ASCII: escapes keep control and bidi characters from a record inert (issue 13)
        print(json.dumps({"error": error_json(err)}), file=sys.stderr)
        return
    print(err.render(), file=sys.stderr)


def error_json(err: RedflagError) -> ErrorJSON:
    """An error as data: code, message, hint, where (`file:line:col`, or null); a rule file's
    every diagnostic, or every bad word of a command line, under `errors`."""
    from redflag.errors import Diagnostic, InputErrors, RuleFileError

    def one(e: RedflagError | Diagnostic) -> ErrorJSON:
        out: ErrorJSON = {
            "code": e.code,
            "message": e.message,
            "hint": e.hint,
            "where": str(e.location) if e.location is not None else None,
        }
        if isinstance(e, Diagnostic):
            out["severity"] = e.severity
        return out

    body = one(err)
    if isinstance(err, RuleFileError):
        body["where"] = err.source
        body["errors"] = [one(d) for d in err.diagnostics]
    elif isinstance(err, InputErrors):
        body["errors"] = [one(e) for e in err.errors]
    return body


def quiet_broken_pipe() -> None:
    """Point stdout at devnull so the interpreter's final flush cannot raise again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass


class ClosedStream(io.TextIOBase):
    """Stands for stdin or stdout when the process was started with it closed (`>&-`, `<&-`).

    Reading or writing raises the user error that says so (exit 2 or 74) instead of Python's
    AttributeError on None (issue 13). A command that never touches the stream is unaffected.
    """

    def __init__(self, name: str) -> None:
        super().__init__()
        self.name = name

    @property
    def buffer(self) -> ClosedStream:
        return self

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return "utf-8"

    def isatty(self) -> bool:
        return False

    def readable(self) -> bool:  # so wrappers accept it, and the read itself says why
        return self.name == "stdin"

    def writable(self) -> bool:
        return self.name != "stdin"

    def fileno(self) -> int:
        raise io.UnsupportedOperation(f"{self.name} is closed")

    def flush(self) -> None:
        pass

    def _refuse(self) -> RedflagError:
        if self.name == "stdin":
            return InputError(
                "standard input is closed: there is nothing to read",
                location=None,
                hint="give the input on stdin (for example < record.json), or as words or files",
            )
        return OutputError(
            "cannot write the output: standard output is closed",
            hint="send the output somewhere (> file), or use --output FILE where there is one",
        )

    def write(self, data: object) -> int:
        raise self._refuse()

    def read(self, size: int | None = -1) -> str:
        raise self._refuse()

    def readline(self, size: int | None = -1) -> str:  # type: ignore[override]  # text or bytes
        raise self._refuse()

    def read1(self, size: int = -1) -> bytes:
        raise self._refuse()

    def readinto(self, buffer: object) -> int:
        raise self._refuse()


def stand_in_for_closed_streams() -> None:
    """Give a closed fd 0, 1 or 2 /dev/null (so no file opened later lands on it) and a
    ClosedStream for sys.stdin or sys.stdout; a closed stderr just stays quiet."""
    for fd, name in ((0, "stdin"), (1, "stdout"), (2, "stderr")):
        try:
            os.fstat(fd)
            continue
        except OSError:
            pass
        try:
            devnull = os.open(os.devnull, os.O_RDWR)
            if devnull != fd:
                os.dup2(devnull, fd)
                os.close(devnull)
        except OSError:
            continue
        if name == "stderr":
            sys.stderr = open(fd, "w", closefd=False)  # noqa: SIM115  # lives as long as we do
        else:
            setattr(sys, name, ClosedStream(name))


def escape_unencodable_text() -> None:
    """Under a locale that is not UTF-8 (LC_ALL=C, PYTHONIOENCODING=ascii), show text the
    terminal cannot encode as backslash escapes instead of crashing (issue 13). Documents
    (JSON, rules doc) are written as UTF-8 bytes regardless (output.write_utf8)."""
    import codecs

    for stream in (sys.stdout, sys.stderr):
        encoding = getattr(stream, "encoding", None) or "utf-8"
        if isinstance(stream, io.TextIOWrapper) and codecs.lookup(encoding).name != "utf-8":
            stream.reconfigure(errors="backslashreplace")


def run_app(app: Callable[[], object]) -> NoReturn:
    """Run the typer app; what it prints outside a command (--help, --version, a usage error)
    into a full disk or a closed pipe gets the same exit codes as a command's output."""
    stand_in_for_closed_streams()
    escape_unencodable_text()
    code: int | str | None = 0
    try:
        try:
            app()
        except SystemExit as done:
            code = done.code
        sys.stdout.flush()
    except BrokenPipeError:
        quiet_broken_pipe()
    except RedflagError as err:
        quiet_broken_pipe()
        report(err)
        code = err.exit_code
    except OSError as err:
        if err.errno not in _OUTPUT_FULL:
            raise
        quiet_broken_pipe()
        report(OutputError(f"cannot write the output: {err.strerror}", hint=_FULL_HINT))
        code = OutputError.exit_code
    sys.exit(code)


def guarded(command: Callable[[], R]) -> R:
    """Run a command so that errors become messages and exit codes, never tracebacks.

    Click's own exceptions (a usage error in the command's options, --help, an exit code
    the command chose) pass through to the root command, which reports them."""
    try:
        result = command()
        sys.stdout.flush()  # here, so a full disk is reported, not lost at exit
        return result
    except RedflagError as err:
        report(err)
        raise typer.Exit(err.exit_code) from None
    except BrokenPipeError:
        quiet_broken_pipe()
        raise typer.Exit(ExitCode.OK) from None
    except KeyboardInterrupt as err:
        terminated = isinstance(err, Terminated)
        print("Terminated." if terminated else "Interrupted.", file=sys.stderr)
        raise typer.Exit(ExitCode.TERMINATED if terminated else ExitCode.INTERRUPTED) from None
    except (click.ClickException, typer.Exit, typer.Abort):
        raise
    except OSError as err:
        if err.errno not in _OUTPUT_FULL:  # reads are turned into user errors where
            _bug()  # they happen: any other OSError here is a bug
        quiet_broken_pipe()  # nothing more can be written to stdout either
        report(OutputError(f"cannot write the output: {err.strerror}", hint=_FULL_HINT))
        raise typer.Exit(OutputError.exit_code) from None
    except Exception:  # the one place that catches everything: a bug, not a user error
        _bug()


def _bug() -> NoReturn:
    if State.debug:
        traceback.print_exc()
    elif State.json_errors:
        bug = {
            "code": "internal",
            "message": "internal error (a bug): please report it with the command you ran",
            "hint": "run again with --debug to see the traceback",
            "where": None,
        }
        import json

        print(json.dumps({"error": bug}), file=sys.stderr)
    else:
        print(
            "redflag: internal error (a bug). Please report it with the command you "
            "ran; run again with --debug to see the traceback.",
            file=sys.stderr,
        )
    raise typer.Exit(ExitCode.BUG) from None


@contextlib.contextmanager
def writing(path: Path) -> Iterator[None]:
    """Turn a failure to write `path` (a directory, a missing folder, no permission, a full
    disk) into an OutputError that names it."""
    try:
        yield
    except OSError as err:
        raise OutputError(
            f"cannot write {path}: {err.strerror or err}",
            hint=_FULL_HINT if err.errno in _OUTPUT_FULL else "give a file path you can write to",
        ) from None


# writes only: a disk or quota full, a file over the size limit
_OUTPUT_FULL = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EFBIG})
_FULL_HINT = "free some space, or write somewhere else"
