"""Per-rule findings over every possible record: vacuous, always fires, redundant, masked,
non-monotone; each with a witness record. The questions are answered by the SAT search of
core/solve.py, over the same encoding and regions as `diff --exhaustive`.

Pure logic: no clock (but the budget's), no output.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Literal, assert_never

from redflag.core.closures import truth_function
from redflag.core.compile import CompiledRule, CompiledRuleSet
from redflag.core.evaluate import Value, evaluate
from redflag.core.exhaustive import Domain, RuleIndex, domain_for, searched_flags, truth
from redflag.core.expr.nodes import FLIP, And, Call, Compare, CompareOp, Name, Node, Not, Number, Or
from redflag.core.expr.walk import flags_used
from redflag.core.implication import close, contradiction
from redflag.core.logic import Truth
from redflag.core.solve import METHOD, Budget, Problem

Kind = Literal["vacuous", "always-fires", "non-monotone", "redundant", "masked"]
ERROR_KINDS: tuple[Kind, ...] = ("vacuous", "always-fires", "non-monotone")


@dataclass(frozen=True)
class Finding:
    """One finding about one rule, with a witness record when one can exist."""

    kind: Kind
    rule_id: str
    message: str
    record: dict[str, Value] | None = None
    others: tuple[str, ...] = ()

    @property
    def is_error(self) -> bool:
        """Vacuous, always-fires and non-monotone are errors; the rest are information."""
        return self.kind in ERROR_KINDS


@dataclass(frozen=True)
class AnalysisReport:
    """Every finding, the method, and how many solver calls it took."""

    method: str
    findings: tuple[Finding, ...]
    calls: int
    checked_flags: tuple[str, ...] = field(default=())


# Records tried to sort rules into groups that may be equivalent before asking the solver:
# equivalent rules agree on every record, so rules that disagree on one of these are not.
_SAMPLES = 64


def analyze(ruleset: CompiledRuleSet, budget: Budget | None = None) -> AnalysisReport:
    """Find vacuous, always-firing, redundant, masked and non-monotone rules.

    Raises:
        OutOfTime: the budget ran out (no finding list is claimed complete).
    """
    budget = budget or Budget()
    ask = _Asker(ruleset, domain_for([ruleset]), budget)
    findings: list[Finding] = []
    firing: dict[str, dict[str, Value]] = {}
    for rule in ruleset.rules:
        fires = ask.smallest(searched_flags(rule, ruleset), rule)
        if fires is None:
            findings.append(
                Finding("vacuous", rule.id, "no record makes its condition true: it never fires")
            )
            continue
        firing[rule.id] = fires
        if not fires:
            findings.append(
                Finding(
                    "always-fires",
                    rule.id,
                    "it fires for every record, even the empty one",
                    record={},
                )
            )
    findings.extend(_redundant(ruleset, firing, ask))
    findings.extend(_masked(ruleset, firing, ask))
    monotone = _non_monotone(ruleset, ask)
    findings.extend(monotone[0])
    order = {"vacuous": 0, "always-fires": 1, "non-monotone": 2, "redundant": 3, "masked": 4}
    findings.sort(key=lambda f: order[f.kind])
    return AnalysisReport(METHOD, tuple(findings), ask.calls, monotone[1])


class _Asker:
    """Asks one small question at a time: a fresh encoding of only the rules involved."""

    def __init__(self, ruleset: CompiledRuleSet, domain: Domain, budget: Budget) -> None:
        self.ruleset = ruleset
        self.domain = domain
        self.budget = budget
        self.calls = 0
        self.index = RuleIndex(ruleset)

    def smallest(
        self,
        searched: Sequence[str],
        rule: CompiledRule,
        blocked_at: int | None = None,
        fixed: Sequence[str] = (),
        exclude: CompiledRule | None = None,
    ) -> dict[str, Value] | None:
        """A smallest record over `searched` (with the bool flags `fixed`: no for `rule`, yes
        for the blockers) where `rule` is TRUE and no rule at rank `blocked_at` or above (but
        `exclude`) is TRUE."""
        self.budget.check()
        no = dict.fromkeys(fixed, False)
        yes = dict.fromkeys(fixed, True)
        kept = [] if blocked_at is None else self.index.relevant(blocked_at, searched, yes, exclude)
        if kept is None:
            return None
        with Problem(self.domain, [self.ruleset]) as problem:
            records = problem.records(searched)
            before = problem.side(records.with_fixed(no) if no else records, self.ruleset)
            after = problem.side(records.with_fixed(yes), self.ruleset) if yes else before
            needed = [before.valid, after.valid, before.true(rule.condition)]
            needed.extend(-after.true(b.condition) for b in kept)
            witness = problem.smallest(records, needed, self.budget)
            self.calls += problem.calls
        return witness

    def differ(self, searched: Sequence[str], a: CompiledRule, b: CompiledRule) -> bool:
        """Whether some record gives `a` and `b` different truths."""
        self.budget.check()
        with Problem(self.domain, [self.ruleset]) as problem:
            records = problem.records(searched)
            side = problem.side(records, self.ruleset)
            c = problem.circuit
            ta, fa = side.truth(a.condition)
            tb, fb = side.truth(b.condition)
            xor = [c.and_([ta, -tb]), c.and_([-ta, tb]), c.and_([fa, -fb]), c.and_([-fa, fb])]
            answer = problem.sat([side.valid, c.or_(xor)], self.budget)
            self.calls += problem.calls
        return answer


def _redundant(
    ruleset: CompiledRuleSet, firing: dict[str, dict[str, Value]], ask: _Asker
) -> list[Finding]:
    """Pairs of rules with the same truth on every record (the later one is reported).

    Rules are first grouped by their truths on fixed sample records: equivalent rules agree
    on every record, so only rules in one group are asked about.
    """
    rules = [r for r in ruleset.rules if r.id in firing]
    samples = _samples(ruleset, ask.domain)
    groups: dict[tuple[int, ...], list[CompiledRule]] = {}
    for rule in rules:
        fn = truth_function(rule.condition, ruleset)
        groups.setdefault(tuple(fn(s) for s in samples), []).append(rule)
    found: list[Finding] = []
    for group in groups.values():
        for i, a in enumerate(group):
            for b in group[i + 1 :]:
                flags = tuple(
                    dict.fromkeys((*searched_flags(a, ruleset), *searched_flags(b, ruleset)))
                )
                if not ask.differ(flags, a, b):
                    found.append(
                        Finding(
                            "redundant",
                            b.id,
                            f"its condition is equivalent to rule '{a.id}' on every record",
                            record=firing[b.id],
                            others=(a.id,),
                        )
                    )
    order = {r.id: i for i, r in enumerate(ruleset.rules)}
    found.sort(key=lambda f: (order[f.others[0]], order[f.rule_id]))
    return found


def _samples(ruleset: CompiledRuleSet, domain: Domain) -> list[dict[str, Value]]:
    """Valid records closed under implied flags, from a fixed seed, and the empty one."""
    rng = random.Random(20261202)
    out: list[dict[str, Value]] = [{}]
    implications = ruleset.implications
    while len(out) < _SAMPLES:
        record: dict[str, Value] = {}
        for flag in ruleset.flags:
            values = domain[flag]
            if values and rng.random() < 0.5:
                record[flag] = rng.choice(values)
        if contradiction(record, implications) is None:
            out.append(dict(close(record, implications)))
    return out


def _masked(
    ruleset: CompiledRuleSet, firing: dict[str, dict[str, Value]], ask: _Asker
) -> list[Finding]:
    found: list[Finding] = []
    for rule in ruleset.rules:
        if rule.id not in firing or not firing[rule.id]:
            continue
        if ask.smallest(searched_flags(rule, ruleset), rule, rule.rank, exclude=rule) is None:
            record = firing[rule.id]
            closed = close(record, ruleset.implications)
            masking = tuple(
                o.id
                for o in ask.index.relevant(rule.rank, tuple(record), exclude=rule) or ()
                if truth(o, closed, ruleset) is Truth.TRUE
            )
            found.append(
                Finding(
                    "masked",
                    rule.id,
                    "whenever it fires, a rule at its level or above fires too, so it never "
                    "changes the level (its rationale is still shown)",
                    record=record,
                    others=masking,
                )
            )
    return found


def _non_monotone(ruleset: CompiledRuleSet, ask: _Asker) -> tuple[list[Finding], tuple[str, ...]]:
    """Records whose level drops when one bool flag goes from no to yes.

    From unknown to yes can never lower a level (Kleene monotonicity: TRUE rules stay TRUE),
    and a flag that occurs only positively (not under `not`, not counted by `count(...) <`),
    and is not connected by implied flags to one that does, can never lower one either; for
    the remaining flags, the question is a diff between the
    rule set with the flag fixed to no (OLD) and to yes (NEW), on the same other answers.
    """
    found: list[Finding] = []
    negative = {f for r in ruleset.rules for f in negative_flags(r.condition)}
    # a no to an implied flag is a no to the flags implying it: those reach `not` too
    implications = ruleset.implications
    related = implications.related(frozenset(negative))
    suspects = sorted(f for f in related if f in ruleset.flags and f not in ruleset.numeric_flags)
    for flag in suspects:
        reach = implications.related(frozenset({flag}))
        for rule in ruleset.rules:
            if not reach.intersection(rule.flags):
                continue
            searched = tuple(f for f in searched_flags(rule, ruleset) if f != flag)
            witness = ask.smallest(searched, rule, rule.rank, (flag,))
            if witness is not None:
                before = evaluate(ruleset, {**witness, flag: False})
                after = evaluate(ruleset, {**witness, flag: True})
                found.append(
                    Finding(
                        "non-monotone",
                        rule.id,
                        f"answering '{flag}' yes instead of no lowers the level from "
                        f"{before.level.id} to {after.level.id}",
                        record={**witness, flag: False},
                        others=(flag,),
                    )
                )
                break
    return found, tuple(suspects)


def negative_flags(node: Node, positive: bool = True) -> set[str]:
    """Bool flags occurring where answering yes could make the condition less true."""
    match node:
        case Name(id=flag):
            return set() if positive else {flag}
        case Number():
            return set()
        case Not(operand=operand):
            return negative_flags(operand, not positive)
        case And(operands=parts) | Or(operands=parts) | Call(args=parts):
            return _union(negative_flags(p, positive) for p in parts)
        case Compare(op=op, left=left, right=right):
            return _compare_negatives(op, left, right, positive)
        case _:
            assert_never(node)


def _compare_negatives(op: CompareOp, left: Node, right: Node, positive: bool) -> set[str]:
    if isinstance(right, Call) and not isinstance(left, Call):
        op = FLIP[op]
        left, right = right, left
    if not isinstance(left, Call):
        return set()  # numeric flags against numbers: no bool flag involved
    if op in (">", ">="):
        return _union(negative_flags(a, positive) for a in left.args)
    if op in ("<", "<="):
        return _union(negative_flags(a, not positive) for a in left.args)
    return set(flags_used(left))  # == and != can go either way


def _union(parts: Iterable[set[str]]) -> set[str]:
    out: set[str] = set()
    for part in parts:
        out |= part
    return out
