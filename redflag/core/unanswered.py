"""The unanswered questions of a result, most decisive first; pure logic, no I/O.

A result's could-escalate rules name the flags that could still raise its level. For a
person the useful order is: first the questions whose yes alone would raise the level most
(a yes to 'bladder problems' with back pain is an emergency by itself), then those that
could raise it only together with other answers. Issue 12: the headline of an incomplete
result names the first few of them.
"""

from __future__ import annotations

from dataclasses import dataclass

from redflag.core.compile import CompiledRuleSet
from redflag.core.evaluate import Result, evaluate
from redflag.core.implication import contradiction


@dataclass(frozen=True)
class OpenQuestion:
    """One unanswered flag that could raise the level.

    Attributes:
        flag: the flag id.
        rank: the most urgent level rank a could-escalate rule using it leads to.
        if_yes: the rank a yes to this flag alone gives, with the other answers as they
            are, or None when a yes alone does not raise the level (or the flag is numeric).
    """

    flag: str
    rank: int
    if_yes: int | None


def open_questions(ruleset: CompiledRuleSet, result: Result) -> tuple[OpenQuestion, ...]:
    """Every unanswered flag of `result`'s could-escalate rules, most decisive first.

    Order: a yes alone reaching the most urgent level first; then by the most urgent level
    the flag's rules could reach; ties in rule-file order.
    """
    ranks: dict[str, int] = {}
    for outcome in result.could_escalate:
        for flag in outcome.missing:
            ranks[flag] = min(ranks.get(flag, outcome.compiled.rank), outcome.compiled.rank)
    position = {flag: i for i, flag in enumerate(ruleset.flags)}
    found = [OpenQuestion(f, r, _rank_if_yes(ruleset, result, f)) for f, r in ranks.items()]
    never = len(ruleset.levels)
    return tuple(
        sorted(
            found,
            key=lambda q: (never if q.if_yes is None else q.if_yes, q.rank, position[q.flag]),
        )
    )


def _rank_if_yes(ruleset: CompiledRuleSet, result: Result, flag: str) -> int | None:
    if flag in ruleset.numeric_flags:
        return None
    record = {**result.record, flag: True}
    if contradiction(record, ruleset.implications) is not None:
        return None  # a yes would contradict an answer given
    rank = evaluate(ruleset, record).rank
    return rank if rank < result.rank else None
