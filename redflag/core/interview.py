"""Which question to ask next in an interview, and when to stop; no prompting, no I/O here.

The prompt loop lives in cli/ask.py. This module only answers, for a rule set and the answers
so far: what is the provisional result, which unanswered flags can still change the level,
and which of them to ask next.

Why this is exact (issue 4, "never ask a question whose answer can no longer change the
level"): answering a flag never changes a rule that is already TRUE or FALSE (Kleene logic is
monotone in information), so the level can only rise, and only through a could-escalate rule
(UNKNOWN, above the current level). A flag is worth asking when, for some answers to the
other askable flags of such a rule, two answers to this flag make the rule TRUE and not TRUE.
That is decided by trying every combination of the rule's askable flags: true/false for bool
flags, and for a numeric flag one value in each region cut out of its bounds by the constants
the rule compares it with. "Don't know" flags stay unknown throughout. When a rule is too big
to enumerate (or compares two numeric flags with each other), every askable flag it is missing
counts as worth asking: the error is always towards asking, never towards stopping early.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import assert_never

from redflag.core.closures import truth_function
from redflag.core.compile import CompiledRule, CompiledRuleSet
from redflag.core.evaluate import Record, Result, RuleOutcome, Value, evaluate
from redflag.core.expr.nodes import And, Call, Compare, Name, Node, Not, Number, Or
from redflag.core.implication import close, contradiction
from redflag.core.logic import Truth

# Above this many combinations of one rule's askable flags, fall back to "every missing flag
# of the rule is worth asking" (the shipped rules need at most 1,024).
MAX_COMBINATIONS = 4096


@dataclass(frozen=True)
class Plan:
    """Where an interview stands after the answers given so far.

    Attributes:
        result: the provisional result (don't-know flags and unasked flags are unknown).
        needed_by: for each flag worth asking, the could-escalate rules its answer can decide,
            most urgent first. Flags are in rule-file order.
        next_flag: the flag to ask next, or None when the interview is over.
        left: at most how many questions remain, counting `next_flag` (never an
            underestimate: answers only ever shrink the set of flags worth asking).
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
    for outcome in result.could_escalate:  # most urgent first
        for flag in _deciding_flags(ruleset, outcome, result, closed, skipped, not_asked):
            needed.setdefault(flag, []).append(outcome)
    order = list(ruleset.flags)
    needed_by = {f: tuple(needed[f]) for f in order if f in needed}
    if ask_all:
        pending = [f for f in order if f not in closed and f not in skipped | not_asked]
        return Plan(result, needed_by, pending[0] if pending else None, len(pending))
    return Plan(result, needed_by, _most_urgent_flag(needed_by, order), len(needed_by))


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


def _deciding_flags(
    ruleset: CompiledRuleSet,
    outcome: RuleOutcome,
    result: Result,
    record: Record,
    skipped: frozenset[str],
    not_asked: frozenset[str] = frozenset(),
) -> tuple[str, ...]:
    """The askable flags of an UNKNOWN rule whose answer can change the level through it.

    A flag counts when, for some answers to the rule's other open flags, its two answers give
    different levels, counting this rule and every other undecided rule at its level or above
    that reads one of those flags (so a question is not asked when any answer that would fire
    this rule fires a more urgent one too).

    "Don't know" flags are not asked again, but they are not treated as "no" either: they range
    over every value here, so a question still counts when it matters for some true answer to
    a "don't know" (cancer = no, bone metastases = don't know: limb weakness is still asked,
    and "could escalate" narrows to the one unanswered question).
    """
    rule = outcome.compiled
    # Flags only under parts that are already TRUE or FALSE cannot change anything: a definite
    # part stays definite whatever else is answered.
    free = tuple(f for f in outcome.missing if f not in not_asked)
    askable = tuple(f for f in free if f not in skipped)
    if not askable:
        return ()
    domains = _domains(ruleset, rule, free)
    if domains is None or math.prod(len(d) for d in domains) > MAX_COMBINATIONS:
        return askable
    shared = set(free)
    rivals = [
        o.compiled
        for o in result.outcomes
        if o.truth is Truth.UNKNOWN
        and o.compiled.rank <= rule.rank
        and o.compiled is not rule
        and shared.intersection(o.missing)
    ]
    watched = [(r.rank, truth_function(r.condition, ruleset)) for r in (rule, *rivals)]
    levels: dict[tuple[Value, ...], int] = {}
    base = dict(record)
    implications = ruleset.implications
    for values in itertools.product(*domains):
        base.update(zip(free, values, strict=True))
        if contradiction(base, implications) is not None:
            continue  # no valid record answers this way
        answers = close(base, implications)
        levels[values] = min(
            (rank for rank, test in watched if test(answers) is Truth.TRUE), default=result.rank
        )
    return tuple(
        flag
        for i, flag in enumerate(free)
        if flag not in skipped and _flips(levels, i, len(domains[i]))
    )


def _flips(levels: Mapping[tuple[Value, ...], int], index: int, size: int) -> bool:
    """True if changing only position `index` changes the level for some combination."""
    seen: dict[tuple[Value, ...], int] = {}
    for values, level in levels.items():
        others = values[:index] + values[index + 1 :]
        previous = seen.setdefault(others, level)
        if previous != level:
            return True
    return False


def _domains(
    ruleset: CompiledRuleSet, rule: CompiledRule, askable: Sequence[str]
) -> list[tuple[Value, ...]] | None:
    """Values to try for each askable flag; None if a numeric flag is not only compared with
    constants (then enumerating a few values would not be exact)."""
    constants = _compared_constants(rule.condition)
    if constants is None:
        return None
    domains: list[tuple[Value, ...]] = []
    for flag_id in askable:
        flag = ruleset.flags[flag_id]
        if not flag.is_numeric:
            domains.append((False, True))
            continue
        assert flag.min is not None and flag.max is not None  # checked at load
        domains.append(
            _region_values(flag.min, flag.max, constants.get(flag_id, set()), flag.type == "int")
        )
    return domains


def _region_values(low: float, high: float, cuts: set[float], whole: bool) -> tuple[Value, ...]:
    """One value in every region of [low, high] cut at `cuts`, and every cut itself."""
    points = sorted({low, high, *(c for c in cuts if low <= c <= high)})
    if whole:
        near = {
            v
            for p in points
            for v in (math.floor(p) - 1, math.floor(p), math.ceil(p), math.ceil(p) + 1)
            if low <= v <= high
        }
        return tuple(sorted(near))
    between = [(a + b) / 2 for a, b in itertools.pairwise(points)]
    return tuple(sorted({*points, *between}))


def _compared_constants(node: Node) -> dict[str, set[float]] | None:
    """For each numeric flag in `node`, the constants it is compared with; None if a numeric
    flag is compared with anything but a constant."""
    found: dict[str, set[float]] = {}
    stack = [node]
    while stack:
        current = stack.pop()
        match current:
            case Name() | Number():
                pass
            case Not(operand=operand):
                stack.append(operand)
            case And(operands=operands) | Or(operands=operands):
                stack.extend(operands)
            case Call(args=args):
                stack.extend(args)  # any/all/count take bool operands only
            case Compare(left=left, right=right):
                match (left, right):
                    case (Name(id=flag), Number(value=value)) | (
                        Number(value=value),
                        Name(id=flag),
                    ):
                        found.setdefault(flag, set()).add(value)
                    case (Name(), _) | (_, Name()):
                        return None
                    case _:
                        stack.extend((left, right))
            case _:
                assert_never(current)
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
