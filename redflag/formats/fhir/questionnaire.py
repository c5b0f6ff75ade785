"""RuleSet -> a FHIR Questionnaire: one item per flag, linkId = flag id (docs/fhir.md).

No item is gated with `enableWhen`: a rule written `cancer_history or bone_metastases`
must be able to see a yes to `bone_metastases` even when `cancer_history` is unanswered.
"""

from __future__ import annotations

from typing import Any

from redflag.core.compile import CompiledRuleSet
from redflag.core.flags import CompiledFlag, NumericFlag
from redflag.formats.fhir.codes import (
    AUDIENCE_EXTENSION,
    BASE,
    ITEM_CONTROL_EXTENSION,
    ITEM_CONTROL_SYSTEM,
    MAX_VALUE_EXTENSION,
    MIN_VALUE_EXTENSION,
    RULESET_SYSTEM,
    SHA256_SYSTEM,
    UCUM_SYSTEM,
    UNIT_EXTENSION,
    FhirVersion,
    ucum_code,
    validate_resource,
)
from redflag.formats.result_json import prose

_ITEM_TYPE = {"bool": "boolean", "int": "integer", "number": "decimal"}
_STATUS = {"draft": "draft", "approved": "active"}


def build_questionnaire(ruleset: CompiledRuleSet, version: FhirVersion = "R4B") -> dict[str, Any]:
    """The rule set's flags as a Questionnaire, validated as FHIR `version`.

    The rule set's id and version are the Questionnaire's url, version and identifier; its
    sha256 a second identifier; its status `draft` or (approved) `active`.
    """
    meta = ruleset.meta
    out: dict[str, Any] = {
        "resourceType": "Questionnaire",
        "id": meta.id,
        "url": f"{BASE}/Questionnaire/{meta.id}",
        "identifier": [
            {"system": RULESET_SYSTEM, "value": meta.id},
            {"system": SHA256_SYSTEM, "value": ruleset.sha256},
        ],
        "version": meta.version,
        "name": _computable_name(meta.id),
        "title": meta.name,
        "status": _STATUS[meta.status],
        "experimental": meta.status == "draft",
        "subjectType": ["Patient"],
        "description": prose(meta.description),
        "item": [flag_item(flag) for flag in ruleset.flags.values()],
    }
    validate_resource(out, version)
    return out


def _computable_name(ruleset_id: str) -> str:
    # FHIR's inv-0 / cnl-0: a name starts with a capital and holds letters, digits and '_'
    words = "".join(ch if ch.isalnum() else " " for ch in ruleset_id).split()
    name = "".join(w[:1].upper() + w[1:] for w in words) or "Redflag"
    return name if name[0].isalpha() else f"R{name}"


def flag_item(flag: CompiledFlag) -> dict[str, Any]:
    """One flag as a Questionnaire item (its help as a display child)."""
    item: dict[str, Any] = {
        "linkId": flag.id,
        "text": flag.question,
        "type": _ITEM_TYPE[flag.type],
        "extension": [{"url": AUDIENCE_EXTENSION, "valueCode": flag.audience}],
    }
    if isinstance(flag, NumericFlag):
        kind = "valueInteger" if flag.type == "int" else "valueDecimal"
        low, high = (int(flag.min), int(flag.max)) if flag.type == "int" else (flag.min, flag.max)
        item["extension"] += [
            {"url": MIN_VALUE_EXTENSION, kind: low},
            {"url": MAX_VALUE_EXTENSION, kind: high},
        ]
        if flag.unit:
            coding: dict[str, Any] = {"display": flag.unit}
            code = ucum_code(flag)
            if code is not None:
                coding = {"system": UCUM_SYSTEM, "code": code, "display": flag.unit}
            item["extension"].append({"url": UNIT_EXTENSION, "valueCoding": coding})
    if flag.help:
        item["item"] = [
            {
                "linkId": f"{flag.id}.help",
                "text": prose(flag.help),
                "type": "display",
                "extension": [
                    {
                        "url": ITEM_CONTROL_EXTENSION,
                        "valueCodeableConcept": {
                            "coding": [{"system": ITEM_CONTROL_SYSTEM, "code": "help"}]
                        },
                    }
                ],
            }
        ]
    return item
