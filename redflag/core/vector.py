"""Column-wise evaluation of a rule set over a chunk of records, with numpy.

The same three-valued semantics as core/evaluate.py, one array per syntax-tree node instead
of one value: truth arrays hold 0 (FALSE), 1 (UNKNOWN), 2 (TRUE), so `and` is a minimum, `or`
a maximum and `not` is `2 - x`; numeric parts are a pair of arrays (low, high) holding the
interval of values they could take (an unknown flag spans its declared bounds; count(...)
spans [known true, known true + unknown]). Each rule's condition is compiled once, from the
validated syntax tree (never from rule text), into a closure over the chunk's columns.
Pure computation: no I/O, no clock.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import assert_never

import numpy as np
import numpy.typing as npt

from redflag.core.compile import CompiledRuleSet
from redflag.core.expr.nodes import And, Call, Compare, CompareOp, Name, Node, Not, Number, Or
from redflag.core.flags import BoolFlag

TruthArray = npt.NDArray[np.int8]
FloatArray = npt.NDArray[np.float64]
Interval = tuple[FloatArray, FloatArray]


@dataclass(frozen=True)
class Columns:
    """One chunk of validated records, column-wise.

    `codes` is (number of bool flags, n) of 0/1/2; `numbers` is (number of numeric flags, n)
    of float64 with NaN for unknown. Row order follows `VectorRuleSet.bool_flags` and
    `VectorRuleSet.numeric_flags`.
    """

    codes: TruthArray
    numbers: FloatArray

    @property
    def size(self) -> int:
        """The number of records in the chunk."""
        return int(self.codes.shape[1])


@dataclass(frozen=True)
class ChunkResult:
    """Per record: the level rank, and which rules matched or could escalate (rule x record)."""

    rank: npt.NDArray[np.intp]
    matched: npt.NDArray[np.bool_]
    could_escalate: npt.NDArray[np.bool_]


_TruthFn = Callable[[Columns], TruthArray]
_IntervalFn = Callable[[Columns], Interval]


class VectorRuleSet:
    """A CompiledRuleSet compiled once into column-wise closures."""

    def __init__(self, ruleset: CompiledRuleSet) -> None:
        self.ruleset = ruleset
        self.bool_flags: tuple[str, ...] = tuple(
            f.id for f in ruleset.flags.values() if isinstance(f, BoolFlag)
        )
        self.numeric_flags: tuple[str, ...] = tuple(ruleset.numeric_flags)
        self._bool_row = {flag: i for i, flag in enumerate(self.bool_flags)}
        self._num_row = {flag: i for i, flag in enumerate(self.numeric_flags)}
        self.ranks = np.array([rule.rank for rule in ruleset.rules], dtype=np.intp)
        self.no_match_rank = len(ruleset.levels) - 1
        self._rules = tuple(self._truth(rule.condition) for rule in ruleset.rules)
        self._pairs = tuple(
            (self._bool_row[flag], self._bool_row[target])
            for flag, targets in ruleset.implications.implied.items()
            for target in targets
        )

    def close(self, columns: Columns) -> Columns:
        """The chunk with the rule file's implied flags applied, as core/implication.close
        does record by record: a yes makes its implied flags yes, a no makes the flags that
        imply it no (only where they were unknown)."""
        if not self._pairs:
            return columns
        given = columns.codes
        codes = given.copy()
        for flag, target in self._pairs:
            codes[target][(given[target] == 1) & (given[flag] == 2)] = 2
        for flag, target in self._pairs:
            codes[flag][(given[flag] == 1) & (given[target] == 0)] = 0
        return Columns(codes, columns.numbers)

    def contradicting(self, columns: Columns) -> npt.NDArray[np.bool_]:
        """Per record: does it answer a flag yes and a flag it implies no? (check refuses it)"""
        found = np.zeros(columns.size, dtype=np.bool_)
        for flag, target in self._pairs:
            found |= (columns.codes[flag] == 2) & (columns.codes[target] == 0)
        return found

    def evaluate(self, columns: Columns) -> ChunkResult:
        """Evaluate every rule for every record of the chunk (implied flags applied)."""
        columns = self.close(columns)
        n = columns.size
        if not self._rules:
            empty = np.zeros((0, n), dtype=np.bool_)
            return ChunkResult(np.full(n, self.no_match_rank, dtype=np.intp), empty, empty)
        truths = np.empty((len(self._rules), n), dtype=np.int8)
        for i, rule in enumerate(self._rules):
            truths[i] = rule(columns)
        matched = truths == 2
        ranks = self.ranks[:, None]
        rank = np.where(matched, ranks, self.no_match_rank).min(axis=0)
        could = (truths == 1) & (ranks < rank[None, :])
        return ChunkResult(rank, matched, could)

    def _truth(self, node: Node) -> _TruthFn:
        match node:
            case Name(id=flag):
                row = self._bool_row[flag]
                return lambda c: c.codes[row]
            case Not(operand=operand):
                inner = self._truth(operand)
                return lambda c: (2 - inner(c)).astype(np.int8)
            case And(operands=operands) | Call(func="all", args=operands):
                return _reduce(np.minimum, [self._truth(o) for o in operands])
            case Or(operands=operands) | Call(func="any", args=operands):
                return _reduce(np.maximum, [self._truth(o) for o in operands])
            case Compare(op=op, left=left, right=right):
                lfn, rfn = self._interval(left), self._interval(right)
                return lambda c: compare(op, lfn(c), rfn(c))
            case Number() | Call():
                raise AssertionError("numeric node in a truth position (checked at load)")
            case _:
                assert_never(node)

    def _interval(self, node: Node) -> _IntervalFn:
        match node:
            case Name(id=flag):
                spec = self.ruleset.numeric_flags[flag]  # the type check put a numeric flag here
                row, lo, hi = self._num_row[flag], spec.min, spec.max

                def name(c: Columns) -> Interval:
                    values = c.numbers[row]
                    unknown = np.isnan(values)
                    return np.where(unknown, lo, values), np.where(unknown, hi, values)

                return name
            case Number(value=number):

                def constant(c: Columns) -> Interval:
                    point = np.full(c.size, number, dtype=np.float64)
                    return point, point

                return constant
            case Call(func="count", args=args):
                parts = [self._truth(a) for a in args]

                def count(c: Columns) -> Interval:
                    stacked = np.stack([p(c) for p in parts])
                    known_true = (stacked == 2).sum(axis=0, dtype=np.float64)
                    unknown = (stacked == 1).sum(axis=0, dtype=np.float64)
                    return known_true, known_true + unknown

                return count
            case Not() | And() | Or() | Compare() | Call():
                raise AssertionError("truth node in a numeric position (checked at load)")
            case _:
                assert_never(node)


def _reduce(
    op: Callable[[TruthArray, TruthArray], TruthArray], parts: Sequence[_TruthFn]
) -> _TruthFn:
    def reduced(c: Columns) -> TruthArray:
        result = parts[0](c)
        for part in parts[1:]:
            result = op(result, part(c))
        return result

    return reduced


def compare(op: CompareOp, left: Interval, right: Interval) -> TruthArray:
    """Compare two interval arrays: TRUE where every pair agrees, FALSE where none does.

    Element-wise the same as core/evaluate.py `compare`.
    """
    (a, b), (c, d) = left, right
    match op:
        case "<":
            always, never = b < c, a >= d
        case "<=":
            always, never = b <= c, a > d
        case ">":
            always, never = a > d, b <= c
        case ">=":
            always, never = a >= d, b < c
        case "==":
            always, never = (a == b) & (b == c) & (c == d), (b < c) | (a > d)
        case "!=":
            always, never = (b < c) | (a > d), (a == b) & (b == c) & (c == d)
        case _:
            assert_never(op)
    return np.where(always, 2, np.where(never, 0, 1)).astype(np.int8)
