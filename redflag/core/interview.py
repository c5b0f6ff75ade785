"""Which question to ask next in an interview, and when to stop; no prompting, no I/O here.

The prompt loop lives in cli/ask.py. This module only answers, for a rule set and the answers
so far: what is the provisional result, which unanswered flags can still change the level,
and which of them to ask next.

Why this is exact (issue 4, "never ask a question whose answer can no longer change the
level"): answering a flag never changes a rule that is already TRUE or FALSE (Kleene logic is
monotone in information), so the level can only rise, and only through a could-escalate rule
(UNKNOWN, above the current level). A flag is worth asking when, for some answers to the
other askable flags of such a rule, two answers to this flag make the rule TRUE and not TRUE.
That is decided exactly by the SAT solver of core/solve.py: two copies of the rule's open
flags, answered alike but for the one asked about, bool flags yes or no and numeric flags one
value per region (core/regions.py, cut by the constants of the rules involved). "Don't know"
flags range over their answers too. When the time budget runs out (PLAN_SECONDS) or a rule
compares two numeric flags with each other, every askable flag it is missing counts as worth
asking: the error is always towards asking, never towards stopping early.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from redflag.core.compile import CompiledRuleSet
from redflag.core.evaluate import Record, Result, RuleOutcome, Value, evaluate
from redflag.core.implication import close
from redflag.core.regions import answers, constants
from redflag.core.solve import Budget, OutOfTime, Problem
from redflag.errors import UsageError

# The time one question may take to choose; past it, every missing flag of the rules not yet
# settled counts as worth asking (towards asking, never towards stopping early).
PLAN_SECONDS = 2.0


@dataclass(frozen=True)
class Plan:
    """Where an interview stands after the answers given so far.

    Attributes:
        result: the provisional result (don't-know flags and unasked flags are unknown).
        needed_by: for each flag worth asking, the could-escalate rules its answer can decide,
            most urgent first. Flags are in rule-file order.
        next_flag: the flag to ask next, or None when the interview is over.
        left: at most how many questions remain, counting `next_flag` (never an
            underestimate: answers only ever shrink the set of flags worth asking, and flags
            that would matter after a "don't know" to another are counted already).
    """

    result: Result
    needed_by: Mapping[str, tuple[RuleOutcome, ...]]
    next_flag: str | None
    left: int

    @property
    def can_change(self) -> bool:
        """True while some unanswered, not-"don't know" flag can still change the level."""
        return bool(self.needed_by)


def plan(
    ruleset: CompiledRuleSet,
    record: Record,
    dont_know: Sequence[str] | frozenset[str] = frozenset(),
    *,
    ask_all: bool = False,
    not_asked: frozenset[str] = frozenset(),
) -> Plan:
    """The provisional result, the flags worth asking and the next question.

    Args:
        ruleset: the rule set interviewing from.
        record: the answers given so far (validated values).
        dont_know: flags answered "don't know": they stay unknown and are not asked again.
        ask_all: ask every flag in rule-file order (`ask --all`), not only those that matter.
        not_asked: flags this interview never asks (clinician flags in a patient interview).
            Unlike "don't know" they do not range over their values when deciding whether a
            question matters: no answer of the person can set them, so a question that could
            only change the level together with one of them is not asked. They still count
            as unknown in the result, so its could-escalate list shows what they could do.
    """
    skipped = frozenset(dont_know)
    result = evaluate(ruleset, record)
    closed = close(record, ruleset.implications)
    needed: dict[str, list[RuleOutcome]] = {}
    with Budget(PLAN_SECONDS) as budget:
        flips = _Flips(ruleset, result, closed, not_asked, budget)
        try:
            for outcome in result.could_escalate:  # most urgent first
                for flag in flips.flags(outcome, skipped):
                    needed.setdefault(flag, []).append(outcome)
        finally:
            flips.close()
        later = flips.later
    order = list(ruleset.flags)
    needed_by = {f: tuple(needed[f]) for f in order if f in needed}
    if ask_all:
        pending = [f for f in order if f not in closed and f not in skipped | not_asked]
        return Plan(result, needed_by, pending[0] if pending else None, len(pending))
    left = len(needed_by) + len(later - set(needed_by))
    return Plan(result, needed_by, _most_urgent_flag(needed_by, order), left)


def answers_record(
    ruleset: CompiledRuleSet, record: Record, dont_know: frozenset[str] | Sequence[str]
) -> dict[str, Value | None]:
    """The answers as a JSON-ready record in rule-file order; "don't know" is None (null).

    This is the form `redflag check -` reads, so an interview can be re-run or kept as a case.
    """
    skipped = frozenset(dont_know)
    return {flag: record.get(flag) for flag in ruleset.flags if flag in record or flag in skipped}


def _most_urgent_flag(
    needed_by: Mapping[str, tuple[RuleOutcome, ...]], order: Sequence[str]
) -> str | None:
    """The flag deciding a rule at the most urgent undecided level; then the one in most rules.

    Ties go to the flag declared first in the rule file.
    """
    if not needed_by:
        return None
    top = min(o.compiled.rank for rules in needed_by.values() for o in rules)
    position = {flag: i for i, flag in enumerate(order)}

    def score(flag: str) -> tuple[int, int, int]:
        rules = needed_by[flag]
        at_top = sum(1 for o in rules if o.compiled.rank == top)
        return (-at_top, -len(rules), position[flag])

    candidates = [f for f, rules in needed_by.items() if any(o.compiled.rank == top for o in rules)]
    return min(candidates, key=score)


class _Flips:
    """Which open flags can change the level, for one plan: one encoding (core/solve.py) of
    every could-escalate rule over two copies of their open flags, asked once per flag."""

    def __init__(
        self,
        ruleset: CompiledRuleSet,
        result: Result,
        record: Record,
        not_asked: frozenset[str],
        budget: Budget,
    ) -> None:
        self.result = result
        self.budget = budget
        self.later: set[str] = set()  # flags that may matter later (see `flags`)
        self.not_asked = not_asked
        rules = [o.compiled for o in result.could_escalate]
        free = tuple(
            dict.fromkeys(f for o in result.could_escalate for f in o.missing if f not in not_asked)
        )
        self.free = free
        self.exact = True
        try:
            cuts = constants(rules)
        except UsageError:
            self.exact = False  # two quantities compared: ask every missing flag
            return
        domain = answers({f: [ruleset.flags[f]] for f in free}, cuts)
        fixed = {f: v for f, v in record.items() if f not in domain}
        self.problem = Problem(domain, [ruleset])
        self.x = self.problem.records(free, fixed)
        self.y = self.problem.records(free, fixed)
        self.sx = self.problem.side(self.x, ruleset)
        self.sy = self.problem.side(self.y, ruleset)
        self._same: dict[str, int] = {}
        self._unknown: dict[str, int] = {}

    def close(self) -> None:
        """Free the solver."""
        if self.exact:
            self.problem.close()

    def flags(self, outcome: RuleOutcome, skipped: frozenset[str]) -> tuple[str, ...]:
        """The askable flags of the UNKNOWN rule `outcome` whose answer can change the level
        through it.

        A flag counts when, for some answers to the rule's other open flags, its two answers
        give different levels, counting this rule and every other undecided rule at its level
        or above that reads one of those flags (so a question is not asked when any answer that
        would fire this rule fires a more urgent one too).

        "Don't know" flags are not asked again, but they are not treated as "no" either: they
        range over every value here, and over staying unknown, so a question still counts when
        it matters for some true answer to a "don't know" (cancer = no, bone metastases = don't
        know: limb weakness is still asked, and "could escalate" narrows to the one unanswered
        question). A flag that matters only while another stays unknown is asked once that
        other is "don't know": spread to the bones after "don't know" to cancer.
        """
        rule = outcome.compiled
        # Flags only under parts that are already TRUE or FALSE cannot change anything: a
        # definite part stays definite whatever else is answered.
        free = tuple(f for f in outcome.missing if f not in self.not_asked)
        askable = tuple(f for f in free if f not in skipped)
        if not askable or not self.exact:
            return askable
        shared = set(free)
        watched = [rule] + [
            o.compiled
            for o in self.result.could_escalate
            if o.compiled.rank <= rule.rank
            and o.compiled is not rule
            and shared.intersection(o.missing)
        ]
        c = self.problem.circuit
        fired = [
            (
                c.or_([self.sx.true(w.condition) for w in watched if w.rank <= rank]),
                c.or_([self.sy.true(w.condition) for w in watched if w.rank <= rank]),
            )
            for rank in sorted({w.rank for w in watched})
        ]
        need = [
            self.sx.valid,
            self.sy.valid,
            c.or_([c.or_([c.and_([a, -b]), c.and_([-a, b])]) for a, b in fired]),
        ]
        outside = [self.unknown(f) for f in self.free if f not in shared]
        # open flags are answered, "don't know" ones may stay unknown
        answered = [
            copy.vars[f].answered for copy in (self.x, self.y) for f in free if f not in skipped
        ]
        # one selector literal stands for this rule's fixed assumptions: the solver then
        # takes a handful of assumptions per question instead of one per flag
        base = self._selector([*need, *outside])
        full = self._selector([base, *answered])
        try:
            needed = tuple(
                f
                for f in askable
                if self.problem.sat([full, *(self.same(g) for g in free if g != f)], self.budget)
            )
            # a flag that matters only while another open flag stays unknown is asked once
            # that one is "don't know": count it in "at most N more" from now on
            self.later.update(
                f
                for f in askable
                if f not in needed
                and self.problem.sat([base, *(self.same(g) for g in free if g != f)], self.budget)
            )
            return needed
        except OutOfTime:
            return askable  # towards asking, never towards stopping early

    def _selector(self, lits: Sequence[int]) -> int:
        """A fresh literal that, assumed true, makes every one of `lits` hold."""
        selector = self.problem.circuit.new()
        self.problem.circuit.clauses.extend([-selector, lit] for lit in lits)
        return selector

    def unknown(self, flag: str) -> int:
        """The literal "`flag` is unknown in both copies"."""
        found = self._unknown.get(flag)
        if found is None:
            c = self.problem.circuit
            found = c.and_([-self.x.vars[flag].answered, -self.y.vars[flag].answered])
            self._unknown[flag] = found
        return found

    def same(self, flag: str) -> int:
        """The literal "both copies answer `flag` alike"."""
        found = self._same.get(flag)
        if found is None:
            c = self.problem.circuit
            pairs = zip(self.x.vars[flag].choices(), self.y.vars[flag].choices(), strict=True)
            found = c.and_([c.or_([c.and_([a, b]), c.and_([-a, -b])]) for (_, a), (_, b) in pairs])
            self._same[flag] = found
        return found


def checklist(ruleset: CompiledRuleSet) -> tuple[str, ...]:
    """The flags an interview offers to tick at the start: what a person may say first.

    Yes/no flags a patient can answer that a rule at the most urgent level uses, in
    rule-file order, leaving out flags that imply another (a follow-up such as "has your
    cancer spread?" presupposes its answer, so it is asked, not ticked). A tick is a yes;
    a flag left unticked stays unknown and is asked later if it matters (issue 12).
    """
    from redflag.core.expr.walk import flags_used

    urgent = {
        flag for rule in ruleset.rules if rule.rank == 0 for flag in flags_used(rule.condition)
    }
    return tuple(
        flag.id
        for flag in ruleset.flags.values()
        if flag.id in urgent
        and not flag.is_numeric
        and flag.audience == "patient"
        and not flag.implies
    )
