"""Fuzzing with hypothesis: hostile expressions, rule documents and records.

Each either works or raises the project's own error; nothing else, and never a hang (the
hypothesis deadline bounds every example). CI runs a bounded number of examples; run them
long locally with `REDFLAG_FUZZ_EXAMPLES=20000 python -m pytest tests/core/test_fuzz.py`.
"""

import contextlib
import json
import os
from datetime import timedelta
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from redflag.core.evaluate import evaluate
from redflag.core.expr import check_condition, parse_condition
from redflag.core.record import validate_record
from redflag.errors import ConditionError, InputError, RuleFileError
from redflag.formats.records import record_from_json
from redflag.formats.rulefile import load_ruleset

EXAMPLES = int(os.environ.get("REDFLAG_FUZZ_EXAMPLES", "300"))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=timedelta(seconds=2),
    suppress_health_check=[HealthCheck.too_slow],
)
RULESET = load_ruleset(None)
TYPES = {f.id: ("bool" if f.type == "bool" else "number") for f in RULESET.flags.values()}
GOOD_MINI = (Path(__file__).resolve().parent.parent / "data" / "good_mini.toml").read_text()

TOKENS = st.sampled_from(
    [
        "and",
        "or",
        "not",
        "(",
        ")",
        ",",
        "any(",
        "all(",
        "count(",
        ">=",
        "<",
        "==",
        "!=",
        "50",
        "2.5",
        "back_pain",
        "age",
        "fever",
        "__import__",
        "'",
        '"',
        ".",
        "lambda",
        ":",
        "[",
        "]",
        "x",
        "if",
        "else",
        "{",
        "}",
        "\\",
        "\x00",
        "é",
        "=",
        ";",
        "#",
    ]
)


@FUZZ
@given(st.lists(TOKENS, max_size=40).map(" ".join) | st.text(max_size=200))
def test_any_expression_parses_or_raises_condition_error(text):
    try:
        node = parse_condition(text)
    except ConditionError as err:
        assert 0 <= err.start <= max(len(text), 1)
        return
    for problem in check_condition(node, TYPES):
        assert isinstance(problem, ConditionError)


JSONISH = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4)
    ),
    max_leaves=20,
)


@FUZZ
@given(
    st.dictionaries(
        st.sampled_from(["ruleset", "sources", "levels", "flags", "rules", "x"]),
        JSONISH,
        max_size=6,
    )
)
def test_any_rule_document_loads_or_raises_rule_file_error(tmp_path_factory, doc):
    lines = [f"{key} = {json.dumps(value, ensure_ascii=False)}" for key, value in doc.items()]
    path = tmp_path_factory.mktemp("fuzz") / "rules.toml"
    path.write_text("\n".join(lines))
    with contextlib.suppress(RuleFileError):
        load_ruleset(path)


@FUZZ
@given(st.text(max_size=300))
def test_mutated_rule_condition_loads_or_raises_rule_file_error(tmp_path_factory, when):
    text = GOOD_MINI.replace(
        '"back_pain and limb_weakness and age >= 50"', json.dumps(when, ensure_ascii=False)
    )
    path = tmp_path_factory.mktemp("fuzz") / "rules.toml"
    path.write_text(text)
    with contextlib.suppress(RuleFileError):
        load_ruleset(path)


@FUZZ
@given(JSONISH | st.dictionaries(st.sampled_from([*sorted(TYPES), "id", "Age", "x"]), JSONISH))
def test_any_json_value_gives_a_result_or_an_input_error(value):
    try:
        text = json.dumps(value)
    except ValueError:
        return
    try:
        record, record_id = record_from_json(text, RULESET)
    except InputError:
        return
    result = evaluate(RULESET, record, record_id)
    assert result.level in RULESET.levels


@FUZZ
@given(st.dictionaries(st.sampled_from(sorted(TYPES)), JSONISH))
def test_validated_records_hold_only_declared_flags_of_the_right_type(raw):
    try:
        record, _ = validate_record(raw, RULESET)
    except InputError:
        return
    for key, value in record.items():
        flag = RULESET.flags[key]
        if flag.type == "bool":
            assert type(value) is bool
        else:
            assert type(value) in (int, float) and flag.min <= value <= flag.max
