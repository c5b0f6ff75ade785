"""SDC `Questionnaire/$next-question` backed by the `ask` engine (core/interview.py).

The adaptive form of the Structured Data Capture IG: the QuestionnaireResponse carries a
contained Questionnaire of the questions asked so far; each call adds the next question
worth asking to it (patient questions only, as `redflag ask` without --clinician), or sets
the response's status to `completed` when no answer can change the level. An item left
without an answer is "don't know": it stays unknown and is not asked again.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from redflag.budget import TimeBudget
from redflag.core.compile import CompiledRuleSet
from redflag.core.interview import PLAN_SECONDS, plan
from redflag.errors import BadResourceError, Location
from redflag.formats.fhir.answers import read_answers
from redflag.formats.fhir.codes import BASE, FhirVersion, validate_resource
from redflag.formats.fhir.questionnaire import flag_item

CONTAINED_ID = "asked"


def next_question(
    raw: Mapping[str, Any], ruleset: CompiledRuleSet, version: FhirVersion = "R4B"
) -> dict[str, Any]:
    """The QuestionnaireResponse with the next question added, or `completed`.

    `raw` is the QuestionnaireResponse, or a Parameters resource holding it as the
    `questionnaire-response` parameter (the operation's input).

    Raises:
        BadResourceError: not a QuestionnaireResponse (or Parameters holding one).
        InputError: an answer redflag cannot read (as for `check -`).
    """
    response = _response_of(raw)
    answers = read_answers(response, ruleset, "questionnaire-response", version=version)
    given = _link_ids(response.get("item") or [])
    dont_know = frozenset(f for f in given if f in ruleset.flags and f not in answers.record)
    clinician = frozenset(f.id for f in ruleset.flags.values() if f.audience == "clinician")
    step = plan(
        ruleset,
        answers.record,
        dont_know,
        not_asked=clinician,
        budget=lambda: TimeBudget(PLAN_SECONDS),
    )
    out = copy.deepcopy(dict(response))
    contained = [r for r in out.get("contained") or [] if r.get("id") != CONTAINED_ID]
    asked = [flag_item(ruleset.flags[f]) for f in given if f in ruleset.flags]
    if step.next_flag is None:
        out["status"] = "completed"
    else:
        out["status"] = "in-progress"
        asked.append(flag_item(ruleset.flags[step.next_flag]))
    questionnaire = {
        "resourceType": "Questionnaire",
        "id": CONTAINED_ID,
        "url": f"{BASE}/Questionnaire/{ruleset.meta.id}-adaptive",
        "version": ruleset.meta.version,
        "status": "draft" if ruleset.meta.status == "draft" else "active",
        "item": asked,
    }
    out["contained"] = [*contained, questionnaire]
    out["questionnaire"] = f"#{CONTAINED_ID}"
    validate_resource(out, version)
    return out


def _response_of(raw: Mapping[str, Any]) -> Mapping[str, Any]:
    if raw.get("resourceType") == "Parameters":
        for parameter in raw.get("parameter") or []:
            if isinstance(parameter, dict) and parameter.get("name") == "questionnaire-response":
                resource = parameter.get("resource")
                if isinstance(resource, dict):
                    return _response_of(resource)
    if raw.get("resourceType") != "QuestionnaireResponse":
        raise BadResourceError(
            "$next-question takes a QuestionnaireResponse",
            location=Location("<body>"),
            hint="POST the QuestionnaireResponse, or Parameters with a "
            "'questionnaire-response' parameter",
        )
    return raw


def _link_ids(items: list[Any]) -> list[str]:
    """The linkIds of the question items (not groups), nested ones included, in order."""
    found: list[str] = []
    for item in items:
        if not isinstance(item, dict):
            continue
        is_group = not item.get("answer") and bool(item.get("item"))
        if isinstance(item.get("linkId"), str) and not is_group:
            found.append(item["linkId"])
        found.extend(_link_ids(item.get("item") or []))
        for answer in item.get("answer") or []:
            if isinstance(answer, dict):
                found.extend(_link_ids(answer.get("item") or []))
    return found
