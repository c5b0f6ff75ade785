"""Rendering for `redflag rules analyze` (the command itself lives in cli/rules.py)."""

from __future__ import annotations

import json
import time
from typing import TYPE_CHECKING, Any

from redflag.core.compile import CompiledRuleSet
from redflag.errors import ExitCode

if TYPE_CHECKING:
    from rich.console import Console


def run_analyze(ruleset: CompiledRuleSet, as_json: bool, max_seconds: float | None) -> ExitCode:
    """Analyze, print the findings, and return the exit code (1 on error findings).

    Raises:
        OutOfTime: the budget ran out (exit 4, "not proved").
    """
    from redflag.budget import TimeBudget
    from redflag.core.analysis import analyze

    start = time.perf_counter()
    with TimeBudget(max_seconds) as budget:
        report = analyze(ruleset, budget)
    elapsed = time.perf_counter() - start
    errors = [f for f in report.findings if f.is_error]
    if as_json:
        from redflag.cli.output import print_json
        from redflag.formats.proof_json import analysis_json

        print_json(analysis_json(report, elapsed))
        return ExitCode.NO if errors else ExitCode.OK
    from redflag.cli.render import console

    out = console()
    _say(out, f"{ruleset.source}: {len(ruleset.rules)} rules, {len(ruleset.flags)} flags")
    for finding in report.findings:
        style = "error" if finding.is_error else "warning"
        tag = "error" if finding.is_error else "info"
        _say(out, f"{tag}[{finding.kind}] {finding.rule_id}: {finding.message}", style=style)
        if finding.others and finding.kind != "non-monotone":
            _say(out, f"    with: {', '.join(finding.others)}")
        if finding.record is not None:
            _say(out, f"    witness: {json.dumps(finding.record)}", soft_wrap=True)
    info = len(report.findings) - len(errors)
    _say(
        out,
        f"{len(errors)} error{'s' if len(errors) != 1 else ''}, {info} for information; "
        f"method: {report.method}; {report.calls} solver calls in "
        f"{elapsed:.2f} s",
        soft_wrap=True,
    )
    return ExitCode.NO if errors else ExitCode.OK


def _say(out: Console, *objects: object, **options: Any) -> None:
    """Print without rich markup: names and records from files may contain brackets."""
    out.print(*objects, markup=False, **options)
