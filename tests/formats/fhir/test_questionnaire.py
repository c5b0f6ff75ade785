"""`build_questionnaire`: one item per flag, valid FHIR R4B and R5, invariants hold."""

import json

import fhirpathpy
import pytest

from redflag.core.flags import NumericFlag
from redflag.formats.fhir.codes import MAX_VALUE_EXTENSION, MIN_VALUE_EXTENSION, validate_resource
from redflag.formats.fhir.questionnaire import build_questionnaire
from tests.formats.fhir.fhir_helpers import ITEM_TYPE, PUBLICATION_STATUS


@pytest.mark.parametrize("version", ["R4B", "R5"])
def test_questionnaire_has_one_item_per_flag_and_validates(ruleset, version):
    q = build_questionnaire(ruleset, version)
    validate_resource(q, version)
    assert [i["linkId"] for i in q["item"]] == list(ruleset.flags)
    assert q["status"] in PUBLICATION_STATUS and q["status"] == "draft"
    assert q["version"] == ruleset.meta.version
    assert {"system": "https://redflag.example/fhir/ruleset-sha256", "value": ruleset.sha256} in (
        q["identifier"]
    )
    for item in q["item"]:
        flag = ruleset.flags[item["linkId"]]
        assert item["type"] in ITEM_TYPE
        assert item["type"] == {"bool": "boolean", "int": "integer", "number": "decimal"}[flag.type]
        assert item["text"] == flag.question
        assert "enableWhen" not in item
        audience = [e["valueCode"] for e in item["extension"] if e["url"].endswith("audience")]
        assert audience == [flag.audience]
        if isinstance(flag, NumericFlag):
            bounds = {
                e["url"]: next(v for k, v in e.items() if k.startswith("value"))
                for e in item["extension"]
                if e["url"] in (MIN_VALUE_EXTENSION, MAX_VALUE_EXTENSION)
            }
            assert bounds == {MIN_VALUE_EXTENSION: flag.min, MAX_VALUE_EXTENSION: flag.max}
        if flag.help:
            assert item["item"][0]["type"] == "display"


def test_clinician_flags_are_marked_and_age_has_its_ucum_unit(ruleset):
    items = {i["linkId"]: i for i in build_questionnaire(ruleset)["item"]}
    assert {"url": "https://redflag.example/fhir/StructureDefinition/flag-audience",
            "valueCode": "clinician"} in items["corrected_calcium"]["extension"]  # fmt: skip
    units = [e["valueCoding"] for e in items["temperature"]["extension"] if "valueCoding" in e]
    assert units == [{"system": "http://unitsofmeasure.org", "code": "Cel", "display": "°C"}]


# Invariants of the specification (hl7.org/fhir/R4B/questionnaire.html#invs), as FHIRPath
INVARIANTS = {
    "que-2 linkIds are unique": "descendants().linkId.isDistinct()",
    "que-1 display items have no children": "descendants().where(type = 'display')"
    ".all(item.empty())",
    "que-6 display items are neither required nor repeat": "descendants()"
    ".where(type = 'display').all(required.empty() and repeats.empty())",
    "que-0 name is computable": "name.exists() implies "
    "name.matches('^[A-Z]([A-Za-z0-9_]){0,254}$')",
    "que-9 read-only is not for display items": "descendants().where(type = 'display')"
    ".all(readOnly.empty())",
}


@pytest.mark.parametrize("name", INVARIANTS)
def test_questionnaire_invariant_holds(ruleset, name):
    q = build_questionnaire(ruleset)
    assert fhirpathpy.evaluate(q, INVARIANTS[name]) == [True]


def test_an_invariant_check_can_fail():
    # the checks above are not vacuous: a duplicated linkId breaks que-2
    q = {"resourceType": "Questionnaire", "item": [{"linkId": "a"}, {"linkId": "a"}]}
    assert fhirpathpy.evaluate(q, INVARIANTS["que-2 linkIds are unique"]) == [False]


def test_questionnaire_golden(ruleset, golden):
    golden("questionnaire.R4B.json", json.dumps(build_questionnaire(ruleset), indent=2) + "\n")
