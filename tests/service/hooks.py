"""CDS Hooks request bodies for the service tests."""

from __future__ import annotations

from typing import Any

MSCC_ITEMS = [
    {"linkId": f, "answer": [{"valueBoolean": True}]}
    for f in ("cancer_history", "back_pain", "limb_weakness")
]


def response(items: list[dict[str, Any]], patient: str | None = "p1") -> dict[str, Any]:
    qr: dict[str, Any] = {"resourceType": "QuestionnaireResponse", "status": "completed"}
    if patient:
        qr["subject"] = {"reference": f"Patient/{patient}"}
    qr["item"] = items
    return qr


def search_bundle(*resources: dict[str, Any]) -> dict[str, Any]:
    return {
        "resourceType": "Bundle",
        "type": "searchset",
        "entry": [{"resource": r, "search": {"mode": "match"}} for r in resources],
    }


def patient_view(prefetch: Any = None, patient: str = "p1", **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "hook": "patient-view",
        "hookInstance": "d1577c69-dfbe-44ad-ba6d-3e05e953b2ea",
        "context": {"userId": "Practitioner/example", "patientId": patient},
        **extra,
    }
    if prefetch is not None:
        body["prefetch"] = {"questionnaireResponse": prefetch}
    return body
