"""The `batch` pipeline: input streams -> chunks -> column-wise evaluation -> output stream.

Memory stays constant: one chunk of records at a time (except `--format json`, whose array
is read whole), and each chunk's results are written and flushed before the next is read.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import IO

import numpy as np
import numpy.typing as npt

from redflag.core.compile import CompiledRuleSet
from redflag.core.vector import ChunkResult, Columns, VectorRuleSet
from redflag.errors import InputError, Location, TooLargeError
from redflag.formats import batch_read
from redflag.formats.batch_read import Chunk, FastDecoder
from redflag.formats.batch_tables import csv_chunks, json_array_chunks
from redflag.formats.batch_write import CsvWriter, FullWriter, NdjsonWriter, ResultWriter


@dataclass(frozen=True)
class BatchOptions:
    """How to read and write: formats, detail, and when to stop."""

    format: str = "ndjson"
    format_out: str = "ndjson"
    full: bool = False
    fail_fast: bool = False
    line_buffered: bool = False
    jobs: int = 1

    @property
    def parallel(self) -> bool:
        """Whether the multi-process path applies (plain NDJSON in and out)."""
        plain = self.format == "ndjson" and self.format_out == "ndjson"
        return self.jobs > 1 and plain and not (self.full or self.fail_fast or self.line_buffered)


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


def run_batch(
    inputs: Sequence[tuple[str, IO[bytes]]],
    ruleset: CompiledRuleSet,
    out: IO[bytes],
    options: BatchOptions,
    on_chunk: Callable[[BatchSummary], None] | None = None,
    evaluate: Callable[[Columns], ChunkResult] | None = None,
) -> BatchSummary:
    """Evaluate every record of every input, writing one result per record, in order.

    Args:
        inputs: (source name for messages, binary stream) pairs, read in turn.
        ruleset: the rule set to apply.
        out: where results go; written and flushed chunk by chunk.
        options: formats, --full, --fail-fast, --line-buffered.
        on_chunk: called after each chunk is written (progress display).
        evaluate: another engine for the validated chunks (default: core/vector.py in this
            process, or its workers); reading, validation and writing stay the same.

    Raises:
        InputError: a CSV header or a JSON array that cannot be read at all.
    """
    if options.parallel and evaluate is None:
        from redflag.formats.batch_parallel import run_parallel

        return run_parallel(inputs, ruleset, out, options.jobs, on_block=on_chunk)
    vector = VectorRuleSet(ruleset)
    writer = make_writer(out, ruleset, options, with_file=len(inputs) > 1)
    summary = new_summary(ruleset)
    level_ids = list(summary.levels)
    for chunk in _chunks(inputs, ruleset, vector, options):
        result = (evaluate or vector.evaluate)(chunk.columns)
        if options.fail_fast and chunk.errors:
            stop = min(chunk.errors) + 1
            chunk, result = _head(chunk, stop), _head_result(result, stop)
            summary.stopped_early = True
        writer.write(chunk, result)
        summary.add(tally(chunk, result, rule_ranks(ruleset), len(level_ids)))
        if on_chunk is not None:
            on_chunk(summary)
        if summary.stopped_early:
            break
    return summary


def new_summary(ruleset: CompiledRuleSet) -> BatchSummary:
    """An empty summary: no records yet at any level."""
    return BatchSummary(levels={level.id: 0 for level in ruleset.levels})


def make_writer(
    out: IO[bytes], ruleset: CompiledRuleSet, options: BatchOptions, *, with_file: bool
) -> ResultWriter:
    """The writer --format-out and --full choose (NDJSON, CSV, or check's full detail)."""
    flush = options.line_buffered
    if options.format_out == "csv":
        return CsvWriter(out, ruleset, flush_lines=flush, with_file=with_file)
    if options.full:
        return FullWriter(out, ruleset, flush_lines=flush, with_file=with_file)
    return NdjsonWriter(out, ruleset, flush_lines=flush, with_file=with_file)


def validated_chunks(
    inputs: Sequence[tuple[str, IO[bytes]]], ruleset: CompiledRuleSet, options: BatchOptions
) -> Iterator[Chunk]:
    """Every input's records, read and validated as the Python engine reads them."""
    return _chunks(inputs, ruleset, VectorRuleSet(ruleset), options)


def _chunks(
    inputs: Sequence[tuple[str, IO[bytes]]],
    ruleset: CompiledRuleSet,
    vector: VectorRuleSet,
    options: BatchOptions,
) -> Iterator[Chunk]:
    size = 1 if options.line_buffered else batch_read.CHUNK_SIZE
    keep = options.full
    decoder = FastDecoder(ruleset, vector)
    for source, stream in inputs:
        if options.format == "ndjson":
            yield from decoder.chunks(stream, source, size, keep)
        elif options.format == "csv":
            text = io.TextIOWrapper(stream, encoding="utf-8-sig", newline="")
            try:
                yield from csv_chunks(text, decoder, source, size, keep)
            except UnicodeDecodeError:
                raise _not_utf8(source) from None
            finally:
                text.detach()  # the caller owns (and closes) the stream
        else:
            raw = stream.read(MAX_JSON_ARRAY_BYTES + 1)  # read whole: bounded (issue 13)
            if len(raw) > MAX_JSON_ARRAY_BYTES:
                raise TooLargeError(
                    f"a JSON array over {MAX_JSON_ARRAY_BYTES // 1024 // 1024} MiB",
                    location=Location(source),
                    hint="for more records, give them as NDJSON (one JSON object per line)",
                )
            try:
                data = raw.decode("utf-8-sig")
            except UnicodeDecodeError:
                raise _not_utf8(source) from None
            yield from json_array_chunks(data, decoder, source, size, keep)


MAX_JSON_ARRAY_BYTES = 16 * 1024 * 1024  # parsed whole: about ten times that in memory


def _not_utf8(source: str) -> InputError:
    return InputError(
        f"{source} is not valid UTF-8 text",
        location=Location(source),
        hint="save the file as UTF-8 (CSV and JSON arrays are read as text)",
    )


def _head(chunk: Chunk, stop: int) -> Chunk:
    records = chunk.records[:stop] if chunk.records is not None else None
    errors = {i: e for i, e in chunk.errors.items() if i < stop}
    return Chunk(chunk.source, chunk.lines[:stop], chunk.ids[:stop], chunk.columns, errors, records)


def _head_result(result: ChunkResult, stop: int) -> ChunkResult:
    return ChunkResult(
        result.rank[:stop], result.matched[:, :stop], result.could_escalate[:, :stop]
    )
