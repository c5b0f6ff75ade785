"""The Kleene truth tables, written out once here as the specification, and every evaluator
(the traced one, the compiled closures, the column-wise one) checked against them on every
combination of TRUE, FALSE and UNKNOWN."""

from itertools import product

import pytest

from redflag.core.closures import truth_function
from redflag.core.evaluate import Record, evaluate
from redflag.core.logic import Truth, from_bool, not_
from redflag.core.vector import VectorRuleSet
from tests.core.test_vector import columns
from tests.helpers import make_ruleset

F, U, T = Truth.FALSE, Truth.UNKNOWN, Truth.TRUE

AND_TABLE = {
    (F, F): F,
    (F, U): F,
    (F, T): F,
    (U, F): F,
    (U, U): U,
    (U, T): U,
    (T, F): F,
    (T, U): U,
    (T, T): T,
}
OR_TABLE = {
    (F, F): F,
    (F, U): U,
    (F, T): T,
    (U, F): U,
    (U, U): U,
    (U, T): T,
    (T, F): T,
    (T, U): T,
    (T, T): T,
}


OPERATORS = {
    "a and b": lambda a, b: AND_TABLE[a, b],
    "a or b": lambda a, b: OR_TABLE[a, b],
    "all(a, b)": lambda a, b: AND_TABLE[a, b],
    "any(a, b)": lambda a, b: OR_TABLE[a, b],
    "not a": lambda a, b: {F: T, U: U, T: F}[a],
    "count(a, b) >= 1": lambda a, b: OR_TABLE[a, b],
    "count(a, b) >= 2": lambda a, b: AND_TABLE[a, b],
    "count(a, b) < 1": lambda a, b: {F: T, U: U, T: F}[OR_TABLE[a, b]],
}
VALUE = {F: False, T: True}


def _record(a: Truth, b: Truth) -> Record:
    return {k: VALUE[v] for k, v in (("a", a), ("b", b)) if v is not U}


@pytest.mark.parametrize("condition", OPERATORS)
def test_every_evaluator_follows_the_kleene_tables(condition):
    ruleset = make_ruleset({"r": ("urgent", condition)}, bools=("a", "b"))
    [rule] = ruleset.rules
    fast = truth_function(rule.condition, ruleset)
    combos = list(product(Truth, Truth))
    records = [_record(a, b) for a, b in combos]
    vector = VectorRuleSet(ruleset)
    chunk = vector.evaluate(columns(vector, records))
    for i, ((a, b), record) in enumerate(zip(combos, records, strict=True)):
        want = OPERATORS[condition](a, b)
        assert evaluate(ruleset, record).outcomes[0].truth is want, (condition, a, b)
        assert fast(record) is want, (condition, a, b)
        column = T if chunk.matched[0, i] else U if chunk.could_escalate[0, i] else F
        assert column is want, (condition, a, b)


def test_not_swaps_true_and_false_and_keeps_unknown():
    assert [not_(x) for x in (F, U, T)] == [T, U, F]


def test_from_bool_maps_none_to_unknown():
    assert [from_bool(v) for v in (False, None, True)] == [F, U, T]


def test_only_unknown_is_indefinite():
    assert [x.is_definite for x in (F, U, T)] == [True, False, True]
