import pytest

from redflag.core.expr import check_condition, parse_condition
from redflag.core.expr.check import ExprType

TYPES: dict[str, ExprType] = {"back_pain": "bool", "fever": "bool", "age": "number"}


def problems(text):
    return [(p.kind, p.message, p.hint) for p in check_condition(parse_condition(text), TYPES)]


def test_well_typed_conditions_have_no_problems():
    assert problems("back_pain and age >= 50") == []
    assert problems("count(back_pain, fever) >= 1 and not fever") == []
    assert problems("any(back_pain, all(fever, age < 3))") == []


def test_unknown_flag_with_did_you_mean():
    assert problems("back_pian") == [
        (
            "unknown-flag",
            "unknown flag 'back_pian'",
            "did you mean 'back_pain'? Flags are declared under [flags].",
        )
    ]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("back_pain >= 3", "'>=' needs a number, but flag 'back_pain' is a yes/no flag or test"),
        ("age and fever", "'and' needs a yes/no test, but flag 'age' is a number"),
        ("any(age, fever)", "any(...) needs a yes/no test, but flag 'age' is a number"),
        ("not age", "'not' needs a yes/no test, but flag 'age' is a number"),
    ],
)
def test_type_errors(text, message):
    assert [p[1] for p in problems(text)] == [message]


def test_a_bare_number_is_not_a_condition():
    assert [p[0] for p in problems("age")] == ["type"]
    assert [p[0] for p in problems("count(fever)")] == ["type"]


def test_comparing_two_literals_is_flagged():
    assert [p[0] for p in problems("1 < 2")] == ["constant"]


def test_all_problems_are_collected():
    assert [p[0] for p in problems("bak and feverr and age")] == [
        "unknown-flag",
        "unknown-flag",
        "type",
    ]
