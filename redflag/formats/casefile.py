"""Test-case files -> Cases: TOML (`[[case]]` tables) and NDJSON (one case per line).

Every problem is a CaseFileError naming the file, the line of the case and how to fix it;
records are checked against the rule set exactly as `check` checks them.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from redflag.core.casework import Case
from redflag.core.compile import CompiledRuleSet
from redflag.core.record import validate_record
from redflag.core.suggest import did_you_mean
from redflag.errors import CaseFileError, InputError, Location
from redflag.formats.records import parse_json_object

SUFFIXES = (".toml", ".ndjson", ".jsonl")
_KEYS = (
    "name",
    "record",
    "expect",
    "expect_rules",
    "forbid_rules",
    *(
        "citation",
        "url",
        "diagnosis",
        "why",
        "debatable",  # a published case's evidence
    ),
)
_TEXT_KEYS = ("citation", "url", "diagnosis", "why")
_CASE_HEADER = re.compile(r"^\s*\[\[\s*case\s*\]\]")
_EXAMPLE = (
    '[[case]]\nname = "cancer and weak legs"\n'
    "record = { cancer_history = true, back_pain = true, limb_weakness = true }\n"
    'expect = "emergency"'
)


def case_files(paths: Iterable[Path]) -> list[Path]:
    """The case files named: files as given, directories expanded to their case files."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found.extend(sorted(p for p in path.iterdir() if p.suffix in SUFFIXES))
        elif path.exists():
            found.append(path)
        else:
            raise CaseFileError(
                f"case file '{path}' does not exist",
                hint="give a .toml or .ndjson case file, or a directory of them",
            )
    return found


MAX_CASE_FILE_BYTES = 16 * 1024 * 1024


def load_cases(path: Path, ruleset: CompiledRuleSet) -> list[Case]:
    """Read one case file (by suffix: .toml, or .ndjson / .jsonl).

    Raises:
        CaseFileError: unreadable file, bad TOML or JSON, a missing or unknown key, a record
            that does not fit the rule set, or an unknown level or rule id.
    """
    source = str(path)
    try:
        with path.open("rb") as fh:
            data = fh.read(MAX_CASE_FILE_BYTES + 1)  # bounded: `test /dev/zero` (issue 13)
        text = data.decode("utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise CaseFileError(
            f"cannot read case file: {err}", location=Location(source), hint="check the path"
        ) from None
    if len(data) > MAX_CASE_FILE_BYTES:
        raise CaseFileError(
            f"the case file is over {MAX_CASE_FILE_BYTES // 1024 // 1024} MiB",
            location=Location(source),
            hint="split the cases into several files in one folder",
        )
    if path.suffix == ".toml":
        cases = _toml_cases(text, source, ruleset)
    elif path.suffix in (".ndjson", ".jsonl"):
        cases = _ndjson_cases(text, source, ruleset)
    else:
        raise CaseFileError(
            f"cannot tell the format of case file '{path.name}'",
            location=Location(source),
            hint="name it *.toml ([[case]] tables) or *.ndjson (one JSON case per line)",
        )
    seen: dict[str, Location | None] = {}
    for case in cases:
        if case.name in seen:
            raise CaseFileError(
                f"case name '{case.name}' is used twice (first at {seen[case.name]})",
                location=case.where,
                hint="give every case a unique name",
            )
        seen[case.name] = case.where
    return cases


def _toml_cases(text: str, source: str, ruleset: CompiledRuleSet) -> list[Case]:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise CaseFileError(
            f"not valid TOML: {err}", location=Location(source), hint="fix the TOML syntax"
        ) from None
    except ValueError:  # tomllib's int() past 4,300 digits (issue 13)
        raise CaseFileError(
            "not valid TOML for a case file: a number is too long (over 4,300 digits)",
            location=Location(source),
            hint="write a number such as 67",
        ) from None
    except RecursionError:
        raise CaseFileError(
            "not valid TOML for a case file: arrays or tables nested too deeply",
            location=Location(source),
            hint="a case file holds [[case]] tables of flat records, e.g.\n" + _EXAMPLE,
        ) from None
    extra = sorted(set(data) - {"case"})
    if extra:
        raise CaseFileError(
            f"unexpected top-level key '{extra[0]}'",
            location=Location(source),
            hint="a case file holds only [[case]] tables, e.g.\n" + _EXAMPLE,
        )
    tables = data.get("case", [])
    if not isinstance(tables, list) or not tables:
        raise CaseFileError(
            "no [[case]] tables found",
            location=Location(source),
            hint="write each case as a [[case]] table, e.g.\n" + _EXAMPLE,
        )
    lines = [i for i, line in enumerate(text.splitlines(), start=1) if _CASE_HEADER.match(line)]
    cases = []
    for i, table in enumerate(tables):
        line = lines[i] if i < len(lines) else None
        cases.append(_case(table, Location(source, line), ruleset, f"case #{i + 1}"))
    return cases


