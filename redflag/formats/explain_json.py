"""Explanations -> JSON-ready data: the public output of `explain --json`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from redflag.core.compile import CompiledRuleSet
from redflag.core.evaluate import Result
from redflag.core.explain import RuleExplanation, Step
from redflag.formats.result_json import NOTICE, ruleset_info

if TYPE_CHECKING:  # the output model (formats/json_model.py); not imported at run time
    from redflag.formats.json_model import ExplainJSON, RuleTraceJSON, StepJSON


def step_json(step: Step) -> StepJSON:
    """One part of a condition: `{text, value, parts}`."""
    out: StepJSON = {"text": step.text, "value": step.value}
    if step.children:
        out["parts"] = [step_json(child) for child in step.children]
    return out


def explanation_json(item: RuleExplanation) -> RuleTraceJSON:
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
) -> ExplainJSON:
    """The whole explanation, as `explain --json` prints it."""
    body: ExplainJSON = {
        "level": result.level.id,
        "answered": dict(result.record),
        "rules": [explanation_json(e) for e in explanations],
        "ruleset": ruleset_info(ruleset),
        "notice": NOTICE,
    }
    if result.record_id is None:
        return body
    # `id` first, as it always was printed
    return {"id": result.record_id, **body}
