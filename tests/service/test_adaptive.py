"""SDC $next-question over the ask engine: each step is the question `ask` would ask."""

from typing import Any

import pytest

from redflag.core.interview import plan
from redflag.errors import BadResourceError
from redflag.formats.fhir.adaptive import next_question

ANSWER: dict[str, dict[str, bool | int | float]] = {
    "boolean": {"valueBoolean": False}, "integer": {"valueInteger": 30},
    "decimal": {"valueDecimal": 1.0}}  # fmt: skip


def test_each_next_question_is_the_interviews_and_it_completes(ruleset):
    qr: dict[str, Any] = {"resourceType": "QuestionnaireResponse", "status": "in-progress"}
    qr["item"] = []
    record: dict[str, bool | int | float] = {}
    asked: list[str] = []
    clinician = frozenset(f.id for f in ruleset.flags.values() if f.audience == "clinician")
    for _ in range(len(ruleset.flags) + 1):
        out = next_question(qr, ruleset)
        expected = plan(ruleset, record, not_asked=clinician).next_flag
        if out["status"] == "completed":
            assert expected is None
            break
        assert expected is not None
        item = out["contained"][-1]["item"][-1]
        assert item["linkId"] == expected
        assert [i["linkId"] for i in out["contained"][-1]["item"]] == [*asked, expected]
        asked.append(expected)
        value = ANSWER[item["type"]]
        record[expected] = next(iter(value.values()))
        qr = {**out, "item": [*out.get("item", []), {"linkId": expected, "answer": [value]}]}
    else:
        pytest.fail("the adaptive questionnaire never completed")
    assert 0 < len(asked) < len(ruleset.flags)
    assert out["questionnaire"] == "#asked"


def test_an_unanswered_item_is_dont_know_and_not_asked_again(ruleset):
    first = next_question({"resourceType": "QuestionnaireResponse", "status": "in-progress"},
                          ruleset)["contained"][-1]["item"][-1]["linkId"]  # fmt: skip
    qr = {"resourceType": "QuestionnaireResponse", "status": "in-progress",
          "item": [{"linkId": first}]}  # fmt: skip
    out = next_question(qr, ruleset)
    assert out["contained"][-1]["item"][-1]["linkId"] != first


def test_parameters_input_is_unwrapped_and_other_resources_refused(ruleset):
    qr = {"resourceType": "QuestionnaireResponse", "status": "in-progress"}
    params = {"resourceType": "Parameters",
              "parameter": [{"name": "questionnaire-response", "resource": qr}]}  # fmt: skip
    assert next_question(params, ruleset)["resourceType"] == "QuestionnaireResponse"
    with pytest.raises(BadResourceError, match=r"\$next-question takes a QuestionnaireResponse"):
        next_question({"resourceType": "Patient"}, ruleset)


def test_an_emergency_answer_completes_at_once(ruleset):
    items = [{"linkId": f, "answer": [{"valueBoolean": True}]}
             for f in ("cancer_history", "back_pain", "limb_weakness")]  # fmt: skip
    out = next_question(
        {"resourceType": "QuestionnaireResponse", "status": "in-progress", "item": items}, ruleset
    )
    assert out["status"] == "completed"
