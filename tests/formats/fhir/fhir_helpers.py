"""Builders shared by the FHIR tests: a QuestionnaireResponse answering a record, and the
required code lists copied from the FHIR specification (R4B and R5 agree on these)."""

from __future__ import annotations

from typing import Any

from redflag.core.compile import CompiledRuleSet

# hl7.org/fhir/R4B/valueset-guidance-response-status.html (required binding)
GUIDANCE_RESPONSE_STATUS = {
    "success",
    "data-requested",
    "data-required",
    "in-progress",
    "failure",
    "entered-in-error",
}
# hl7.org/fhir/R4B/valueset-observation-status.html, bound (required) to RiskAssessment.status
RISK_ASSESSMENT_STATUS = {
    "registered",
    "preliminary",
    "final",
    "amended",
    "corrected",
    "cancelled",
    "entered-in-error",
    "unknown",
}
# hl7.org/fhir/R4B/valueset-questionnaire-answers-status.html
QUESTIONNAIRE_RESPONSE_STATUS = {
    "in-progress",
    "completed",
    "amended",
    "entered-in-error",
    "stopped",
}
# hl7.org/fhir/R4B/valueset-publication-status.html
PUBLICATION_STATUS = {"draft", "active", "retired", "unknown"}
# hl7.org/fhir/R4B/valueset-item-type.html (R5 drops 'question' and adds 'coding')
ITEM_TYPE = {"group", "display", "boolean", "decimal", "integer", "date", "dateTime", "time"}
ITEM_TYPE |= {"string", "text", "url", "choice", "open-choice", "attachment", "reference"}
ITEM_TYPE |= {"quantity", "coding", "question"}
# hl7.org/fhir/R4B/valueset-bundle-type.html
BUNDLE_TYPE = {"document", "message", "transaction", "transaction-response", "batch"}
BUNDLE_TYPE |= {"batch-response", "history", "searchset", "collection", "subscription-notification"}
# hl7.org/fhir/R4B/valueset-related-artifact-type.html
RELATED_ARTIFACT_TYPE = {"documentation", "justification", "citation", "predecessor"}
RELATED_ARTIFACT_TYPE |= {"successor", "derived-from", "depends-on", "composed-of"}
# terminology.hl7.org/CodeSystem-v3-ActPriority.html
ACT_PRIORITY = {"A", "CR", "CS", "CSP", "CSR", "EL", "EM", "P", "PRN", "R", "RR", "S", "T"}
ACT_PRIORITY |= {"UD", "UR"}
# hl7.org/fhir/R4B/valueset-all-types.html: the types a DataRequirement here may name
DATA_REQUIREMENT_TYPES = {"Observation", "QuestionnaireResponse"}


def response_for(record: dict[str, Any], ruleset: CompiledRuleSet, **extra: Any) -> dict[str, Any]:
    """A QuestionnaireResponse answering `record` (null stays an item with no answer)."""
    items = []
    for flag_id, value in record.items():
        if flag_id == "id":
            continue
        flag = ruleset.flags[flag_id]
        item: dict[str, Any] = {"linkId": flag_id, "text": flag.question}
        if value is not None:
            key = {"bool": "valueBoolean", "int": "valueInteger", "number": "valueDecimal"}
            item["answer"] = [{key[flag.type]: value}]
        items.append(item)
    return {
        "resourceType": "QuestionnaireResponse",
        "status": "completed",
        "questionnaire": "https://redflag.example/fhir/Questionnaire/redflag-spinal",
        "item": items,
        **extra,
    }
