"""Exact questions about every possible record: does any record get a lower level under NEW?

Pure logic: no clock (but the budget's), no output. The CLI times the calls and prints the
method name. The questions are answered by a SAT solver over an exact encoding of the
three-valued semantics (core/solve.py); numeric flags take one value per region
(core/regions.py).

Monotonicity (the fact the reduction below rests on). Call q an *extension* of p when q
answers every flag p answers, the same way, and maybe more. The evaluator is Kleene logic
over intervals: answering a flag narrows an interval or turns UNKNOWN into TRUE/FALSE, and
and/or/not/any/all/count/comparisons never turn a definite value back into UNKNOWN or flip it.
So a condition that is TRUE (or FALSE) for p is TRUE (or FALSE) for every extension of p.
Closing a record under implied flags is monotone too.

Why a downgrade needs only one rule's flags. Let q be a record with rank_new(q) > rank_old(q)
(a downgrade: NEW less urgent) and A an OLD rule that is TRUE for q with rank(A) = rank_old(q).
Let q' keep only q's answers to A's flags (and the flags implications connect them with).
A reads nothing else, so A is TRUE for q' and rank_old(q') <= rank(A). q is an extension of
q', so any NEW rule TRUE for q' is TRUE for q: rank_new(q') >= rank_new(q) > rank(A) >=
rank_old(q'). So q' is a downgrade too, answering only A's flags, and never more flags than q.
Hence: for each OLD rule A, ask for a record over A's flags where A is TRUE under OLD and no
NEW rule at A's level or above is TRUE under NEW. The smallest answer over all such A is a
smallest downgrade.

Which rules are asked. A rule A can be left out only when NEW has a twin that is TRUE on
exactly the records where A is: the same condition at the same level, every flag it reads
with the same type and bounds in both (an unknown number is decided by the bounds), and the
same implications. Everything else (a changed condition, level, bound, type or implication,
a rule removed) is asked, never skipped.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import assert_never

from redflag.core.compile import CompiledRule, CompiledRuleSet
from redflag.core.evaluate import Record, Value, evaluate, trace_node
from redflag.core.expr.nodes import And, Call, Compare, Name, Node, Not, Number, Or
from redflag.core.flags import BoolFlag, CompiledFlag, NumericFlag
from redflag.core.implication import close
from redflag.core.logic import Truth
from redflag.core.regions import answers, constants
from redflag.core.solve import METHOD, Budget, Problem
from redflag.errors import AnalysisError

__all__ = ["METHOD", "Budget", "find_downgrades"]

Domain = Mapping[str, tuple[Value, ...]]


def truth(rule: CompiledRule, record: Record, ruleset: CompiledRuleSet) -> Truth:
    """A rule's truth for a (partial) record (the slow, traced evaluator)."""
    return trace_node(rule.condition, record, ruleset).truth


def node_key(node: Node) -> object:
    """A node's structure without source positions: equal keys mean the same condition."""
    match node:
        case Name(id=flag):
            return ("name", flag)
        case Number(value=value):
            return ("number", value)
        case Not(operand=operand):
            return ("not", node_key(operand))
        case And(operands=operands):
            return ("and", tuple(node_key(o) for o in operands))
        case Or(operands=operands):
            return ("or", tuple(node_key(o) for o in operands))
        case Call(func=func, args=args):
            return (func, tuple(node_key(a) for a in args))
        case Compare(op=op, left=left, right=right):
            return ("compare", op, node_key(left), node_key(right))
        case _:
            assert_never(node)


def domain_for(rulesets: Iterable[CompiledRuleSet]) -> dict[str, tuple[Value, ...]]:
    """Every flag's answers to try: bools true/false, numeric flags one value per region
    (core/regions.py), valid in every rule set that declares the flag.

    Raises:
        AnalysisError: a numeric flag is compared with another flag or a count, which regions
            cut at constants cannot represent exactly.
    """
    sets = list(rulesets)
    specs: dict[str, list[CompiledFlag]] = {}
    for ruleset in sets:
        for flag in ruleset.flags.values():
            specs.setdefault(flag.id, []).append(flag)
    return answers(specs, constants(rule for ruleset in sets for rule in ruleset.rules))


