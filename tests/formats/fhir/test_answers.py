"""Reading FHIR: QuestionnaireResponses, Observations and Bundles onto flags, strictly."""

from typing import Any

import pytest

from redflag.core.record import validate_record
from redflag.errors import BadResourceError, BadValueError, InputError, Location, UnknownFlagError
from redflag.formats.fhir.answers import read_answers
from tests.formats.fhir.fhir_helpers import response_for


def item(link_id, **answer):
    return {"linkId": link_id, "answer": [answer]} if answer else {"linkId": link_id}


def response(*items, **extra):
    return {"resourceType": "QuestionnaireResponse", "status": "completed", "item": list(items),
            **extra}  # fmt: skip


def test_answered_items_become_the_record_and_unanswered_ones_stay_unknown(ruleset):
    qr = response(item("back_pain", valueBoolean=True), item("age", valueInteger=70),
                  item("fever"), id="qr-1")  # fmt: skip
    answers = read_answers(qr, ruleset)
    assert answers.record == {"back_pain": True, "age": 70}
    assert answers.record_id == "qr-1"


def test_groups_and_nested_answers_are_read(ruleset):
    qr = response({"linkId": "page-1", "item": [item("cancer_history", valueBoolean=True)]},
                  {"linkId": "back_pain", "answer": [{"valueBoolean": True,
                   "item": [item("night_pain", valueBoolean=False)]}]})  # fmt: skip
    assert read_answers(qr, ruleset).record == {
        "cancer_history": True,
        "back_pain": True,
        "night_pain": False,
    }


BAD_ANSWERS = [
    ({"back_pian": True}, item("back_pian", valueBoolean=True)),
    ({"age": True}, item("age", valueBoolean=True)),
    ({"age": 700}, item("age", valueInteger=700)),
    ({"age": 60.5}, item("age", valueDecimal=60.5)),
    ({"fever": 1}, item("fever", valueInteger=1)),
    ({"fever": "yes"}, item("fever", valueBoolean="yes")),
    ({"temperature": 50.0}, item("temperature", valueDecimal=50.0)),
]


@pytest.mark.parametrize(("record", "bad_item"), BAD_ANSWERS, ids=[str(r) for r, _ in BAD_ANSWERS])
def test_a_bad_item_is_the_same_error_as_in_a_json_record_located_by_its_path(
    ruleset, record, bad_item
):
    with pytest.raises(InputError) as json_err:
        validate_record(record, ruleset, Location("<stdin>"))
    with pytest.raises(InputError) as fhir_err:
        read_answers(response(item("back_pain", valueBoolean=True), bad_item), ruleset)
    assert type(fhir_err.value) is type(json_err.value)
    assert fhir_err.value.code == json_err.value.code
    assert fhir_err.value.message == json_err.value.message
    assert fhir_err.value.hint == json_err.value.hint
    link_id = bad_item["linkId"]
    assert (
        str(fhir_err.value.location)
        == f"<stdin> QuestionnaireResponse.item[1] (linkId '{link_id}')"
    )


def test_an_answer_of_a_type_no_flag_takes_is_named(ruleset):
    with pytest.raises(BadValueError) as err:
        read_answers(response(item("fever", valueCoding={"code": "373066001"})), ruleset)
    assert err.value.message == "'fever' must be true or false, got a Coding"


def test_two_answers_to_one_flag_are_refused(ruleset):
    qr = response({"linkId": "fever", "answer": [{"valueBoolean": True}, {"valueBoolean": False}]})
    with pytest.raises(BadValueError, match="'fever' has 2 answers, a flag takes one"):
        read_answers(qr, ruleset)


def test_a_flag_given_twice_is_refused(ruleset):
    qr = response(item("fever", valueBoolean=True), item("fever", valueBoolean=False))
    with pytest.raises(InputError) as err:
        read_answers(qr, ruleset)
    assert err.value.message == "'fever' is given twice (first at QuestionnaireResponse.item[0])"


def test_a_contradicted_implication_is_bad_value(ruleset):
    qr = response(item("new_back_pain", valueBoolean=True), item("back_pain", valueBoolean=False))
    with pytest.raises(BadValueError, match="implies 'back_pain'"):
        read_answers(qr, ruleset)


def test_a_status_outside_the_value_set_is_refused(ruleset):
    with pytest.raises(BadResourceError) as err:
        read_answers({**response(), "status": "done"}, ruleset)
    assert err.value.code == "bad-fhir"
    assert err.value.message == "status 'done' is not a QuestionnaireResponse status"


