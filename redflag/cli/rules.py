"""`redflag rules ...`: the rule-file group and validate, show, analyze, doc, schema.

sign, verify and keygen live in signing.py, no-downgrade in no_downgrade.py; cli/__init__.py
adds them to this group.
"""

from __future__ import annotations

import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from redflag.cli.common import (
    MAX_SECONDS,
    FhirVersionChoice,
    FhirVersionOption,
    JsonOption,
    MaxSecondsOption,
    load,
)
from redflag.cli.handler import writing
from redflag.core.flags import NumericFlag
from redflag.formats.schema_kind import SchemaKind

app = typer.Typer(
    name="rules",
    add_completion=False,  # built on its own (lazily, cli/__init__.py): the root has them
    help="Work with rule files: validate, show, analyze, doc, questionnaire, schema, sign, "
    "verify, keygen, no-downgrade.",
    no_args_is_help=True,
    rich_markup_mode=None,
)


class DocFormat(StrEnum):
    """Output formats of `rules doc`."""

    markdown = "markdown"
    html = "html"


PathArgument = Annotated[
    Path | None,
    typer.Argument(help="Rule file (default: the bundled rules.toml).", show_default=False),
]


@app.command("validate")
def validate(
    paths: Annotated[
        list[Path] | None,
        typer.Argument(help="Rule files (default: the bundled rules.toml).", show_default=False),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Check rule files and print every problem found, with file:line:col.

    Exit 0 when all are clean (warnings allowed), 3 when any has errors (each is checked).
    With --json the report (counts, warnings) is JSON on stdout, a list for several files,
    and errors are JSON on stderr.

    Example:

        redflag rules validate my-rules.toml
    """
    from redflag.cli.handler import report
    from redflag.errors import RuleFileError
    from redflag.formats.rulefile import check_rule_file

    reports = []
    failed: RuleFileError | None = None
    targets: list[Path | None] = list(paths) if paths else [None]
    for path in targets:
        try:
            ruleset = check_rule_file(path)
        except RuleFileError as err:
            if failed is not None:
                report(failed)
            failed = err  # the last is reported by the handler, which exits 3
            continue
        if as_json:
            from redflag.formats.ruleset_json import validation_json

            reports.append(validation_json(ruleset))
            continue
        for warning in ruleset.warnings:
            print(warning.render(), file=sys.stderr)
        n_warn = len(ruleset.warnings)
        print(
            f"{ruleset.source}: ok: {len(ruleset.rules)} rules, {len(ruleset.flags)} flags, "
            f"{len(ruleset.levels)} levels, {len(ruleset.sources)} sources; "
            f"{n_warn} warning{'s' if n_warn != 1 else ''} (sha256 {ruleset.sha256[:12]})"
        )
    if as_json and reports:
        from redflag.cli.output import print_json

        print_json(reports[0] if paths is None or len(paths) == 1 else reports)
    if failed is not None:
        raise failed


@app.command("show")
def show(path: PathArgument = None, as_json: JsonOption = False) -> None:
    """Print the rule set as tables: levels, rules and flags (--json: everything, as data).

    Example:

        redflag rules show
    """
    if as_json:
        from redflag.cli.output import print_json
        from redflag.formats.ruleset_json import ruleset_json

        print_json(ruleset_json(load(path)))
        return
    from rich.table import Table
    from rich.text import Text

    from redflag.cli.render import console, level_badge

    ruleset = load(path)
    out = console()
    meta = ruleset.meta
    out.print(
        Text.assemble((meta.name, "label"), f" ({meta.id} {meta.version}, status: {meta.status})")
    )
    levels = Table(title="Levels", title_justify="left")
    for column in ("level", "timeframe", "action"):
        levels.add_column(column)
    for level in ruleset.levels:
        levels.add_row(level_badge(level.id, ruleset), level.timeframe, level.action)
    out.print(levels)
    table = Table(title="Rules", title_justify="left")
    for column in ("id", "level", "title", "when", "sources"):
        table.add_column(column, overflow="fold")
    for rule in ruleset.rules:
        r = rule.rule
        table.add_row(r.id, level_badge(r.level, ruleset), r.title, r.when, ", ".join(r.sources))
    out.print(table)
    flags = Table(title="Flags", title_justify="left")
    for column in ("id", "type", "question"):
        flags.add_column(column, overflow="fold")
    for flag in ruleset.flags.values():
        kind: str = flag.type
        if isinstance(flag, NumericFlag):
            kind += f" {flag.min:g}..{flag.max:g}" + (f" {flag.unit}" if flag.unit else "")
        flags.add_row(flag.id, kind, flag.question)
    out.print(flags)


@app.command("analyze")
def analyze(
    path: PathArgument = None,
    max_seconds: MaxSecondsOption = MAX_SECONDS,
    as_json: JsonOption = False,
) -> None:
    """Prove facts about every rule over every possible record, with witness records.

    Finds rules that are vacuous (never fire), always fire, are redundant (equivalent to
    another), are masked (never change the level) or non-monotone (a yes lowers a level).
    Exit 1 on vacuous, always-fires or non-monotone findings; 4 when the time budget
    (--max-seconds) ran out: not proved.

    Example:

        redflag rules analyze my-rules.toml
    """
    from redflag.cli.analyze import run_analyze

    raise typer.Exit(run_analyze(load(path), as_json, max_seconds))


@app.command("doc")
def doc(
    path: PathArgument = None,
    fmt: Annotated[
        DocFormat, typer.Option("--format", help="markdown or html (one self-contained file).")
    ] = DocFormat.markdown,
    cases: Annotated[
        list[Path] | None,
        typer.Option("--cases", help="Case files: list the cases that exercise each rule."),
    ] = None,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write to FILE instead of stdout.")
    ] = None,
) -> None:
    """Write a review document of the rule set: levels, rules in plain English, sources.

    Example:

        redflag rules doc --format html --cases tests/cases/ --output rules.html
    """
    from redflag.formats.casefile import case_files, load_cases
    from redflag.formats.ruledoc import render_html, render_markdown

    ruleset = load(path)
    all_cases = [c for p in case_files(cases or []) for c in load_cases(p, ruleset)]
    render = render_html if fmt is DocFormat.html else render_markdown
    text = render(ruleset, all_cases if cases else None)
    if output is None:
        from redflag.cli.output import write_utf8

        write_utf8(text)
    else:
        with writing(output):
            output.write_text(text, encoding="utf-8")
        print(f"wrote {output}", file=sys.stderr)


@app.command("questionnaire")
def questionnaire(
    path: PathArgument = None,
    fhir_version: FhirVersionOption = FhirVersionChoice.R4B,
) -> None:
    """Print a FHIR Questionnaire with one item per flag (linkId = flag id), as JSON.

    Answer it, and `redflag check - --fhir` reads the QuestionnaireResponse. No item is
    hidden behind enableWhen: see docs/fhir.md.

    Example:

        redflag rules questionnaire --fhir-version R5 > questionnaire.json
    """
    from redflag.cli.output import print_json
    from redflag.formats.fhir.questionnaire import build_questionnaire

    print_json(build_questionnaire(load(path), fhir_version.value))


@app.command("schema")
def schema(
    path: PathArgument = None,
    kind: Annotated[
        SchemaKind,
        typer.Option(
            "--kind",
            help="record: what check - and batch read; result: check --json, ask --json; "
            "batch-line: a line of batch (default, --full, or a bad record); explain, test, "
            "diff, rules-analyze, rules-validate, rules-verify, rules-show: that command's "
            "--json; error: the --json error object on stderr of any command.",
        ),
    ] = SchemaKind.record,
) -> None:
    """Print the JSON Schema (draft 2020-12) of a record or of a command's JSON output.

    The schemas of the bundled rules are in docs/schema/.

    Example:

        redflag rules schema --kind record > record.schema.json
    """
    from redflag.cli.output import print_json
    from redflag.formats.schema import schema as make_schema

    print_json(make_schema(load(path), kind))


def _add_commands_of_other_modules() -> None:
    from redflag.cli import no_downgrade, signing

    app.command("sign")(signing.sign)
    app.command("verify")(signing.verify)
    app.command("keygen")(signing.keygen)
    app.command("no-downgrade")(no_downgrade.no_downgrade)


_add_commands_of_other_modules()
