"""Requests -> replies for `redflag serve`: discovery, hooks, feedback, `/check`, FHIR.

No sockets here: `Service.handle(method, path, body)` returns a `Reply`, so every route is
tested without a network, and server.py stays a thin transport. Every error is a reply with
a body, never a traceback: an OperationOutcome on the FHIR endpoints (`/fhir/...`), the
`{"error": {...}}` body of formats/cds_hooks.py elsewhere.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from redflag.core.compile import CompiledRuleSet
from redflag.core.evaluate import Record, Result
from redflag.core.record import validate_record
from redflag.errors import InputError, Location, RedflagError
from redflag.formats import cds_hooks
from redflag.formats.fhir.codes import ERROR_SYSTEM, FhirVersion
from redflag.service.evaluator import QuickEvaluator

MAX_BODY_BYTES = 1024 * 1024  # as a record on stdin (formats/records.py MAX_RECORD_BYTES)
FHIR_JSON = "application/fhir+json"


@dataclass(frozen=True)
class Reply:
    """An HTTP reply: status, JSON body, content type; `log` adds fields to the request log."""

    status: int
    body: Mapping[str, Any]
    content_type: str = "application/json"
    log: Mapping[str, Any] = field(default_factory=dict)


class HttpError(Exception):
    """A request the service refuses: its status and redflag error code."""

    def __init__(self, status: int, code: str, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.hint = hint


class Service:
    """The routes of `redflag serve` over one loaded rule set."""

    def __init__(
        self,
        ruleset: CompiledRuleSet,
        version: FhirVersion = "R4B",
        *,
        log_answers: bool = False,
        new_uuid: Callable[[], str] = lambda: str(uuid.uuid4()),
    ) -> None:
        self.ruleset = ruleset
        self.version = version
        self.log_answers = log_answers
        self.new_uuid = new_uuid
        self.services = {s.id: s for s in cds_hooks.services(ruleset)}
        self.evaluate = QuickEvaluator(ruleset).evaluate
        self.cards = cds_hooks.Cards(ruleset)
        self._questionnaire: dict[str, Any] | None = None

    def warm(self) -> None:
        """Exercise the hot path once (a hook's answers read, evaluated, made a card), so the
        first request is as fast as the rest; check that the `fhir` extra is installed.

        Raises:
            MissingExtraError: no fhir.resources.
        """
        from redflag.formats.fhir.answers import read_answers
        from redflag.formats.fhir.codes import require_fhir_resources

        require_fhir_resources()
        qr = {"resourceType": "QuestionnaireResponse", "status": "completed", "item": []}
        bundle = {"resourceType": "Bundle", "type": "searchset", "entry": [{"resource": qr}]}
        read_answers(bundle, self.ruleset, version=self.version)
        cds_hooks.cards_json([self.cards.result_card(self.evaluate({}), "")])

    def warm_fhir(self) -> None:
        """Import fhir.resources' models and build the Questionnaire: a few hundred ms, run
        once the service listens (server.serve), so start-up to the first answer does not
        wait for them (issue 16); a request needing them before that waits for the import."""
        from redflag.formats.fhir.codes import validate_resource

        self.questionnaire()
        qr = {"resourceType": "QuestionnaireResponse", "status": "completed", "item": []}
        bundle = {"resourceType": "Bundle", "type": "searchset", "entry": [{"resource": qr}]}
        validate_resource(bundle, self.version)

    def questionnaire(self) -> dict[str, Any]:
        """The generated Questionnaire (built once)."""
        if self._questionnaire is None:
            from redflag.formats.fhir.questionnaire import build_questionnaire

            self._questionnaire = build_questionnaire(self.ruleset, self.version)
        return self._questionnaire

    def handle(self, method: str, path: str, body: bytes | None) -> Reply:
        """Route one request; any RedflagError or HttpError becomes an error reply."""
        path = path.split("?", 1)[0].rstrip("/") or "/"
        fhir = path.startswith("/fhir/")
        try:
            return self._route(method, path, body)
        except HttpError as err:
            return _error(err.status, err.code, err.message, err.hint, fhir)
        except RedflagError as err:
            return _error(400, err.code, _message(err), err.hint, fhir)
        except Exception as err:
            # A bug. This is the service's top-level handler for one request (as cli/handler.py
            # is for a command): the client gets a 500 body, the log the exception's type, and
            # the other requests go on. Never a traceback on the wire.
            reply = _error(500, "internal", "internal error (a bug: please report it)", None, fhir)
            return Reply(reply.status, reply.body, reply.content_type, {"error": "internal",
                         "exception": type(err).__name__})  # fmt: skip

    def _route(self, method: str, path: str, body: bytes | None) -> Reply:
        parts = path.strip("/").split("/")
        if path == "/cds-services":
            _allow(method, "GET")
            descriptors = [s.model_dump(exclude_none=True) for s in self.services.values()]
            return Reply(200, {"services": descriptors})
        if parts[0] == "cds-services" and len(parts) in (2, 3):
            service = self.services.get(parts[1])
            if service is None or (len(parts) == 3 and parts[2] != "feedback"):
                raise HttpError(404, "not-found", f"no CDS service at {path}", "GET /cds-services")
            _allow(method, "POST")
            raw = _json_body(body)
            if len(parts) == 3:
                return self._feedback(raw)
            return self._hook(service.id, service.hook, raw)
        if path == "/check":
            _allow(method, "POST")
            return self._check(_json_body(body))
        if path == "/fhir/Questionnaire" or path == f"/fhir/Questionnaire/{self.ruleset.meta.id}":
            _allow(method, "GET")
            return Reply(200, self.questionnaire(), FHIR_JSON)
        if path == "/fhir/Questionnaire/$next-question":
            _allow(method, "POST")
            from redflag.formats.fhir.adaptive import next_question

            raw = _json_body(body)
            return Reply(200, next_question(raw, self.ruleset, self.version), FHIR_JSON)
        raise HttpError(404, "not-found", f"nothing at {path}", "see GET /cds-services")

    def _check(self, raw: dict[str, Any]) -> Reply:
        from redflag.formats.result_json import result_json

        if "resourceType" in raw:
            from redflag.formats.fhir.answers import read_answers

            answers = read_answers(raw, self.ruleset, "<body>", version=self.version)
            record, record_id = answers.record, answers.record_id
        else:
            record, record_id = validate_record(raw, self.ruleset, Location("<body>"))
        result = self.evaluate(record, record_id)
        return Reply(200, result_json(result, self.ruleset), log=self._result_log(result))

    def _hook(self, service_id: str, hook: str, raw: dict[str, Any]) -> Reply:
        try:
            request = cds_hooks.HookRequest.model_validate(raw)
        except ValidationError as err:
            first = err.errors()[0]
            where = ".".join(str(p) for p in first["loc"])
            raise HttpError(
                400, "bad-request", f"{where}: {first['msg']}", f"see {cds_hooks.SPEC}"
            ) from None
        if request.hook != hook:
            raise HttpError(
                400,
                "bad-request",
                f"service '{service_id}' answers the hook '{hook}', not '{request.hook}'",
                "call the service whose hook this is (GET /cds-services)",
            )
        found, where = self._hook_answers(hook, request)
        if found is None:
            card = cds_hooks.questionnaire_needed_card(self.ruleset, self.new_uuid(), where)
            return Reply(200, cds_hooks.cards_json([card]), log={"hook": hook, "answers": False})
        record = self._read_hook_answers(found, where, request)
        result = self.evaluate(record)
        card = self.cards.result_card(result, self.new_uuid())
        return Reply(
            200, cds_hooks.cards_json([card]), log={"hook": hook, **self._result_log(result)}
        )

    def _hook_answers(
        self, hook: str, request: cds_hooks.HookRequest
    ) -> tuple[Mapping[str, Any] | None, str]:
        """The resource holding the answers, or None and why there is none."""
        if hook == "patient-view":
            patient = request.context.get("patientId")
            if not isinstance(patient, str) or not patient:
                raise HttpError(
                    400, "bad-request", "context.patientId is missing", "patient-view needs it"
                )
        prefetch = (request.prefetch or {}).get(cds_hooks.PREFETCH_KEY)
        if hook == "questionnaire-inprogress":
            prefetch = request.context.get(cds_hooks.PREFETCH_KEY) or prefetch
        if prefetch is None:
            return None, "The CDS client sent no QuestionnaireResponse (prefetch was absent)."
        if not isinstance(prefetch, dict):
            raise HttpError(
                400, "bad-request", "prefetch.questionnaireResponse is not a resource", None
            )
        if prefetch.get("resourceType") == "Bundle":
            kinds = [
                (e.get("resource") or {}).get("resourceType")
                for e in prefetch.get("entry") or []
                if isinstance(e, dict)
            ]
            if not {"QuestionnaireResponse", "Observation"} & set(kinds):
                return None, "No QuestionnaireResponse was found for this patient."
        return prefetch, "prefetch.questionnaireResponse"

    def _read_hook_answers(
        self, found: Mapping[str, Any], where: str, request: cds_hooks.HookRequest
    ) -> Record:
        from redflag.formats.fhir.answers import read_answers

        answers = read_answers(found, self.ruleset, where, version=self.version)
        patient = request.context.get("patientId")
        reference = (answers.subject or {}).get("reference")
        if isinstance(patient, str) and reference and reference != f"Patient/{patient}":
            raise InputError(
                f"the answers are about {reference}, not Patient/{patient}",
                location=Location(where),
                hint="send the patient's own QuestionnaireResponse",
            )
        return answers.record

    def _feedback(self, raw: dict[str, Any]) -> Reply:
        try:
            feedback = cds_hooks.Feedback.model_validate(raw)
        except ValidationError as err:
            first = err.errors()[0]
            where = ".".join(str(p) for p in first["loc"])
            raise HttpError(400, "bad-request", f"{where}: {first['msg']}", None) from None
        outcomes = [f.outcome for f in feedback.feedback]
        return Reply(200, {}, log={"feedback": outcomes})

    def _result_log(self, result: Result) -> dict[str, Any]:
        if not self.log_answers:
            return {}
        return {"level": result.level.id, "answered": dict(result.record)}


def _allow(method: str, allowed: str) -> None:
    if method != allowed:
        raise HttpError(405, "method-not-allowed", f"use {allowed} here, not {method}", None)


def _json_body(body: bytes | None) -> dict[str, Any]:
    from redflag.formats.records import decode_record_bytes, parse_json_object

    if not body:
        raise HttpError(400, "bad-request", "the request has no body", "send one JSON object")
    return parse_json_object(decode_record_bytes(body, "<body>"), "<body>")


def _message(err: RedflagError) -> str:
    where = f"{err.location}: " if err.location is not None else ""
    return f"{where}{err.message}"


def _error(status: int, code: str, message: str, hint: str | None, fhir: bool) -> Reply:
    if not fhir:
        return Reply(status, cds_hooks.error_json(code, message, hint), log={"error": code})
    issue: dict[str, Any] = {
        "severity": "error",
        "code": "invalid" if status == 400 else ("not-found" if status == 404 else "not-supported"),
        "details": {"coding": [{"system": ERROR_SYSTEM, "code": code}], "text": message},
    }
    if hint:
        issue["diagnostics"] = hint
    outcome = {"resourceType": "OperationOutcome", "issue": [issue]}
    return Reply(status, outcome, FHIR_JSON, log={"error": code})


def error_reply(status: int, code: str, message: str, path: str) -> Reply:
    """An error reply for a request refused before routing (too large, too slow)."""
    return _error(status, code, message, None, path.startswith("/fhir/"))
