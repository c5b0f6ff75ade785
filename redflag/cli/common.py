"""Options and helpers shared by commands: loading the rule set, --rules, --fail-on."""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from redflag.core.compile import CompiledRuleSet
from redflag.core.evaluate import Record, Result
from redflag.core.flags import NumericFlag
from redflag.core.record import RecordId
from redflag.errors import Location, UsageError

if TYPE_CHECKING:
    from redflag.formats.approval import Trust


def _completion_ruleset(ctx: typer.Context) -> CompiledRuleSet | None:
    """The rule set a command line being completed names (--rules, else the bundled one)."""
    from redflag.errors import RedflagError
    from redflag.formats.rulefile import load_ruleset

    rules = ctx.params.get("rules")
    try:
        return load_ruleset(Path(rules) if rules else None)
    except RedflagError:
        return None  # a broken --rules: nothing to offer, and never a traceback at a TAB


def complete_flags(ctx: typer.Context, incomplete: str) -> list[tuple[str, str]]:
    """Shell completion of record words: flag ids with their question, then `NAME=` values."""
    ruleset = _completion_ruleset(ctx)
    if ruleset is None:
        return []
    name, eq, _ = incomplete.partition("=")
    if eq:
        flag = ruleset.flags.get(name)
        if flag is None or isinstance(flag, NumericFlag):
            return []
        values = [f"{name}={v}" for v in ("yes", "no", "unknown")]
        return [(v, flag.question) for v in values if v.startswith(incomplete)]
    return [(f.id, f.question) for f in ruleset.flags.values() if f.id.startswith(incomplete)]


def complete_levels(ctx: typer.Context, incomplete: str) -> list[tuple[str, str]]:
    """Shell completion of --fail-on and --fail-on-worst: the rule set's level ids."""
    ruleset = _completion_ruleset(ctx)
    if ruleset is None:
        return []
    return [(lv.id, lv.timeframe) for lv in ruleset.levels if lv.id.startswith(incomplete)]


