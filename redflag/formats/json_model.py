"""The one definition of redflag's JSON outputs, as TypedDicts (issue 17).

The writers (result_json.py, batch/encode.py, explain_json.py, case_report_json.py,
ruleset_json.py, proof_json.py, cli/handler.py) are typed with these, so mypy
holds them to it, and formats/schema.py generates the JSON Schemas in docs/schema/ from them.
Imported only for type checking, by the schema generator and by `rules show --json` (written
through pydantic): never on the way to a `check`.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import Literal, NotRequired

from redflag.core.analysis import Kind as FindingKind
from redflag.core.compare import ChangeKind
from redflag.core.explain import Status as TraceStatus
from redflag.core.model import Flag, Level, Rule, RuleSetMeta, Source

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


# `redflag explain --json`


class StepJSON(TypedDict):
    """One part of a condition and its value (`true`, `false`, `unknown` or a number)."""

    text: str
    value: str
    parts: NotRequired[list[StepJSON]]


class RuleTraceJSON(TypedDict):
    """One rule's explanation: its condition in words and its trace."""

    id: str
    level: str
    title: str
    status: TraceStatus
    when: str
    english: str
    missing: list[str]
    trace: StepJSON


class ExplainJSON(TypedDict):
    """`redflag explain --json`: every rule's trace for one record; `id` first when the record
    had one."""

    id: NotRequired[str | int]
    level: str
    answered: dict[str, Answer]
    rules: list[RuleTraceJSON]
    ruleset: RuleSetJSON
    notice: str


# `redflag test --json` (and --coverage, --matrix)


class SummaryJSON(TypedDict):
    """How many cases ran, passed and failed."""

    cases: int
    passed: int
    failed: int


class ExpectedJSON(TypedDict):
    """What a case expects: its level, rules that must match and rules that must not."""

    level: str
    matched: list[str]
    not_matched: list[str]


class GotJSON(TypedDict):
    """What a case got."""

    level: str
    matched: list[str]


class CaseResultJSON(TypedDict):
    """One case: where it is, its record, what it expected and got, what went wrong."""

    name: str
    file: str | None
    line: int | None
    passed: bool
    record: dict[str, Answer]
    expected: ExpectedJSON
    got: GotJSON
    problems: list[str]


class CoverageJSON(TypedDict):
    """Rule and flag coverage; `below_min_coverage` is why a run with no failure exits 1."""

    rules: list[str]
    fired: list[str]
    near_missed: list[str]
    not_fired: list[str]
    not_near_missed: list[str]
    flags_set: list[str]
    flags_not_set: list[str]
    fired_percent: float
    min_coverage: float | None
    below_min_coverage: bool


class TriagedJSON(TypedDict):
    """A case given another level than expected (`test --matrix`)."""

    name: str
    expected: str
    got: str
    matched: list[str]
    debatable: bool


class OverTriagedJSON(TypedDict):
    """Cases over-triaged by two levels or more, of how many that could be."""

    cases: list[str]
    of: int


class MatrixFiguresJSON(TypedDict):
    """The triage figures of some cases (`test --matrix --json`: all, or not debatable)."""

    cases: int
    exact: int
    exact_share: float | None
    sensitivity: dict[str, float | None]
    most_urgent_to_least: int
    over_triaged_2_tiers: OverTriagedJSON


class MatrixJSON(MatrixFiguresJSON):
    """`test --matrix --json`: expected-by-got counts and the triage figures."""

    levels: list[str]
    counts: dict[str, dict[str, int]]
    under_triaged: list[TriagedJSON]
    over_triaged: list[TriagedJSON]
    not_debatable: MatrixFiguresJSON


class CaseReportJSON(TypedDict):
    """`redflag test --json`: the whole run (not named Test...: pytest would collect it)."""

    ruleset: RuleSetJSON
    summary: SummaryJSON
    cases: list[CaseResultJSON]
    coverage: NotRequired[CoverageJSON]
    matrix: NotRequired[MatrixJSON]


# `redflag diff --json` (and --exhaustive)


