"""Proof of equality (issue 15, tests 1 and 2): the compiled SQL against the Python engine.

1. The partial records of the exhaustive enumeration for the shipped rules: each rule's
   truth, the level and the worst case are equal in Python, DuckDB and PostgreSQL.
2. Random small rule files and random records: Python against DuckDB.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from redflag.core.compile import CompiledRuleSet
from tests.fuzzing import examples
from tests.helpers import LEVELS, make_ruleset
from tests.sql.engines import (
    duckdb_outcomes,
    enumerated_records,
    fast_python_outcomes,
    is_valid,
    postgres_outcomes,
    python_outcomes,
)

pytest.importorskip("duckdb", reason="duckdb is not installed (pip install 'redflag[sql]')")
pytestmark = pytest.mark.slow  # every engine on every enumerated record: about a minute


@pytest.fixture(scope="module")
def enumerated(ruleset: CompiledRuleSet):
    records = enumerated_records(ruleset)
    return records, fast_python_outcomes(ruleset, records)


def test_enumerated_records_cover_every_rule_true_false_and_unknown(ruleset, enumerated):
    records, expected = enumerated
    assert len(records) > 20_000
    for j, rule in enumerate(ruleset.rules):
        seen = {outcome[2][j] for outcome in expected.values()}
        assert seen == {True, False, None}, rule.id
    assert {o[0] for o in expected.values()} == {lv.id for lv in ruleset.levels}


def test_fast_python_reference_agrees_with_check_on_a_sample(ruleset, enumerated):
    records, expected = enumerated
    sample = records[::20]
    slow = python_outcomes(ruleset, sample)
    assert slow == {i: expected[i * 20] for i in range(len(sample))}


def test_duckdb_equals_python_on_every_enumerated_record(ruleset, enumerated):
    records, expected = enumerated
    got = duckdb_outcomes(ruleset, records)
    assert got == expected


def test_postgres_equals_python_on_every_enumerated_record(ruleset, enumerated, postgres):
    records, expected = enumerated
    got = postgres_outcomes(postgres, ruleset, records)
    assert got == expected


# --- 2. random small rule files -----------------------------------------------------------

BOOLS = ("a", "b", "c", "d")
NUMERIC = {"x": (0.0, 10.0), "y": (-5.0, 5.5)}  # no negative literals: y is negative via bounds
CONSTANTS = st.sampled_from([0.0, 0.5, 1.0, 2.5, 5.0, 5.5, 9.0, 10.0, 11.0])
OPS = st.sampled_from(["<", "<=", ">", ">=", "==", "!="])


def _leaf() -> st.SearchStrategy[str]:
    flag = st.sampled_from(BOOLS)
    number = st.sampled_from(sorted(NUMERIC))
    against_constant = st.tuples(number, OPS, CONSTANTS).map(lambda t: f"{t[0]} {t[1]} {t[2]:g}")
    against_flag = st.tuples(number, OPS, number).map(lambda t: f"{t[0]} {t[1]} {t[2]}")
    return st.one_of(flag, flag, against_constant, against_flag)


def _condition() -> st.SearchStrategy[str]:
    def extend(inner: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
        several = st.lists(inner, min_size=2, max_size=3)
        return st.one_of(
            inner.map(lambda c: f"not ({c})"),
            several.map(lambda cs: "(" + " and ".join(cs) + ")"),
            several.map(lambda cs: "(" + " or ".join(cs) + ")"),
            st.lists(inner, min_size=1, max_size=3).map(lambda cs: f"any({', '.join(cs)})"),
            st.lists(inner, min_size=1, max_size=3).map(lambda cs: f"all({', '.join(cs)})"),
            st.tuples(st.lists(inner, min_size=1, max_size=4), OPS, st.integers(0, 4)).map(
                lambda t: f"count({', '.join(t[0])}) {t[1]} {t[2]}"
            ),
        )

    return st.recursive(_leaf(), extend, max_leaves=8)


@st.composite
def rule_sets(draw: st.DrawFn) -> CompiledRuleSet:
    conditions = draw(st.lists(_condition(), min_size=1, max_size=5))
    levels = draw(st.lists(st.sampled_from(LEVELS[:-1]), min_size=len(conditions), max_size=5))
    implies = draw(st.sampled_from([{}, {"a": ("b",)}, {"a": ("b",), "b": ("c",)}]))
    rules = {f"r{i}": (levels[i], c) for i, c in enumerate(conditions)}
    return make_ruleset(rules, numeric=NUMERIC, bools=BOOLS, implies=implies)


RECORD_VALUES = {
    **{f: st.sampled_from([None, True, False]) for f in BOOLS},
    "x": st.sampled_from([None, 0.0, 0.5, 1.0, 2.5, 5.0, 9.0, 9.99, 10.0]),
    "y": st.sampled_from([None, -5.0, -0.5, 0.0, 1.0, 2.5, 5.0, 5.5]),
}
RECORDS = st.lists(st.fixed_dictionaries(RECORD_VALUES), min_size=1, max_size=40)


@settings(max_examples=examples(150), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rule_sets(), RECORDS)
def test_duckdb_equals_python_on_random_rule_files_and_records(ruleset, raw_records):
    records = [{k: v for k, v in r.items() if v is not None} for r in raw_records]
    records = [r for r in records if is_valid(r, ruleset)]
    assert duckdb_outcomes(ruleset, records) == python_outcomes(ruleset, records)
