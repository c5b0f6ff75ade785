"""Per-rule findings over every possible record: vacuous, always fires, redundant, masked,
non-monotone; each with a witness record. Uses the exact search of core/exhaustive.py.

Pure logic: no clock, no output.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Literal, assert_never

from redflag.core.closures import truth_function
from redflag.core.compile import CompiledRule, CompiledRuleSet
from redflag.core.evaluate import Value, evaluate
from redflag.core.exhaustive import (
    METHOD,
    Domain,
    SearchStats,
    Verdict,
    domain_for,
    downgrade_verdict,
    relevant_blockers,
    searched_flags,
    smallest_witness,
)
from redflag.core.expr.nodes import And, Call, Compare, Name, Node, Not, Number, Or
from redflag.core.expr.walk import flags_used
from redflag.core.implication import close, contradiction

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
    """Every finding, the method, and how many partial records were examined."""

    method: str
    findings: tuple[Finding, ...]
    visited: int
    checked_flags: tuple[str, ...] = field(default=())


def analyze(ruleset: CompiledRuleSet) -> AnalysisReport:
    """Find vacuous, always-firing, redundant, masked and non-monotone rules."""
    domain = domain_for([ruleset])
    stats = SearchStats()
    findings: list[Finding] = []
    firing: dict[str, dict[str, Value]] = {}
    for rule in ruleset.rules:
        fires = _firing_record(rule, ruleset, domain, stats)
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
    findings.extend(_redundant(ruleset, firing, domain, stats))
    findings.extend(_masked(ruleset, firing, domain, stats))
    monotone = _non_monotone(ruleset, domain, stats)
    findings.extend(monotone[0])
    order = {"vacuous": 0, "always-fires": 1, "non-monotone": 2, "redundant": 3, "masked": 4}
    findings.sort(key=lambda f: order[f.kind])
    return AnalysisReport(METHOD, tuple(findings), stats.visited, monotone[1])


def _firing_record(
    rule: CompiledRule, ruleset: CompiledRuleSet, domain: Domain, stats: SearchStats
) -> dict[str, Value] | None:
    fn = truth_function(rule.condition, ruleset)
    verdict = downgrade_verdict(fn, [], old=ruleset, new=ruleset)
    return smallest_witness(searched_flags(rule, ruleset), domain, verdict, stats)


def _redundant(
    ruleset: CompiledRuleSet,
    firing: dict[str, dict[str, Value]],
    domain: Domain,
    stats: SearchStats,
) -> list[Finding]:
    found: list[Finding] = []
    rules = [r for r in ruleset.rules if r.id in firing]
    for i, a in enumerate(rules):
        found.extend(
            Finding(
                "redundant",
                b.id,
                f"its condition is equivalent to rule '{a.id}' on every record",
                record=firing[b.id],
                others=(a.id,),
            )
            for b in rules[i + 1 :]
            if _equivalent(a, b, ruleset, domain, stats)
        )
    return found


def _equivalent(
    a: CompiledRule, b: CompiledRule, ruleset: CompiledRuleSet, domain: Domain, stats: SearchStats
) -> bool:
    """Same truth on every partial record (both definite and equal persists: prune)."""
    fa = truth_function(a.condition, ruleset)
    fb = truth_function(b.condition, ruleset)

    implications = ruleset.implications

    def verdict(record: dict[str, Value]) -> Verdict:
        if contradiction(record, implications):
            return Verdict.PRUNE
        closed = close(record, implications)
        ta, tb = fa(closed), fb(closed)
        if ta is not tb:
            return Verdict.WITNESS
        return Verdict.PRUNE if ta.is_definite else Verdict.CONTINUE

    flags = tuple(dict.fromkeys((*searched_flags(a, ruleset), *searched_flags(b, ruleset))))
    return smallest_witness(flags, domain, verdict, stats) is None


def _masked(
    ruleset: CompiledRuleSet,
    firing: dict[str, dict[str, Value]],
    domain: Domain,
    stats: SearchStats,
) -> list[Finding]:
    found: list[Finding] = []
    for rule in ruleset.rules:
        if rule.id not in firing or not firing[rule.id]:
            continue
        others = [r for r in ruleset.rules if r is not rule and r.rank <= rule.rank]
        searched = searched_flags(rule, ruleset)
        blockers = relevant_blockers(searched, others, ruleset)
        verdict = downgrade_verdict(
            truth_function(rule.condition, ruleset), blockers, old=ruleset, new=ruleset
        )
        if smallest_witness(searched, domain, verdict, stats) is None:
            record = firing[rule.id]
            result = evaluate(ruleset, record)
            masking = tuple(
                o.rule.id
                for o in result.matched
                if o.rule.id != rule.id and o.compiled.rank <= rule.rank
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


def _non_monotone(
    ruleset: CompiledRuleSet, domain: Domain, stats: SearchStats
) -> tuple[list[Finding], tuple[str, ...]]:
    """Records whose level drops when one bool flag goes from no to yes.

    From unknown to yes can never lower a level (Kleene monotonicity: TRUE rules stay TRUE),
    and a flag that occurs only positively (not under `not`, not counted by `count(...) <`)
    can never lower one either; the remaining flags are searched exactly as a diff between
    the rule set with the flag fixed to no (OLD) and to yes (NEW).
    """
    found: list[Finding] = []
    suspects = sorted({f for r in ruleset.rules for f in negative_flags(r.condition)})
    for flag in suspects:
        no, yes = {flag: False}, {flag: True}
        for rule in ruleset.rules:
            if flag not in rule.flags:
                continue
            searched = tuple(f for f in rule.flags if f != flag)
            blockers = relevant_blockers(
                searched, [r for r in ruleset.rules if r.rank <= rule.rank], ruleset, yes
            )
            verdict = downgrade_verdict(
                truth_function(rule.condition, ruleset),
                blockers,
                no,
                yes,
                old=ruleset,
                new=ruleset,
            )
            witness = smallest_witness(searched, domain, verdict, stats)
            if witness is not None:
                before = evaluate(ruleset, {**witness, **no})
                after = evaluate(ruleset, {**witness, **yes})
                found.append(
                    Finding(
                        "non-monotone",
                        rule.id,
                        f"answering '{flag}' yes instead of no lowers the level from "
                        f"{before.level.id} to {after.level.id}",
                        record={**witness, **no},
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


def _compare_negatives(op: str, left: Node, right: Node, positive: bool) -> set[str]:
    if isinstance(right, Call) and not isinstance(left, Call):
        op = {"<": ">", "<=": ">=", ">": "<", ">=": "<="}.get(op, op)
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