@dataclass(frozen=True)
class Counterexample:
    """A record that gets a less urgent level under NEW than under OLD."""

    record: dict[str, Value]
    responsible: str
    old_level: str
    new_level: str
    old_rules: tuple[str, ...]
    new_rules: tuple[str, ...]


@dataclass(frozen=True)
class ExhaustiveReport:
    """The answer of `diff --exhaustive`: counterexamples (none = no downgrade), and work."""

    method: str
    counterexamples: tuple[Counterexample, ...]
    checked_rules: tuple[str, ...]
    calls: int


def check_levels_match(old: CompiledRuleSet, new: CompiledRuleSet) -> None:
    """Both rule sets must list the same levels in the same order, and shared flags must
    have the same kind (bool or numeric), to be compared.

    A flag OLD has and NEW lacks is simply unknown to NEW (NEW never reads it).

    Raises:
        AnalysisError: they do not.
    """
    for flag_id, flag in old.flags.items():
        other = new.flags.get(flag_id)
        if other is not None and isinstance(other, NumericFlag) != isinstance(flag, NumericFlag):
            raise AnalysisError(
                f"flag '{flag_id}' is {flag.type} in OLD but {other.type} in NEW, so records "
                "cannot be compared",
                hint="rename the flag in NEW if its meaning changed",
            )
    old_ids = [lv.id for lv in old.levels]
    new_ids = [lv.id for lv in new.levels]
    if old_ids != new_ids:
        raise AnalysisError(
            f"the two rule files have different levels ({', '.join(old_ids)} vs "
            f"{', '.join(new_ids)}), so their urgencies cannot be compared",
            hint="compare rule files that declare the same levels in the same order",
        )


def find_downgrades(
    old: CompiledRuleSet, new: CompiledRuleSet, budget: Budget | None = None
) -> ExhaustiveReport:
    """Every kind of downgrade from OLD to NEW over all records, each with a smallest record.

    One counterexample per OLD rule responsible (see the module docstring for why searching
    each such rule's flags is complete); sorted by number of answered flags.

    Raises:
        OutOfTime: the budget ran out (the answer is "not proved", never "proved").
        NotProvedError: a comparison the encoding cannot decide exactly.
    """
    check_levels_match(old, new)
    budget = budget or Budget()
    domain = domain_for([old, new])
    unchanged = {(node_key(r.condition), r.rank) for r in new.rules}
    same_implications = old.implications == new.implications
    found: list[Counterexample] = []
    checked: list[str] = []
    calls = 0
    index, old_index = RuleIndex(new), RuleIndex(old)
    for rule in old.rules:
        if (
            (node_key(rule.condition), rule.rank) in unchanged
            and same_implications
            and all(_same_values(old.flags[f], new.flags.get(f)) for f in rule.flags)
        ):
            continue
        budget.check()
        checked.append(rule.id)
        searched = searched_flags(rule, old)
        blockers = index.relevant(rule.rank, searched)
        if blockers is None:
            continue  # a NEW rule at this level or above is TRUE on every record
        with Problem(domain, [old, new]) as problem:
            records = problem.records(searched)
            before, after = problem.side(records, old), problem.side(records, new)
            needed = [before.valid, after.valid, before.true(rule.condition)]
            needed.extend(-after.true(b.condition) for b in blockers)
            witness = problem.smallest(records, needed, budget)
            calls += problem.calls
        if witness is not None:
            found.append(_counterexample(witness, rule.id, old_index, index))
    found.sort(key=lambda c: (len(c.record), c.old_level, c.responsible))
    return ExhaustiveReport(METHOD, tuple(found), tuple(checked), calls)


