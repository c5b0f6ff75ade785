"""Result -> a FHIR Bundle: a GuidanceResponse, a RiskAssessment and the answers it used
(a QuestionnaireResponse), as `check --fhir` writes it (docs/fhir.md, "Writing FHIR").

- GuidanceResponse: status `success`, or `data-requested` with one dataRequirement per
  unanswered flag whenever an answer could still raise the level.
- RiskAssessment: one prediction per matched rule (its level as `qualitativeRisk`, its
  rationale, its sources as cqf-relatedArtifact citations); the level and worst case as
  extensions; the action as `mitigation`; `basis` the answers.
Ids are uuid5 of the rule set and the answers, so the same input gives the same Bundle.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from typing import Any, assert_never

from redflag.core.compile import CompiledRuleSet
from redflag.core.evaluate import Record, Result, action
from redflag.core.flags import BoolFlag, NumericFlag
from redflag.core.model import Source
from redflag.formats.fhir.codes import (
    BASE,
    FLAG_SYSTEM,
    LEVEL_EXTENSION,
    LEVEL_SYSTEM,
    RELATED_ARTIFACT_EXTENSION,
    RULE_SYSTEM,
    RULESET_SYSTEM,
    WORST_CASE_EXTENSION,
    FhirVersion,
    level_concept,
    ruleset_canonical,
    validate_resource,
)
from redflag.formats.result_json import NOTICE, prose

NO_SUBJECT: Mapping[str, Any] = {"display": "the person the answers describe (no subject given)"}


def result_bundle(
    result: Result,
    ruleset: CompiledRuleSet,
    version: FhirVersion = "R4B",
    subject: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The Bundle `check --fhir` prints, validated (with its entries) as FHIR `version`."""
    ids = _Ids(ruleset, result.record, result.record_id)
    who = dict(subject or NO_SUBJECT)
    answers = answers_response(result.record, ruleset, who, ids.of("answers"))
    guidance = _guidance(result, ruleset, who, ids)
    risk = _risk(result, ruleset, version, who, ids)
    entries = [guidance, risk, answers]
    bundle = {
        "resourceType": "Bundle",
        "id": ids.of("bundle"),
        "type": "collection",
        "entry": [{"fullUrl": f"urn:uuid:{r['id']}", "resource": r} for r in entries],
    }
    validate_resource(bundle, version)  # the Bundle and, through it, every entry
    return bundle


class _Ids:
    def __init__(self, ruleset: CompiledRuleSet, record: Record, record_id: object) -> None:
        self.seed = json.dumps([ruleset.sha256, dict(record), record_id], sort_keys=True)

    def of(self, kind: str) -> str:
        return str(uuid.uuid5(uuid.NAMESPACE_URL, f"{BASE}/{kind}/{self.seed}"))


def answers_response(
    record: Record, ruleset: CompiledRuleSet, subject: Mapping[str, Any], resource_id: str
) -> dict[str, Any]:
    """The answered flags as a QuestionnaireResponse to the generated Questionnaire."""
    items = []
    for flag_id, value in record.items():
        flag = ruleset.flags[flag_id]
        answer: dict[str, Any]
        match flag:
            case BoolFlag():
                answer = {"valueBoolean": bool(value)}
            case NumericFlag(type="int"):
                answer = {"valueInteger": int(value)}
            case NumericFlag():
                answer = {"valueDecimal": value}
            case _:
                assert_never(flag)
        items.append({"linkId": flag_id, "text": flag.question, "answer": [answer]})
    return {
        "resourceType": "QuestionnaireResponse",
        "id": resource_id,
        "questionnaire": ruleset_canonical(ruleset),
        "status": "completed",
        "subject": dict(subject),
        "item": items,
    }


def _module(ruleset: CompiledRuleSet) -> str:
    return f"{RULESET_SYSTEM}/{ruleset.meta.id}/{ruleset.meta.version}"


def _guidance(
    result: Result, ruleset: CompiledRuleSet, subject: Mapping[str, Any], ids: _Ids
) -> dict[str, Any]:
    missing: dict[str, None] = {}
    for outcome in result.could_escalate:
        missing.update(dict.fromkeys(outcome.missing))
    out: dict[str, Any] = {
        "resourceType": "GuidanceResponse",
        "id": ids.of("guidance"),
        "identifier": [{"system": RULESET_SYSTEM, "value": ruleset.sha256}],
        "moduleUri": _module(ruleset),
        "status": "data-requested" if missing else "success",
        "subject": dict(subject),
        "note": [{"text": NOTICE}],
    }
    if missing:
        out["dataRequirement"] = [
            {
                "type": "Observation",
                "codeFilter": [
                    {
                        "path": "code",
                        "code": [
                            {
                                "system": FLAG_SYSTEM,
                                "code": flag,
                                "display": ruleset.flags[flag].question,
                            }
                        ],
                    }
                ],
            }
            for flag in missing
        ]
    return out


def _risk(
    result: Result,
    ruleset: CompiledRuleSet,
    version: FhirVersion,
    subject: Mapping[str, Any],
    ids: _Ids,
) -> dict[str, Any]:
    level, worst = result.level, ruleset.levels[result.worst_rank]
    predictions = [
        {
            "outcome": {
                "coding": [{"system": RULE_SYSTEM, "code": o.rule.id, "display": o.rule.title}],
                "text": o.rule.title,
            },
            "qualitativeRisk": level_concept(ruleset.levels[o.compiled.rank]),
            "rationale": prose(o.rule.rationale),
            "extension": [
                {
                    "url": RELATED_ARTIFACT_EXTENSION,
                    "valueRelatedArtifact": citation(key, ruleset.sources[key], version),
                }
                for key in o.rule.sources
            ],
        }
        for o in result.matched
    ]
    if not predictions:
        predictions = [
            {
                "outcome": {"text": "No rule matched the answers given"},
                "qualitativeRisk": level_concept(level),
            }
        ]
    status = "final" if result.is_complete else "preliminary"
    return {
        "resourceType": "RiskAssessment",
        "id": ids.of("risk"),
        "extension": [
            {"url": LEVEL_EXTENSION, "valueCoding": _coding(level.id, level.label)},
            {"url": WORST_CASE_EXTENSION, "valueCoding": _coding(worst.id, worst.label)},
        ],
        "status": status,
        "method": {
            "coding": [
                {
                    "system": RULESET_SYSTEM,
                    "code": f"{ruleset.meta.id}|{ruleset.meta.version}",
                    "display": f"{ruleset.meta.name} ({ruleset.meta.status})",
                }
            ]
        },
        "subject": dict(subject),
        "basis": [{"reference": f"urn:uuid:{ids.of('answers')}"}],
        "prediction": predictions,
        "mitigation": action(result, ruleset),
        "note": [{"text": NOTICE}],
    }


def _coding(code: str, display: str) -> dict[str, str]:
    return {"system": LEVEL_SYSTEM, "code": code, "display": display}


def citation(key: str, source: Source, version: FhirVersion) -> dict[str, Any]:
    """A rule source as a RelatedArtifact (R5 moved `url` into `document`)."""
    out: dict[str, Any] = {
        "type": "citation",
        "label": key,
        "display": source.title,
        "citation": f"{source.organisation}. {source.title}. {source.year}.",
    }
    if version == "R4B":
        out["url"] = source.url
    else:
        out["document"] = {"url": source.url, "title": source.title}
    return out
