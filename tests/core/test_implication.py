"""Implied flags: one closure, honoured by every evaluator and analysis, checked at load."""

import itertools

import numpy as np
import pytest

from redflag.core.closures import truth_function
from redflag.core.evaluate import evaluate
from redflag.core.exhaustive import find_downgrades
from redflag.core.implication import close, contradiction
from redflag.core.interview import plan
from redflag.core.logic import Truth
from redflag.core.record import validate_record
from redflag.core.vector import Columns, VectorRuleSet
from redflag.errors import BadValueError, RuleFileError
from tests.helpers import make_ruleset

# b implies a, c implies b (so c implies a too)
CHAIN = {"b": ("a",), "c": ("b",)}


def chain_rules(rules=None):
    return make_ruleset(rules or {"r": ("urgent", "a and d")}, implies=CHAIN)


def test_a_yes_makes_every_implied_flag_yes_transitively():
    rs = chain_rules()
    assert close({"c": True}, rs.implications) == {"c": True, "b": True, "a": True}


def test_a_no_makes_every_implying_flag_no():
    rs = chain_rules()
    assert close({"a": False}, rs.implications) == {"a": False, "b": False, "c": False}


def test_answers_given_are_never_changed_and_closing_is_idempotent():
    rs = chain_rules()
    record = {"b": True, "a": True, "c": False}
    assert close(record, rs.implications) == record
    once = close({"b": True}, rs.implications)
    assert close(once, rs.implications) == once


def test_contradiction_names_the_yes_flag_and_the_implied_no_flag():
    rs = chain_rules()
    assert contradiction({"c": True, "a": False}, rs.implications) == ("c", "a")
    assert contradiction({"c": True, "a": True}, rs.implications) is None


def test_a_contradicting_record_is_bad_value_with_a_hint():
    rs = chain_rules()
    with pytest.raises(BadValueError) as err:
        validate_record({"b": True, "a": False}, rs)
    assert err.value.message == "'b' is yes, which implies 'a', but 'a' is no"
    assert err.value.hint is not None and "leave 'a' out" in err.value.hint


def test_evaluate_reads_the_closed_record_and_reports_what_was_implied():
    rs = chain_rules()
    result = evaluate(rs, {"c": True, "d": True})
    assert [o.rule.id for o in result.matched] == ["r"]
    assert dict(result.record) == {"c": True, "d": True}
    assert dict(result.implied) == {"b": True, "a": True}


def test_could_escalate_does_not_ask_for_what_a_no_already_settles():
    rs = make_ruleset({"r": ("urgent", "b and d")}, implies=CHAIN)
    result = evaluate(rs, {"a": False})
    assert result.could_escalate == ()  # b is no, because a is no


@pytest.mark.parametrize("values", list(itertools.product((None, False, True), repeat=4)))
def test_the_column_evaluator_closes_exactly_as_the_record_evaluator(values):
    rs = make_ruleset(
        {"r1": ("emergency", "a and d"), "r2": ("urgent", "any(b, e)"), "r3": ("soon", "c")},
        implies=CHAIN,
    )
    record = {f: v for f, v in zip("abcd", values, strict=True) if v is not None}
    vector = VectorRuleSet(rs)
    codes = np.array(
        [[1 if f not in record else (2 if record[f] else 0)] for f in vector.bool_flags],
        dtype=np.int8,
    )
    columns = Columns(codes, np.zeros((0, 1)))
    if contradiction(record, rs.implications):
        assert vector.contradicting(columns).tolist() == [True]
        return
    assert vector.contradicting(columns).tolist() == [False]
    got = vector.evaluate(columns)
    want = evaluate(rs, record)
    assert int(got.rank[0]) == want.rank
    assert got.could_escalate[:, 0].tolist() == [o in want.could_escalate for o in want.outcomes]


def test_the_interview_does_not_ask_an_implying_flag_after_a_no_to_the_implied_one():
    rs = make_ruleset({"r": ("emergency", "any(a, b) and d")}, implies=CHAIN)
    asked = plan(rs, {"a": False}).needed_by
    assert "b" not in asked and "c" not in asked
    assert "d" not in asked  # nothing can make r true any more


def test_the_interview_skips_combinations_that_contradict_an_implication():
    # r needs b and not a: impossible once b implies a, so neither question matters
    rs = make_ruleset({"r": ("emergency", "b and not a")}, implies={"b": ("a",)})
    assert plan(rs, {}).needed_by == {}


def test_exhaustive_diff_finds_a_downgrade_made_only_by_dropping_an_implication():
    old = make_ruleset({"r": ("urgent", "a")}, implies={"b": ("a",)})
    new = make_ruleset({"r": ("urgent", "a")})
    report = find_downgrades(old, new)
    assert [c.record for c in report.counterexamples] == [{"b": True}]


def test_exhaustive_diff_proves_a_rewrite_that_implications_make_equal():
    # under b -> a, "a or b" is the same as "a": no downgrade
    old = make_ruleset({"r": ("urgent", "a or b")}, implies={"b": ("a",)})
    new = make_ruleset({"r": ("urgent", "a")}, implies={"b": ("a",)})
    assert find_downgrades(old, new).counterexamples == ()
    without = make_ruleset({"r": ("urgent", "a")})
    assert find_downgrades(old, without).counterexamples != ()


def test_an_unchanged_rule_whose_flag_bounds_changed_is_still_searched():
    old = make_ruleset({"r": ("urgent", "x <= 120")}, numeric={"x": (0, 120)})
    new = make_ruleset({"r": ("urgent", "x <= 120")}, numeric={"x": (0, 130)})
    report = find_downgrades(old, new)
    assert [c.record for c in report.counterexamples] == [{}]


@pytest.mark.parametrize(
    ("implies", "code", "message"),
    [
        ({"a": ("zz",)}, "unknown-flag", "flag 'a' implies flag 'zz', which is not declared"),
        ({"a": ("x",)}, "type", "flag 'a' implies number flag 'x'"),
        ({"a": ("a",)}, "implies-cycle", "flag 'a' implies itself"),
        (
            {"a": ("b",), "b": ("a",)},
            "implies-cycle",
            "flag 'a' implies itself through other flags",
        ),
    ],
)
def test_bad_implications_are_load_errors(implies, code, message):
    with pytest.raises(RuleFileError) as err:
        make_ruleset({"r": ("urgent", "a")}, numeric={"x": (0, 1)}, implies=implies)
    found = [(d.code, d.message) for d in err.value.diagnostics]
    assert (code, message) in found


def test_truth_functions_see_closed_records_in_the_searches():
    rs = chain_rules()
    fn = truth_function(rs.rules[0].condition, rs)
    assert fn(close({"c": True, "d": True}, rs.implications)) is Truth.TRUE
