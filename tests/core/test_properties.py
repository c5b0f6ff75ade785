"""Properties of the shipped rules, with hypothesis: more symptoms never lower urgency."""

from hypothesis import given, settings
from hypothesis import strategies as st

from redflag.core.evaluate import evaluate
from redflag.formats.rulefile import load_ruleset
from tests.fuzzing import examples

RULESET = load_ruleset(None)
BOOLS = sorted(f for f in RULESET.flags if f not in RULESET.numeric_flags)
NUMERIC = dict(RULESET.numeric_flags)


@st.composite
def records(draw):
    record: dict[str, bool | int | float] = {}
    for flag_id in BOOLS:
        value = draw(st.sampled_from([None, False, True]))
        if value is not None:
            record[flag_id] = value
    for flag_id, flag in NUMERIC.items():
        if draw(st.booleans()):
            if flag.type == "int":
                record[flag_id] = draw(st.integers(int(flag.min), int(flag.max)))
            else:
                record[flag_id] = draw(st.floats(flag.min, flag.max))
    return record


@settings(max_examples=examples(300), deadline=None)
@given(records(), st.sampled_from(BOOLS))
def test_turning_a_flag_to_true_never_lowers_the_level(record, flag):
    before = evaluate(RULESET, record).rank
    after = evaluate(RULESET, {**record, flag: True}).rank
    assert after <= before  # rank 0 is the most urgent


@settings(max_examples=examples(300), deadline=None)
@given(records(), st.sampled_from(BOOLS + sorted(NUMERIC)))
def test_answering_an_unknown_flag_never_lowers_the_level(record, flag):
    record.pop(flag, None)
    before = evaluate(RULESET, record)
    for value in [False, True] if flag in BOOLS else (NUMERIC[flag].min, NUMERIC[flag].max):
        after = evaluate(RULESET, {**record, flag: value})
        assert after.rank <= before.rank
        # and the could-escalate list named every rule that could move above the level
        raised = {o.rule.id for o in after.matched if o.compiled.rank < before.rank}
        assert raised <= {o.rule.id for o in before.could_escalate}


@settings(max_examples=examples(200), deadline=None)
@given(records(), st.randoms())
def test_key_order_never_matters(record, rnd):
    items = list(record.items())
    rnd.shuffle(items)
    a, b = evaluate(RULESET, record), evaluate(RULESET, dict(items))
    assert (a.level, [o.rule.id for o in a.matched]) == (b.level, [o.rule.id for o in b.matched])


@settings(max_examples=examples(200), deadline=None)
@given(records())
def test_evaluation_is_deterministic(record):
    first, second = evaluate(RULESET, record), evaluate(RULESET, dict(record))
    assert first == second
