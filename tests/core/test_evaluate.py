import pytest

from redflag.core.evaluate import compare, evaluate
from redflag.core.logic import Truth
from tests.helpers import make_ruleset

F, U, T = Truth.FALSE, Truth.UNKNOWN, Truth.TRUE


def truth_of(when, record, numeric=None):
    rs = make_ruleset({"r": ("urgent", when)}, numeric=numeric)
    return evaluate(rs, record).outcomes[0].truth


@pytest.mark.parametrize(
    ("record", "expected"),
    [
        ({}, U),
        ({"a": False}, F),  # unknown and false is false
        ({"a": True}, U),
        ({"a": True, "b": True}, T),
        ({"a": True, "b": False}, F),
    ],
)
def test_and_with_unknowns(record, expected):
    assert truth_of("a and b", record) is expected


@pytest.mark.parametrize(
    ("record", "expected"),
    [({}, U), ({"a": True}, T), ({"a": False}, U), ({"a": False, "b": False}, F)],
)
def test_or_with_unknowns(record, expected):
    assert truth_of("a or b", record) is expected


@pytest.mark.parametrize(
    ("record", "expected"),
    [
        ({}, U),
        ({"a": True}, U),
        ({"a": True, "b": True}, T),  # true once k are known true
        ({"a": False, "b": False}, U),  # c, d could still make 2
        ({"a": False, "b": False, "c": False}, F),  # can no longer reach 2
        ({"a": True, "b": False, "c": False, "d": False}, F),
    ],
)
def test_count_at_least_k(record, expected):
    assert truth_of("count(a, b, c, d) >= 2", record) is expected


def test_count_equality_is_decided_only_when_exact():
    assert truth_of("count(a, b) == 1", {"a": True}) is U
    assert truth_of("count(a, b) == 1", {"a": True, "b": False}) is T
    assert truth_of("count(a, b) == 1", {"a": True, "b": True}) is F


@pytest.mark.parametrize(
    ("record", "expected"),
    [({"x": 49}, F), ({"x": 50}, T), ({"x": 50.0}, T), ({}, U)],
)
def test_numeric_comparison(record, expected):
    assert truth_of("x >= 50", record, numeric={"x": (0, 120)}) is expected


def test_unknown_numeric_uses_declared_bounds():
    # whatever x is, it lies within 0..120, so this is decided even when x is unknown
    assert truth_of("x <= 120", {}, numeric={"x": (0, 120)}) is T
    assert truth_of("x > 120", {}, numeric={"x": (0, 120)}) is F


def test_literal_on_the_left():
    assert truth_of("50 <= x", {"x": 50}, numeric={"x": (0, 120)}) is T


@pytest.mark.parametrize(
    ("op", "left", "right", "expected"),
    [
        ("<", (1, 2), (3, 3), T),
        ("<", (3, 5), (3, 3), F),
        ("<", (1, 5), (3, 3), U),
        ("<=", (1, 3), (3, 3), T),
        ("<=", (4, 5), (3, 3), F),
        (">", (4, 5), (3, 3), T),
        (">", (1, 3), (3, 3), F),
        (">=", (3, 5), (3, 3), T),
        (">=", (1, 2), (3, 3), F),
        (">=", (1, 5), (3, 3), U),
        ("==", (3, 3), (3, 3), T),
        ("==", (4, 5), (3, 3), F),
        ("==", (1, 5), (3, 3), U),
        ("!=", (4, 5), (3, 3), T),
        ("!=", (3, 3), (3, 3), F),
        ("!=", (1, 5), (3, 3), U),
    ],
)
def test_interval_comparisons(op, left, right, expected):
    assert compare(op, left, right) is expected


def test_not_of_unknown_is_unknown():
    assert truth_of("not a", {}) is U
    assert truth_of("not a", {"a": False}) is T


RULES = {
    "e1": ("emergency", "a and b"),
    "u1": ("urgent", "a and c"),
    "s1": ("soon", "a"),
    "s2": ("soon", "d"),
}


def test_level_is_highest_definitely_true_rule():
    rs = make_ruleset(RULES)
    result = evaluate(rs, {"a": True, "c": True})
    assert result.level.id == "urgent"
    assert [o.rule.id for o in result.matched] == ["u1", "s1"]


def test_unknown_rules_above_the_level_could_escalate_with_missing_flags():
    rs = make_ruleset(RULES)
    result = evaluate(rs, {"a": True, "c": True})
    assert [(o.rule.id, o.missing) for o in result.could_escalate] == [("e1", ("b",))]


def test_unknown_rules_at_or_below_the_level_are_not_could_escalate():
    rs = make_ruleset(RULES)
    result = evaluate(rs, {"a": True})
    assert result.level.id == "soon"
    assert [o.rule.id for o in result.could_escalate] == ["e1", "u1"]  # s2 is not above soon


def test_nothing_true_gives_the_last_level():
    rs = make_ruleset(RULES)
    result = evaluate(rs, {"a": False, "d": False})
    assert result.level.id == "routine"
    assert result.matched == () and result.could_escalate == ()


def test_missing_lists_only_deciding_unknowns():
    rs = make_ruleset({"r": ("urgent", "a and any(b, c, d)")})
    result = evaluate(rs, {"a": True, "b": False})
    assert result.could_escalate[0].missing == ("c", "d")


def test_empty_record_lists_every_unknown_flag_as_missing():
    rs = make_ruleset({"r": ("urgent", "a and any(b, c)")})
    assert evaluate(rs, {}).could_escalate[0].missing == ("a", "b", "c")
