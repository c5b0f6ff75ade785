"""The `batch` pipeline, in one direction: source -> decode -> evaluate -> encode -> sink.

source.py reads the inputs into blocks of whole lines (and reports progress); decode.py
(with columns.py, and tables.py for CSV and JSON arrays) turns them into chunks of columns
with each bad record's error in its place; evaluate.py gives the results; encode.py their
output text; sink.py writes it. parallel.py runs decode, evaluate and encode on worker
processes; fhir.py reads and writes FHIR record by record.

Memory stays constant: one chunk of records at a time (except `--format json`, whose array
is read whole), and each chunk's results are written and flushed before the next is read.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import IO

from redflag.batch import source as _source
from redflag.batch.decode import Chunk, FastDecoder
from redflag.batch.encode import Encoder, make_encoder
from redflag.batch.evaluate import Evaluator, head
from redflag.batch.sink import Sink
from redflag.batch.source import Source
from redflag.batch.summary import BatchSummary, new_summary, rule_ranks, tally
from redflag.batch.tables import csv_chunks, json_array_chunks
from redflag.core.compile import CompiledRuleSet
from redflag.core.vector import ChunkResult, Columns, VectorRuleSet


@dataclass(frozen=True)
class BatchOptions:
    """How to read and write: formats, detail, and when to stop."""

    format: str = "ndjson"
    format_out: str = "ndjson"
    full: bool = False
    fail_fast: bool = False
    line_buffered: bool = False
    jobs: int = 1
    fhir_version: str = "R4B"

    @property
    def parallel(self) -> bool:
        """Whether the multi-process path applies (plain NDJSON in and out)."""
        plain = self.format == "ndjson" and self.format_out == "ndjson"
        return self.jobs > 1 and plain and not (self.full or self.fail_fast or self.line_buffered)

    @property
    def fhir(self) -> bool:
        """Whether FHIR is read or written (fhir.py, record by record)."""
        return "fhir" in (self.format, self.format_out)


def run_batch(
    inputs: Sequence[tuple[str, IO[bytes]]],
    ruleset: CompiledRuleSet,
    out: IO[bytes],
    options: BatchOptions,
    evaluate: Callable[[Columns], ChunkResult] | None = None,
    on_progress: Callable[[int], None] | None = None,
) -> BatchSummary:
    """Evaluate every record of every input, writing one result per record, in order.

    Args:
        inputs: (source name for messages, binary stream) pairs, read in turn.
        ruleset: the rule set to apply.
        out: where results go; written and flushed chunk by chunk.
        options: formats, --full, --fail-fast, --line-buffered, --jobs.
        evaluate: another engine for the validated chunks (default: core/vector.py in this
            process, or its workers); reading, validation and writing stay the same.
        on_progress: called as the inputs are read, with the bytes read so far (source.py).

    Raises:
        InputError: a CSV header or a JSON array that cannot be read at all.
    """
    if options.fhir:
        from redflag.batch.fhir import run_fhir_batch

        return run_fhir_batch(
            inputs,
            ruleset,
            out,
            fhir_in=options.format == "fhir",
            fhir_out=options.format_out == "fhir",
            version="R5" if options.fhir_version == "R5" else "R4B",
            full=options.full,
            fail_fast=options.fail_fast,
            flush_lines=options.line_buffered,
        )
    source = Source(inputs, on_progress)
    if options.parallel and evaluate is None:
        from redflag.batch.parallel import run_parallel

        return run_parallel(source, ruleset, out, options.jobs)
    vector = VectorRuleSet(ruleset)
    evaluator = Evaluator(ruleset, vector, evaluate, full=options.full)
    writer = make_writer(out, ruleset, options, with_file=len(inputs) > 1)
    summary = new_summary(ruleset)
    ranks, n_levels = rule_ranks(ruleset), len(summary.levels)
    for chunk in _chunks(source, ruleset, vector, options):
        result = evaluator(chunk)
        if options.fail_fast and chunk.errors:
            stop = min(chunk.errors) + 1
            chunk, result = chunk.head(stop), head(result, stop)
            summary.stopped_early = True
        writer.write(chunk, result)
        summary.add(tally(chunk, result, ranks, n_levels))
        if summary.stopped_early:
            break
    return summary


class ResultWriter:
    """Encode, then sink: how a chunk of results becomes output (for every engine)."""

    def __init__(self, encoder: Encoder, sink: Sink) -> None:
        self.encoder = encoder
        self.sink = sink

    def write(self, chunk: Chunk, result: ChunkResult) -> None:
        """Write every entry of the chunk, in order, then flush."""
        self.sink.write(self.encoder.encode(chunk, result))


def make_writer(
    out: IO[bytes], ruleset: CompiledRuleSet, options: BatchOptions, *, with_file: bool
) -> ResultWriter:
    """The writer --format-out and --full choose (NDJSON, CSV, or check's full detail)."""
    encoder = make_encoder(ruleset, options.format_out, full=options.full, with_file=with_file)
    return ResultWriter(encoder, Sink(out, flush_lines=options.line_buffered))


def validated_chunks(
    inputs: Sequence[tuple[str, IO[bytes]]], ruleset: CompiledRuleSet, options: BatchOptions
) -> Iterator[Chunk]:
    """Every input's records, read and validated as the Python engine reads them."""
    return _chunks(Source(inputs), ruleset, VectorRuleSet(ruleset), options)


def _chunks(
    source: Source, ruleset: CompiledRuleSet, vector: VectorRuleSet, options: BatchOptions
) -> Iterator[Chunk]:
    size = 1 if options.line_buffered else _source.CHUNK_SIZE
    keep = options.full  # --full: each record as check reads it, for the core to evaluate
    decoder = FastDecoder(ruleset, vector)
    if options.format == "ndjson":
        for name, part in source.ndjson(size if options.line_buffered or keep else None):
            yield from decoder.chunks(part, name, keep)
    elif options.format == "csv":
        for name, lines in source.csv_lines():
            yield from csv_chunks(lines, decoder, name, size, keep)
    else:
        for name, text in source.json_texts():
            yield from json_array_chunks(text, decoder, name, size, keep)
