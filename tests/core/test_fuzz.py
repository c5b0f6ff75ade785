"""Fuzzing with hypothesis: hostile expressions, rule documents and records.

Each either works or raises the project's own error; nothing else, and never a hang
(pytest-timeout bounds every test). CI runs a fixed, bounded set of examples; run them long
locally with `HYPOTHESIS_PROFILE=long python -m pytest tests/core/test_fuzz.py`.
"""

import contextlib
import copy
import json
import re
import tomllib
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from redflag.core.evaluate import evaluate
from redflag.core.expr import check_condition, parse_condition
from redflag.core.expr.check import ExprType
from redflag.core.flags import BoolFlag
from redflag.core.record import validate_record
from redflag.errors import ConditionError, InputError, RuleFileError
from redflag.formats.records import record_from_json
from redflag.formats.rulefile import load_ruleset
from tests.fuzzing import examples

FUZZ = settings(max_examples=examples(300), suppress_health_check=[HealthCheck.too_slow])
RULESET = load_ruleset(None)
TYPES: dict[str, ExprType] = {
    f.id: ("bool" if f.type == "bool" else "number") for f in RULESET.flags.values()
}
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


# Rule documents: the good mini rule set with a few of its values replaced, removed, added
# or duplicated, written as TOML (issue 14: this fuzz wrote JSON objects, which are not TOML,
# so every document stopped at the TOML parser and the checks after it were never reached).
GOOD_DOC = tomllib.loads(GOOD_MINI)
WORDS = st.sampled_from(
    [
        *("emergency", "routine", "back_pain", "limb_weakness", "age", "S1", "r1", "x"),
        *("bool", "int", "number", "draft", "approved", "back_pain and age >= 50", ""),
    ]
)
TOMLISH = st.recursive(
    st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**63 - 1)
    | st.floats(allow_nan=False)
    | WORDS
    | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(WORDS | st.text(max_size=10), inner, max_size=4)
    ),
    max_leaves=12,
)
KEYS = st.sampled_from(
    [*GOOD_DOC, "id", "type", "min", "max", "when", "level", "sources", "implies", "x"]
)


def _containers(value, path=()):
    """Every (path, dict or list) inside a document, the document itself first."""
    yield path, value
    children = value.items() if isinstance(value, dict) else enumerate(value)
    for key, child in children:
        if isinstance(child, dict | list):
            yield from _containers(child, (*path, key))


def _at(doc, path):
    for key in path:
        doc = doc[key]
    return doc


@st.composite
def rule_documents(draw):
    doc = copy.deepcopy(GOOD_DOC)
    for _ in range(draw(st.integers(min_value=0, max_value=4))):
        path, container = draw(st.sampled_from(list(_containers(doc))))
        container = _at(doc, path)
        keys = list(container) if isinstance(container, dict) else list(range(len(container)))
        action = draw(st.sampled_from(["replace", "remove", "add", "copy"] if keys else ["add"]))
        if action == "add" and isinstance(container, dict):
            container[draw(KEYS)] = draw(TOMLISH)
        elif action == "add":
            container.append(draw(TOMLISH))
        else:
            key = draw(st.sampled_from(keys))
            if action == "replace":
                container[key] = draw(TOMLISH)
            elif action == "remove":
                del container[key]
            elif isinstance(container, list):
                container.append(copy.deepcopy(container[key]))
            else:
                container[draw(KEYS)] = copy.deepcopy(container[key])
    return doc


def _toml_key(key):
    return key if re.fullmatch(r"[A-Za-z0-9_-]+", key) else _toml_value(key)


def _toml_value(value):
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)  # inf and -inf are spelt as TOML spells them
    if isinstance(value, str):
        # JSON's escapes are TOML's, but TOML also forbids a raw DEL
        return json.dumps(value, ensure_ascii=False).replace("\x7f", "\\u007f")
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    pairs = (f"{_toml_key(k)} = {_toml_value(v)}" for k, v in value.items())
    return "{" + ", ".join(pairs) + "}"


def _is_tables(value):
    return isinstance(value, list) and bool(value) and all(isinstance(v, dict) for v in value)


def _toml(doc, path=()):
    """A document as TOML with [tables] and [[arrays of tables]], as rule files are written."""
    lines = [
        f"{_toml_key(k)} = {_toml_value(v)}"
        for k, v in doc.items()
        if not isinstance(v, dict) and not _is_tables(v)
    ]
    for key, value in doc.items():
        header = ".".join(_toml_key(k) for k in (*path, key))
        if isinstance(value, dict):
            lines += [f"[{header}]", _toml(value, (*path, key))]
        elif _is_tables(value):
            for table in value:  # nested tables inline, so each stays inside its element
                lines += [
                    f"[[{header}]]",
                    *(f"{_toml_key(k)} = {_toml_value(v)}" for k, v in table.items()),
                ]
    return "\n".join(lines)


def test_the_unchanged_document_written_as_toml_loads(tmp_path):
    path = tmp_path / "rules.toml"
    path.write_text(_toml(GOOD_DOC))
    assert tomllib.loads(path.read_text()) == GOOD_DOC
    assert [rule.id for rule in load_ruleset(path).rules] == ["r1"]


@FUZZ
@given(rule_documents())
def test_any_rule_document_loads_or_raises_rule_file_error(tmp_path_factory, doc):
    text = _toml(doc)
    assert tomllib.loads(text) == doc  # the document reaches the checks after the TOML parser
    path = tmp_path_factory.mktemp("fuzz") / "rules.toml"
    path.write_text(text)
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
        if isinstance(flag, BoolFlag):
            assert type(value) is bool
        else:
            low, high = flag.min, flag.max
            assert type(value) in (int, float) and low <= value <= high