class RuleChangeJSON(TypedDict):
    """A rule added, removed or changed (which fields), with its levels before and after."""

    id: str
    change: ChangeKind
    fields: list[str]
    old_level: str | None
    new_level: str | None


class CaseChangeJSON(TypedDict):
    """A case whose level changes from OLD to NEW."""

    name: str
    record: dict[str, Answer]
    old_level: str
    new_level: str
    old_rules: list[str]
    new_rules: list[str]


class DowngradeJSON(TypedDict):
    """The smallest record of one kind that NEW gives a lower level, and the OLD rule why."""

    record: dict[str, Answer]
    responsible: str
    old_level: str
    new_level: str
    old_rules: list[str]
    new_rules: list[str]


class ExhaustiveJSON(TypedDict):
    """`diff --exhaustive`: the proof's method, cost and counterexamples (none: proved)."""

    method: str
    seconds: float
    solver_calls: int
    rules_searched: list[str]
    downgrades: list[DowngradeJSON]


class DiffJSON(TypedDict):
    """`redflag diff --json`."""

    old: RuleSetJSON
    new: RuleSetJSON
    rules: list[RuleChangeJSON]
    cases_compared: int
    downgrades: list[CaseChangeJSON]
    upgrades: list[CaseChangeJSON]
    exhaustive: NotRequired[ExhaustiveJSON]


# `redflag rules analyze --json`


class FindingJSON(TypedDict):
    """A fact proved about one rule, with a witness record when one can exist."""

    kind: FindingKind
    rule: str
    error: bool
    message: str
    record: dict[str, Answer] | None
    others: list[str]


class AnalyzeJSON(TypedDict):
    """`redflag rules analyze --json`."""

    method: str
    seconds: float
    solver_calls: int
    findings: list[FindingJSON]


# `redflag rules validate --json`, `rules verify --json`, `rules show --json`


class DiagnosticJSON(TypedDict):
    """A warning about a rule file, located."""

    code: str
    severity: str
    message: str
    hint: str | None
    where: str | None


class CountsJSON(TypedDict):
    """How much a rule file holds."""

    rules: int
    flags: int
    levels: int
    sources: int


class ValidationJSON(TypedDict):
    """`redflag rules validate --json` for one file without errors (a list for several)."""

    ok: Literal[True]
    source: str
    ruleset: RuleSetJSON
    counts: CountsJSON
    warnings: list[DiagnosticJSON]


class SignedFieldsJSON(TypedDict):
    """What a signature's trusted comment vouches for."""

    id: str
    version: str
    status: str
    approved_by: str | None
    sha256: str


class VerificationJSON(TypedDict):
    """`redflag rules verify --json` (a failure is an error on stderr, exit 4)."""

    verified: Literal[True]
    signer: str
    key_id: str
    signature: str
    signed: SignedFieldsJSON


@dataclass(frozen=True, kw_only=True)
class RuleSetIdentity(RuleSetMeta):
    """The `[ruleset]` table and which file it is: its sha256 and where it came from."""

    sha256: str
    source: str


class RuleSetDocumentJSON(TypedDict):
    """`redflag rules show --json`: the whole rule set as data, the model's own fields (it is
    written through pydantic from these, so the output and its schema are one definition)."""

    ruleset: RuleSetIdentity
    sources: list[Source]
    levels: list[Level]
    flags: list[Flag]
    rules: list[Rule]


# `--json` errors on stderr, for every command


class ErrorItemJSON(TypedDict):
    """One error: stable code, message, how to fix it, where (`file:line:col`, or null)."""

    code: str
    message: str
    hint: str | None
    where: str | None
    severity: NotRequired[str]  # a rule file's diagnostics: error or warning


class ErrorJSON(ErrorItemJSON):
    """The error; a rule file's every diagnostic, or every bad word of a command line, under
    `errors`."""

    errors: NotRequired[list[ErrorItemJSON]]


class ErrorDocumentJSON(TypedDict):
    """What a command run with `--json` writes on stderr when it fails: one line."""

    error: ErrorJSON
