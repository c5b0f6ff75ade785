"""Results without traces, for the service: the same level, matched rules, could-escalate
rules and missing flags as core.evaluate, from core/closures.py (as `batch --full` does).

`evaluate` keeps a trace of every node of every rule for `explain`; a request needs none,
and tracing is most of a request's time (issue 16 targets). Traces here are the rule's truth
alone (no children): nothing in the service reads them. Tested against core.evaluate on
every case of tests/cases/.
"""

from __future__ import annotations

from redflag.core.closures import TruthFn, UnknownsFn, truth_function, unknowns_function
from redflag.core.compile import CompiledRule, CompiledRuleSet
from redflag.core.evaluate import Record, Result, RuleOutcome, Trace
from redflag.core.implication import close
from redflag.core.logic import Truth
from redflag.core.record import RecordId


class QuickEvaluator:
    """One truth and one unknowns closure per rule, compiled once per rule set."""

    def __init__(self, ruleset: CompiledRuleSet) -> None:
        self.ruleset = ruleset
        self.rules: list[tuple[CompiledRule, TruthFn, UnknownsFn]] = [
            (r, truth_function(r.condition, ruleset), unknowns_function(r.condition, ruleset))
            for r in ruleset.rules
        ]

    def evaluate(self, record: Record, record_id: RecordId | None = None) -> Result:
        """The Result core.evaluate gives, less the traces below each rule and the `missing`
        of undecided rules below the level (those that cannot escalate it)."""
        ruleset = self.ruleset
        closed = close(record, ruleset.implications)
        truths = [
            (rule, truth_fn(closed), unknowns_fn) for rule, truth_fn, unknowns_fn in self.rules
        ]
        ranks = [rule.rank for rule, truth, _ in truths if truth is Truth.TRUE]
        rank = min(ranks, default=len(ruleset.levels) - 1)
        outcomes = [
            RuleOutcome(
                rule,
                Trace(rule.condition, truth),
                # only a rule that could escalate needs its deciding flags (the service
                # shows no others): the rest keep () and cost nothing
                unknowns_fn(closed) if truth is Truth.UNKNOWN and rule.rank < rank else (),
            )
            for rule, truth, unknowns_fn in truths
        ]
        matched = [o for o in outcomes if o.truth is Truth.TRUE]
        could = [o for o in outcomes if o.truth is Truth.UNKNOWN and o.compiled.rank < rank]
        return Result(
            level=ruleset.levels[rank],
            rank=rank,
            matched=tuple(sorted(matched, key=lambda o: o.compiled.rank)),
            could_escalate=tuple(sorted(could, key=lambda o: o.compiled.rank)),
            outcomes=tuple(outcomes),
            record=record,
            record_id=record_id,
            implied={k: v for k, v in closed.items() if k not in record},
        )
