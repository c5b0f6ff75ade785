"""`Service.handle`: every route of `redflag serve`, without a network."""

import json

import pytest

from redflag.service.app import Service
from tests.service.hooks import MSCC_ITEMS, patient_view, response, search_bundle


@pytest.fixture(scope="module")
def service(ruleset):
    counter = iter(range(10**6))
    return Service(ruleset, new_uuid=lambda: f"uuid-{next(counter)}")


def post(service, path, body):
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    return service.handle("POST", path, data)


def test_discovery_lists_the_two_services(service):
    reply = service.handle("GET", "/cds-services", None)
    assert reply.status == 200
    assert [s["id"] for s in reply.body["services"]] == [
        "redflag-patient-view",
        "redflag-questionnaire",
    ]


def test_patient_view_with_the_mscc_response_gives_one_critical_card(service):
    reply = post(service, "/cds-services/redflag-patient-view",
                 patient_view(search_bundle(response(MSCC_ITEMS))))  # fmt: skip
    assert reply.status == 200
    (card,) = reply.body["cards"]
    assert card["indicator"] == "critical"
    assert card["summary"].startswith("EMERGENCY: ")
    assert card["uuid"].startswith("uuid-")
    assert reply.log == {"hook": "patient-view"}  # no symptom data in the log


def test_patient_view_without_prefetch_asks_for_the_questionnaire(service):
    reply = post(service, "/cds-services/redflag-patient-view", patient_view())
    (card,) = reply.body["cards"]
    assert card["summary"].startswith("Red-flag questionnaire needed")
    assert "prefetch was absent" in card["detail"]


def test_patient_view_with_an_empty_search_asks_for_the_questionnaire(service):
    reply = post(service, "/cds-services/redflag-patient-view", patient_view(search_bundle()))
    (card,) = reply.body["cards"]
    assert card["indicator"] == "info"
    assert "No QuestionnaireResponse was found for this patient" in card["detail"]


def test_patient_view_refuses_answers_about_another_patient(service):
    body = patient_view(search_bundle(response(MSCC_ITEMS, patient="p2")))
    reply = post(service, "/cds-services/redflag-patient-view", body)
    assert reply.status == 400
    assert reply.body["error"]["code"] == "bad-input"
    assert "Patient/p2, not Patient/p1" in reply.body["error"]["message"]


def test_a_bad_answer_is_the_record_error_with_its_path(service):
    items = [{"linkId": "age", "answer": [{"valueInteger": 700}]}]
    reply = post(service, "/cds-services/redflag-patient-view",
                 patient_view(search_bundle(response(items))))  # fmt: skip
    assert reply.status == 400
    assert reply.body["error"] == {
        "code": "bad-value",
        "message": "prefetch.questionnaireResponse Bundle.entry[0].resource.item[0] "
        "(linkId 'age'): 'age' must be a whole number from 0 to 120 years, got 700",
        "hint": "write a number such as 60, or null if not known",
    }


def test_questionnaire_inprogress_reads_the_response_in_context(service):
    body = {"hook": "questionnaire-inprogress", "hookInstance": "x",
            "context": {"questionnaireResponse": response(MSCC_ITEMS)}}  # fmt: skip
    reply = post(service, "/cds-services/redflag-questionnaire", body)
    assert reply.body["cards"][0]["indicator"] == "critical"


def test_a_hook_sent_to_the_wrong_service_is_refused(service):
    body = {"hook": "order-select", "hookInstance": "x", "context": {"patientId": "p1"}}
    reply = post(service, "/cds-services/redflag-patient-view", body)
    assert reply.status == 400
    assert "answers the hook 'patient-view', not 'order-select'" in reply.body["error"]["message"]


def test_a_request_missing_hook_instance_is_bad_request(service):
    reply = post(service, "/cds-services/redflag-patient-view", {"hook": "patient-view",
                 "context": {}})  # fmt: skip
    assert reply.status == 400
    assert reply.body["error"]["code"] == "bad-request"
    assert reply.body["error"]["message"].startswith("hookInstance: ")


