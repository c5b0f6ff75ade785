"""The one definition of redflag's JSON outputs, as TypedDicts (issue 17).

The writers (result_json.py, batch/encode.py) are typed with these, so mypy holds them to it,
and formats/schema.py generates the JSON Schemas in docs/schema/ from them. Imported only for
type checking and by the schema generator: never on the way to a `check`.
"""

from __future__ import annotations

import sys
from typing import NotRequired

if sys.version_info >= (3, 12):
    from typing import TypedDict
else:  # pydantic reads TypedDicts from typing_extensions only, before 3.12
    from typing_extensions import TypedDict

Answer = bool | int | float


class SourceJSON(TypedDict):
    """A rule's citation."""

    key: str
    title: str
    organisation: str
    year: str
    url: str


class MatchedJSON(TypedDict):
    """A rule that matched, with its rationale, advice and sources."""

    id: str
    level: str
    title: str
    rationale: str
    advice: str
    sources: list[SourceJSON]


class EscalationJSON(TypedDict):
    """A rule that unanswered flags could still make match, and those flags' questions."""

    id: str
    level: str
    title: str
    missing: list[str]
    questions: dict[str, str]


class RuleSetJSON(TypedDict):
    """The rule set that gave a result."""

    id: str
    version: str
    status: str
    sha256: str


class ResultBodyJSON(TypedDict):
    """What every full result holds, whatever says which record it is for."""

    level: str
    worst_case: str
    label: str
    timeframe: str
    action: str
    matched: list[MatchedJSON]
    could_escalate: list[EscalationJSON]
    answered: dict[str, Answer]
    implied: dict[str, Answer]
    ruleset: RuleSetJSON
    notice: str


class ResultJSON(ResultBodyJSON):
    """`redflag check --json`, `redflag ask --json`, `CheckResult.to_json()`; `id` first when
    the record had one."""

    id: NotRequired[str | int]


class ErrorBodyJSON(TypedDict):
    """What went wrong: the stable code, the message, how to fix it."""

    code: str
    message: str
    hint: str | None
    location: NotRequired[str]  # where in a FHIR resource (batch --format fhir)


class BatchErrorJSON(TypedDict):
    """A `batch` line for a bad record, in its place."""

    line: int
    file: NotRequired[str]
    id: str | int | None
    error: ErrorBodyJSON


class BatchLineJSON(TypedDict):
    """A `batch` line (default NDJSON output): level and rule ids."""

    line: int
    file: NotRequired[str]
    id: str | int | None
    level: str
    matched: list[str]
    could_escalate: list[str]
    worst_case: str


class BatchFullJSON(ResultBodyJSON):
    """A `batch --full` line: the line number and everything `check --json` gives."""

    line: int
    file: NotRequired[str]
    id: str | int | None
