"""Stage 3 of `batch`: chunks of columns -> results, through the core.

The column-wise evaluator (core/vector.py), or another engine's (DuckDB), gives each
record's level and the rules it matched or could escalate, for a whole chunk at once. Under
--full that one evaluation also becomes each record's core `Result`, which the full encoder
writes through check --json's own `result_json`: the unanswered flags that could decide each
could-escalate rule come from one closure per rule (core/closures.py, the same answers as
check's `missing`: tested), and no trace of every rule is kept (as check keeps for one).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from redflag.batch.decode import Chunk
from redflag.core.closures import unknowns_function
from redflag.core.compile import CompiledRuleSet
from redflag.core.evaluate import Result, RuleOutcome, Trace
from redflag.core.implication import close
from redflag.core.logic import Truth
from redflag.core.vector import ChunkResult, Columns, VectorRuleSet


@dataclass(frozen=True)
class FullResult(ChunkResult):
    """A chunk's results as columns, and each record's core Result (None for a bad one)."""

    results: list[Result | None] = field(default_factory=list)


class Evaluator:
    """Chunks -> results for one rule set: column-wise, or by `engine`.

    Args:
        ruleset: the rule set to apply.
        vector: its column-wise form (core/vector.py).
        engine: another engine for the columns (default: `vector`).
        full: give each record's core Result too (--full; the chunks keep their records).
    """

    def __init__(
        self,
        ruleset: CompiledRuleSet,
        vector: VectorRuleSet,
        engine: Callable[[Columns], ChunkResult] | None = None,
        *,
        full: bool = False,
    ) -> None:
        self.ruleset = ruleset
        self._columns = engine or vector.evaluate
        self.full = full
        rules = ruleset.rules
        # matched and could-escalate rules most urgent first, as core.evaluate sorts them
        self._order = sorted(range(len(rules)), key=lambda j: rules[j].rank)
        self._unknowns = (
            [unknowns_function(rules[j].condition, ruleset) for j in self._order] if full else []
        )

    def __call__(self, chunk: Chunk) -> ChunkResult:
        """The results of every entry of the chunk (those of bad entries are ignored)."""
        result = self._columns(chunk.columns)
        return self._results(chunk, result) if self.full else result

    def _results(self, chunk: Chunk, result: ChunkResult) -> FullResult:
        assert chunk.records is not None, "--full chunks keep their records"
        ruleset = self.ruleset
        rules = [ruleset.rules[j] for j in self._order]
        matched = result.matched[self._order].T.tolist()
        could = result.could_escalate[self._order].T.tolist()
        ranks = result.rank.tolist()
        results: list[Result | None] = []
        for i, record in enumerate(chunk.records):
            if record is None or i in chunk.errors:
                results.append(None)
                continue
            closed = close(record, ruleset.implications)
            hits = tuple(
                RuleOutcome(rule, Trace(rule.condition, Truth.TRUE), ())
                for rule, hit in zip(rules, matched[i], strict=True)
                if hit
            )
            escalations = tuple(
                RuleOutcome(rule, Trace(rule.condition, Truth.UNKNOWN), unknowns(closed))
                for rule, unknowns, open_ in zip(rules, self._unknowns, could[i], strict=True)
                if open_
            )
            one = Result(
                level=ruleset.levels[ranks[i]],
                rank=ranks[i],
                matched=hits,
                could_escalate=escalations,
                outcomes=hits + escalations,  # the rules that decide the output; no others
                record=record,
                record_id=chunk.ids[i],
                implied={k: v for k, v in closed.items() if k not in record},
            )
            results.append(one)
        return FullResult(result.rank, result.matched, result.could_escalate, results)


def head(result: ChunkResult, stop: int) -> ChunkResult:
    """The results of the first `stop` entries (--fail-fast)."""
    rank, matched, could = result.rank[:stop], result.matched[:, :stop], result.could_escalate
    if isinstance(result, FullResult):
        return FullResult(rank, matched, could[:, :stop], result.results[:stop])
    return ChunkResult(rank, matched, could[:, :stop])
