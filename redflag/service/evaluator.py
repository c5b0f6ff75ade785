"""Results without traces, for the service: the same level, matched rules, could-escalate
rules and missing flags as core.evaluate, from core/closures.py (as `batch --full` does).

`evaluate` keeps a trace of every node of every rule for `explain`; a request needs none,
and tracing is most of a request's time (issue 16 targets). Traces here are the rule's truth
alone (no children): nothing in the service reads them. Tested against core.evaluate on
every case of tests/cases/.
"""

from __future__ import annotations

from redflag.core.closures import TruthFn, UnknownsFn, truth_function, unknowns_function
from redflag.core.compile import CompiledRuleSet
from redflag.core.evaluate import Record, Result, RuleOutcome, Trace
from redflag.core.expr.walk import flags_used
from redflag.core.implication import close
from redflag.core.logic import TRUE, UNKNOWN, Truth
from redflag.core.record import RecordId


class QuickEvaluator:
    """One truth and one unknowns closure per rule, compiled once per rule set.

    The outcome of a decided rule (and its trace, the rule's truth alone) is the same for
    every record, so it is built once here; a request builds only the outcomes of the rules
    that could escalate (issue 16: building 53 outcomes per request was a tenth of its time).
    A rule reads only its own flags: when the (closed) record answers none of them, its truth
    and unknown flags are those of the empty record, worked out once here too. Most records
    answer a few flags, so most rules cost nothing: the rules a record touches are the union
    of the rules reading each of its flags (`readers`), and only those are evaluated.
    """

    def __init__(self, ruleset: CompiledRuleSet) -> None:
        self.ruleset = ruleset
        self.truths: list[TruthFn] = [truth_function(r.condition, ruleset) for r in ruleset.rules]
        # called only for a rule just found UNKNOWN: its truth is not worked out again
        self.unknowns: list[UnknownsFn] = [
            unknowns_function(r.condition, ruleset, undecided=True) for r in ruleset.rules
        ]
        self.unknown_traces = [Trace(r.condition, Truth.UNKNOWN) for r in ruleset.rules]
        self.decided: list[dict[Truth, RuleOutcome]] = [
            {t: RuleOutcome(r, Trace(r.condition, t), ()) for t in Truth} for r in ruleset.rules
        ]
        self.flags = [frozenset(flags_used(r.condition)) for r in ruleset.rules]
        self.blank: list[RuleOutcome] = [
            RuleOutcome(r, Trace(r.condition, t), unknowns({}) if t is Truth.UNKNOWN else ())
            for r, t, unknowns in zip(
                ruleset.rules, [truth({}) for truth in self.truths], self.unknowns, strict=True
            )
        ]
        self.blank_truths = [o.truth for o in self.blank]
        # flag -> the rules reading it: a record's flags give the rules it touches
        readers: dict[str, set[int]] = {}
        for i, flags in enumerate(self.flags):
            for flag in flags:
                readers.setdefault(flag, set()).add(i)
        self.readers = {flag: frozenset(rules) for flag, rules in readers.items()}
        # rule indexes, most urgent first (a stable sort: as core.evaluate orders them)
        self.by_rank = sorted(range(len(ruleset.rules)), key=lambda i: ruleset.rules[i].rank)

    def evaluate(self, record: Record, record_id: RecordId | None = None) -> Result:
        """The Result core.evaluate gives, less the traces below each rule and the `missing`
        of undecided rules below the level (those that cannot escalate it)."""
        ruleset = self.ruleset
        rules = ruleset.rules
        closed = close(record, ruleset.implications)
        true, unknown = TRUE, UNKNOWN  # read once (core/logic.py says why)
        readers = self.readers
        touched: set[int] = set().union(*[readers[f] for f in closed if f in readers])
        truths = self.blank_truths.copy()
        for i in touched:
            truths[i] = self.truths[i](closed)
        # by_rank is sorted by rank: the first TRUE rule in it gives the level
        rank = next(
            (rules[i].rank for i in self.by_rank if truths[i] is true), len(ruleset.levels) - 1
        )
        outcomes = [decided[truth] for decided, truth in zip(self.decided, truths, strict=True)]
        could: list[RuleOutcome] = []
        for i in self.by_rank:
            if rules[i].rank >= rank:
                break  # the rest cannot escalate the level
            if truths[i] is unknown:
                # only a rule that could escalate needs its deciding flags (the service
                # shows no others): the rest keep () and cost nothing
                if i not in touched:
                    outcomes[i] = self.blank[i]
                else:
                    outcomes[i] = RuleOutcome(
                        rules[i], self.unknown_traces[i], self.unknowns[i](closed)
                    )
                could.append(outcomes[i])
        matched = tuple(outcomes[i] for i in self.by_rank if truths[i] is true)
        return Result(
            level=ruleset.levels[rank],
            rank=rank,
            matched=matched,
            could_escalate=tuple(could),
            outcomes=tuple(outcomes),
            record=record,
            record_id=record_id,
            implied={k: v for k, v in closed.items() if k not in record},
        )
