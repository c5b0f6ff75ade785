"""Question selection for `redflag ask`: what to ask next, and when nothing can change."""

from __future__ import annotations

import dataclasses
import itertools
import math
import textwrap
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from redflag.core.closures import truth_function
from redflag.core.evaluate import evaluate, trace_node
from redflag.core.flags import NumericFlag
from redflag.core.implication import close
from redflag.core.interview import Interviewer, answers_record, plan
from redflag.core.regions import regions
from redflag.formats.rulefile import load_ruleset
from tests.fuzzing import examples
from tests.tooling import QUIET

RULES = load_ruleset(None)
DONT_KNOW = "don't know"


def _interview(ruleset, answer):
    """Run an interview to its end; `answer(flag)` gives a value or DONT_KNOW."""
    record: dict[str, bool | int | float] = {}
    dont_know: set[str] = set()
    asked: list[str] = []
    while True:
        step = plan(ruleset, record, frozenset(dont_know))
        if step.next_flag is None:
            return step, record, dont_know, asked
        flag = step.next_flag
        assert flag not in asked, f"{flag} asked twice"
        asked.append(flag)
        value = answer(flag)
        if value == DONT_KNOW:
            dont_know.add(flag)
        else:
            record[flag] = value


def _no_symptoms(flag):
    return QUIET.get(flag, False)


def test_empty_interview_asks_the_flag_in_most_emergency_rules_first_and_every_flag_can_matter():
    step = plan(RULES, {})
    # the first question decides the most emergency rules
    emergencies = {
        flag: sum(1 for o in rules if o.rule.level == "emergency")
        for flag, rules in step.needed_by.items()
    }
    assert step.next_flag is not None
    assert emergencies[step.next_flag] == max(emergencies.values())
    assert step.result.level.id == "routine"
    # every flag but two: x_axial_spa is masked (whenever it fires, persistent_pain fires at
    # the same level), so spa_criteria_count can never change the level; and "spread to the
    # bones" implies cancer, so it matters only once the cancer question is "don't know"
    cannot = set(RULES.flags) - set(step.needed_by)
    assert cannot <= {"spa_criteria_count", "bone_metastases"}
    after = plan(RULES, {}, frozenset({"cancer_history"}))
    assert "bone_metastases" in after.needed_by
    assert "bone_metastases" not in plan(RULES, {"cancer_history": True}).needed_by
    # "at most N more" counts spread to the bones already (it may matter after a don't know)
    assert step.left == len(RULES.flags) - len(cannot - {"bone_metastases"})
    assert step.can_change


def test_no_symptoms_stops_early_with_routine():
    step, _record, _dont_know, asked = _interview(RULES, _no_symptoms)
    assert step.result.level.id == "routine"
    assert not step.can_change
    assert step.next_flag is None
    assert asked[0] == plan(RULES, {}).next_flag
    # "no" to cancer settles "spread to the bones" (bone_metastases implies cancer_history),
    # and "no" to back pain settles every pain-pattern question
    assert "bone_metastases" not in asked and "night_pain" not in asked
    assert len(asked) < len(RULES.flags) // 2
    assert not step.result.could_escalate


def test_mscc_path_reaches_emergency_and_stops():
    yes = {"cancer_history", "limb_weakness"}
    step, _record, _, asked = _interview(RULES, lambda f: f in yes or _no_symptoms(f))
    assert step.result.level.id == "emergency"
    assert next(o.rule.id for o in step.result.matched) == "mscc_neuro"
    assert "limb_weakness" in asked
    assert len(asked) < 10


def test_emergency_rules_are_asked_before_urgent_ones():
    # back pain yes: the next questions decide emergency rules (cancer, both legs...) first.
    step = plan(RULES, {"back_pain": True})
    assert step.next_flag is not None
    top = min(o.compiled.rank for o in step.needed_by[step.next_flag])
    assert top == 0


def test_dont_know_is_never_asked_again_and_shows_under_could_escalate():
    step, _record, dont_know, asked = _interview(
        RULES, lambda f: DONT_KNOW if f == "cancer_history" else _no_symptoms(f)
    )
    assert asked.count("cancer_history") == 1
    assert "cancer_history" in dont_know
    # bone metastases and every nerve symptom answered no: cancer alone cannot decide
    # mscc_neuro, so it is not could-escalate; the cancer-only rule is.
    escalate = {o.rule.id: o.missing for o in step.result.could_escalate}
    assert step.result.level.id == "routine"
    assert all("cancer_history" in missing for missing in escalate.values())
    assert not step.can_change