class RuleIndex:
    """Which rules read which flags, and which are TRUE on the empty record, for one rule set:
    to pick, fast, the rules a search over a few flags must encode."""

    def __init__(self, ruleset: CompiledRuleSet) -> None:
        self.ruleset = ruleset
        self.by_flag: dict[str, list[int]] = {}
        for i, rule in enumerate(ruleset.rules):
            for flag in rule.flags:
                self.by_flag.setdefault(flag, []).append(i)
        empty = evaluate(ruleset, {})
        self.true_on_empty = {i for i, o in enumerate(empty.outcomes) if o.truth is Truth.TRUE}

    def matched(self, record: Mapping[str, Value]) -> list[CompiledRule]:
        """The rules TRUE for `record`, most urgent first (as `evaluate` gives them)."""
        closed = close(record, self.ruleset.implications)
        rules = self.ruleset.rules
        read = {i for f in closed for i in self.by_flag.get(f, ())}
        hits = [i for i in read if truth(rules[i], closed, self.ruleset) is Truth.TRUE]
        hits.extend(i for i in self.true_on_empty if i not in read)
        return sorted((rules[i] for i in sorted(hits)), key=lambda r: r.rank)

    def relevant(
        self,
        max_rank: int,
        searched: Sequence[str],
        base: Mapping[str, Value] | None = None,
        exclude: CompiledRule | None = None,
    ) -> list[CompiledRule] | None:
        """The rules at `max_rank` or above (but `exclude`) worth encoding while searching
        records over `searched`, with the bool flags of `base` fixed.

        A rule reading no flag that the searched ones reach through implied flags has one
        truth on every record searched: its truth on `base`. If that is TRUE it holds
        everywhere, and None says so; otherwise it can never hold and is left out.
        """
        rules = self.ruleset.rules
        implications = self.ruleset.implications
        reach = implications.related(frozenset(searched))
        read = {i for f in reach for i in self.by_flag.get(f, ())}
        wanted = [i for i in sorted(read) if rules[i].rank <= max_rank and rules[i] is not exclude]
        always = set(self.true_on_empty)
        if base:
            closed = close(base, implications)
            touched = {i for f in closed for i in self.by_flag.get(f, ())} - read
            always -= touched
            always |= {i for i in touched if truth(rules[i], closed, self.ruleset) is Truth.TRUE}
        if any(
            i not in read and rules[i].rank <= max_rank and rules[i] is not exclude for i in always
        ):
            return None
        return [rules[i] for i in wanted]


def searched_flags(rule: CompiledRule, ruleset: CompiledRuleSet) -> tuple[str, ...]:
    """The flags to search for records about `rule`: its own, then (in file order) every flag
    implied flags connect them with, since those can set the rule's flags (a yes to
    new_back_pain is a yes to back_pain)."""
    related = ruleset.implications.related(frozenset(rule.flags))
    return (*rule.flags, *(f for f in ruleset.flags if f in related and f not in rule.flags))


def _same_values(before: CompiledFlag, after: CompiledFlag | None) -> bool:
    """Same kind and bounds: an unknown value of the flag is decided the same way."""
    match before, after:
        case BoolFlag(), BoolFlag():
            return True
        case NumericFlag(), NumericFlag():
            return (before.type, before.min, before.max) == (after.type, after.min, after.max)
        case _:
            return False


def _counterexample(
    record: dict[str, Value],
    responsible: str,
    old: RuleIndex,
    new: RuleIndex,
) -> Counterexample:
    before = old.matched(record)
    after = new.matched({k: v for k, v in record.items() if k in new.ruleset.flags})
    before_rank = min((r.rank for r in before), default=len(old.ruleset.levels) - 1)
    after_rank = min((r.rank for r in after), default=len(new.ruleset.levels) - 1)
    assert after_rank > before_rank, "search found a record that is not a downgrade"
    return Counterexample(
        record=record,
        responsible=responsible,
        old_level=old.ruleset.levels[before_rank].id,
        new_level=new.ruleset.levels[after_rank].id,
        old_rules=tuple(r.id for r in before),
        new_rules=tuple(r.id for r in after),
    )
