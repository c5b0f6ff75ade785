"""Golden files of each kind of document the service writes (reviewed like code)."""

import json
from pathlib import Path

import pytest

from redflag.formats.fhir.codes import validate_resource
from redflag.service.app import Service

EXAMPLE = Path(__file__).resolve().parent.parent.parent / "docs" / "examples"


@pytest.fixture(scope="module")
def service(ruleset):
    return Service(ruleset, new_uuid=lambda: "00000000-0000-4000-8000-000000000000")


def dump(reply):
    return json.dumps({"status": reply.status, "body": reply.body}, indent=2) + "\n"


def test_discovery_golden(service, golden):
    golden("discovery.json", dump(service.handle("GET", "/cds-services", None)))


def test_mscc_card_golden(service, golden):
    body = (EXAMPLE / "patient-view-mscc.json").read_bytes()
    golden(
        "card.mscc.json", dump(service.handle("POST", "/cds-services/redflag-patient-view", body))
    )


def test_questionnaire_needed_card_golden(service, golden):
    body = json.dumps({"hook": "patient-view", "hookInstance": "x",
                       "context": {"patientId": "example"}}).encode()  # fmt: skip
    reply = service.handle("POST", "/cds-services/redflag-patient-view", body)
    golden("card.needed.json", dump(reply))


def test_operation_outcome_golden(service, golden):
    reply = service.handle("POST", "/fhir/Questionnaire/$next-question", b'{"resourceType": "x"}')
    validate_resource(reply.body, "R4B")
    golden("operation-outcome.json", dump(reply))


def test_next_question_golden(service, golden):
    item = {"linkId": "back_pain", "answer": [{"valueBoolean": True}]}
    body = {"resourceType": "QuestionnaireResponse", "status": "in-progress", "item": [item]}
    reply = service.handle("POST", "/fhir/Questionnaire/$next-question", json.dumps(body).encode())
    validate_resource(reply.body, "R4B")
    golden("next-question.json", dump(reply))
