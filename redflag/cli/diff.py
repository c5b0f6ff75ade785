"""`redflag diff OLD NEW`: what a rule change does, to the cases and (exhaustively) to anyone."""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from redflag.cli.common import MAX_SECONDS, JsonOption, MaxSecondsOption, load
from redflag.errors import ExitCode

if TYPE_CHECKING:
    from rich.console import Console

    from redflag.core.compare import CaseChange, DiffReport
    from redflag.core.compile import CompiledRuleSet
    from redflag.core.exhaustive import ExhaustiveReport


def diff(
    old: Annotated[Path, typer.Argument(help="The rule file before the change.")],
    new: Annotated[Path, typer.Argument(help="The rule file after the change.")],
    cases: Annotated[
        list[Path] | None,
        typer.Option(
            "--cases",
            help="Case files or directories to compare levels over (repeatable).",
            show_default=False,
        ),
    ] = None,
    exhaustive: Annotated[
        bool,
        typer.Option(
            "--exhaustive",
            help="Prove over every possible record that no record gets a lower level under NEW.",
        ),
    ] = False,
    max_seconds: MaxSecondsOption = MAX_SECONDS,
    as_json: JsonOption = False,
) -> None:
    """Compare two rule files: changed rules, cases whose level changes, and downgrades.

    Exit 1 when any record (a case, or with --exhaustive any record at all) gets a less
    urgent level under NEW than under OLD; 0 otherwise; 4 when --exhaustive ran out of
    its time budget (--max-seconds): not proved.

    Example:

        redflag diff rules.toml new-rules.toml --cases tests/cases/ --exhaustive
    """
    if compare(load(old), load(new), cases, exhaustive, as_json, max_seconds):
        raise typer.Exit(ExitCode.NO)


def compare(
    before: CompiledRuleSet,
    after: CompiledRuleSet,
    cases: list[Path] | None,
    exhaustive: bool,
    as_json: bool,
    max_seconds: float | None = MAX_SECONDS,
) -> bool:
    """Print what changes from BEFORE to AFTER (as `diff` does); True when a record gets a
    less urgent level under AFTER."""
    from redflag.core.compare import diff_rulesets
    from redflag.formats.casefile import case_files, load_cases

    all_cases = []
    for path in case_files(cases or []):
        load_cases(path, after)  # the records must fit NEW too
        all_cases.extend(load_cases(path, before))
    report = diff_rulesets(before, after, all_cases)
    proof: ExhaustiveReport | None = None
    elapsed = 0.0
    if exhaustive:
        from redflag.budget import TimeBudget
        from redflag.core.exhaustive import find_downgrades

        start = time.perf_counter()
        with TimeBudget(max_seconds) as budget:
            proof = find_downgrades(before, after, budget)
        elapsed = time.perf_counter() - start
    if as_json:
        from redflag.cli.output import print_json
        from redflag.formats.proof_json import diff_json

        print_json(diff_json(report, proof, elapsed, before, after))
    else:
        _print(report, proof, elapsed, before, after)
    return bool(report.downgrades or (proof is not None and proof.counterexamples))


def _print(
    report: DiffReport,
    proof: ExhaustiveReport | None,
    elapsed: float,
    old: CompiledRuleSet,
    new: CompiledRuleSet,
) -> None:
    from redflag.cli.render import console

    out = console()
    _say(out, f"OLD {old.source} ({old.meta.version}, sha256 {old.sha256[:12]})")
    _say(out, f"NEW {new.source} ({new.meta.version}, sha256 {new.sha256[:12]})")
    changes = report.rule_changes
    counts = {k: sum(c.kind == k for c in changes) for k in ("changed", "added", "removed")}
    _say(
        out,
        f"\nRules: {counts['changed']} changed, {counts['added']} added, "
        f"{counts['removed']} removed",
        style="heading",
    )
    for change in changes:
        detail = ""
        if change.kind == "changed":
            detail = ": " + ", ".join(change.fields)
            if "level" in change.fields:
                detail += f" ({change.old_level} -> {change.new_level})"
        elif change.kind == "removed":
            detail = f" (was {change.old_level})"
        else:
            detail = f" ({change.new_level})"
        _say(out, f"  {change.kind} {change.rule_id}{detail}")
    if report.cases_compared:
        _say(
            out,
            f"\nCases: {report.cases_compared} compared, {len(report.downgrades)} downgraded, "
            f"{len(report.upgrades)} upgraded",
            style="heading",
        )
        _print_changes(out, "DOWNGRADES (less urgent under NEW)", report.downgrades, "error")
        _print_changes(out, "Upgrades (more urgent under NEW)", report.upgrades, "label")
    if proof is not None:
        _print_proof(out, proof, elapsed)


def _print_changes(out: Console, title: str, changes: tuple[CaseChange, ...], style: str) -> None:
    if not changes:
        return
    _say(out, f"\n{title}", style=style)
    for change in changes:
        _say(
            out,
            f"  {change.case.name}: {change.old.level.id} -> {change.new.level.id}",
            style=style,
        )
        _say_record(out, "record: ", dict(change.case.record), change.old_rules, change.new_rules)


def _say_record(
    out: Console, label: str, record: object, old: Sequence[str], new: Sequence[str]
) -> None:
    """A record that changes level, and the rules that fire for it under OLD and NEW."""
    _say(out, f"    {label}{json.dumps(record)}", soft_wrap=True)
    _say(out, f"    OLD rules: {', '.join(old) or 'none'}; NEW rules: {', '.join(new) or 'none'}")


def _print_proof(out: Console, proof: ExhaustiveReport, elapsed: float) -> None:
    _say(out, "\nEvery record (exhaustive)", style="heading")
    _say(
        out,
        f"method: {proof.method}; {len(proof.checked_rules)} changed or removed rules "
        f"searched, {proof.calls} solver calls in {elapsed:.2f} s",
        soft_wrap=True,
    )
    if not proof.counterexamples:
        _say(out, "proved: no record gets a lower level under NEW", style="level.3")
        return
    n = len(proof.counterexamples)
    _say(
        out,
        f"DOWNGRADE: {n} kind{'s' if n != 1 else ''} of record get{'s' if n == 1 else ''} "
        "a lower level under NEW",
    )
    for cex in proof.counterexamples:
        _say(
            out,
            f"  {cex.old_level} -> {cex.new_level}, because of OLD rule {cex.responsible} "
            f"(smallest record, {len(cex.record)} flag{'' if len(cex.record) == 1 else 's'} "
            "answered):",
            style="error",
            soft_wrap=True,
        )
        _say_record(out, "", cex.record, cex.old_rules, cex.new_rules)
    _say(out, "Check one with: echo '<record>' | redflag check - --rules NEW", style="hint")


def _say(out: Console, *objects: object, **options: Any) -> None:
    """Print without rich markup: names and records from files may contain brackets."""
    out.print(*objects, markup=False, **options)
