"""CompiledRuleSet x Record -> Result, with three-valued logic and a trace of every node.

A flag missing from the record is UNKNOWN. Numeric parts evaluate to an interval of the
values they could take (a known flag is a point; an unknown one spans its declared bounds;
count(...) spans [known true, known true + unknown]), and a comparison is TRUE or FALSE only
when every value in the interval agrees. The level is the most urgent level among rules
that are definitely TRUE; UNKNOWN rules above it are reported as could-escalate.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import assert_never

from redflag.core.compile import CompiledRule, CompiledRuleSet
from redflag.core.expr.nodes import And, Call, Compare, CompareOp, Name, Node, Not, Number, Or
from redflag.core.flags import NumericFlag
from redflag.core.implication import close
from redflag.core.logic import FALSE, TRUE, UNKNOWN, Truth, from_bool, not_
from redflag.core.model import Level, Rule

Value = bool | int | float
Record = Mapping[str, Value]
Interval = tuple[float, float]


@dataclass(frozen=True)
class Trace:
    """The value of one node for one record, with the traces of its children."""

    node: Node
    value: Truth | Interval
    children: tuple[Trace, ...] = ()

    @property
    def truth(self) -> Truth:
        """The node's truth value (numeric nodes have none: ask their parent)."""
        assert isinstance(self.value, Truth), "numeric nodes have no truth value"
        return self.value


@dataclass(frozen=True)
class RuleOutcome:
    """One rule's result for one record, and the unknown flags that could decide it."""

    compiled: CompiledRule
    trace: Trace
    missing: tuple[str, ...]

    @property
    def rule(self) -> Rule:
        """The rule."""
        return self.compiled.rule

    @property
    def truth(self) -> Truth:
        """TRUE (matched), FALSE, or UNKNOWN (not decided by the answers given)."""
        return self.trace.truth


@dataclass(frozen=True)
class Result:
    """The urgency for one record: level, matched rules, and what could still raise it."""

    level: Level
    rank: int
    matched: tuple[RuleOutcome, ...]
    could_escalate: tuple[RuleOutcome, ...]
    outcomes: tuple[RuleOutcome, ...]
    record: Record
    record_id: str | int | None = None
    implied: Mapping[str, Value] = field(default_factory=dict)

    @property
    def worst_rank(self) -> int:
        """The most urgent rank unanswered questions could still lead to (`rank` when none)."""
        return min((o.compiled.rank for o in self.could_escalate), default=self.rank)

    @property
    def is_complete(self) -> bool:
        """True when no unanswered question can raise the level (worst case == level)."""
        return not self.could_escalate


def action(result: Result, ruleset: CompiledRuleSet) -> str:
    """What to do for `result` (see `action_for`)."""
    return action_for(result.level, bool(result.matched), result.record, result.implied)


def action_for(level: Level, matched: bool, record: Record, implied: Mapping[str, Value]) -> str:
    """The level's action, or its `action_no_symptoms` variant when no rule matched and the
    record reports no symptom (no yes, given or implied; issue 12)."""
    reported = any(v is True for v in (*record.values(), *implied.values()))
    if level.action_no_symptoms is not None and not matched and not reported:
        return level.action_no_symptoms
    return level.action


def evaluate(
    ruleset: CompiledRuleSet, record: Record, record_id: str | int | None = None
) -> Result:
    """Evaluate every rule of `ruleset` against a validated record.

    The rules see the record closed under the rule file's implied flags (core/implication.py);
    `Result.record` is the record as given and `Result.implied` what the implications added.
    """
    closed = close(record, ruleset.implications)
    outcomes = tuple(_outcome(ruleset, rule, closed) for rule in ruleset.rules)
    matched = tuple(o for o in outcomes if o.truth is Truth.TRUE)
    no_match = len(ruleset.levels) - 1
    rank = min((o.compiled.rank for o in matched), default=no_match)
    could = tuple(o for o in outcomes if o.truth is Truth.UNKNOWN and o.compiled.rank < rank)
    return Result(
        level=ruleset.levels[rank],
        rank=rank,
        matched=tuple(sorted(matched, key=lambda o: o.compiled.rank)),
        could_escalate=tuple(sorted(could, key=lambda o: o.compiled.rank)),
        outcomes=outcomes,
        record=record,
        record_id=record_id,
        implied={k: v for k, v in closed.items() if k not in record},
    )