def test_an_entered_in_error_response_is_refused(ruleset):
    with pytest.raises(InputError, match="entered-in-error"):
        read_answers({**response(), "status": "entered-in-error"}, ruleset)


def test_a_structurally_invalid_resource_is_bad_fhir_with_its_path(ruleset):
    qr = response(item("fever", valueBoolean=True), authored="yesterday")
    with pytest.raises(BadResourceError) as err:
        read_answers(qr, ruleset)
    assert err.value.message.startswith("QuestionnaireResponse.authored: ")
    assert err.value.message.endswith("(FHIR R4B)")


def test_another_resource_type_is_refused(ruleset):
    with pytest.raises(BadResourceError, match="a 'Patient' resource cannot be read as a record"):
        read_answers({"resourceType": "Patient"}, ruleset)


def observation(code, status="final", **value):
    return {"resourceType": "Observation", "status": status, "code": {"coding": [code]}, **value}


FLAG = "https://redflag.example/fhir/CodeSystem/flag"
LOINC = "http://loinc.org"


def test_observations_map_by_redflag_code_and_by_loinc(ruleset):
    bundle = {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [
            {"resource": observation({"system": FLAG, "code": "fever"}, valueBoolean=True)},
            {"resource": observation({"system": LOINC, "code": "8310-5"},
             valueQuantity={"value": 38.4, "system": "http://unitsofmeasure.org", "code": "Cel"})},
            {"resource": observation({"system": FLAG, "code": "confusion"},
             dataAbsentReason={"text": "not asked"})},
        ],
    }  # fmt: skip
    assert read_answers(bundle, ruleset).record == {"fever": True, "temperature": 38.4}


def test_an_observation_in_another_unit_is_refused_not_converted(ruleset):
    obs = observation({"system": LOINC, "code": "8310-5"},
                      valueQuantity={"value": 101.0, "system": "http://unitsofmeasure.org",
                                     "code": "[degF]"})  # fmt: skip
    with pytest.raises(BadValueError) as err:
        read_answers(obs, ruleset)
    assert err.value.message == "'temperature' is in °C (UCUM 'Cel'), got a quantity in '[degF]'"


def test_an_unmappable_observation_is_an_error(ruleset):
    obs = observation({"system": LOINC, "code": "2345-7"}, valueQuantity={"value": 5.5})
    with pytest.raises(BadResourceError, match="the Observation's code maps onto no flag"):
        read_answers(obs, ruleset)


def test_a_cancelled_observation_is_refused(ruleset):
    obs = observation({"system": FLAG, "code": "fever"}, status="cancelled", valueBoolean=True)
    with pytest.raises(InputError, match="has status 'cancelled'"):
        read_answers(obs, ruleset)


def test_a_search_bundle_skips_included_resources_but_not_other_matches(ruleset):
    qr = response(item("fever", valueBoolean=True), subject={"reference": "Patient/p1"})
    patient = {"resourceType": "Patient", "id": "p1"}
    bundle: dict[str, Any] = {"resourceType": "Bundle", "type": "searchset", "entry": [
        {"resource": qr, "search": {"mode": "match"}},
        {"resource": patient, "search": {"mode": "include"}},
    ]}  # fmt: skip
    answers = read_answers(bundle, ruleset)
    assert answers.record == {"fever": True}
    assert answers.subject == {"reference": "Patient/p1"}
    bundle["entry"][1]["search"]["mode"] = "match"
    with pytest.raises(BadResourceError, match="a 'Patient' resource cannot be read as answers"):
        read_answers(bundle, ruleset)


def test_two_responses_in_a_bundle_are_refused(ruleset):
    qr = response(item("fever", valueBoolean=True))
    bundle = {"resourceType": "Bundle", "type": "searchset",
              "entry": [{"resource": qr}, {"resource": qr}]}  # fmt: skip
    with pytest.raises(InputError, match="more than one QuestionnaireResponse"):
        read_answers(bundle, ruleset)


def test_an_unknown_linkid_has_a_did_you_mean(ruleset):
    with pytest.raises(UnknownFlagError) as err:
        read_answers(response(item("back_pian", valueBoolean=True)), ruleset)
    assert err.value.hint == "did you mean 'back_pain'?"


def test_response_for_answers_every_case_shape(ruleset):
    qr = response_for({"back_pain": True, "age": 70, "fever": None}, ruleset)
    assert read_answers(qr, ruleset, version="R5").record == {"back_pain": True, "age": 70}