def _ndjson_cases(text: str, source: str, ruleset: CompiledRuleSet) -> list[Case]:
    cases = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            raw = parse_json_object(line, source, number)
        except InputError as err:
            raise CaseFileError(err.message, location=err.location, hint=err.hint) from None
        cases.append(_case(raw, Location(source, number), ruleset, f"line {number}"))
    if not cases:
        raise CaseFileError(
            "no cases found",
            location=Location(source),
            hint='write one case per line: {"name": "...", "record": {...}, "expect": "..."}',
        )
    return cases


def _case(raw: Mapping[str, Any], where: Location, ruleset: CompiledRuleSet, label: str) -> Case:
    for key in raw:
        if key not in _KEYS:
            raise CaseFileError(
                f"{label}: unknown key '{key}'",
                location=where,
                hint=did_you_mean(key, _KEYS, then="A case has: " + ", ".join(_KEYS)),
            )
    for key in ("name", "record", "expect"):
        if key not in raw:
            raise CaseFileError(
                f"{label}: missing '{key}'",
                location=where,
                hint="every case needs name, record and expect, e.g.\n" + _EXAMPLE,
            )
    name = raw["name"]
    if not isinstance(name, str) or not name.strip():
        raise CaseFileError(
            f"{label}: 'name' must be a non-empty string", location=where, hint='name = "..."'
        )
    label = f"case '{name}'"
    for key in _TEXT_KEYS:
        if key in raw and not isinstance(raw[key], str):
            raise CaseFileError(
                f"{label}: '{key}' must be a string", location=where, hint=f'{key} = "..."'
            )
    if "debatable" in raw and not isinstance(raw["debatable"], bool):
        raise CaseFileError(
            f"{label}: 'debatable' must be true or false",
            location=where,
            hint="debatable = true marks a case where sources disagree on the tier",
        )
    if not isinstance(raw["record"], dict):
        raise CaseFileError(
            f"{label}: 'record' must be a table of flag answers",
            location=where,
            hint="record = { back_pain = true, age = 67 }",
        )
    try:
        record, _ = validate_record(raw["record"], ruleset, where)
    except InputError as err:
        raise CaseFileError(f"{label}: {err.message}", location=where, hint=err.hint) from None
    levels = [lv.id for lv in ruleset.levels]
    expect = raw["expect"]
    if expect not in levels:
        raise CaseFileError(
            f"{label}: expect {expect!r} is not a level of rule set '{ruleset.meta.id}'",
            location=where,
            hint=did_you_mean(
                str(expect), levels, otherwise="the levels are: " + ", ".join(levels)
            ),
        )
    return Case(
        name=name,
        record=record,
        expect=expect,
        expect_rules=_rule_ids(raw, "expect_rules", label, where, ruleset),
        forbid_rules=_rule_ids(raw, "forbid_rules", label, where, ruleset),
        where=where,
        debatable=raw.get("debatable", False),
        evidence={k: raw[k] for k in _TEXT_KEYS if k in raw},
    )


def _rule_ids(
    raw: Mapping[str, Any], key: str, label: str, where: Location, ruleset: CompiledRuleSet
) -> tuple[str, ...]:
    value = raw.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise CaseFileError(
            f"{label}: '{key}' must be a list of rule ids",
            location=where,
            hint=f'{key} = ["mscc_neuro"]',
        )
    ids = [r.id for r in ruleset.rules]
    for rule in value:
        if rule not in ids:
            raise CaseFileError(
                f"{label}: {key} names rule '{rule}', which rule set "
                f"'{ruleset.meta.id}' does not have",
                location=where,
                hint=did_you_mean(
                    rule, ids, otherwise="run 'redflag rules show' to list the rules"
                ),
            )
    return tuple(value)
