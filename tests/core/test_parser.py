import pytest

from redflag.core.expr import parse_condition
from redflag.core.expr.nodes import And, Call, Compare, Name, Not, Number, Or, Span
from redflag.errors import ConditionError


def test_and_binds_tighter_than_or():
    node = parse_condition("a or b and c")
    assert isinstance(node, Or)
    assert isinstance(node.operands[1], And)


def test_chains_are_flattened():
    node = parse_condition("a and b and c")
    assert isinstance(node, And)
    assert [n.id for n in node.operands if isinstance(n, Name)] == ["a", "b", "c"]


def test_parentheses_override_precedence():
    node = parse_condition("(a or b) and c")
    assert isinstance(node, And)
    assert isinstance(node.operands[0], Or)


def test_not_comparison_and_calls():
    node = parse_condition("not a and count(b, c) >= 2 and age < 20.5")
    assert isinstance(node, And)
    first, second, third = node.operands
    assert isinstance(first, Not)
    assert isinstance(second, Compare) and second.op == ">="
    assert isinstance(second.left, Call) and second.left.func == "count"
    assert isinstance(third, Compare) and third.right == Number(20.5, "20.5", Span(37, 41))


def test_spans_point_into_the_text():
    text = "back_pain and limb_weakness"
    node = parse_condition(text)
    assert isinstance(node, And)
    second = node.operands[1]
    assert text[second.span.start : second.span.end] == "limb_weakness"


@pytest.mark.parametrize(
    ("text", "kind", "start", "message"),
    [
        ("", "syntax", 0, "the condition is empty"),
        ("a and", "syntax", 5, "expected a flag, a number or '(', found the end of the condition"),
        (
            "(a or b",
            "unbalanced",
            7,
            "expected ')' to close the '(' at offset 1, found the end of the condition",
        ),
        ("a or b)", "syntax", 6, "unexpected ')' after a complete condition"),
        ("a b", "syntax", 2, "unexpected 'b' after a complete condition"),
        (
            "anny(a, b)",
            "unknown-function",
            0,
            "unknown function 'anny'; the functions are any(), all() and count()",
        ),
        ("any()", "arity", 4, "any() needs at least one argument"),
        ("20 <= age < 50", "syntax", 10, "comparisons cannot be chained"),
        ("a && b", "bad-character", 2, "unexpected character '&'"),
        ("a = 1", "bad-character", 2, "unexpected character '='"),
        ("12abc", "bad-number", 0, "'12a' is not a number"),
    ],
)
def test_syntax_errors_say_what_and_where(text, kind, start, message):
    with pytest.raises(ConditionError) as info:
        parse_condition(text)
    assert (info.value.kind, info.value.start, info.value.message) == (kind, start, message)


@pytest.mark.parametrize(
    "text",
    [
        "__import__('os').system('id')",
        "open('/etc/passwd').read()",
        "a.__class__",
        "lambda: 1",
        "[x for x in a]",
        "f'{a}'",
        "(a := 1)",
        "a if b else c",
        "exec('1')",
        "a[0]",
        "a + b",
        "{a}",
    ],
)
def test_python_constructs_are_rejected_not_executed(text):
    with pytest.raises(ConditionError):
        parse_condition(text)


def test_deep_nesting_is_an_error_not_a_recursion_error():
    with pytest.raises(ConditionError) as info:
        parse_condition("(" * 200 + "a" + ")" * 200)
    assert info.value.kind == "too-deep"
    with pytest.raises(ConditionError) as info:
        parse_condition("not " * 100 + "a")
    assert info.value.kind == "too-deep"


def test_very_long_condition_is_rejected():
    with pytest.raises(ConditionError) as info:
        parse_condition("(" * 10_000 + "a" + ")" * 10_000)
    assert info.value.kind == "too-long"


def test_hint_for_error_help_the_author():
    with pytest.raises(ConditionError) as info:
        parse_condition("anny(a)")
    assert info.value.hint == "did you mean 'any'?"
