"""FHIR resources -> a validated record: QuestionnaireResponse items and Observations onto
flags (docs/fhir.md, "Reading FHIR").

- A QuestionnaireResponse item's `linkId` is a flag id; an item without an answer is unknown.
- An Observation's code is redflag's flag code (`FLAG_SYSTEM`) or a LOINC code of codes.LOINC.
- A Bundle (a search result, say) may hold one QuestionnaireResponse and any Observations.
Anything that cannot be mapped is an error with its path in the resource, never skipped: an
unknown linkId, a wrong answer type or an out-of-bounds value gives the same error (code,
message, hint) as the same answer in a JSON record.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from redflag.core.compile import CompiledRuleSet
from redflag.core.evaluate import Record, Value
from redflag.core.flags import NumericFlag
from redflag.core.implication import contradiction
from redflag.core.record import RecordId, check_value, contradiction_error, unknown_flag
from redflag.errors import BadResourceError, BadValueError, InputError, Location
from redflag.formats.fhir.codes import (
    FLAG_SYSTEM,
    LOINC,
    LOINC_SYSTEM,
    UCUM_SYSTEM,
    FhirVersion,
    ucum_code,
    validate_resource,
)
from redflag.formats.fhir.plain import is_plain

RESOURCE_KEY = "resourceType"
READABLE = ("QuestionnaireResponse", "Observation", "Bundle")
_OBSERVATION_STATUSES = frozenset({"preliminary", "final", "amended", "corrected"})
# the required value set QuestionnaireResponseStatus (R4B and R5, questionnaireresponse.html)
_RESPONSE_STATUSES = frozenset(
    {"in-progress", "completed", "amended", "entered-in-error", "stopped"}
)
_SKIPPED_SEARCH_MODES = frozenset({"include", "outcome"})


@dataclass(frozen=True)
class Answers:
    """A record read from FHIR, its id (the resource's) and its subject reference, if any."""

    record: Record
    record_id: RecordId | None
    subject: Mapping[str, Any] | None = None


def is_resource(raw: Mapping[str, object]) -> bool:
    """Whether a parsed JSON object is a FHIR resource (a plain record has no resourceType)."""
    return RESOURCE_KEY in raw


def read_answers(
    raw: Mapping[str, Any],
    ruleset: CompiledRuleSet,
    source: str = "<stdin>",
    line: int | None = None,
    version: FhirVersion = "R4B",
) -> Answers:
    """Map a QuestionnaireResponse, an Observation or a Bundle of them onto a record.

    Raises:
        BadResourceError: not a readable resource, or not valid FHIR `version`.
        UnknownFlagError, BadValueError, InputError: as for a JSON record, located by path.
    """
    reader = _Reader(ruleset, source, line)
    kind = raw.get(RESOURCE_KEY)
    if kind not in READABLE:
        raise BadResourceError(
            f"a {kind!r} resource cannot be read as a record",
            location=reader.where(str(kind)),
            hint="give a QuestionnaireResponse, an Observation, or a Bundle of them",
        )
    subject = reader.read(raw, str(kind))
    if not is_plain(raw, version):  # the plain shape is valid FHIR: no need to ask (plain.py)
        validate_resource(raw, version, Location(source, line))
    record = reader.record
    clash = contradiction(record, ruleset.implications)
    if clash is not None:
        raise contradiction_error(*clash, where=Location(source, line))
    resource_id = raw.get("id")
    return Answers(record, resource_id if isinstance(resource_id, str) else None, subject)


class _Reader:
    def __init__(self, ruleset: CompiledRuleSet, source: str, line: int | None) -> None:
        self.ruleset = ruleset
        self.source = source
        self.line = line
        self.record: dict[str, Value] = {}
        self.seen: dict[str, str] = {}  # flag id -> path where it was given

    def where(self, path: str) -> Location:
        return Location(f"{self.source} {path}" if self.source else path, self.line)

    def read(self, resource: Mapping[str, Any], path: str) -> Mapping[str, Any] | None:
        kind = resource.get(RESOURCE_KEY)
        if kind == "QuestionnaireResponse":
            self._response(resource, path)
        elif kind == "Observation":
            self._observation(resource, path)
        elif kind == "Bundle":
            return self._bundle(resource, path)
        subject = resource.get("subject")
        return subject if isinstance(subject, dict) else None

    def _bundle(self, bundle: Mapping[str, Any], path: str) -> Mapping[str, Any] | None:
        entries = _list(bundle.get("entry"), f"{path}.entry", self)
        responses = 0
        subject = None
        for i, entry in enumerate(entries):
            here = f"{path}.entry[{i}]"
            resource = entry.get("resource") if isinstance(entry, dict) else None
            if not isinstance(resource, dict):
                raise BadResourceError(
                    "the entry holds no resource",
                    location=self.where(here),
                    hint="each entry of the Bundle needs a resource",
                )
            kind = resource.get(RESOURCE_KEY)
            mode = (entry.get("search") or {}).get("mode")
            if kind not in ("QuestionnaireResponse", "Observation"):
                if mode in _SKIPPED_SEARCH_MODES:
                    continue  # an _include'd Patient or a search OperationOutcome: not answers
                raise BadResourceError(
                    f"a {kind!r} resource cannot be read as answers",
                    location=self.where(f"{here}.resource"),
                    hint="a Bundle may hold one QuestionnaireResponse and any Observations",
                )
            if kind == "QuestionnaireResponse":
                responses += 1
                if responses > 1:
                    raise InputError(
                        "the Bundle holds more than one QuestionnaireResponse",
                        location=self.where(f"{here}.resource"),
                        hint="send one (the latest: _sort=-authored&_count=1)",
                    )
            found = self.read(resource, f"{here}.resource")
            subject = subject or found
        return subject

    def _response(self, response: Mapping[str, Any], path: str) -> None:
        status = response.get("status")
        if status not in _RESPONSE_STATUSES:
            raise BadResourceError(
                f"status {status!r} is not a QuestionnaireResponse status",
                location=self.where(f"{path}.status"),
                hint="use one of: " + ", ".join(sorted(_RESPONSE_STATUSES)),
            )
        if status == "entered-in-error":
            raise InputError(
                "the QuestionnaireResponse is marked entered-in-error",
                location=self.where(f"{path}.status"),
                hint="send a response that is in-progress, completed or amended",
            )
        self._items(response.get("item"), f"{path}.item")

    def _items(self, items: object, path: str) -> None:
        for i, item in enumerate(_list(items, path, self)):
            here = f"{path}[{i}]"
            if not isinstance(item, dict):
                raise BadResourceError(
                    "an item must be an object", location=self.where(here), hint="see the spec"
                )
            answers = _list(item.get("answer"), f"{here}.answer", self)
            if not answers and item.get("item"):  # a group: its items are the answers
                self._items(item.get("item"), f"{here}.item")
                continue
            link_id = item.get("linkId")
            if not isinstance(link_id, str):
                raise BadResourceError(
                    "the item has no linkId",
                    location=self.where(here),
                    hint="each item's linkId must be a flag id",
                )
            self._answer(link_id, answers, here)
            for j, answer in enumerate(answers):
                if isinstance(answer, dict) and answer.get("item"):
                    self._items(answer.get("item"), f"{here}.answer[{j}].item")
            if item.get("item"):
                self._items(item.get("item"), f"{here}.item")

    def _answer(self, link_id: str, answers: list[Any], here: str) -> None:
        where = self.where(f"{here} (linkId '{link_id}')")
        flag = self.ruleset.flags.get(link_id)
        if flag is None:
            raise unknown_flag(link_id, self.ruleset, where)
        self._once(link_id, here, where)
        if not answers:
            return  # unanswered: unknown
        if len(answers) > 1:
            raise BadValueError(
                f"'{link_id}' has {len(answers)} answers, a flag takes one",
                location=where,
                hint="give one answer, or none if not known",
            )
        answer = answers[0]
        value = self._value(flag.id, answer if isinstance(answer, dict) else {}, where)
        self.record[flag.id] = check_value(flag, value, where)

    def _once(self, flag_id: str, here: str, where: Location) -> None:
        if flag_id in self.seen:
            raise InputError(
                f"'{flag_id}' is given twice (first at {self.seen[flag_id]})",
                location=where,
                hint="give each flag once",
            )
        self.seen[flag_id] = here

    def _value(self, flag_id: str, holder: Mapping[str, Any], where: Location) -> object:
        keys = [k for k in holder if k.startswith("value")]
        if len(keys) != 1:
            raise BadValueError(
                f"'{flag_id}' needs exactly one value[x], got {len(keys)}",
                location=where,
                hint="answer with valueBoolean, valueInteger, valueDecimal or valueQuantity",
            )
        (key,) = keys
        value = holder[key]
        if key == "valueQuantity" and isinstance(value, dict):
            self._check_unit(flag_id, value, where)
            return value.get("value")
        if key in ("valueBoolean", "valueInteger", "valueDecimal", "valueString"):
            return value
        return _Shown(key)

    def _check_unit(self, flag_id: str, quantity: Mapping[str, Any], where: Location) -> None:
        flag = self.ruleset.flags[flag_id]
        if not isinstance(flag, NumericFlag):
            return  # a bool flag has no unit; check_value refuses the quantity's number
        expected = ucum_code(flag)
        code = quantity.get("code")
        if expected is None or code is None:
            return  # no coded unit to compare: the value's bounds are still checked
        if quantity.get("system", UCUM_SYSTEM) != UCUM_SYSTEM:
            code = f"{code} ({quantity.get('system')})"
        if code != expected:
            raise BadValueError(
                f"'{flag_id}' is in {flag.unit} (UCUM '{expected}'), got a quantity in {code!r}",
                location=where,
                hint=f"convert the value to {flag.unit}; redflag never converts units",
            )

    def _observation(self, obs: Mapping[str, Any], path: str) -> None:
        flag_id = self._observation_flag(obs, path)
        here = path
        where = self.where(f"{here} (flag '{flag_id}')")
        self._once(flag_id, here, where)
        status = obs.get("status")
        if status not in _OBSERVATION_STATUSES:
            raise InputError(
                f"the Observation of '{flag_id}' has status {status!r}",
                location=self.where(f"{path}.status"),
                hint="only preliminary, final, amended or corrected results are read",
            )
        if not any(k.startswith("value") for k in obs) and "dataAbsentReason" in obs:
            return  # no value, and a reason why: unknown
        value = self._value(flag_id, obs, where)
        self.record[flag_id] = check_value(self.ruleset.flags[flag_id], value, where)

    def _observation_flag(self, obs: Mapping[str, Any], path: str) -> str:
        code = obs.get("code")
        codings = code.get("coding") if isinstance(code, dict) else None
        loinc = {v: k for k, v in LOINC.items() if k in self.ruleset.flags}
        for coding in codings if isinstance(codings, list) else []:
            if not isinstance(coding, dict):
                continue
            if coding.get("system") == FLAG_SYSTEM:
                flag_id = str(coding.get("code"))
                if flag_id not in self.ruleset.flags:
                    raise unknown_flag(flag_id, self.ruleset, self.where(f"{path}.code"))
                return flag_id
            if coding.get("system") == LOINC_SYSTEM and coding.get("code") in loinc:
                return loinc[str(coding.get("code"))]
        raise BadResourceError(
            "the Observation's code maps onto no flag",
            location=self.where(f"{path}.code"),
            hint=f"code it in {FLAG_SYSTEM} (the flag id) or with a LOINC code of docs/fhir.md",
        )


class _Shown:
    """An answer of a type no flag takes: check_value's message shows it by its FHIR name."""

    def __init__(self, key: str) -> None:
        self.key = key

    def __repr__(self) -> str:
        return f"a {self.key[5:]}"


def _list(value: object, path: str, reader: _Reader) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise BadResourceError(
            f"{path.rsplit('.', 1)[-1]} must be a list",
            location=reader.where(path),
            hint="FHIR JSON writes repeating elements as arrays",
        )
    return value
