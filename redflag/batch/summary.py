"""What a `batch` run produced: results per level, errors, the most urgent level and worst
case, counted chunk by chunk (or block by block, from the workers)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from redflag.batch.decode import Chunk
from redflag.core.compile import CompiledRuleSet
from redflag.core.vector import ChunkResult


@dataclass
class BatchSummary:
    """What a run produced: results per level (most urgent first), errors, early stop."""

    levels: dict[str, int]
    records: int = 0
    errors: int = 0
    stopped_early: bool = False
    most_urgent_rank: int | None = None
    worst_rank: int | None = None  # the most urgent worst case of any record
    first_error: str | None = field(default=None)

    def add(self, part: Tally) -> None:
        """Add the counts of one chunk (or block) of results."""
        for level_id, count in zip(self.levels, part.counts, strict=True):
            self.levels[level_id] += count
        self.records += part.records
        self.errors += part.errors
        if part.most_urgent is not None and (
            self.most_urgent_rank is None or part.most_urgent < self.most_urgent_rank
        ):
            self.most_urgent_rank = part.most_urgent
        self.note_worst(part.worst)

    def note_worst(self, rank: int | None) -> None:
        """Keep the most urgent worst case seen."""
        if rank is not None and (self.worst_rank is None or rank < self.worst_rank):
            self.worst_rank = rank


@dataclass(frozen=True)
class Tally:
    """What one chunk or block contributes to the summary."""

    counts: list[int]
    records: int
    errors: int
    most_urgent: int | None
    worst: int | None = None


def new_summary(ruleset: CompiledRuleSet) -> BatchSummary:
    """An empty summary: no records yet at any level."""
    return BatchSummary(levels={level.id: 0 for level in ruleset.levels})


def rule_ranks(ruleset: CompiledRuleSet) -> npt.NDArray[np.intp]:
    """Each rule's level rank, in rule order (for `tally`)."""
    return np.array([r.rank for r in ruleset.rules], dtype=np.intp)


def tally(chunk: Chunk, result: ChunkResult, ranks: npt.NDArray[np.intp], n_levels: int) -> Tally:
    """Results per level rank, records, errors, and the most urgent level and worst case of a
    chunk (`ranks`: each rule's level rank)."""
    ok = np.ones(len(chunk), dtype=np.bool_)
    ok[list(chunk.errors)] = False
    counts = np.bincount(result.rank[ok], minlength=n_levels).tolist()
    if not ok.any():
        return Tally(counts, len(chunk), len(chunk.errors), None, None)
    best = int(result.rank[ok].min())
    could = result.could_escalate[:, ok].any(axis=1)
    worst = min(best, int(ranks[could].min())) if could.any() else best
    return Tally(counts, len(chunk), len(chunk.errors), best, worst)
