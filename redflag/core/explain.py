"""Why a record got its level: every rule's trace as readable steps, and conditions in English.

Pure functions over traces and syntax trees; rendering (rich tree, JSON, Markdown) is done by
callers. Must not print or read anything.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, assert_never

from redflag.core.compile import CompiledRuleSet
from redflag.core.evaluate import Result, RuleOutcome, Trace
from redflag.core.expr.nodes import FLIP, And, Call, Compare, CompareOp, Name, Node, Not, Number, Or
from redflag.core.logic import Truth

Status = Literal["fired", "not fired", "unknown"]
STATUS: dict[Truth, Status] = {
    Truth.TRUE: "fired",
    Truth.FALSE: "not fired",
    Truth.UNKNOWN: "unknown",
}
_OP_WORDS = {
    "<": "is under",
    "<=": "is at most",
    ">": "is over",
    ">=": "is at least",
    "==": "is",
    "!=": "is not",
}


@dataclass(frozen=True)
class Step:
    """One part of a condition: its text, its value for the record, and its parts."""

    text: str
    value: str
    children: tuple[Step, ...] = ()


@dataclass(frozen=True)
class RuleExplanation:
    """One rule for one record: fired / not fired / unknown, and why."""

    rule_id: str
    level: str
    title: str
    status: Status
    condition: str
    english: str
    step: Step
    missing: tuple[str, ...]


def explain(result: Result, ruleset: CompiledRuleSet) -> tuple[RuleExplanation, ...]:
    """Every rule's explanation: fired first (most urgent first), then unknown, then not fired."""
    order = {Truth.TRUE: 0, Truth.UNKNOWN: 1, Truth.FALSE: 2}
    outcomes = sorted(result.outcomes, key=lambda o: (order[o.truth], o.compiled.rank))
    return tuple(explain_outcome(o, ruleset) for o in outcomes)


def explain_outcome(outcome: RuleOutcome, ruleset: CompiledRuleSet) -> RuleExplanation:
    """One rule's explanation."""
    rule = outcome.rule
    return RuleExplanation(
        rule_id=rule.id,
        level=rule.level,
        title=rule.title,
        status=STATUS[outcome.truth],
        condition=rule.when,
        english=to_english(outcome.compiled.condition, ruleset),
        step=step(outcome.trace, rule.when),
        missing=outcome.missing,
    )


def step(trace: Trace, text: str) -> Step:
    """A trace as Steps, with each node's source text taken from the condition `text`."""
    node = trace.node
    source = " ".join(text[node.span.start : node.span.end].split())
    kids = tuple(step(t, text) for t in trace.children if not isinstance(t.node, Number))
    if isinstance(node, Compare):
        kids = tuple(k for k in kids if k.children)  # a bare flag's value is shown inline
        return Step(source + _compare_detail(trace), _value(trace), kids)
    return Step(source, _value(trace), kids)


def _compare_detail(trace: Trace) -> str:
    shown = [f"{t.node.id} = {_value(t)}" for t in trace.children if isinstance(t.node, Name)]
    return f"  ({', '.join(shown)})" if shown else ""


def _value(trace: Trace) -> str:
    value = trace.value
    if isinstance(value, Truth):
        return value.name.lower()
    low, high = value
    if low == high:
        return f"{low:g}"
    if isinstance(trace.node, Name):
        return "unknown"
    return f"{low:g} to {high:g}"


def to_english(node: Node, ruleset: CompiledRuleSet) -> str:
    """A condition in plain English: 'has back pain AND at least one of: fever, ...'."""
    return _english(node, ruleset, top=True)


def _english(node: Node, ruleset: CompiledRuleSet, *, top: bool = False) -> str:
    match node:
        case Name(id=flag):
            return _words(flag) if flag in ruleset.numeric_flags else f"has {_words(flag)}"
        case Number(value=value):
            return f"{value:g}"
        case Not(operand=operand):
            return f"NOT {_english(operand, ruleset)}"
        case And(operands=operands):
            text = " AND ".join(_english(o, ruleset) for o in operands)
            return text if top else f"({text})"
        case Or(operands=operands):
            text = " OR ".join(_english(o, ruleset) for o in operands)
            return text if top else f"({text})"
        case Call(func=func, args=args):
            items = _items(args, ruleset)
            if func == "any":
                return f"has at least one of: {items}"
            if func == "all":
                return f"has all of: {items}"
            return f"the number of yes answers among: {items}"
        case Compare(op=op, left=left, right=right):
            return _compare_english(op, left, right, ruleset)
        case _:
            assert_never(node)


def _compare_english(op: CompareOp, left: Node, right: Node, ruleset: CompiledRuleSet) -> str:
    if isinstance(left, Number) and not isinstance(right, Number):
        op, left, right = FLIP[op], right, left
    if isinstance(left, Call) and left.func == "count" and isinstance(right, Number):
        items = _items(left.args, ruleset)
        n = f"{right.value:g}"
        head = {
            ">=": f"at least {n} of",
            ">": f"more than {n} of",
            "<=": f"at most {n} of",
            "<": f"fewer than {n} of",
            "==": f"exactly {n} of",
            "!=": f"other than exactly {n} of",
        }[op]
        return f"has {head}: {items}"
    unit = ""
    if isinstance(left, Name) and isinstance(right, Number):
        given = ruleset.numeric_flags[left.id].unit  # the type check put a numeric flag here
        unit = f" {given}" if given else ""
    return f"{_english(left, ruleset)} {_OP_WORDS[op]} {_english(right, ruleset)}{unit}"


def _items(args: tuple[Node, ...], ruleset: CompiledRuleSet) -> str:
    parts = [
        _words(a.id)
        if isinstance(a, Name) and a.id not in ruleset.numeric_flags
        else f"({_english(a, ruleset, top=True)})"
        for a in args
    ]
    return "[" + ", ".join(parts) + "]"


def _words(flag: str) -> str:
    return flag.replace("_", " ")
