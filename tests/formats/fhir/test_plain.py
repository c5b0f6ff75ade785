"""The plain-shape fast path never accepts what fhir.resources refuses (formats/fhir/plain.py).

Generated resources mix the plain shape with what falls outside it (other keys, values of
the wrong type or form, empty lists, nulls); whenever `is_plain` says yes, fhir.resources
must accept the resource too, for R4B and for R5.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from redflag.errors import BadResourceError
from redflag.formats.fhir.answers import read_answers
from redflag.formats.fhir.codes import validate_resource
from redflag.formats.fhir.plain import is_plain
from tests.formats.fhir.fhir_helpers import response_for
from tests.fuzzing import examples

TEXTS = ["back_pain", "age", " a", "a ", "", "\t", "a\nb", "é", "a\x00", "Patient/p1", "x" * 5000]
TEXT = st.sampled_from(TEXTS) | st.text(max_size=8)
LINK_ID = st.sampled_from(["back_pain", "age", "fever", "night_pain"])
SCALAR = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**40), 2**40) | st.sampled_from([2**31 - 1, 2**31, -(2**31), -(2**31) - 1]),
    st.floats(allow_nan=False) | st.sampled_from([1.5, 1e300, -0.0]),
    TEXT,
    st.just([]),
    st.just({}),
)
DATES = ["2024-01-02", "2024-02-30", "2024-01-02T03:04:05Z", "2024-01-02T03:04:05.123+01:00"]
DATES += ["2024-01-02T03:04:05", "2024-01-02T24:00:00Z", "0000-01-01", "2024-01-02T03:04:05+14:30"]


def _one_in(draw, n):
    """True about once in n + 1 draws (False is what hypothesis shrinks to: the plain shape)."""
    return draw(st.sampled_from([False] * n + [True]))


def _maybe(draw, strategy, otherwise):
    """Now and then (one time in 15) something else than the plain value."""
    return draw(strategy) if _one_in(draw, 14) else otherwise


@st.composite
def answers(draw):
    key = draw(st.sampled_from(["valueBoolean"] * 4 + ["valueInteger", "valueDecimal"]))
    key = _maybe(draw, st.sampled_from(["valueString", "valueCoding"]), key)
    value = _maybe(draw, SCALAR, draw(SCALAR if key == "valueString" else st.integers(0, 120)))
    if key == "valueBoolean":
        value = _maybe(draw, SCALAR, draw(st.booleans()))
    answer = {key: value}
    if _one_in(draw, 20):
        answer["valueInteger"] = 1
    if _one_in(draw, 8):
        answer["item"] = draw(items(depth=1))
    return answer


@st.composite
def items(draw, depth=0):
    out = []
    for _ in range(draw(st.integers(0 if depth else 1, 3))):
        item = {"linkId": _maybe(draw, TEXT | SCALAR, draw(LINK_ID))}
        if draw(st.booleans()):
            item["answer"] = _maybe(draw, SCALAR, draw(st.lists(answers(), max_size=2)))
        if _one_in(draw, 5):
            item["text"] = _maybe(draw, TEXT, "Back pain?")
        if depth < 2 and _one_in(draw, 6):
            item["item"] = draw(items(depth=depth + 1))
        if _one_in(draw, 30):
            item[draw(st.sampled_from(["definition", "foo", "answers"]))] = draw(SCALAR)
        out.append(_maybe(draw, SCALAR, item))
    return out


@st.composite
def responses(draw):
    qr = {"resourceType": "QuestionnaireResponse"}
    qr["status"] = _maybe(draw, SCALAR, draw(st.sampled_from(["completed", "in-progress"])))
    qr["item"] = _maybe(draw, SCALAR, draw(items()))
    optional = {
        "id": st.sampled_from(["qr-1", "A.1-b", "a b", "x" * 65]),
        "subject": st.sampled_from(
            [{"reference": "Patient/p1"}, {"reference": "Patient/p1", "display": "P"}]
        ),
        "authored": st.sampled_from(DATES),
        "questionnaire": st.sampled_from(["https://x.example/Questionnaire/q|1", "a b", ""]),
    }
    for key, strategy in optional.items():
        if draw(st.booleans()):
            qr[key] = _maybe(draw, SCALAR, draw(strategy))
    if _one_in(draw, 20):
        qr["meta"] = draw(SCALAR)
    return qr


@st.composite
def resources(draw):
    qr = draw(responses())
    if draw(st.booleans()):
        return qr
    entry = {"resource": qr}
    if draw(st.booleans()):
        entry["search"] = _maybe(draw, st.sampled_from([{"mode": "xx"}, {}]), {"mode": "match"})
    if draw(st.booleans()):
        entry["fullUrl"] = _maybe(draw, st.sampled_from(["a b"]) | SCALAR, "urn:uuid:1")
    bundle = {"resourceType": "Bundle", "type": _maybe(draw, TEXT | SCALAR, "searchset")}
    bundle["entry"] = _maybe(draw, SCALAR, [entry])
    if draw(st.booleans()):
        bundle["total"] = _maybe(draw, st.sampled_from([-1, True, 2**31]) | SCALAR, 1)
    return bundle


@settings(max_examples=examples(200), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(resource=resources(), version=st.sampled_from(["R4B", "R5"]))
def test_what_is_plain_fhir_resources_accepts(resource, version):
    if is_plain(resource, version):
        validate_resource(resource, version)


def test_every_case_as_a_response_and_in_a_search_bundle_is_plain(ruleset):
    from tests.test_clinical_cases import CASES

    for _, case in CASES:
        qr = response_for(case["record"], ruleset)
        bundle = {"resourceType": "Bundle", "type": "searchset", "entry": [{"resource": qr}]}
        for resource in (qr, bundle):
            assert is_plain(resource, "R4B"), resource
            validate_resource(resource, "R4B")


@pytest.mark.parametrize(
    "resource",
    [
        {"resourceType": "QuestionnaireResponse", "status": "completed", "foo": 1},
        {"resourceType": "QuestionnaireResponse", "status": "completed", "id": "a b"},
        {"resourceType": "QuestionnaireResponse", "status": "completed", "authored": "2024-13-01"},
    ],
)
def test_what_is_not_plain_still_gets_the_fhir_resources_error(ruleset, resource):
    assert not is_plain(resource, "R4B")
    with pytest.raises(BadResourceError, match=r"\(FHIR R4B\)"):
        read_answers(resource, ruleset)


def test_r5_needs_the_questionnaire_to_be_plain():
    qr = {"resourceType": "QuestionnaireResponse", "status": "completed"}
    assert is_plain(qr, "R4B")
    assert not is_plain(qr, "R5")
    assert is_plain({**qr, "questionnaire": "https://x.example/Questionnaire/q|1"}, "R5")
