"""`result_bundle`: the Bundle `check --fhir` writes, valid, coded from the spec's tables."""

import json

import fhirpathpy
import pytest

from redflag.core.evaluate import evaluate
from redflag.formats.fhir.codes import validate_resource
from redflag.formats.fhir.result import result_bundle
from tests.formats.fhir.fhir_helpers import (
    ACT_PRIORITY,
    BUNDLE_TYPE,
    DATA_REQUIREMENT_TYPES,
    GUIDANCE_RESPONSE_STATUS,
    QUESTIONNAIRE_RESPONSE_STATUS,
    RELATED_ARTIFACT_TYPE,
    RISK_ASSESSMENT_STATUS,
)

MSCC = {"cancer_history": True, "back_pain": True, "limb_weakness": True}


def resources(bundle):
    return {e["resource"]["resourceType"]: e["resource"] for e in bundle["entry"]}


@pytest.mark.parametrize("version", ["R4B", "R5"])
def test_mscc_bundle_is_valid_and_says_emergency(ruleset, version):
    bundle = result_bundle(evaluate(ruleset, MSCC), ruleset, version)
    validate_resource(bundle, version)
    assert bundle["type"] in BUNDLE_TYPE
    got = resources(bundle)
    assert set(got) == {"GuidanceResponse", "RiskAssessment", "QuestionnaireResponse"}
    risk = got["RiskAssessment"]
    assert risk["status"] in RISK_ASSESSMENT_STATUS
    assert got["GuidanceResponse"]["status"] in GUIDANCE_RESPONSE_STATUS
    assert got["QuestionnaireResponse"]["status"] in QUESTIONNAIRE_RESPONSE_STATUS
    level = next(e for e in risk["extension"] if e["url"].endswith("/level"))["valueCoding"]
    assert level["code"] == "emergency"
    first = risk["prediction"][0]
    assert first["outcome"]["coding"][0]["code"] == "mscc_neuro"
    codings = first["qualitativeRisk"]["coding"]
    assert {"system": "http://terminology.hl7.org/CodeSystem/v3-ActPriority", "code": "EM",
            "display": "emergency"} in codings  # fmt: skip
    for prediction in risk["prediction"]:
        for ext in prediction["extension"]:
            assert ext["valueRelatedArtifact"]["type"] in RELATED_ARTIFACT_TYPE
    assert risk["basis"] == [{"reference": f"urn:uuid:{got['QuestionnaireResponse']['id']}"}]
    assert "decision support, not a diagnosis" in risk["note"][0]["text"]


def test_every_level_maps_to_an_act_priority_code_of_the_spec_or_none(ruleset):
    from redflag.formats.fhir.codes import ACT_PRIORITY as MAPPED

    assert {code for code, _ in MAPPED.values()} <= ACT_PRIORITY
    assert set(MAPPED) <= {lv.id for lv in ruleset.levels}


def test_unanswered_flags_that_could_escalate_are_requested(ruleset):
    result = evaluate(ruleset, {"back_pain": True, "age": 70})
    guidance = resources(result_bundle(result, ruleset))["GuidanceResponse"]
    assert guidance["status"] == "data-requested"
    requested = [r["codeFilter"][0]["code"][0]["code"] for r in guidance["dataRequirement"]]
    missing = {flag for o in result.could_escalate for flag in o.missing}
    assert set(requested) == missing and len(requested) == len(missing)
    assert {r["type"] for r in guidance["dataRequirement"]} <= DATA_REQUIREMENT_TYPES
    risk = resources(result_bundle(result, ruleset))["RiskAssessment"]
    assert risk["status"] == "preliminary"
    worst = next(e for e in risk["extension"] if e["url"].endswith("/worst-case"))
    assert worst["valueCoding"]["code"] == "emergency"


def test_a_complete_result_is_success_and_final(ruleset):
    result = evaluate(ruleset, MSCC)
    assert result.is_complete
    got = resources(result_bundle(result, ruleset))
    assert got["GuidanceResponse"]["status"] == "success"
    assert "dataRequirement" not in got["GuidanceResponse"]
    assert got["RiskAssessment"]["status"] == "final"


def test_no_match_gives_one_prediction_at_the_no_match_level(ruleset):
    record = {f: False for f, spec in ruleset.flags.items() if spec.type == "bool"}
    record = {k: v for k, v in record.items() if not ruleset.flags[k].implies}
    result = evaluate(ruleset, record)
    risk = resources(result_bundle(result, ruleset))["RiskAssessment"]
    assert [p["qualitativeRisk"]["coding"][0]["code"] for p in risk["prediction"]] == [
        result.level.id
    ]


INVARIANTS = {
    "bdl-7 fullUrl is unique": "entry.fullUrl.isDistinct()",
    "bdl-1 total only in search or history": "total.empty() or (type = 'searchset') "
    "or (type = 'history')",
    "ras-2 probability is a percentage": "RiskAssessment.prediction.probability.all($this <= 100)",
    "basis resolves in the Bundle": "entry.resource.ofType(RiskAssessment).basis.reference"
    ".all(%bundle.entry.fullUrl contains $this)",
    "every resource has an id": "entry.resource.all(id.exists())",
}


@pytest.mark.parametrize("name", INVARIANTS)
def test_bundle_invariant_holds(ruleset, name):
    bundle = result_bundle(evaluate(ruleset, {"back_pain": True, "age": 70}), ruleset)
    assert fhirpathpy.evaluate(bundle, INVARIANTS[name], {"bundle": bundle}) == [True]


def test_the_basis_check_fails_on_a_dangling_reference(ruleset):
    bundle = result_bundle(evaluate(ruleset, MSCC), ruleset)
    resources(bundle)["RiskAssessment"]["basis"] = [{"reference": "urn:uuid:elsewhere"}]
    expr = INVARIANTS["basis resolves in the Bundle"]
    assert fhirpathpy.evaluate(bundle, expr, {"bundle": bundle}) == [False]


def test_same_answers_give_the_same_ids(ruleset):
    a = result_bundle(evaluate(ruleset, MSCC), ruleset)
    b = result_bundle(evaluate(ruleset, dict(reversed(MSCC.items()))), ruleset)
    assert a["id"] != result_bundle(evaluate(ruleset, {"fever": True}), ruleset)["id"]
    assert [e["fullUrl"] for e in a["entry"]] == [e["fullUrl"] for e in b["entry"]]


@pytest.mark.parametrize("version", ["R4B", "R5"])
def test_result_bundle_golden(ruleset, golden, version):
    bundle = result_bundle(evaluate(ruleset, {**MSCC, "age": 67}), ruleset, version)
    golden(f"bundle.mscc.{version}.json", json.dumps(bundle, indent=2) + "\n")
