"""Exact questions about every possible record, answered by a SAT solver.

Pure logic: no clock, no output (a time budget is passed in: redflag/budget.py).
`diff --exhaustive` and `rules analyze` (core/exhaustive.py, core/analysis.py) ask their
questions here.

The encoding is the three-valued semantics of core/evaluate.py, written out as clauses:

- Records. A bool flag has two variables, yes and no, never both (neither: unknown). A numeric
  flag has one variable per region (core/regions.py), at most one of them true (none:
  unknown). A flag outside the searched set is fixed unknown; a flag in `fixed` is fixed to
  its value and not counted as answered.
- Implied flags, per rule set: a flag is yes when it or a flag implying it is answered yes,
  and no when it or a flag it implies is answered no (core/implication.py's `close`, with the
  transitive implications); a record answering A yes and an implied B no is not valid input,
  so it is excluded.
- Each sub-condition has two outputs, "is TRUE" and "is FALSE" (neither: UNKNOWN), built with
  gates that are exact equivalences: `not` swaps them, `and`/`all` is TRUE when all parts
  are and FALSE when one is, `or`/`any` the dual. A comparison of a numeric flag with a
  constant is TRUE on the regions where it holds and, when the flag is unknown, takes the
  truth of the comparison over the rule set's declared bounds (so a change of bounds is seen).
  `count(...) op k` compares the interval [number TRUE, number not FALSE] with k, using exact
  "at least j" counters.

A question is a set of such outputs that must hold together; the solver finds a record or
proves none exists. `Problem.smallest` then finds the record with the fewest answered flags
(a cardinality bound, lowered until unsatisfiable) and, among those, the first in the order
of the searched flags and their values (a greedy pass), which is the record the breadth-first
enumeration of earlier versions returned first. Every claim of "none" is an UNSAT answer of
the solver on this exact encoding; running out of the time budget raises `OutOfTime`, which
callers report as "not proved", never as "proved".

The solver is Glucose 4.1 from python-sat (pysat), imported only when a question is asked.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from math import ceil, floor
from typing import TYPE_CHECKING, assert_never

from redflag.core.compile import CompiledRuleSet
from redflag.core.evaluate import Value, compare
from redflag.core.expr.nodes import FLIP, And, Call, Compare, CompareOp, Name, Node, Not, Number, Or
from redflag.core.logic import Truth
from redflag.errors import NotProvedError

if TYPE_CHECKING:
    from pysat.solvers import Solver

METHOD = "SAT search over the three-valued semantics (Glucose 4 via python-sat)"
# Glucose can be interrupted mid-search (the time budget); CaDiCaL, in pysat, cannot.
SOLVER = "glucose4"
TRUE = 1  # variable 1 is fixed true; -TRUE is false
Lits = tuple[int, int]  # (is TRUE, is FALSE)


class OutOfTime(NotProvedError):
    """The time budget ran out before the question was answered."""


class Budget:
    """The budget of one analysis: the base has no limit and no clock.

    The core asks it `check()` between solver calls and wraps each call in `watching`;
    a budget with a clock (redflag/budget.py's `TimeBudget`) is made at the edge and passed
    in, so the core itself never reads the time. Use it as a context manager.
    """

    seconds: float | None = None
    expired: bool = False

    def __enter__(self) -> Budget:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def check(self) -> None:
        """Raise OutOfTime if the budget is spent."""
        if self.expired:
            raise OutOfTime(self.message())

    def message(self) -> str:
        """What to say when the budget is spent."""
        return f"not proved within {self.seconds:g} s: the time budget ran out"

    @contextmanager
    def watching(self, solver: Solver) -> Iterator[None]:
        """Run one solver call under this budget (no limit: nothing to watch)."""
        self.check()
        yield


class Circuit:
    """Clauses with Tseitin gates (each gate output is equivalent to its function)."""

    def __init__(self) -> None:
        self.top = TRUE
        self.clauses: list[list[int]] = [[TRUE]]
        self._gates: dict[tuple[str, frozenset[int]], int] = {}

    def new(self) -> int:
        """A fresh variable."""
        self.top += 1
        return self.top

    def and_(self, lits: Sequence[int]) -> int:
        """A literal equivalent to the conjunction of `lits`."""
        parts = frozenset(lits) - {TRUE}
        if -TRUE in parts or any(-lit in parts for lit in parts):
            return -TRUE
        if not parts:
            return TRUE
        if len(parts) == 1:
            return next(iter(parts))
        key = ("and", parts)
        gate = self._gates.get(key)
        if gate is None:
            gate = self.new()
            self.clauses.extend([-gate, lit] for lit in parts)
            self.clauses.append([gate, *(-lit for lit in parts)])
            self._gates[key] = gate
        return gate

    def or_(self, lits: Sequence[int]) -> int:
        """A literal equivalent to the disjunction of `lits`."""
        return -self.and_([-lit for lit in lits])

    def at_least(self, lits: Sequence[int], k: int) -> int:
        """A literal equivalent to "at least k of `lits` are true" (a sequential counter)."""
        if k <= 0:
            return TRUE
        if k > len(lits):
            return -TRUE
        row = [TRUE] + [-TRUE] * k  # row[j]: at least j of the inputs so far
        for lit in lits:
            row = [TRUE] + [
                self.or_([row[j], self.and_([lit, row[j - 1]])]) for j in range(1, k + 1)
            ]
        return row[k]

    def at_most_one(self, lits: Sequence[int]) -> None:
        """Require at most one of `lits`."""
        self.clauses.extend([-a, -b] for i, a in enumerate(lits) for b in lits[i + 1 :])


@dataclass(frozen=True)
class FlagVars:
    """One flag's record variables: yes/no for a bool flag, one per region for a number."""

    yes: int = -TRUE
    no: int = -TRUE
    numeric: bool = False
    values: tuple[Value, ...] = ()
    regions: tuple[int, ...] = ()
    answered: int = -TRUE

    def choices(self) -> tuple[tuple[Value, int], ...]:
        """Every answer with its literal, in search order (yes before no; regions ascending)."""
        if not self.numeric:
            return ((True, self.yes), (False, self.no))
        return tuple(zip(self.values, self.regions, strict=True))


class Records:
    """The record variables of one search: `searched` flags free, `fixed` ones set."""

    def __init__(
        self,
        circuit: Circuit,
        searched: Sequence[str],
        domain: Mapping[str, tuple[Value, ...]],
        numeric: set[str],
        fixed: Mapping[str, Value] | None = None,
    ) -> None:
        self.circuit = circuit
        self.searched = tuple(searched)
        self.vars: dict[str, FlagVars] = {}
        for flag in self.searched:
            if flag in numeric:
                values = domain[flag]
                regions = tuple(circuit.new() for _ in values)
                circuit.at_most_one(regions)
                self.vars[flag] = FlagVars(
                    numeric=True, values=values, regions=regions, answered=circuit.or_(regions)
                )
            else:
                yes, no = circuit.new(), circuit.new()
                circuit.clauses.append([-yes, -no])
                self.vars[flag] = FlagVars(yes, no, answered=circuit.or_([yes, no]))
        for flag, value in (fixed or {}).items():
            self.vars[flag] = _fixed(value, flag in numeric)

    def with_fixed(self, fixed: Mapping[str, Value]) -> Records:
        """A view sharing these variables, with `fixed` bool flags set (not answered)."""
        view = Records(self.circuit, (), {}, set())
        view.searched = tuple(f for f in self.searched if f not in fixed)
        view.vars = dict(self.vars)
        for flag, value in fixed.items():
            view.vars[flag] = _fixed(value, numeric=False)
        return view

    def get(self, flag: str) -> FlagVars:
        """The flag's variables (a flag not searched is fixed unknown)."""
        return self.vars.get(flag) or _UNKNOWN


_UNKNOWN = FlagVars()


def _fixed(value: Value, numeric: bool) -> FlagVars:
    """A flag set to `value` in every record (a bool flag so set is not counted as answered;
    a numeric one is answered, its one value standing for itself)."""
    if numeric:
        return FlagVars(numeric=True, values=(value,), regions=(TRUE,), answered=TRUE)
    assert isinstance(value, bool)
    return FlagVars(yes=TRUE if value else -TRUE, no=-TRUE if value else TRUE, answered=-TRUE)


class Side:
    """The records as one rule set reads them: closed under its implications."""

    def __init__(self, records: Records, ruleset: CompiledRuleSet) -> None:
        self.records = records
        self.ruleset = ruleset
        self.c = records.circuit
        self._memo: dict[int, Lits] = {}
        imp = ruleset.implications
        self.valid = self.c.and_(
            [
                -self.c.and_([records.get(a).yes, records.get(b).no])
                for a, targets in imp.implied.items()
                for b in targets
            ]
        )

    def truth(self, node: Node) -> Lits:
        """(is TRUE, is FALSE) literals of `node` on the closed record."""
        key = id(node)
        found = self._memo.get(key)
        if found is None:
            found = self._truth(node)
            self._memo[key] = found
        return found

    def true(self, node: Node) -> int:
        """The literal "`node` is TRUE"."""
        return self.truth(node)[0]

    def _truth(self, node: Node) -> Lits:
        c = self.c
        match node:
            case Name(id=flag):
                imp, records = self.ruleset.implications, self.records
                own = records.get(flag)
                yes = c.or_([own.yes, *(records.get(a).yes for a in imp.implying.get(flag, ()))])
                no = c.or_([own.no, *(records.get(b).no for b in imp.implied.get(flag, ()))])
                return yes, no
            case Not(operand=operand):
                t, f = self.truth(operand)
                return f, t
            case And(operands=parts) | Call(func="all", args=parts):
                pairs = [self.truth(p) for p in parts]
                return c.and_([t for t, _ in pairs]), c.or_([f for _, f in pairs])
            case Or(operands=parts) | Call(func="any", args=parts):
                pairs = [self.truth(p) for p in parts]
                return c.or_([t for t, _ in pairs]), c.and_([f for _, f in pairs])
            case Compare(op=op, left=left, right=right):
                return self._compare(op, left, right)
            case Number() | Call():
                raise AssertionError(f"not a condition: {node!r}")  # checked at load
            case _:
                assert_never(node)

    def _compare(self, op: CompareOp, left: Node, right: Node) -> Lits:
        if isinstance(left, Number) and not isinstance(right, Number):
            op, left, right = FLIP[op], right, left
        match (left, right):
            case (Number(value=a), Number(value=b)):
                return _constant(compare(op, (a, a), (b, b)))
            case (Name(id=flag), Number(value=k)):
                return self._compare_flag(flag, op, k)
            case (Call(func="count", args=args), Number(value=k)):
                return self._compare_count(args, op, k)
            case _:
                raise NotProvedError(
                    "exact analysis handles comparisons of a numeric flag or a count with a "
                    "constant only; this rule set compares two quantities with each other"
                )

    def _compare_flag(self, flag: str, op: CompareOp, k: float) -> Lits:
        spec = self.ruleset.numeric_flags[flag]  # the type check put a numeric flag here
        fv = self.records.get(flag)
        holds = [compare(op, (float(v), float(v)), (k, k)) for v in fv.values]
        when_unknown = compare(op, (spec.min, spec.max), (k, k))
        unknown = -fv.answered
        t = self.c.or_(
            [lit for lit, h in zip(fv.regions, holds, strict=True) if h is Truth.TRUE]
            + ([unknown] if when_unknown is Truth.TRUE else [])
        )
        f = self.c.or_(
            [lit for lit, h in zip(fv.regions, holds, strict=True) if h is Truth.FALSE]
            + ([unknown] if when_unknown is Truth.FALSE else [])
        )
        return t, f

    def _compare_count(self, args: Sequence[Node], op: CompareOp, k: float) -> Lits:
        c = self.c
        pairs = [self.truth(a) for a in args]
        trues = [t for t, _ in pairs]
        maybes = [-f for _, f in pairs]  # not FALSE: TRUE or UNKNOWN

        def lo_at_least(j: int) -> int:  # number TRUE >= j
            return c.at_least(trues, j)

        def hi_at_least(j: int) -> int:  # number not FALSE >= j
            return c.at_least(maybes, j)

        whole = float(k).is_integer()
        match op:
            case ">=":  # TRUE: lo >= k; FALSE: hi < k
                return lo_at_least(ceil(k)), -hi_at_least(ceil(k))
            case ">":  # TRUE: lo > k; FALSE: hi <= k
                return lo_at_least(floor(k) + 1), -hi_at_least(floor(k) + 1)
            case "<=":  # TRUE: hi <= k; FALSE: lo > k
                return -hi_at_least(floor(k) + 1), lo_at_least(floor(k) + 1)
            case "<":  # TRUE: hi < k; FALSE: lo >= k
                return -hi_at_least(ceil(k)), lo_at_least(ceil(k))
            case "==" | "!=":
                if whole:
                    n = int(k)
                    exact = c.and_([lo_at_least(n), -hi_at_least(n + 1)])
                else:
                    exact = -TRUE
                outside = c.or_([-hi_at_least(ceil(k)), lo_at_least(floor(k) + 1)])
                return (exact, outside) if op == "==" else (outside, exact)
            case _:
                assert_never(op)


def _constant(truth: Truth) -> Lits:
    if truth is Truth.TRUE:
        return TRUE, -TRUE
    if truth is Truth.FALSE:
        return -TRUE, TRUE
    return -TRUE, -TRUE


class Problem:
    """One encoding and one incremental solver, asked many questions by assumptions.

    Build the record copies and sides first (`records`, `side`), then ask (`smallest`,
    `exists`). Gates added after the first question are passed to the solver before the next.
    """

    def __init__(
        self, domain: Mapping[str, tuple[Value, ...]], rulesets: Sequence[CompiledRuleSet]
    ) -> None:
        self.circuit = Circuit()
        self.domain = domain
        self.numeric = {f for rs in rulesets for f in rs.numeric_flags}
        self.calls = 0
        self._solver: Solver | None = None
        self._given = 0

    def records(self, flags: Sequence[str], fixed: Mapping[str, Value] | None = None) -> Records:
        """A copy of the record variables over `flags` (and `fixed` answers)."""
        return Records(self.circuit, flags, self.domain, self.numeric, fixed)

    def side(self, records: Records, ruleset: CompiledRuleSet) -> Side:
        """`records` as `ruleset` reads them."""
        return Side(records, ruleset)

    def close(self) -> None:
        """Free the solver."""
        if self._solver is not None:
            self._solver.delete()
            self._solver = None

    def __enter__(self) -> Problem:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _sync(self) -> Solver:
        if self._solver is None:
            from pysat.solvers import Solver

            self._solver = Solver(name=SOLVER)
        clauses = self.circuit.clauses
        if self._given < len(clauses):
            self._solver.append_formula(clauses[self._given :])
            self._given = len(clauses)
        return self._solver

    def solve(self, assumptions: Sequence[int], budget: Budget) -> set[int] | None:
        """A model meeting `assumptions`, or None when the solver proves there is none."""
        if -TRUE in assumptions:
            return None
        solver = self._sync()
        self.calls += 1
        return _solve(solver, [a for a in assumptions if a != TRUE], budget)

    def sat(self, assumptions: Sequence[int], budget: Budget) -> bool:
        """Whether some record meets `assumptions` (no model is read back)."""
        if -TRUE in assumptions:
            return False
        solver = self._sync()
        self.calls += 1
        return _satisfiable(solver, [a for a in assumptions if a != TRUE], budget)

    def smallest(
        self,
        records: Records,
        assumptions: Sequence[int],
        budget: Budget,
        searched: Sequence[str] | None = None,
    ) -> dict[str, Value] | None:
        """The record with the fewest answered flags meeting `assumptions`, answering only
        `searched` flags (default: all of the copy's), first in search order among those;
        None when the solver proves there is none."""
        flags = tuple(searched if searched is not None else records.searched)
        allowed = set(flags)
        base = [
            *assumptions,
            *(-records.vars[f].answered for f in records.searched if f not in allowed),
        ]
        model = self.solve(base, budget)
        if model is None:
            return None
        answered = [records.vars[f].answered for f in flags]
        size = sum(1 for lit in answered if lit in model)
        if size:
            counter = self._counter(answered, size)
            while size > 0:
                smaller = self.solve([*base, -counter[size - 1]], budget)
                if smaller is None:
                    break
                size = sum(1 for lit in answered if lit in smaller)
            if size < len(counter):
                base.append(-counter[size])
        return self._first(records, flags, base, size, budget)

    def _counter(self, lits: Sequence[int], bound: int) -> list[int]:
        """Literals out[j] equivalent to "more than j of `lits`" for j = 0..bound."""
        from pysat.card import ITotalizer

        tot = ITotalizer(lits=list(lits), ubound=bound, top_id=self.circuit.top)
        self.circuit.top = max(self.circuit.top, tot.top_id)
        self.circuit.clauses.extend(list(c) for c in tot.cnf.clauses)
        out = list(tot.rhs)
        tot.delete()
        return out

    def _first(
        self,
        records: Records,
        flags: Sequence[str],
        base: list[int],
        size: int,
        budget: Budget,
    ) -> dict[str, Value]:
        """The first record in search order of those with `size` answers (greedy)."""
        fixed = list(base)
        start = 0
        record: dict[str, Value] = {}
        for _ in range(size):
            for i in range(start, len(flags)):
                fv = records.vars[flags[i]]
                hit = next(
                    (
                        (value, lit)
                        for value, lit in fv.choices()
                        if self.solve([*fixed, lit], budget) is not None
                    ),
                    None,
                )
                if hit is not None:
                    record[flags[i]] = hit[0]
                    fixed.append(hit[1])
                    start = i + 1
                    break
                fixed.append(-fv.answered)
            else:  # pragma: no cover - a model with `size` answers was found above
                raise AssertionError("no record of the size the solver reported")
        return record


def _satisfiable(solver: Solver, assumptions: list[int], budget: Budget) -> bool:
    if budget.seconds is None:
        return bool(solver.solve(assumptions=assumptions))
    with budget.watching(solver):
        answer = solver.solve_limited(assumptions=assumptions, expect_interrupt=True)
    if answer is None:
        budget.expired = True
        raise OutOfTime(budget.message())
    return bool(answer)


def _solve(solver: Solver, assumptions: list[int], budget: Budget) -> set[int] | None:
    if not _satisfiable(solver, assumptions, budget):
        return None
    model = solver.get_model()
    assert model is not None
    return set(model)
