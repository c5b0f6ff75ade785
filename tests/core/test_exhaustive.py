import itertools
import random

import pytest

from redflag.core.closures import truth_function
from redflag.core.evaluate import evaluate, trace_node
from redflag.core.exhaustive import (
    METHOD,
    domain_for,
    find_downgrades,
    node_key,
)
from redflag.errors import AnalysisError
from redflag.formats.rulefile import load_ruleset
from tests.rulefiles import edited, lowered, rationale_only
from tests.tooling import ROOT, RULES


@pytest.fixture(scope="module")
def shipped():
    return load_ruleset(RULES)


def test_numeric_flags_get_one_value_per_region(shipped):
    domain = domain_for([shipped])
    assert domain["age"] == (0, 20, 45, 50, 60)  # cuts: < 20, < 45, >= 50, >= 60
    assert domain["pain_duration_weeks"] == (0.0, 4.0, 6.0, 12.0)
    assert domain["back_pain"] == (True, False)


def test_truth_function_agrees_with_the_traced_evaluator(shipped):
    rng = random.Random(5)
    domain = domain_for([shipped])
    flags = list(shipped.flags)
    for _ in range(2000):
        record = {f: rng.choice(domain[f]) for f in flags if rng.random() < 0.4}
        for rule in shipped.rules:
            fast = truth_function(rule.condition, shipped)(record)
            assert fast is trace_node(rule.condition, record, shipped).truth


def test_lowered_rule_gives_a_smallest_confirmed_counterexample(tmp_path, shipped):
    report = find_downgrades(shipped, load_ruleset(lowered(tmp_path)))
    assert report.method == METHOD
    assert report.checked_rules == ("back_neuro",)
    [cex] = report.counterexamples
    assert cex.record == {"limb_weakness": True}
    assert (cex.old_level, cex.new_level, cex.responsible) == ("urgent", "soon", "back_neuro")


def test_no_smaller_counterexample_exists(tmp_path, shipped):
    new = load_ruleset(lowered(tmp_path))
    domain = domain_for([shipped, new])
    flags = sorted({f for r in shipped.rules for f in r.flags})
    # the smallest counterexample answers one flag: no record answering none is a downgrade
    for n in (0,):
        for chosen in itertools.combinations(flags, n):
            for values in itertools.product(*(domain[f] for f in chosen)):
                record = dict(zip(chosen, values, strict=True))
                assert evaluate(new, record).rank <= evaluate(shipped, record).rank


def test_rationale_only_change_is_no_downgrade(tmp_path, shipped):
    report = find_downgrades(shipped, load_ruleset(rationale_only(tmp_path)))
    assert report.counterexamples == ()
    assert report.checked_rules == ()


def test_raising_a_rule_is_no_downgrade_but_removing_one_is(tmp_path, shipped):
    raised = edited(
        tmp_path,
        "r.toml",
        'id = "back_neuro"\nlevel = "urgent"',
        'id = "back_neuro"\nlevel = "emergency"',
    )
    assert find_downgrades(shipped, load_ruleset(raised)).counterexamples == ()
    assert find_downgrades(load_ruleset(raised), shipped).counterexamples != ()


def test_threshold_move_finds_the_border_value(tmp_path, shipped):
    moved = edited(tmp_path, "m.toml", '"back_pain and age >= 50"', '"back_pain and age >= 55"')
    [cex] = find_downgrades(shipped, load_ruleset(moved)).counterexamples
    assert cex.record == {"back_pain": True, "age": 50}
    assert (cex.old_level, cex.new_level) == ("soon", "routine")


def test_rewritten_conditions_with_the_same_meaning_are_proved_safe(tmp_path, shipped):
    text = RULES.read_text()
    swapped = text.replace(
        '"any(limb_weakness, difficulty_walking) or (sensory_change and nerve_symptom_days <= 14)"',
        '"(nerve_symptom_days <= 14 and sensory_change) or any(difficulty_walking, limb_weakness)"',
    )
    path = tmp_path / "swapped.toml"
    path.write_text(swapped)
    report = find_downgrades(shipped, load_ruleset(path))
    assert report.checked_rules == ("back_neuro",)
    assert report.counterexamples == ()


def test_different_levels_cannot_be_compared(tmp_path, shipped):
    renamed = tmp_path / "levels.toml"
    renamed.write_text(RULES.read_text().replace('"routine"', '"later"'))
    with pytest.raises(AnalysisError, match="different levels"):
        find_downgrades(shipped, load_ruleset(renamed))


def test_a_comparison_of_two_quantities_is_refused_by_the_core_with_its_own_error(tmp_path):
    both = tmp_path / "two.toml"
    both.write_text(
        (ROOT / "tests/data/good_mini.toml")
        .read_text()
        .replace(
            '"back_pain and limb_weakness and age >= 50"',
            '"back_pain and age > count(limb_weakness)"',
        )
    )
    ruleset = load_ruleset(both)
    with pytest.raises(AnalysisError, match="other than a number") as raised:
        find_downgrades(ruleset, ruleset)
    assert (raised.value.code, raised.value.exit_code) == ("usage", 2)


def test_node_key_ignores_spacing(shipped):
    from redflag.core.expr import parse_condition

    assert node_key(parse_condition("a and  b")) == node_key(parse_condition("a and b"))
    assert node_key(parse_condition("a and b")) != node_key(parse_condition("b and a"))


def test_flag_changing_kind_cannot_be_compared(tmp_path, shipped):
    changed = edited(
        tmp_path,
        "kind.toml",
        '[flags.spa_criteria_count]\ntype = "int"\nmin = 0\nmax = 9',
        '[flags.spa_criteria_count]\ntype = "bool"',
    )
    text = changed.read_text()
    text = text.replace("spa_criteria_count >= 4", "spa_criteria_count")
    changed.write_text(text)
    new = load_ruleset(changed)
    with pytest.raises(
        AnalysisError, match="flag 'spa_criteria_count' is int in OLD but bool in NEW"
    ):
        find_downgrades(shipped, new)