def test_after_emergency_no_question_is_worth_asking():
    step = plan(RULES, {"saddle_anaesthesia": True})
    assert step.result.rank == 0
    assert step.next_flag is None
    assert step.left == 0


def test_ask_all_asks_every_flag_in_file_order():
    step, _, _, asked = _interview(RULES, lambda f: False if f == "back_pain" else DONT_KNOW)
    assert asked != list(RULES.flags)
    step = plan(RULES, {}, ask_all=True)
    assert step.next_flag == next(iter(RULES.flags))
    record: dict[str, bool | int | float] = {}
    order = []
    while (step := plan(RULES, record, ask_all=True)).next_flag is not None:
        order.append(step.next_flag)
        record[step.next_flag] = _no_symptoms(step.next_flag)
    # file order, skipping what earlier "no" answers settle through implied flags
    settled = set(close(record, RULES.implications)) - set(record)
    assert order == [f for f in RULES.flags if f not in settled]
    assert "new_back_pain" in settled


def test_answers_record_is_in_file_order_with_null_for_dont_know():
    data = answers_record(RULES, {"age": 67, "back_pain": True}, frozenset({"fever"}))
    assert data == {"age": 67, "back_pain": True, "fever": None}
    assert list(data) == ["age", "back_pain", "fever"]


@pytest.mark.parametrize(
    ("low", "high", "cuts", "whole", "expected"),
    [
        (0, 120, {(">=", 50)}, True, (0, 50)),
        (0, 120, {(">=", 19.5)}, True, (0, 20)),
        (0, 120, {(">", 50), ("<", 20)}, True, (0, 20, 51)),
        (0, 10, {("==", 4), ("<", 99)}, False, (0.0, 4.0)),  # both sides of 4 alike: merged
        (0, 9, set(), True, (0,)),
    ],
)
def test_regions_give_one_valid_value_per_region(low, high, cuts, whole, expected):
    flag = dataclasses.replace(
        RULES.numeric_flags["age"], min=low, max=high, type="int" if whole else "number"
    )
    assert regions([flag], cuts) == expected


def _near(low, high, cuts):
    """A test oracle's grid: every whole value next to each cut and bound."""
    points = sorted({low, high, *(c for c in cuts if low <= c <= high)})
    return tuple(
        sorted(
            {
                v
                for p in points
                for v in (math.floor(p) - 1, math.floor(p), math.ceil(p), math.ceil(p) + 1)
                if low <= v <= high
            }
        )
    )


# A random interview on the shipped rules: each answer yes, no, don't know or a number.
def _answer_strategy(flag):
    spec = RULES.flags[flag]
    if isinstance(spec, NumericFlag):
        return st.one_of(st.just(DONT_KNOW), st.integers(int(spec.min), int(spec.max)))
    return st.sampled_from([True, False, False, False, DONT_KNOW])


def _completion(data, record, dont_know):
    """Random answers for every flag not yet answered (don't-know flags stay unknown), in
    file order, never contradicting an implied flag (implied flags follow what they imply
    in rules.toml, so closing after each answer keeps the record valid)."""
    full = dict(close(record, RULES.implications))
    for flag in RULES.flags:
        if flag not in full and flag not in dont_know:
            value = data.draw(_answer_strategy(flag))
            if value != DONT_KNOW:
                full[flag] = value
                full = dict(close(full, RULES.implications))
    return full


