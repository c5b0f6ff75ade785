"""Conditions compiled to closures: the same three-valued answers as `evaluate`, no trace.

For the callers that evaluate one condition thousands of times (the exhaustive search, the
interview's choice of question). Built from the validated syntax tree, never from rule text;
tests check they agree with core.evaluate.trace_node on every operator and random records.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import assert_never

from redflag.core.compile import CompiledRuleSet
from redflag.core.evaluate import Record, compare
from redflag.core.expr.nodes import And, Call, Compare, Name, Node, Not, Number, Or
from redflag.core.expr.walk import children
from redflag.core.logic import FALSE, NOT, TRUE, UNKNOWN, Truth

TruthFn = Callable[[Record], Truth]
_NumFn = Callable[[Record], tuple[float, float]]


def truth_function(node: Node, ruleset: CompiledRuleSet) -> TruthFn:
    """`node` compiled to a closure giving the same Truth as `evaluate` (no trace kept)."""
    match node:
        case Name(id=flag):

            def name(record: Record) -> Truth:
                value = record.get(flag)
                if value is None:
                    return UNKNOWN
                return TRUE if value else FALSE

            return name
        case Not(operand=operand):
            inner = truth_function(operand, ruleset)
            return lambda record: NOT[inner(record)]
        case And(operands=operands) | Call(func="all", args=operands):
            # plain flags are read in a loop, not each through a closure of its own: most
            # operands are flags, and a call per flag was most of the service's time (issue 16)
            flags, parts = _split_names(operands, ruleset)
            return _junction(flags, parts, absorbing=FALSE, identity=TRUE)
        case Or(operands=operands) | Call(func="any", args=operands):
            flags, parts = _split_names(operands, ruleset)
            return _junction(flags, parts, absorbing=TRUE, identity=FALSE)
        case Compare(op=op, left=Name(id=flag), right=Number(value=number)):
            # the common shape (`age >= 50`): one closure, not three
            spec = ruleset.numeric_flags[flag]  # the type check put a numeric flag here
            span, point = (spec.min, spec.max), (number, number)

            def flag_vs_number(record: Record) -> Truth:
                got = record.get(flag)
                return compare(op, span if got is None else (float(got), float(got)), point)

            return flag_vs_number
        case Compare(op=op, left=left, right=right):
            lf = _number_function(left, ruleset)
            rf = _number_function(right, ruleset)
            return lambda record: compare(op, lf(record), rf(record))
        case Number() | Call():
            raise AssertionError("numeric node where a truth value is needed")  # type-checked
        case _:
            assert_never(node)


def _split_names(
    operands: tuple[Node, ...], ruleset: CompiledRuleSet
) -> tuple[tuple[str, ...], tuple[TruthFn, ...]]:
    """The operands that are plain flags (by id), and closures for the rest. Kleene and/or
    are commutative, so reading the flags first gives the same truth."""
    flags = tuple(o.id for o in operands if isinstance(o, Name))
    parts = tuple(truth_function(o, ruleset) for o in operands if not isinstance(o, Name))
    return flags, parts


def _junction(
    flags: tuple[str, ...], parts: tuple[TruthFn, ...], *, absorbing: Truth, identity: Truth
) -> TruthFn:
    """Kleene `and` (FALSE absorbs, TRUE is the identity) or `or` (the other way round) over
    plain flags and other parts: the first absorbing operand decides, otherwise any UNKNOWN
    operand makes it UNKNOWN."""
    deciding = absorbing is TRUE  # the flag value that is the absorbing truth
    unknown = UNKNOWN

    def junction(record: Record) -> Truth:
        result = identity
        get = record.get
        for flag in flags:
            value = get(flag)
            if value is None:
                result = unknown
            elif bool(value) is deciding:
                return absorbing
        for part in parts:
            got = part(record)
            if got is absorbing:
                return got
            if got is unknown:
                result = got
        return result

    return junction


def _number_function(node: Node, ruleset: CompiledRuleSet) -> _NumFn:
    match node:
        case Number(value=number):
            point = (number, number)
            return lambda record: point
        case Name(id=flag):
            spec = ruleset.numeric_flags[flag]  # the type check put a numeric flag here
            span = (spec.min, spec.max)

            def value(record: Record) -> tuple[float, float]:
                got = record.get(flag)
                return span if got is None else (float(got), float(got))

            return value
        case Call(func="count", args=args):
            parts = [truth_function(a, ruleset) for a in args]

            def count(record: Record) -> tuple[float, float]:
                truths = [p(record) for p in parts]
                known = truths.count(TRUE)
                return (float(known), float(known + truths.count(UNKNOWN)))

            return count
        case _:
            raise AssertionError("truth node where a number is needed")  # type-checked


UnknownsFn = Callable[[Record], tuple[str, ...]]
_Visit = Callable[[Record, dict[str, None]], None]


def unknowns_function(
    node: Node, ruleset: CompiledRuleSet, *, undecided: bool = False
) -> UnknownsFn:
    """`node` compiled to a closure giving the unknown flags that could decide it: for an
    UNKNOWN rule, the same tuple (and order) as `evaluate`'s RuleOutcome.missing, no trace.

    Walks parents before children, left to right, entering only the parts whose truth is not
    decided; a numeric part is always entered (it has no truth of its own).

    `undecided`: the caller gives only records for which `node` is UNKNOWN (it has just
    worked that out), so the closure does not work out the root's truth again.
    """
    visit = _unknowns_visitor(node, ruleset, undecided)

    def unknowns(record: Record) -> tuple[str, ...]:
        found: dict[str, None] = {}
        visit(record, found)
        return tuple(found)

    return unknowns


def _unknowns_visitor(node: Node, ruleset: CompiledRuleSet, undecided: bool = False) -> _Visit:
    match node:
        case Name(id=flag):

            def name(record: Record, found: dict[str, None]) -> None:
                if flag not in record:
                    found[flag] = None

            return name
        case Number():
            return lambda record, found: None
        case Call(func="count", args=args):
            counted = [_unknowns_visitor(a, ruleset) for a in args]

            def count(record: Record, found: dict[str, None]) -> None:
                for part in counted:
                    part(record, found)

            return count
        case And(operands=flags) | Call(func="all", args=flags) if _all_names(flags):
            return _flags_visitor(tuple(f.id for f in flags if isinstance(f, Name)), False)
        case Or(operands=flags) | Call(func="any", args=flags) if _all_names(flags):
            return _flags_visitor(tuple(f.id for f in flags if isinstance(f, Name)), True)
        case Not() | And() | Or() | Call() | Compare():
            truth = truth_function(node, ruleset)
            # a flag child is looked up in place (its own visitor would be one more call)
            steps = [
                (child.id, None)
                if isinstance(child, Name)
                else ("", _unknowns_visitor(child, ruleset))
                for child in children(node)
            ]

            def enter(record: Record, found: dict[str, None]) -> None:
                for flag, part in steps:
                    if part is not None:
                        part(record, found)
                    elif flag not in record:
                        found[flag] = None

            if undecided:
                return enter  # known UNKNOWN: enter without asking

            def visit(record: Record, found: dict[str, None]) -> None:
                if truth(record) is UNKNOWN:
                    enter(record, found)

            return visit
        case _:
            assert_never(node)


def _all_names(operands: tuple[Node, ...]) -> bool:
    return all(isinstance(o, Name) for o in operands)


def _flags_visitor(flags: tuple[str, ...], deciding: bool) -> _Visit:
    """The visitor of an and (`deciding` False) or an or (True) of flags alone: its truth
    and its unknown flags in one pass, as the general visitor finds them in two."""

    def flags_(record: Record, found: dict[str, None]) -> None:
        absent = []
        unknown = False
        for flag in flags:
            value = record.get(flag)
            if value is None:
                unknown = True
                if flag not in record:
                    absent.append(flag)
            elif bool(value) is deciding:
                return  # decided: nothing here can change it
        if unknown:
            for flag in absent:
                found[flag] = None

    return flags_
