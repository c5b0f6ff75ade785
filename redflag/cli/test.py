"""`redflag test`: run case files against a rule set, like a test runner, with coverage."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from redflag.cli.common import RulesOption, load
from redflag.errors import CaseFileError, ExitCode, UsageError

if TYPE_CHECKING:
    from rich.console import Console

    from redflag.core.casework import CaseReport, CaseResult, Coverage, Matrix
    from redflag.core.compile import CompiledRuleSet

DEFAULT_CASES = Path("tests") / "cases"


def default_case_dir() -> Path:
    """tests/cases/ under the current directory, else the one in the source tree."""
    here = DEFAULT_CASES
    if here.is_dir():
        return here
    repo = Path(__file__).resolve().parents[2] / DEFAULT_CASES
    if repo.is_dir():
        return repo
    raise CaseFileError(
        "no case files given and no tests/cases/ directory found",
        hint="give case files: redflag test my-cases.toml",
    )


def test(
    cases: Annotated[
        list[Path] | None,
        typer.Argument(
            help="Case files (.toml or .ndjson) or directories (default: tests/cases/).",
            show_default=False,
        ),
    ] = None,
    rules: RulesOption = None,
    show_coverage: Annotated[
        bool,
        typer.Option("--coverage", help="Report rules no case fired or near-missed, flags unset."),
    ] = False,
    min_coverage: Annotated[
        float | None,
        typer.Option(
            "--min-coverage",
            metavar="PCT",
            help="Exit 1 when fewer than PCT percent of the rules are fired by some case.",
        ),
    ] = None,
    as_json: Annotated[
        bool,
        typer.Option("--json", help="Print the cases, results and coverage as one JSON document."),
    ] = False,
    show_matrix: Annotated[
        bool,
        typer.Option(
            "--matrix",
            help="Print an expected-by-got table of levels, sensitivity for each level and "
            "the under-triaged cases first, instead of every failure.",
        ),
    ] = False,
) -> None:
    """Run test cases: each record must get its expected level (and rules).

    Prints a dot per passing case, F per failing one, then each failure with its record,
    expected and actual result and the rules involved; ends with 'N passed, N failed'.
    With --json, stdout is one JSON document instead (same exit codes).

    Example:

        redflag test tests/cases/ --coverage --min-coverage 100

        redflag test my-cases.toml --json

        redflag test tests/cases/published/ --matrix
    """
    from redflag.core.casework import run_cases, triage_matrix
    from redflag.formats.casefile import case_files, load_cases

    if min_coverage is not None and not 0 <= min_coverage <= 100:
        raise UsageError(f"--min-coverage must be from 0 to 100, got {min_coverage:g}")
    ruleset = load(rules)
    files = case_files(cases or [default_case_dir()])
    if not files:
        raise CaseFileError(
            "no case files found", hint="case files end in .toml, .ndjson or .jsonl"
        )
    all_cases = [case for path in files for case in load_cases(path, ruleset)]
    report = run_cases(ruleset, all_cases)
    short = report.coverage.is_below(min_coverage)
    matrix = triage_matrix(ruleset, report) if show_matrix else None
    if as_json:
        from redflag.cli.output import print_json
        from redflag.formats.case_report_json import case_report_json

        print_json(
            case_report_json(
                report,
                ruleset,
                with_coverage=show_coverage,
                min_coverage=min_coverage,
                matrix=matrix,
            )
        )
    elif matrix is not None:
        _print_matrix(matrix, report)
    else:
        _print_report(report, ruleset, show_coverage, min_coverage)
    if report.failed or short:
        raise typer.Exit(ExitCode.NO)


def _print_report(
    report: CaseReport, ruleset: CompiledRuleSet, show_coverage: bool, min_coverage: float | None
) -> None:
    from redflag.cli.render import console

    out = console()
    _print_dots(out, report)
    for failure in (r for r in report.results if not r.passed):
        _print_failure(out, failure, ruleset)
    if show_coverage or min_coverage is not None:
        _print_coverage(out, report.coverage)
        if report.coverage.is_below(min_coverage):
            _say(
                out,
                f"rule coverage {report.coverage.fired_percent:.1f}% is below "
                f"--min-coverage {min_coverage:g}%",
                style="error",
            )
    _say(out, f"{report.passed} passed, {report.failed} failed")


def _print_matrix(matrix: Matrix, report: CaseReport) -> None:
    from rich.table import Table

    from redflag.cli.render import console

    out = console()
    levels = matrix.levels
    table = Table(title="expected (rows) by got (columns)", title_justify="left")
    table.add_column("expected")
    for level in levels:
        table.add_column(level, justify="right")
    table.add_column("total", justify="right")
    table.add_column("sensitivity", justify="right")
    for i, (level, row) in enumerate(zip(levels, matrix.counts, strict=True)):
        share = matrix.sensitivity(i)
        table.add_row(
            level,
            *(str(n) for n in row),
            str(sum(row)),
            f"{_percent(share)} ({matrix.reached(i)}/{sum(row)})" if share is not None else "-",
        )
    _say(out, table)
    _say(out, "sensitivity: the share of cases expected at a level that got it or higher")
    _say(out, f"exact agreement: {_percent(matrix.exact_share)} ({matrix.exact}/{matrix.total})")
    low = matrix.benign_rank
    over2 = matrix.over_by(2, low)
    _say(
        out,
        f"{levels[0]} cases given {levels[-1]}: {matrix.to_lowest(0)}; cases expected "
        f"{' or '.join(levels[low:])} over-triaged by 2 levels or more: {len(over2)} of "
        f"{matrix.expected_at_least(low)}",
    )
    settled = matrix.not_debatable
    if settled is not None and settled.total < matrix.total:
        _say(
            out,
            f"on the {settled.total} cases not marked debatable: {levels[0]} sensitivity "
            f"{_percent(settled.sensitivity(0))} ({settled.reached(0)}/{settled.expected(0)}), "
            f"exact agreement {_percent(settled.exact_share)} ({settled.exact}/"
            f"{settled.total}), over-triaged by 2 levels or more: "
            f"{len(settled.over_by(2, low))} of {settled.expected_at_least(low)}",
        )
    for title, rows in (("under-triaged", matrix.under), ("over-triaged", matrix.over)):
        _say(out, f"\n{title} ({len(rows)}):")
        for r in rows:
            mark = " (debatable)" if r.case.debatable else ""
            rules = ", ".join(o.rule.id for o in r.result.matched) or "no rule"
            _say(
                out,
                f"  {r.case.expect} -> {r.result.level.id}{mark}: {r.case.name}  [{rules}]",
                soft_wrap=True,
            )
    _say(out, f"\n{report.passed} passed, {report.failed} failed")


def _percent(share: float | None) -> str:
    """A share (0 to 1) as `97.4%`; `-` when there is none (no case to count)."""
    return "-" if share is None else f"{100 * share:.1f}%"


def _print_dots(out: Console, report: CaseReport) -> None:
    from rich.text import Text

    dots = Text()
    for r in report.results:
        dots.append("." if r.passed else "F", style="level.3" if r.passed else "error")
    _say(out, dots, soft_wrap=True)


def _print_failure(out: Console, failure: CaseResult, ruleset: CompiledRuleSet) -> None:
    from rich.text import Text

    from redflag.cli.explain import explanation_tree
    from redflag.core.explain import explain_outcome

    case, result = failure.case, failure.result
    head = Text("\nFAIL ", style="error")
    head.append(case.name, style="label")
    if case.where is not None:
        head.append(f"  ({case.where})", style="muted")
    _say(out, head)
    _say(out, f"  record: {json.dumps(dict(case.record))}", soft_wrap=True)
    _say(out, f"  expected: {case.expect}   got: {result.level.id}")
    for problem in failure.problems:
        _say(out, f"  - {problem}")
    involved = set(case.expect_rules) | set(case.forbid_rules)
    involved |= {o.rule.id for o in result.matched}
    if result.level.id != case.expect:
        involved |= {
            o.rule.id
            for o in result.outcomes
            if o.rule.level == case.expect and any(f in case.record for f in o.compiled.flags)
        }
    _say(out, "  rules involved:")
    for outcome in result.outcomes:
        if outcome.rule.id in involved:
            _say(out, explanation_tree(explain_outcome(outcome, ruleset), ruleset))


def _print_coverage(out: Console, cov: Coverage) -> None:
    n = len(cov.rules)
    _say(out, f"\nCoverage: {len(cov.fired)}/{n} rules fired ({cov.fired_percent:.1f}%)")
    _say(out, f"  rules no case fired: {_list(cov.not_fired)}", soft_wrap=True)
    _say(
        out,
        f"  rules no case saw as a near miss (false): {_list(cov.not_near_missed)}",
        soft_wrap=True,
    )
    _say(out, f"  flags no case set: {_list(cov.flags_not_set)}", soft_wrap=True)


def _list(items: tuple[str, ...]) -> str:
    return ", ".join(items) if items else "none"


def _say(out: Console, *objects: object, **options: Any) -> None:
    """Print without rich markup: names and records from files may contain brackets."""
    out.print(*objects, markup=False, **options)