RulesOption = Annotated[
    Path | None,
    typer.Option(
        "--rules",
        help="Rule file to use (default: the bundled rules.toml).",
        show_default=False,
    ),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print the result as JSON.")]
MAX_SECONDS = 60.0
MaxSecondsOption = Annotated[
    float,
    typer.Option(
        "--max-seconds",
        min=0.001,
        help="Time budget of the exact search; when it runs out the answer is "
        "'not proved' (exit 4), never 'proved'.",
    ),
]
RecordWords = Annotated[
    list[str] | None,
    typer.Argument(
        help="Flags: NAME (yes), NAME=yes|no, NAME=<number>; or '-' to read JSON on stdin.",
        show_default=False,
        autocompletion=complete_flags,
    ),
]
FailOnOption = Annotated[
    str | None,
    typer.Option(
        "--fail-on",
        metavar="LEVEL",
        help="Exit 1 when the result is at or above LEVEL (e.g. urgent).",
        autocompletion=complete_levels,
    ),
]
FailOnWorstOption = Annotated[
    str | None,
    typer.Option(
        "--fail-on-worst",
        metavar="LEVEL",
        help="Exit 1 when the worst case (what unanswered questions could still lead to) "
        "is at or above LEVEL: for scripts that must not miss an emergency.",
        autocompletion=complete_levels,
    ),
]


class FhirVersionChoice(StrEnum):
    """The FHIR versions redflag reads and writes."""

    R4B = "R4B"
    R5 = "R5"


FhirVersionOption = Annotated[
    FhirVersionChoice,
    typer.Option(
        "--fhir-version",
        help="FHIR version of the resources read and written (R4B or R5).",
        case_sensitive=False,
    ),
]
DetailsOption = Annotated[
    bool,
    typer.Option(
        "--details",
        "-v",
        help="Show every rule's rationale and sources, and every open question.",
    ),
]


def load(rules: Path | None) -> CompiledRuleSet:
    """The rule set named by --rules (or the bundled one), read and checked afresh; under
    --require-approved only a signed, approved one whose signature verifies (issue 17)."""
    from redflag.cli.handler import State

    if State.require_approved:
        from redflag.formats.approval import verify_rule_file

        return verify_rule_file(rules, trust(), require_approved=True).ruleset
    from redflag.formats.rulefile import load_ruleset

    return load_ruleset(rules)


def trust(key: Path | None = None, trust_file: Path | None = None) -> Trust | None:
    """The keys to trust: a public key (`--key`, `--trust-key`), else a trust file
    (`--trust`, REDFLAG_TRUST); None when neither is given."""
    from redflag.cli.handler import State
    from redflag.formats.approval import load_public_key, load_trust

    key = key or (Path(State.key) if State.key else None)
    if key is not None:
        return load_public_key(key)
    trust_file = trust_file or (Path(State.trust) if State.trust else None)
    return load_trust(trust_file) if trust_file is not None else None


def fail_on_rank(
    ruleset: CompiledRuleSet, level: str | None, option: str = "--fail-on"
) -> int | None:
    """The rank that --fail-on (or `option`) names, or None when not given."""
    if level is None:
        return None
    ids = [lv.id for lv in ruleset.levels]
    if level not in ids:
        raise UsageError(
            f"{option} {level!r} is not a level of rule set '{ruleset.meta.id}'",
            hint="use one of: " + ", ".join(ids),
        )
    return ruleset.rank(level)


def read_record(
    words: list[str] | None,
    ruleset: CompiledRuleSet,
    command: str,
    fhir_version: FhirVersionChoice = FhirVersionChoice.R4B,
) -> tuple[Record, RecordId | None]:
    """The record named by argv words, or one JSON record (or FHIR resource) on stdin for `-`."""
    record, record_id, _ = read_input(words, ruleset, command, fhir_version)
    return record, record_id


def read_input(
    words: list[str] | None,
    ruleset: CompiledRuleSet,
    command: str,
    fhir_version: FhirVersionChoice = FhirVersionChoice.R4B,
) -> tuple[Record, RecordId | None, Mapping[str, Any] | None]:
    """Like read_record, with the subject of a FHIR resource read on stdin (or None).

    A JSON object on stdin with a `resourceType` is a FHIR QuestionnaireResponse, Observation
    or Bundle (formats/fhir/answers.py); a plain record has none (issue 16).
    """
    import sys

    from redflag.core.record import validate_record
    from redflag.formats.records import (
        MAX_RECORD_BYTES,
        decode_record_bytes,
        parse_json_object,
        record_from_words,
    )

    words = words or []
    if not words or ("-" in words and words != ["-"]):
        raise UsageError(
            f"give the flags to {command} as words, or '-' alone to read one JSON record on stdin",
            hint=f"e.g. redflag {command} back_pain age=67   (run 'redflag rules show' for flags)",
        )
    files = [(i, w) for i, w in enumerate(words, start=1) if _looks_like_a_file(w)]
    if files:
        position, name = files[0]
        raise UsageError(
            f"{name!r} looks like a file, but {command} reads flags as words",
            location=Location(f"argument {position} ({name!r})"),
            hint=f"to read one JSON record from a file: redflag {command} - < {name}",
        )
    if words == ["-"]:
        data = sys.stdin.buffer.read(MAX_RECORD_BYTES + 1)
        raw = parse_json_object(decode_record_bytes(data, "<stdin>"), "<stdin>")
        if "resourceType" in raw:
            from redflag.formats.fhir.answers import read_answers

            answers = read_answers(raw, ruleset, "<stdin>", version=fhir_version.value)
            return answers.record, answers.record_id, answers.subject
        return (*validate_record(raw, ruleset, Location("<stdin>")), None)
    return (*record_from_words(words, ruleset), None)


def _looks_like_a_file(word: str) -> bool:
    """A word that names a file rather than a flag: a path, a record file's suffix, or an
    existing file (a flag id has neither '/' nor '.', nor '=' before them)."""
    if "=" in word:
        return False
    suffixes = (".json", ".ndjson", ".jsonl", ".csv", ".gz", ".txt")
    return "/" in word or word.lower().endswith(suffixes) or Path(word).is_file()


def fails(result: Result, threshold: int | None, worst_threshold: int | None) -> bool:
    """True when --fail-on is reached by the level, or --fail-on-worst by the worst case."""
    if threshold is not None and result.rank <= threshold:
        return True
    return worst_threshold is not None and result.worst_rank <= worst_threshold