def _outcome(ruleset: CompiledRuleSet, rule: CompiledRule, record: Record) -> RuleOutcome:
    trace = trace_node(rule.condition, record, ruleset)
    missing = _deciding_unknowns(trace, record) if trace.truth is Truth.UNKNOWN else ()
    return RuleOutcome(rule, trace, missing)


def _deciding_unknowns(trace: Trace, record: Record) -> tuple[str, ...]:
    """Unknown flags under the UNKNOWN parts of a trace: the answers that would decide it."""
    found: dict[str, None] = {}
    stack = [trace]
    while stack:
        t = stack.pop()
        if isinstance(t.node, Name):
            if t.node.id not in record:
                found[t.node.id] = None
        elif not (isinstance(t.value, Truth) and t.value.is_definite):
            stack.extend(reversed(t.children))
    return tuple(found)


def trace_node(node: Node, record: Record, ruleset: CompiledRuleSet) -> Trace:
    """Evaluate `node` for `record`, keeping the value of every sub-node."""
    match node:
        case Name(id=flag):
            value = record.get(flag)
            spec = ruleset.flags[flag]
            if isinstance(spec, NumericFlag):
                if value is None:
                    return Trace(node, (spec.min, spec.max))
                return Trace(node, (float(value), float(value)))
            return Trace(node, from_bool(None if value is None else bool(value)))
        case Number(value=number):
            return Trace(node, (number, number))
        case Not(operand=operand):
            inner = trace_node(operand, record, ruleset)
            return Trace(node, not_(inner.truth), (inner,))
        case And(operands=operands):
            parts = tuple(trace_node(o, record, ruleset) for o in operands)
            return Trace(node, min(p.truth for p in parts), parts)
        case Or(operands=operands):
            parts = tuple(trace_node(o, record, ruleset) for o in operands)
            return Trace(node, max(p.truth for p in parts), parts)
        case Call(func=func, args=args):
            parts = tuple(trace_node(a, record, ruleset) for a in args)
            truths = [p.truth for p in parts]
            if func == "any":
                return Trace(node, max(truths), parts)
            if func == "all":
                return Trace(node, min(truths), parts)
            known_true = truths.count(Truth.TRUE)
            unknown = truths.count(Truth.UNKNOWN)
            return Trace(node, (float(known_true), float(known_true + unknown)), parts)
        case Compare(op=op, left=left, right=right):
            lt = trace_node(left, record, ruleset)
            rt = trace_node(right, record, ruleset)
            assert not isinstance(lt.value, Truth) and not isinstance(rt.value, Truth)
            return Trace(node, compare(op, lt.value, rt.value), (lt, rt))
        case _:
            assert_never(node)


def compare(op: CompareOp, left: Interval, right: Interval) -> Truth:
    """Compare two intervals: TRUE if every pair of values agrees, FALSE if none does."""
    (a, b), (c, d) = left, right
    match op:
        case "<":
            return _decide(b < c, a >= d)
        case "<=":
            return _decide(b <= c, a > d)
        case ">":
            return _decide(a > d, b <= c)
        case ">=":
            return _decide(a >= d, b < c)
        case "==":
            return _decide(a == b == c == d, b < c or a > d)
        case "!=":
            return _decide(b < c or a > d, a == b == c == d)
        case _:
            assert_never(op)


def _decide(always: bool, never: bool) -> Truth:
    if always:
        return TRUE
    return FALSE if never else UNKNOWN
