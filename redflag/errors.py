"""The one exception hierarchy: every error a user can cause is a RedflagError.

Each error says what went wrong, where (a Location), and how to fix it (a hint). Exit codes
and stable `code` ids are part of the public contract (README, "Exit codes").
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum
from typing import ClassVar


class ExitCode(IntEnum):
    """Every exit code redflag uses, in one table (the README's "Exit codes and errors").

    Errors carry theirs (`RedflagError.exit_code`); the command line's top-level handler
    (cli/handler.py) uses the rest. sysexits.h names the 70s.
    """

    OK = 0  # a result was produced; the rule file is valid
    NO = 1  # the answer is "no": --fail-on reached, a case failed, a downgrade found, ...
    BAD_INPUT = 2  # usage, unknown flag, bad value, bad JSON, bad case file
    BAD_RULES = 3  # a rule file that is missing, unreadable, not TOML or has errors
    NOT_CONFIRMED = 4  # not proved (a budget ran out) or not approved (unsigned, draft)
    BUG = 70  # EX_SOFTWARE: an internal error
    SYSTEM = 71  # EX_OSERR: a batch worker killed, out of memory: not the input nor a bug
    CANNOT_WRITE = 74  # EX_IOERR: a full disk, a closed stdout, a directory as output
    INTERRUPTED = 130  # 128 + SIGINT: Ctrl-C (Ctrl-D in `ask`)
    TERMINATED = 143  # 128 + SIGTERM, as a shell reports a process it ended


# C0 controls and DEL as their Unicode pictures (U+2400..U+241F, U+2421): one column each, so
# carets under a snippet stay in place
_PICTURES = {c: chr(0x2400 + c) for c in range(0x20)} | {0x7F: "\u2421"}
_INVISIBLE = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})


def visible(text: str, *, newlines: bool = False) -> str:
    """`text` safe to show at a terminal: every control character made visible.

    The one helper for text from a file, a record or a stream that reaches a person (issue
    13): escape sequences (ESC is shown as U+241B), other C0 controls and DEL as their
    Unicode pictures; C1 controls, bidi overrides, zero-width and other format characters,
    line separators and lone surrogates as `<U+202E>`. Tabs stay; newlines stay only when
    `newlines` is true. Idempotent, and free for plain text.
    """
    if text.isprintable():
        return text
    import unicodedata

    out = []
    for ch in text:
        code = ord(ch)
        if ch == "\t" or (ch == "\n" and newlines):
            out.append(ch)
        elif code in _PICTURES:
            out.append(_PICTURES[code])
        elif unicodedata.category(ch) in _INVISIBLE:
            out.append(f"<U+{code:04X}>")
        else:
            out.append(ch)
    return "".join(out)


@dataclass(frozen=True)
class Location:
    """Where a problem is: a file (or `<stdin>`, `<argv>`), a line, a column, a span length.

    `line` and `col` are 1-based; `snippet` is the source line shown under the message, with
    `length` carets under it starting at `col`.
    """

    source: str
    line: int | None = None
    col: int | None = None
    length: int = 1
    snippet: str | None = None

    def __str__(self) -> str:
        parts = [self.source]
        if self.line is not None:
            parts.append(str(self.line))
            if self.col is not None:
                parts.append(str(self.col))
        return ":".join(parts)


@dataclass(frozen=True)
class Diagnostic:
    """One problem found in a rule file; checks collect these instead of stopping."""

    code: str
    message: str
    location: Location | None = None
    hint: str | None = None
    severity: str = "error"  # "error" or "warning"

    def render(self) -> str:
        """The diagnostic as plain text: `where: severity[code]: message`, snippet, hint."""
        return _render(self.severity, self.code, self.message, self.location, self.hint)


def _render(
    severity: str, code: str, message: str, location: Location | None, hint: str | None
) -> str:
    # messages, snippets and file names may quote a record or a file: shown with visible()
    head = f"{severity}[{code}]: {visible(message)}"
    lines = [f"{visible(str(location))}: {head}" if location else head]
    if location is not None and location.snippet is not None:
        snippet = location.snippet
        lines.append(f"    {visible(snippet)}")
        if location.col is not None:
            before = visible(snippet[: location.col - 1])
            span = visible(snippet[location.col - 1 : location.col - 1 + location.length])
            lines.append("    " + " " * len(before) + "^" * max(1, len(span), location.length))
    if hint:
        lines.append(f"  hint: {visible(hint, newlines=True)}")
    return "\n".join(lines)


class RedflagError(Exception):
    """Base of every error a user can cause. Anything else escaping is a bug."""

    exit_code: ClassVar[ExitCode] = ExitCode.BAD_INPUT
    code: ClassVar[str] = "error"

    def __init__(
        self, message: str, *, location: Location | None = None, hint: str | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.location = location
        self.hint = hint

    def render(self) -> str:
        """The error as plain text for stderr."""
        return _render("error", self.code, self.message, self.location, self.hint)


class OutputError(RedflagError):
    """The output cannot be written: a full disk, a directory given as the output file."""

    exit_code = ExitCode.CANNOT_WRITE
    code = "cannot-write"


class WorkerLostError(RedflagError):
    """A `batch` worker process ended without answering (killed: out of memory, a signal)."""

    exit_code = ExitCode.SYSTEM
    code = "worker-lost"


class NotProvedError(RedflagError):
    """An exact analysis could not give its answer: the time budget ran out, or the rule set
    uses a form it cannot decide exactly. Never reported as "proved"."""

    exit_code = ExitCode.NOT_CONFIRMED
    code = "not-proved"


class AnalysisError(RedflagError):
    """An exact analysis was given what it cannot take: two rule sets whose levels or a
    flag's type differ, or a rule comparing two quantities. Raised by the core; the stable
    code stays `usage` (exit 2), as when the command line raised it."""

    code = "usage"


class EngineMemoryError(RedflagError):
    """An engine (DuckDB) could not get the memory it needed: the system, not the input."""

    exit_code = ExitCode.SYSTEM  # as a batch worker killed out of memory
    code = "out-of-memory"


class UsageError(RedflagError):
    """The command line asks for something impossible (conflicting or unusable options)."""

    code = "usage"


class InputError(RedflagError):
    """A record, an argv word, an NDJSON line or a case file is wrong."""

    code = "bad-input"


class InputErrors(InputError):
    """Several input errors found in one go (every bad word of a command line, issue 12).

    `code` and the message are those of the first; `errors` holds them all, in order.
    """

    def __init__(self, errors: list[InputError]) -> None:
        first = errors[0]
        super().__init__(first.message, location=first.location, hint=first.hint)
        self.errors = tuple(errors)
        self.code = first.code  # type: ignore[misc]  # the first error's stable id

    def render(self) -> str:
        """Every error, one after the other."""
        return "\n".join(err.render() for err in self.errors)


class BadJSONError(InputError):
    """Text that should be JSON is not (or uses NaN, Infinity or duplicate keys)."""

    code = "bad-json"


class BadEncodingError(InputError):
    """Input bytes that are not UTF-8 text."""

    code = "bad-encoding"


class TooLargeError(InputError):
    """A record larger than any real record could be."""

    code = "too-large"


class NotAnObjectError(InputError):
    """A record must be a JSON object mapping flag ids to values."""

    code = "not-an-object"


class UnknownFlagError(InputError):
    """A record names a flag the rule set does not declare."""

    code = "unknown-flag"


class BadValueError(InputError):
    """A flag has a value of the wrong type or out of its bounds."""

    code = "bad-value"


class BadResourceError(InputError):
    """A FHIR resource (or CDS Hooks request) that redflag cannot read as a record."""

    code = "bad-fhir"


class MissingExtraError(UsageError):
    """A command needs an optional extra that is not installed (`pip install 'redflag[fhir]'`)."""

    code = "missing-extra"


class CaseFileError(InputError):
    """A test-case file is malformed."""

    code = "bad-case-file"


class RuleFileError(RedflagError):
    """A rule file cannot be used; carries every Diagnostic found, sorted by location."""

    exit_code = ExitCode.BAD_RULES
    code = "bad-rule-file"

    def __init__(self, diagnostics: list[Diagnostic], *, source: str) -> None:
        errors = [d for d in diagnostics if d.severity == "error"]
        n = len(errors)
        super().__init__(f"{source}: {n} error{'s' if n != 1 else ''} in the rule file")
        self.diagnostics = diagnostics
        self.source = source

    def render(self) -> str:
        """Every diagnostic, then a one-line summary."""
        return "\n".join([*(d.render() for d in self.diagnostics), self.message])


class ConditionError(RedflagError):
    """A `when` condition does not parse or type-check.

    Raised by the expression parser with offsets into the condition text; the rule-set
    compiler turns it into a Diagnostic with the rule id and file:line:col.
    """

    exit_code = ExitCode.BAD_RULES
    code = "bad-condition"

    def __init__(
        self, message: str, *, kind: str, start: int, end: int, hint: str | None = None
    ) -> None:
        super().__init__(message, hint=hint)
        self.kind = kind
        self.start = start
        self.end = end


class ApprovalError(RedflagError):
    """The rule set is not an approved rule set whose signature verifies (issue 17).

    Raised by `rules verify` and, under `--require-approved`, by every command that evaluates.
    The subclasses say why; all exit 4.
    """

    exit_code = ExitCode.NOT_CONFIRMED
    code = "not-approved"


class UnsignedError(ApprovalError):
    """No signature file beside the rule file."""

    code = "unsigned"


class BadSignatureError(ApprovalError):
    """The signature does not verify: the rule file or the trusted comment was changed, or the
    signature file is malformed."""

    code = "bad-signature"


class UntrustedKeyError(ApprovalError):
    """The signature was made by a key that is not trusted."""

    code = "untrusted-key"


class RevokedKeyError(ApprovalError):
    """The signature was made by a key the trust file revokes."""

    code = "revoked-key"


class SignedFieldsError(ApprovalError):
    """The signed id, version, status, approved_by or sha256 differ from the file's own."""

    code = "signed-fields-differ"


class RollbackError(ApprovalError):
    """The rule set's version is below the trust file's minimum for it (a roll-back)."""

    code = "rolled-back"


class NeedsCryptographyError(ApprovalError):
    """Signing and verifying need the optional `cryptography` package."""

    code = "needs-cryptography"


class KeyFileError(InputError):
    """A key file (minisign public or secret key) or a trust file is malformed."""

    code = "bad-key"


class Terminated(KeyboardInterrupt):
    """SIGTERM, where a command asked to end as Ctrl-C ends it (batch/sink.py's
    `terminate_as_interrupt`): exit 143, after the write under way. Not a user error."""
