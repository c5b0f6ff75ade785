"""CaseReport -> JSON-ready data: the stable public output of `test --json` (see README)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from redflag.core.casework import CaseReport, CaseResult, Coverage, Matrix
from redflag.core.compile import CompiledRuleSet
from redflag.formats.result_json import ruleset_info

if TYPE_CHECKING:  # the output model (formats/json_model.py); not imported at run time
    from redflag.formats.json_model import (
        CaseReportJSON,
        CaseResultJSON,
        CoverageJSON,
        MatrixFiguresJSON,
        MatrixJSON,
        TriagedJSON,
    )


def case_report_json(
    report: CaseReport,
    ruleset: CompiledRuleSet,
    *,
    with_coverage: bool = False,
    min_coverage: float | None = None,
    matrix: Matrix | None = None,
) -> CaseReportJSON:
    """The whole test run, as `test --json` prints it.

    Args:
        report: what `run_cases` returned.
        ruleset: the rule set the cases ran against (named in `ruleset`).
        with_coverage: add `coverage` (also added whenever `min_coverage` is given, as the
            human output prints coverage for either option).
        min_coverage: the --min-coverage percentage, if any.
    """
    out: CaseReportJSON = {
        "ruleset": ruleset_info(ruleset),
        "summary": {
            "cases": len(report.results),
            "passed": report.passed,
            "failed": report.failed,
        },
        "cases": [case_result_json(r) for r in report.results],
    }
    if with_coverage or min_coverage is not None:
        out["coverage"] = coverage_json(report.coverage, min_coverage)
    if matrix is not None:
        out["matrix"] = matrix_json(matrix)
    return out


def matrix_json(matrix: Matrix) -> MatrixJSON:
    """`test --matrix --json`: expected-by-got counts and the triage figures.

    `sensitivity[level]` is the share of cases expected at that level that got it or a more
    urgent one (null when no case expected it); `over_triaged_2_tiers` counts cases expected
    at the third level or below (soon, routine) that got two or more levels above it.
    `not_debatable` gives the same figures on the cases not marked debatable.
    """
    levels = matrix.levels
    return {
        "levels": list(levels),
        "counts": {
            expected: dict(zip(levels, row, strict=True))
            for expected, row in zip(levels, matrix.counts, strict=True)
        },
        **_figures(matrix),
        "under_triaged": [_triage_json(r) for r in matrix.under],
        "over_triaged": [_triage_json(r) for r in matrix.over],
        "not_debatable": _figures(matrix.not_debatable or matrix),
    }


def _figures(matrix: Matrix) -> MatrixFiguresJSON:
    low = matrix.benign_rank
    return {
        "cases": matrix.total,
        "exact": matrix.exact,
        "exact_share": matrix.exact_share,
        "sensitivity": {level: matrix.sensitivity(i) for i, level in enumerate(matrix.levels)},
        "most_urgent_to_least": matrix.to_lowest(0),
        "over_triaged_2_tiers": {
            "cases": [r.case.name for r in matrix.over_by(2, low)],
            "of": matrix.expected_at_least(low),
        },
    }


def _triage_json(result: CaseResult) -> TriagedJSON:
    return {
        "name": result.case.name,
        "expected": result.case.expect,
        "got": result.result.level.id,
        "matched": [o.rule.id for o in result.result.matched],
        "debatable": result.case.debatable,
    }


def case_result_json(result: CaseResult) -> CaseResultJSON:
    """One case: where it is, its record, what it expected, what it got, what went wrong."""
    case, got = result.case, result.result
    where = case.where
    return {
        "name": case.name,
        "file": where.source if where is not None else None,
        "line": where.line if where is not None else None,
        "passed": result.passed,
        "record": dict(case.record),
        "expected": {
            "level": case.expect,
            "matched": list(case.expect_rules),
            "not_matched": list(case.forbid_rules),
        },
        "got": {"level": got.level.id, "matched": [o.rule.id for o in got.matched]},
        "problems": list(result.problems),
    }


def coverage_json(cov: Coverage, min_coverage: float | None = None) -> CoverageJSON:
    """Rule and flag coverage; `below_min_coverage` is why a run with no failure exits 1."""
    return {
        "rules": list(cov.rules),
        "fired": list(cov.fired),
        "near_missed": list(cov.near_missed),
        "not_fired": list(cov.not_fired),
        "not_near_missed": list(cov.not_near_missed),
        "flags_set": list(cov.flags_set),
        "flags_not_set": list(cov.flags_not_set),
        "fired_percent": cov.fired_percent,
        "min_coverage": min_coverage,
        "below_min_coverage": cov.is_below(min_coverage),
    }