@pytest.mark.slow
@settings(max_examples=examples(20), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_stopping_is_safe_no_later_answer_changes_the_level(data):
    step, record, dont_know, _asked = _interview(
        RULES, lambda f: data.draw(_answer_strategy(f), label=f)
    )
    for _ in range(5):
        full = _completion(data, record, dont_know)
        assert evaluate(RULES, full).rank == step.result.rank


def test_quiet_answers_fire_nothing():
    quiet = {f: QUIET.get(f, False) for f in RULES.flags}
    assert evaluate(RULES, quiet).level.id == "routine"


def _level_can_flip(record, dont_know, flag, rules):
    """A witness that `flag` matters: answers to the other open flags under which two answers
    to `flag` give different levels. Tries every combination of one rule's open flags, with
    every other open flag given its quiet answer."""
    spec = RULES.flags[flag]
    values = (
        _near(spec.min, spec.max, {4, 6, 12, 20, 45, 50, 60})
        if isinstance(spec, NumericFlag)
        else (True, False)
    )
    for outcome in rules:
        others = [
            f
            for f in outcome.compiled.flags
            if f != flag and f not in record  # "don't know" flags may be anything
        ]
        quiet = {f: QUIET.get(f, False) for f in RULES.flags if f not in record and f != flag}
        for bits in itertools.product(
            *[
                _near(n.min, n.max, {4, 6, 12, 20, 45, 50, 60})
                if (n := RULES.numeric_flags.get(f)) is not None
                else (True, False)
                for f in others
            ]
        ):
            base = {**record, **quiet, **dict(zip(others, bits, strict=True))}
            levels = {evaluate(RULES, {**base, flag: v}).rank for v in values}
            if len(levels) > 1:
                return True
    return False


@pytest.mark.slow
@settings(max_examples=examples(10), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_every_question_asked_can_change_the_level(data):
    record: dict[str, bool | int | float] = {}
    dont_know: set[str] = set()
    last_left = None
    while (step := plan(RULES, record, frozenset(dont_know))).next_flag is not None:
        flag = step.next_flag
        if last_left is not None:
            assert step.left <= last_left  # "at most N more" is never broken
        last_left = step.left - 1
        assert _level_can_flip(record, dont_know, flag, step.needed_by[flag]), flag
        value = data.draw(_answer_strategy(flag), label=flag)
        if value == DONT_KNOW:
            dont_know.add(flag)
        else:
            record[flag] = value


def _shown(step):
    return (
        step.result.rank,
        {f: [o.rule.id for o in rules] for f, rules in step.needed_by.items()},
        step.next_flag,
        step.left,
    )


@pytest.mark.slow
@settings(max_examples=examples(15), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_an_interviewer_plans_as_a_fresh_plan_does_at_every_step(data):
    # one encoding kept for the interview (issue 11) never changes a plan: same question,
    # same rules it decides, same "at most N more", with "don't know" and unasked flags
    not_asked = frozenset(
        f for f in RULES.flags if data.draw(st.integers(0, 9), label=f"not asked {f}") == 0
    )
    record: dict[str, bool | int | float] = {}
    dont_know: set[str] = set()
    with Interviewer(RULES) as interviewer:
        while True:
            kept = interviewer.plan(record, frozenset(dont_know), not_asked=not_asked)
            fresh = plan(RULES, record, frozenset(dont_know), not_asked=not_asked)
            assert _shown(kept) == _shown(fresh)
            if kept.next_flag is None:
                break
            value = data.draw(_answer_strategy(kept.next_flag), label=kept.next_flag)
            if value == DONT_KNOW:
                dont_know.add(kept.next_flag)
            else:
                record[kept.next_flag] = value


@settings(max_examples=examples(200), deadline=None)
@given(st.data())
def test_closures_agree_with_the_evaluator_trace(data):
    record = {}
    for flag in RULES.flags:
        value = data.draw(_answer_strategy(flag), label=flag)
        if value != DONT_KNOW:
            record[flag] = value
    for rule in RULES.rules:
        assert (
            truth_function(rule.condition, RULES)(record)
            is trace_node(rule.condition, record, RULES).truth
        ), rule.id


def _ruleset(tmp_path: Path, flags: str, rules: str):
    path = tmp_path / "rules.toml"
    path.write_text(
        textwrap.dedent(
            """
            [ruleset]
            id = "t"
            name = "t"
            version = "1"
            status = "draft"
            description = "test"

            [sources.S]
            title = "t"
            organisation = "t"
            year = "2024"
            url = "https://example.org"

            [[levels]]
            id = "high"
            label = "High"
            timeframe = "now"
            action = "act"

            [[levels]]
            id = "low"
            label = "Low"
            timeframe = "later"
            action = "wait"
            """
        )
        + textwrap.dedent(flags)
        + textwrap.dedent(rules),
        encoding="utf-8",
    )
    return load_ruleset(path)


FLAGS = """
[flags.a]
type = "bool"
question = "A?"

[flags.b]
type = "bool"
question = "B?"

[flags.n]
type = "int"
min = 0
max = 100
question = "N?"

[flags.m]
type = "int"
min = 0
max = 100
question = "M?"
"""


def _rule(when: str) -> str:
    return f"""
[[rules]]
id = "r"
level = "high"
title = "t"
when = "{when}"
rationale = "t"
advice = "t"
sources = ["S"]
"""


def test_flag_that_cannot_decide_its_rule_is_not_asked(tmp_path):
    # b is absorbed: `a or (a and b)` is just `a`, though Kleene logic leaves it unknown.
    ruleset = _ruleset(tmp_path, FLAGS, _rule("a or (a and b)"))
    step = plan(ruleset, {})
    assert set(step.needed_by) == {"a"}
    assert plan(ruleset, {"a": False}).next_flag is None


def test_rule_that_can_never_match_asks_nothing(tmp_path):
    ruleset = _ruleset(tmp_path, FLAGS, _rule("n >= 50 and n < 20"))
    step = plan(ruleset, {})
    assert [o.rule.id for o in step.result.could_escalate] == ["r"]  # Kleene: unknown
    assert step.next_flag is None  # but no answer can make it true


def test_dont_know_does_not_stop_the_other_questions_of_its_rule(tmp_path):
    # "don't know" is not "no": b still matters if a is in fact yes, so b is asked, and the
    # rule then waits on a alone (shown under could escalate)
    ruleset = _ruleset(tmp_path, FLAGS, _rule("a and b"))
    assert plan(ruleset, {}, frozenset()).next_flag == "a"
    assert plan(ruleset, {}, frozenset({"a"})).next_flag == "b"
    done = plan(ruleset, {"b": True}, frozenset({"a"}))
    assert done.next_flag is None
    assert [o.missing for o in done.result.could_escalate] == [("a",)]
    assert plan(ruleset, {"b": False}, frozenset({"a"})).next_flag is None


@pytest.mark.parametrize(
    "when",
    [
        "not a and count(a, b) >= 1",
        "all(a, b) or not (n < 30)",
        "count(a, b) == 1 and n != 40",
        "2 <= count(a, b) or 50 > n",
    ],
)
def test_closures_agree_with_trace_for_every_operator(tmp_path, when):
    ruleset = _ruleset(tmp_path, FLAGS, _rule(when))
    condition = ruleset.rules[0].condition
    for a, b, n in itertools.product(
        (True, False, None), (True, False, None), (None, 0, 30, 40, 99)
    ):
        record = {k: v for k, v in {"a": a, "b": b, "n": n}.items() if v is not None}
        assert (
            truth_function(condition, ruleset)(record)
            is trace_node(condition, record, ruleset).truth
        )


def test_comparing_two_numeric_flags_falls_back_to_asking(tmp_path):
    ruleset = _ruleset(tmp_path, FLAGS, _rule("n > m"))
    assert set(plan(ruleset, {}).needed_by) == {"n", "m"}


def test_out_of_time_asks_every_open_flag_never_stops_early():
    from redflag.budget import TimeBudget

    exact = plan(RULES, {})
    hurried = plan(RULES, {}, budget=lambda: TimeBudget(1e-9))
    # towards asking: every open flag of every rule that could escalate is worth asking
    assert set(exact.needed_by) < set(hurried.needed_by)
    assert "bone_metastases" in hurried.needed_by
    assert hurried.next_flag is not None


def test_a_plan_without_a_clock_is_exact_and_ask_gives_it_the_time_limit(monkeypatch):
    """The core never reads the clock: only a budget made at the edge can run out."""
    from redflag.budget import TimeBudget
    from redflag.core.solve import Budget, OutOfTime

    unlimited = Budget()
    with unlimited:
        unlimited.check()  # never spent
    spent = TimeBudget(0.0)
    with pytest.raises(OutOfTime, match="not proved within 0 s"):
        spent.check()
    assert TimeBudget(None).remaining is None
    assert 0 < (TimeBudget(5.0).remaining or 0) <= 5.0