def test_feedback_is_accepted_and_logged_without_content(service):
    body = {"feedback": [{"card": "uuid-1", "outcome": "accepted",
                          "outcomeTimestamp": "2026-12-02T01:00:00Z"}]}  # fmt: skip
    reply = post(service, "/cds-services/redflag-patient-view/feedback", body)
    assert (reply.status, reply.body, reply.log) == (200, {}, {"feedback": ["accepted"]})
    bad = post(service, "/cds-services/redflag-patient-view/feedback", {"feedback": []})
    assert bad.status == 400


def test_check_takes_a_record_or_a_resource_and_returns_the_check_json(service, ruleset):
    from redflag.core.evaluate import evaluate
    from redflag.formats.result_json import result_json

    record = {"back_pain": True, "age": 70}
    reply = post(service, "/check", record)
    assert reply.status == 200
    assert reply.body == result_json(evaluate(ruleset, record), ruleset)
    items = [{"linkId": "back_pain", "answer": [{"valueBoolean": True}]},
             {"linkId": "age", "answer": [{"valueInteger": 70}]}]  # fmt: skip
    assert post(service, "/check", response(items, patient=None)).body["level"] == "soon"


@pytest.mark.parametrize(
    ("body", "code"),
    [(b"{", "bad-json"), (b"[1]", "not-an-object"), (b"", "bad-request"),
     (b'{"back_pian": true}', "unknown-flag"), (b"\xff", "bad-encoding")],
)  # fmt: skip
def test_check_errors_have_the_record_error_codes(service, body, code):
    reply = post(service, "/check", body)
    assert reply.status == 400
    assert reply.body["error"]["code"] == code


def test_unknown_paths_and_methods(service):
    assert service.handle("GET", "/nothing", None).status == 404
    assert service.handle("POST", "/cds-services", b"{}").status == 405
    assert service.handle("GET", "/check", None).status == 405
    assert service.handle("POST", "/cds-services/nope", b"{}").status == 404


def test_fhir_errors_are_operation_outcomes(service):
    reply = post(service, "/fhir/Questionnaire/$next-question", {"resourceType": "Patient"})
    assert reply.status == 400
    assert reply.content_type == "application/fhir+json"
    assert reply.body["resourceType"] == "OperationOutcome"
    assert reply.body["issue"][0]["details"]["coding"] == [
        {"system": "https://redflag.example/fhir/CodeSystem/error", "code": "bad-fhir"}
    ]
    missing = service.handle("GET", "/fhir/Nothing", None)
    assert (missing.status, missing.body["issue"][0]["code"]) == (404, "not-found")


def test_the_questionnaire_is_served(service, ruleset):
    reply = service.handle("GET", "/fhir/Questionnaire", None)
    assert reply.status == 200 and len(reply.body["item"]) == len(ruleset.flags)


def test_log_answers_adds_level_and_answers_only_when_asked(ruleset):
    chatty = Service(ruleset, log_answers=True)
    reply = post(chatty, "/check", {"fever": True})
    assert reply.log["answered"] == {"fever": True}
    assert "level" in reply.log


def test_a_bug_is_a_500_body_and_a_log_entry_not_a_traceback(ruleset, monkeypatch):
    service = Service(ruleset)

    def broken(*args):
        raise ZeroDivisionError("boom")

    monkeypatch.setattr(service, "_route", broken)
    reply = service.handle("POST", "/check", b"{}")
    assert reply.status == 500
    message = "internal error (a bug: please report it)"
    assert reply.body == {"error": {"code": "internal", "message": message, "hint": None}}
    assert reply.log == {"error": "internal", "exception": "ZeroDivisionError"}
    fhir = service.handle("GET", "/fhir/Questionnaire", None)
    assert fhir.status == 500 and fhir.body["resourceType"] == "OperationOutcome"
