"""Which question to ask next in an interview, and when to stop; no prompting, no I/O here.

The prompt loop lives in cli/ask.py. This module only answers, for a rule set and the answers
so far: what is the provisional result, which unanswered flags can still change the level,
and which of them to ask next.

Whether an answer can still change the level is decided exactly by core/flips.py (evaluated
records and the SAT solver of core/solve.py); an `Interviewer` keeps that work for a whole
interview, so each question after the first costs only what the new answer changes.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from redflag.core.compile import CompiledRuleSet
from redflag.core.evaluate import Record, Result, RuleOutcome, Value, evaluate
from redflag.core.flags import BoolFlag
from redflag.core.flips import Encoding, Flips
from redflag.core.implication import close
from redflag.core.solve import Budget

# The time one question may take to choose, for callers that give a plan a clock
# (`ask` and the FHIR adaptive questionnaire: redflag/budget.py's TimeBudget); past it, every
# missing flag of the rules not yet settled counts as worth asking (towards asking, never
# towards stopping early).
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
    budget: Callable[[], Budget] = Budget,
) -> Plan:
    """The provisional result, the flags worth asking and the next question.

    One plan on its own; an interview asking many questions keeps an `Interviewer`, which
    gives the same plans without encoding the rule set again for each.

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
        budget: makes the time budget of one plan (default: no limit; callers facing a
            person pass `lambda: TimeBudget(PLAN_SECONDS)` from redflag/budget.py).
    """
    with Interviewer(ruleset, budget) as interviewer:
        return interviewer.plan(record, dont_know, ask_all=ask_all, not_asked=not_asked)


class Interviewer:
    """The plans of one interview over one rule set, sharing one encoding and one solver.

    The encoding (core/solve.py) of every rule over two copies of every flag is built at the
    first plan and kept; each plan states the answers so far as solver assumptions instead
    of encoding again. Use it as a context manager (or call `close`) to free the solver.
    """

    def __init__(self, ruleset: CompiledRuleSet, budget: Callable[[], Budget] = Budget) -> None:
        self.ruleset = ruleset
        self._budget = budget
        self._encoding: Encoding | None = None

    def __enter__(self) -> Interviewer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Free the solver (a later plan builds the encoding again)."""
        if self._encoding is not None:
            self._encoding.close()
            self._encoding = None

    def plan(
        self,
        record: Record,
        dont_know: Sequence[str] | frozenset[str] = frozenset(),
        *,
        ask_all: bool = False,
        not_asked: frozenset[str] = frozenset(),
    ) -> Plan:
        """The same as the function `plan` with this interviewer's rule set (see there)."""
        ruleset = self.ruleset
        skipped = frozenset(dont_know)
        result = evaluate(ruleset, record)
        closed = close(record, ruleset.implications)
        needed: dict[str, list[RuleOutcome]] = {}
        if self._encoding is None:
            self._encoding = Encoding(ruleset)
        with self._budget() as budget:
            flips = Flips(self._encoding, result, closed, not_asked, budget)
            for outcome in result.could_escalate:  # most urgent first
                for flag in flips.flags(outcome, skipped):
                    needed.setdefault(flag, []).append(outcome)
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
        and isinstance(flag, BoolFlag)
        and flag.audience == "patient"
        and not flag.implies
    )
