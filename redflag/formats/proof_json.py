"""Diff and analysis reports -> JSON-ready data: `diff --json` and `rules analyze --json`."""

from __future__ import annotations

from typing import TYPE_CHECKING

from redflag.core.analysis import AnalysisReport
from redflag.core.compare import CaseChange, DiffReport
from redflag.core.compile import CompiledRuleSet
from redflag.core.exhaustive import ExhaustiveReport
from redflag.formats.result_json import ruleset_info

if TYPE_CHECKING:  # the output model (formats/json_model.py); not imported at run time
    from redflag.formats.json_model import AnalyzeJSON, CaseChangeJSON, DiffJSON


def diff_json(
    report: DiffReport,
    proof: ExhaustiveReport | None,
    seconds: float,
    old: CompiledRuleSet,
    new: CompiledRuleSet,
) -> DiffJSON:
    """`diff --json`: rule changes, case level changes and, with a proof, `exhaustive`."""
    out: DiffJSON = {
        "old": ruleset_info(old),
        "new": ruleset_info(new),
        "rules": [
            {
                "id": c.rule_id,
                "change": c.kind,
                "fields": list(c.fields),
                "old_level": c.old_level,
                "new_level": c.new_level,
            }
            for c in report.rule_changes
        ],
        "cases_compared": report.cases_compared,
        "downgrades": [_case_change(c) for c in report.downgrades],
        "upgrades": [_case_change(c) for c in report.upgrades],
    }
    if proof is not None:
        out["exhaustive"] = {
            "method": proof.method,
            "seconds": round(seconds, 3),
            "solver_calls": proof.calls,
            "rules_searched": list(proof.checked_rules),
            "downgrades": [
                {
                    "record": c.record,
                    "responsible": c.responsible,
                    "old_level": c.old_level,
                    "new_level": c.new_level,
                    "old_rules": list(c.old_rules),
                    "new_rules": list(c.new_rules),
                }
                for c in proof.counterexamples
            ],
        }
    return out


def _case_change(change: CaseChange) -> CaseChangeJSON:
    return {
        "name": change.case.name,
        "record": dict(change.case.record),
        "old_level": change.old.level.id,
        "new_level": change.new.level.id,
        "old_rules": list(change.old_rules),
        "new_rules": list(change.new_rules),
    }


def analysis_json(report: AnalysisReport, seconds: float) -> AnalyzeJSON:
    """`rules analyze --json`: the method, its cost and every finding."""
    return {
        "method": report.method,
        "seconds": round(seconds, 3),
        "solver_calls": report.calls,
        "findings": [
            {
                "kind": f.kind,
                "rule": f.rule_id,
                "error": f.is_error,
                "message": f.message,
                "record": f.record,
                "others": list(f.others),
            }
            for f in report.findings
        ],
    }
