"""Run test cases against a rule set and measure coverage; returns data, prints nothing.

A case is a record with the level it must get, the rules that must match and the rules that
must not. Coverage counts which rules some case fired, which some case saw as a near miss
(definitely false while the case answered at least one of the rule's flags) and which flags
no case answered.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from redflag.core.compile import CompiledRuleSet
from redflag.core.evaluate import Record, Result, evaluate
from redflag.core.logic import Truth
from redflag.errors import Location


@dataclass(frozen=True)
class Case:
    """One test case: a record and what the rule set must make of it."""

    name: str
    record: Record
    expect: str
    expect_rules: tuple[str, ...] = ()
    forbid_rules: tuple[str, ...] = ()
    where: Location | None = None
    debatable: bool = False
    evidence: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class CaseResult:
    """A case, the result it got, and what was wrong (nothing when it passed)."""

    case: Case
    result: Result
    problems: tuple[str, ...]

    @property
    def passed(self) -> bool:
        """True when the level and every rule expectation held."""
        return not self.problems


@dataclass(frozen=True)
class Coverage:
    """Which rules and flags the cases exercised."""

    rules: tuple[str, ...]
    fired: tuple[str, ...]
    near_missed: tuple[str, ...]
    flags_set: tuple[str, ...]
    not_fired: tuple[str, ...]
    not_near_missed: tuple[str, ...]
    flags_not_set: tuple[str, ...]

    @property
    def fired_percent(self) -> float:
        """The share of rules that some case fired, 0 to 100."""
        return 100.0 * len(self.fired) / len(self.rules) if self.rules else 100.0

    def is_below(self, min_percent: float | None) -> bool:
        """True when a minimum share of fired rules is set and this coverage falls short."""
        return min_percent is not None and self.fired_percent < min_percent


@dataclass(frozen=True)
class CaseReport:
    """Every case result plus coverage."""

    results: tuple[CaseResult, ...]
    coverage: Coverage

    @property
    def passed(self) -> int:
        """How many cases passed."""
        return sum(r.passed for r in self.results)

    @property
    def failed(self) -> int:
        """How many cases failed."""
        return len(self.results) - self.passed


def run_case(ruleset: CompiledRuleSet, case: Case) -> CaseResult:
    """Evaluate one case and list what did not hold."""
    result = evaluate(ruleset, case.record, case.name)
    problems: list[str] = []
    if result.level.id != case.expect:
        problems.append(f"expected level {case.expect}, got {result.level.id}")
    matched = {o.rule.id for o in result.matched}
    problems.extend(
        f"expected rule '{rule}' to match, but it did not"
        for rule in case.expect_rules
        if rule not in matched
    )
    problems.extend(
        f"rule '{rule}' must not match, but it did" for rule in case.forbid_rules if rule in matched
    )
    return CaseResult(case, result, tuple(problems))


def run_cases(ruleset: CompiledRuleSet, cases: Sequence[Case]) -> CaseReport:
    """Run every case and compute coverage over all of them."""
    results = tuple(run_case(ruleset, case) for case in cases)
    return CaseReport(results, coverage(ruleset, [r.result for r in results]))


def coverage(ruleset: CompiledRuleSet, results: Sequence[Result]) -> Coverage:
    """Rules fired, rules seen as near misses and flags answered, over some results."""
    fired: set[str] = set()
    near: set[str] = set()
    answered: set[str] = set()
    for result in results:
        answered.update(result.record)
        for outcome in result.outcomes:
            if outcome.truth is Truth.TRUE:
                fired.add(outcome.rule.id)
            elif outcome.truth is Truth.FALSE and any(
                f in result.record for f in outcome.compiled.flags
            ):
                near.add(outcome.rule.id)
    rules = tuple(r.id for r in ruleset.rules)
    flags = tuple(ruleset.flags)
    return Coverage(
        rules=rules,
        fired=tuple(r for r in rules if r in fired),
        near_missed=tuple(r for r in rules if r in near),
        flags_set=tuple(f for f in flags if f in answered),
        not_fired=tuple(r for r in rules if r not in fired),
        not_near_missed=tuple(r for r in rules if r not in near),
        flags_not_set=tuple(f for f in flags if f not in answered),
    )


@dataclass(frozen=True)
class Matrix:
    """Expected level by level got, over some case results, with the figures clinicians read.

    Levels are in rule-file order (most urgent first); `counts[e][g]` counts the cases
    expected at level e that got level g. A case is *under-triaged* when it got a less
    urgent level than expected, *over-triaged* when it got a more urgent one.
    """

    levels: tuple[str, ...]
    counts: tuple[tuple[int, ...], ...]
    under: tuple[CaseResult, ...]
    over: tuple[CaseResult, ...]
    # the same figures on the cases not marked debatable (None: this is that matrix)
    not_debatable: Matrix | None = None

    @property
    def total(self) -> int:
        """How many cases."""
        return sum(map(sum, self.counts))

    @property
    def exact(self) -> int:
        """How many cases got exactly their expected level."""
        return sum(self.counts[i][i] for i in range(len(self.levels)))

    @property
    def exact_share(self) -> float | None:
        """The share (0 to 1) of cases that got exactly their expected level; None if none."""
        return self.exact / self.total if self.total else None

    def expected(self, rank: int) -> int:
        """How many cases were expected at the level of this rank."""
        return sum(self.counts[rank])

    def reached(self, rank: int) -> int:
        """How many cases expected at this rank got it or a more urgent level."""
        return sum(self.counts[rank][: rank + 1])

    def sensitivity(self, rank: int) -> float | None:
        """The share (0 to 1) of cases expected at this rank that reached it; None if none."""
        n = self.expected(rank)
        return self.reached(rank) / n if n else None

    def expected_at_least(self, rank: int) -> int:
        """Cases expected at this rank or a less urgent one (rank 2 and up: soon, routine)."""
        return sum(sum(row) for row in self.counts[rank:])

    def over_by(self, tiers: int, from_rank: int) -> tuple[CaseResult, ...]:
        """Cases expected at `from_rank` or less urgent that got `tiers` or more levels above."""
        rank = {level: i for i, level in enumerate(self.levels)}
        return tuple(
            r
            for r in self.over
            if rank[r.case.expect] >= from_rank and rank[r.case.expect] - r.result.rank >= tiers
        )

    @property
    def benign_rank(self) -> int:
        """The first rank counted as benign for over-triage: the third level (soon) and below,
        or the last level of a rule set with fewer than three."""
        return min(2, len(self.levels) - 1)

    def to_lowest(self, rank: int) -> int:
        """Cases expected at this rank that got the no-match (least urgent) level."""
        return self.counts[rank][-1]


def triage_matrix(
    ruleset: CompiledRuleSet, report: CaseReport, *, debatable: bool = True
) -> Matrix:
    """The expected-by-got matrix of a case report (levels as the rule set orders them).

    Its `not_debatable` is the matrix of the cases not marked debatable: those whose
    expected level the case's sources agree on, so a figure on them does not rest on a
    judgement call (`debatable=False` returns that matrix alone).
    """
    levels = tuple(level.id for level in ruleset.levels)
    size = len(levels)
    counts = [[0] * size for _ in range(size)]
    under: list[CaseResult] = []
    over: list[CaseResult] = []
    for r in report.results:
        if r.case.debatable and not debatable:
            continue
        expected = ruleset.rank(r.case.expect)
        counts[expected][r.result.rank] += 1
        if r.result.rank > expected:
            under.append(r)
        elif r.result.rank < expected:
            over.append(r)

    def worst_first(r: CaseResult) -> tuple[int, int]:
        return (ruleset.rank(r.case.expect), -abs(r.result.rank - ruleset.rank(r.case.expect)))

    return Matrix(
        levels,
        tuple(tuple(row) for row in counts),
        tuple(sorted(under, key=worst_first)),
        tuple(sorted(over, key=worst_first)),
        triage_matrix(ruleset, report, debatable=False) if debatable else None,
    )
