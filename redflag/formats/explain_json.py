"""Explanations -> JSON-ready data: the public output of `explain --json`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from redflag.core.compile import CompiledRuleSet
from redflag.core.evaluate import Result
from redflag.core.explain import RuleExplanation, Step
from redflag.formats.result_json import NOTICE, ruleset_info


def step_json(step: Step) -> dict[str, Any]:
    """One part of a condition: `{text, value, parts}`."""
    out: dict[str, Any] = {"text": step.text, "value": step.value}
    if step.children:
        out["parts"] = [step_json(child) for child in step.children]
    return out


def explanation_json(item: RuleExplanation) -> dict[str, Any]:
    """One rule's explanation."""
    return {
        "id": item.rule_id,
        "level": item.level,
        "title": item.title,
        "status": item.status,
        "when": item.condition,
        "english": item.english,
        "missing": list(item.missing),
        "trace": step_json(item.step),
    }


def explain_json(
    result: Result, explanations: Sequence[RuleExplanation], ruleset: CompiledRuleSet
) -> dict[str, Any]:
    """The whole explanation, as `explain --json` prints it."""
    out: dict[str, Any] = {}
    if result.record_id is not None:
        out["id"] = result.record_id
    out.update(
        {
            "level": result.level.id,
            "answered": dict(result.record),
            "rules": [explanation_json(e) for e in explanations],
            "ruleset": ruleset_info(ruleset),
            "notice": NOTICE,
        }
    )
    return out
