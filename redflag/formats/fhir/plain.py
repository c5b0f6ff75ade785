"""A fast, conservative check that a resource read as answers is valid FHIR: `is_plain`.

`fhir.resources` checks a QuestionnaireResponse in about 0.5 ms, most of a `patient-view`
hook's time (issue 16 targets). Most answers come in one plain shape: a response (alone or
in a search Bundle) of linkIds with boolean, integer or decimal answers. `is_plain` accepts
only that shape, with every value of a type and form `fhir.resources` accepts, and says no
to anything else, which then goes to `fhir.resources` as before (the fast path where it is
sure, the full validator for the rest, as docs/PERFORMANCE.md advises). So it never changes
an answer: what it accepts, `fhir.resources` accepts (tests/formats/fhir/test_plain.py
checks that on generated resources, for R4B and R5), and what it refuses gets the same
error as ever. No I/O; it also says no when the `fhir` extra is not installed, so that case
still gets its missing-extra error.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from datetime import date
from typing import Any

from redflag.formats.fhir.codes import FhirVersion, has_fhir_resources

_MAX_DEPTH = 8  # nested items deeper than this go to fhir.resources
_INT32 = 2**31
# the FHIR `id` datatype (datatypes.html#id)
_ID = re.compile(r"[A-Za-z0-9\-.]{1,64}")
# a `uri` or `canonical` with nothing to doubt: printable ASCII, no space
_URI = re.compile(r"[!-~]{1,4096}")
# `dateTime` (datatypes.html#dateTime) narrowed to a whole date, or a date and a time to the
# second (fraction optional) with a zone in FHIR's range; the date itself is checked below
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_DATE_TIME = re.compile(
    r"(\d{4}-\d{2}-\d{2})T([01]\d|2[0-3]):[0-5]\d:[0-5]\d(\.\d{1,9})?"
    r"(Z|[+-](0\d|1[0-3]):[0-5]\d|[+-]14:00)"
)
_RESPONSE_STATUSES = frozenset({"in-progress", "completed", "amended", "stopped"})
_BUNDLE_TYPES = frozenset({"searchset", "collection", "document", "message", "transaction"})
_SEARCH_MODES = frozenset({"match", "include", "outcome"})
_RESPONSE_KEYS = frozenset(
    {"resourceType", "id", "status", "subject", "authored", "questionnaire", "item"}
)
_ITEM_KEYS = frozenset({"linkId", "text", "answer", "item"})
_BUNDLE_KEYS = frozenset({"resourceType", "id", "type", "total", "entry"})
_ENTRY_KEYS = frozenset({"fullUrl", "resource", "search"})
_REFERENCE_KEYS = frozenset({"reference", "display"})


def is_plain(resource: Mapping[str, Any], version: FhirVersion) -> bool:
    """Whether `resource` is a QuestionnaireResponse, or a Bundle of one, of the plain shape
    above, and so certainly valid FHIR `version` (False: not known, ask fhir.resources)."""
    if not has_fhir_resources():
        return False
    kind = resource.get("resourceType")
    if kind == "QuestionnaireResponse":
        return _response(resource, version)
    if kind != "Bundle" or not resource.keys() <= _BUNDLE_KEYS:
        return False
    total = resource.get("total", 0)
    entries = resource.get("entry")
    return (
        _is_code(resource.get("type"), _BUNDLE_TYPES)
        and _optional_id(resource)
        and type(total) is int
        and 0 <= total < _INT32
        and isinstance(entries, list)
        and bool(entries)
        and all(_entry(e, version) for e in entries)
    )


def _entry(entry: object, version: FhirVersion) -> bool:
    if not isinstance(entry, dict) or not entry.keys() <= _ENTRY_KEYS:
        return False
    resource = entry.get("resource")
    search = entry.get("search", {"mode": "match"})
    return (
        isinstance(resource, dict)
        and resource.get("resourceType") == "QuestionnaireResponse"
        and _response(resource, version)
        and ("fullUrl" not in entry or _is_uri(entry["fullUrl"]))
        and isinstance(search, dict)
        and search.keys() == {"mode"}
        and _is_code(search["mode"], _SEARCH_MODES)
    )


def _response(response: Mapping[str, Any], version: FhirVersion) -> bool:
    if not response.keys() <= _RESPONSE_KEYS:
        return False
    if version == "R5" and "questionnaire" not in response:
        return False  # required (1..1) in R5
    return (
        _is_code(response.get("status"), _RESPONSE_STATUSES)
        and _optional_id(response)
        and ("questionnaire" not in response or _is_uri(response["questionnaire"]))
        and ("authored" not in response or _is_date_time(response["authored"]))
        and ("subject" not in response or _reference(response["subject"]))
        and ("item" not in response or _items(response["item"], 0))
    )


def _items(items: object, depth: int) -> bool:
    if depth > _MAX_DEPTH or not isinstance(items, list):
        return False
    for item in items:
        if not isinstance(item, dict) or not item.keys() <= _ITEM_KEYS:
            return False
        if not _is_text(item.get("linkId")):
            return False
        if "text" in item and not _is_text(item["text"]):
            return False
        if "item" in item and not _items(item["item"], depth + 1):
            return False
        if "answer" not in item:
            continue
        answers = item["answer"]
        if not isinstance(answers, list):
            return False
        for answer in answers:
            if not _answer(answer, depth):
                return False
    return True


def _answer(answer: object, depth: int) -> bool:
    if not isinstance(answer, dict):
        return False
    keys = [k for k in answer if k != "item"]
    if len(keys) != 1:
        return False
    if "item" in answer and not _items(answer["item"], depth + 1):
        return False
    (key,) = keys
    value = answer[key]
    if key == "valueBoolean":
        return type(value) is bool
    if key == "valueInteger":
        return type(value) is int and -_INT32 <= value < _INT32
    if key == "valueDecimal":
        if type(value) is int:
            return -_INT32 <= value < _INT32
        return type(value) is float and math.isfinite(value)
    return False


def _reference(value: object) -> bool:
    return (
        isinstance(value, dict)
        and bool(value)
        and value.keys() <= _REFERENCE_KEYS
        and all(_is_text(v) for v in value.values())
    )


def _optional_id(resource: Mapping[str, Any]) -> bool:
    if "id" not in resource:
        return True
    value = resource["id"]
    return isinstance(value, str) and _ID.fullmatch(value) is not None


def _is_code(value: object, codes: frozenset[str]) -> bool:
    return isinstance(value, str) and value in codes


def _is_text(value: object) -> bool:
    """A FHIR `string` with nothing to doubt: printable, not blank, no space at either end."""
    return (
        isinstance(value, str)
        and 0 < len(value) <= 4096
        and value.isprintable()
        and not value[0].isspace()
        and not value[-1].isspace()
    )


def _is_uri(value: object) -> bool:
    return isinstance(value, str) and _URI.fullmatch(value) is not None


def _is_date_time(value: object) -> bool:
    if not isinstance(value, str):
        return False
    if _DATE.fullmatch(value):
        day = value
    else:
        match = _DATE_TIME.fullmatch(value)
        if match is None:
            return False
        day = match.group(1)
    try:
        date.fromisoformat(day)  # a real day: no 2024-02-30 (years 0001 to 9999)
    except ValueError:
        return False
    return True
