"""Closures compiled from conditions agree with the traced evaluator (core/evaluate.py)."""

import random

import pytest

from redflag.core.closures import unknowns_function
from redflag.core.evaluate import evaluate
from redflag.core.flags import BoolFlag
from redflag.core.implication import close
from redflag.core.logic import Truth
from redflag.formats.rulefile import load_ruleset
from tests.tooling import RULES

# every operator, nested, with numbers on both sides and count() under a comparison
CONDITIONS = [
    "not (back_pain and fever)",
    "count(fever, night_pain, not back_pain) >= 2 or age < 20",
    "any(all(back_pain, age >= 50), pain_duration_weeks > 6 and not fever)",
    "age == 60 or age != pain_duration_weeks",
    "count(fever, night_pain) < count(back_pain, limb_weakness, sensory_change)",
]


@pytest.fixture(scope="module")
def shipped():
    return load_ruleset(RULES)


# the shipped rules' fractional thresholds (temperature >= 38, neutrophil_count <= 0.5,
# corrected_calcium > 2.6, >= 3.0, > 3.4) and both sides of them, for `number` flags only
FRACTIONS = {0.4, 0.5, 0.6, 2.5, 2.6, 2.7, 2.9, 3.0, 3.1, 3.3, 3.4, 3.5, 5.5, 6.5, 37.9, 38.0, 38.1}


def _records(ruleset, n: int, seed: int):
    """Random partial records: each flag answered with chance 0.4, numbers on the edges the
    conditions test (the thresholds, both sides of them, the bounds)."""
    rng = random.Random(seed)
    domain = {}
    for flag in ruleset.flags.values():
        if isinstance(flag, BoolFlag):
            domain[flag.id] = (True, False)
            continue
        points = {flag.min, flag.max, 2, 4, 6, 12, 19, 20, 44, 45, 49, 50, 59, 60, 61}
        if flag.type == "number":  # issue 14: this said "float", a type no flag has
            points |= FRACTIONS
        domain[flag.id] = tuple(sorted(p for p in points if flag.min <= p <= flag.max))
    for _ in range(n):
        yield {f: rng.choice(values) for f, values in domain.items() if rng.random() < 0.4}


def test_unknowns_are_the_missing_flags_evaluate_gives_every_shipped_rule(shipped):
    fast = [unknowns_function(rule.condition, shipped) for rule in shipped.rules]
    undecided = 0
    for record in _records(shipped, 1500, 7):
        for outcome, unknowns in zip(evaluate(shipped, record).outcomes, fast, strict=True):
            closed = close(record, shipped.implications)  # as evaluate reads it
            assert unknowns(closed) == outcome.missing, (outcome.rule.id, record)
            undecided += bool(outcome.missing)
    assert undecided > 1000  # the comparison was not only of empty tuples


def test_unknowns_told_the_rule_is_undecided_agree_on_every_undecided_shipped_rule(shipped):
    # undecided=True (the service's QuickEvaluator) skips the root's truth: the same tuple
    told = [unknowns_function(r.condition, shipped, undecided=True) for r in shipped.rules]
    checked = 0
    for record in _records(shipped, 1500, 8):
        closed = close(record, shipped.implications)
        for outcome, unknowns in zip(evaluate(shipped, record).outcomes, told, strict=True):
            if outcome.truth is Truth.UNKNOWN:
                assert unknowns(closed) == outcome.missing, (outcome.rule.id, record)
                checked += 1
    assert checked > 1000


def test_records_try_fractional_values_of_number_flags(shipped):
    fractional = [
        value
        for record in _records(shipped, 200, 7)
        for value in record.values()
        if type(value) is float and not value.is_integer()
    ]
    assert len(fractional) > 50
    assert {37.9, 38.1, 0.4, 0.6} <= set(fractional)


@pytest.mark.parametrize("condition", CONDITIONS)
def test_unknowns_agree_with_evaluate_on_every_operator(tmp_path, shipped, condition):
    from tests.rulefiles import edited

    old = (
        'title = "Back pain with fever: possible spinal infection"\n'
        'when = "back_pain and any(fever, temperature >= 38)"'
    )
    path = edited(
        tmp_path,
        "edited.toml",
        old,
        old.replace("back_pain and any(fever, temperature >= 38)", condition),
    )
    ruleset = load_ruleset(path)
    rule = next(r for r in ruleset.rules if r.id == "spinal_infection")
    unknowns = unknowns_function(rule.condition, ruleset)
    told = unknowns_function(rule.condition, ruleset, undecided=True)
    for record in _records(ruleset, 800, 11):
        outcome = next(o for o in evaluate(ruleset, record).outcomes if o.rule.id == rule.id)
        closed = close(record, ruleset.implications)
        assert unknowns(closed) == outcome.missing, record
        if outcome.truth is Truth.UNKNOWN:
            assert told(closed) == outcome.missing, record
