"""`batch --engine duckdb`: NDJSON, CSV or Parquet in; NDJSON, CSV or Parquet out.

Text input is read and validated by the Python engine's own readers (redflag/batch: the
strict decoder, every bad line's error in its place) and only evaluated in DuckDB, so the
NDJSON and CSV output is byte for byte the Python engine's. Parquet input is scanned by
DuckDB (engines/parquet.py checks it first). Parquet output has CSV's columns, with the
rule ids as lists: DuckDB evaluates, Arrow builds the lists from bitmasks and writes.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from redflag.batch.decode import Chunk
from redflag.batch.pipeline import BatchOptions, make_writer, run_batch, validated_chunks
from redflag.batch.summary import BatchSummary, new_summary, rule_ranks, tally
from redflag.core.compile import CompiledRuleSet
from redflag.core.vector import ChunkResult
from redflag.engines.duckdb import CHUNK_TABLE, LINE_COLUMN, ChunkEvaluator, chunk_table, connect
from redflag.engines.parquet import (
    BATCH_ROWS,
    CODE_COLUMN,
    INPUT_VIEW,
    MESSAGE_COLUMN,
    ParquetInput,
    WriteBehind,
    bad_rows,
    empty_columns,
    open_parquet,
    output_query,
    output_schema,
    refused,
    results_batch,
    status_chunks,
    with_suspects,
    writer_options,
)
from redflag.errors import EngineMemoryError, OutputError
from redflag.sql import DIALECTS

if TYPE_CHECKING:
    import duckdb

_SQL = DIALECTS["duckdb"]


@dataclass(frozen=True)
class Inputs:
    """What to read: text streams (NDJSON, CSV, JSON) or Parquet paths."""

    streams: Sequence[tuple[str, IO[bytes]]] = ()
    parquet: Sequence[tuple[str, Path]] = ()


def run_duckdb_batch(
    inputs: Inputs,
    ruleset: CompiledRuleSet,
    out: IO[bytes] | None,
    options: BatchOptions,
    parquet_out: Path | None = None,
) -> BatchSummary:
    """Evaluate every record in DuckDB; results to `out` (NDJSON, CSV) or `parquet_out`.

    Raises:
        InputError: an input cannot be read, or a Parquet schema does not fit the flags.
        OutputError: the Parquet output cannot be written.
        EngineMemoryError: DuckDB could not get the memory it needed.
    """
    import duckdb

    con = connect()
    try:
        if parquet_out is not None:
            return _to_parquet(con, inputs, ruleset, options, parquet_out)
        assert out is not None
        if inputs.streams:
            return _text_to_text(con, inputs.streams, ruleset, out, options)
        return _parquet_to_text(con, inputs.parquet, ruleset, out, options)
    except duckdb.OutOfMemoryException as err:
        raise EngineMemoryError(
            f"DuckDB ran out of memory ({str(err).splitlines()[0]}); the results before this "
            "point were written",
            hint="give it more memory, or use the Python engine (drop --engine duckdb)",
        ) from None
    finally:
        con.close()


MERGED_ROWS = 65_536  # records per DuckDB query: each query costs ~0.1 s to plan (51 rules)


def _text_to_text(
    con: duckdb.DuckDBPyConnection,
    streams: Sequence[tuple[str, IO[bytes]]],
    ruleset: CompiledRuleSet,
    out: IO[bytes],
    options: BatchOptions,
) -> BatchSummary:
    """The Python engine's reader and writer, with DuckDB evaluating merged chunks."""
    evaluate = ChunkEvaluator(ruleset, con)
    if options.line_buffered:  # one record at a time: nothing to merge
        return run_batch(streams, ruleset, out, options, evaluate=evaluate)
    writer = make_writer(out, ruleset, options, with_file=len(streams) > 1)
    summary = new_summary(ruleset)
    for chunk in _merged(validated_chunks(streams, ruleset, options)):
        if _write_one(writer, summary, chunk, evaluate(chunk.columns), options, ruleset):
            break
    return summary


def _merged(chunks: Iterator[Chunk]) -> Iterator[Chunk]:
    """Consecutive chunks of one input joined up to MERGED_ROWS records (same order)."""
    pending: list[Chunk] = []
    for chunk in chunks:
        if pending and (
            chunk.source != pending[0].source or sum(map(len, pending)) + len(chunk) > MERGED_ROWS
        ):
            yield _join(pending)
            pending = []
        pending.append(chunk)
    if pending:
        yield _join(pending)


def _join(chunks: list[Chunk]) -> Chunk:
    if len(chunks) == 1:
        return chunks[0]
    import numpy as np

    from redflag.core.vector import Columns

    errors: dict[int, Any] = {}
    offset = 0
    for chunk in chunks:
        errors.update({offset + i: err for i, err in chunk.errors.items()})
        offset += len(chunk)
    columns = Columns(
        np.concatenate([c.columns.codes for c in chunks], axis=1),
        np.concatenate([c.columns.numbers for c in chunks], axis=1),
    )
    lines = [n for c in chunks for n in c.lines]
    ids = [i for c in chunks for i in c.ids]
    return Chunk(chunks[0].source, lines, ids, columns, errors)


def _write_one(
    writer: Any,
    summary: BatchSummary,
    chunk: Chunk,
    result: ChunkResult,
    options: BatchOptions,
    ruleset: CompiledRuleSet,
) -> bool:
    """Write one chunk's results and count them; True when --fail-fast stops the run here."""
    if options.fail_fast and chunk.errors:
        stop = min(chunk.errors) + 1
        errors = {i: e for i, e in chunk.errors.items() if i < stop}
        chunk = Chunk(chunk.source, chunk.lines[:stop], chunk.ids[:stop], chunk.columns, errors)
        result = ChunkResult(
            result.rank[:stop], result.matched[:, :stop], result.could_escalate[:, :stop]
        )
        summary.stopped_early = True
    writer.write(chunk, result)
    summary.add(tally(chunk, result, rule_ranks(ruleset), len(ruleset.levels)))
    return summary.stopped_early


def _checked(
    con: duckdb.DuckDBPyConnection, parquet: Sequence[tuple[str, Path]], ruleset: CompiledRuleSet
) -> list[ParquetInput]:
    # every schema before any row (issue 15): a bad last file stops the run before output
    return [open_parquet(con, str(path), source, ruleset) for source, path in parquet]


def _parquet_to_text(
    con: duckdb.DuckDBPyConnection,
    parquet: Sequence[tuple[str, Path]],
    ruleset: CompiledRuleSet,
    out: IO[bytes],
    options: BatchOptions,
) -> BatchSummary:
    files = _checked(con, parquet, ruleset)
    writer = make_writer(out, ruleset, options, with_file=len(files) > 1)
    summary = new_summary(ruleset)
    for file in files:
        errors = bad_rows(con, file, ruleset)
        for part in status_chunks(con, file, ruleset, errors):
            columns = empty_columns(ruleset, len(part.lines))
            chunk = Chunk(file.source, part.lines, part.ids, columns, part.errors)
            if _write_one(writer, summary, chunk, part.result, options, ruleset):
                return summary
    return summary


def _to_parquet(
    con: duckdb.DuckDBPyConnection,
    inputs: Inputs,
    ruleset: CompiledRuleSet,
    options: BatchOptions,
    target: Path,
) -> BatchSummary:
    import pyarrow.parquet as pq

    several = len(inputs.streams) + len(inputs.parquet) > 1
    files = _checked(con, inputs.parquet, ruleset)
    summary = new_summary(ruleset)
    schema = output_schema(ruleset, with_file=several)
    try:
        # no input at all: a file with the columns and no row
        with (
            pq.ParquetWriter(str(target), schema, **writer_options(schema)) as writer,
            WriteBehind(writer.write_batch) as write,
        ):
            for reader, source in _result_readers(con, inputs, files, ruleset, options):
                for batch in reader:
                    out, counted = results_batch(
                        batch, ruleset, schema, source if several else None
                    )
                    write(out)
                    summary.add(counted)
    except OSError as err:
        raise OutputError(
            f"cannot write {target}: {err}", hint="check the path and free space"
        ) from None
    return summary


def _file_output(
    con: duckdb.DuckDBPyConnection, file: ParquetInput, ruleset: CompiledRuleSet
) -> str:
    """The output query of one Parquet file, with the refused-value filter's verdict per row
    (the rows it picks get their errors in `refused`): one scan of the file."""
    q = _SQL.identifier
    view = with_suspects(file.select(ruleset), ruleset)
    con.execute(f"CREATE OR REPLACE TEMP VIEW {q(INPUT_VIEW)} AS {view}")
    return output_query(ruleset, INPUT_VIEW, ordered=False, suspects=True)


def _result_readers(
    con: duckdb.DuckDBPyConnection,
    inputs: Inputs,
    files: list[ParquetInput],
    ruleset: CompiledRuleSet,
    options: BatchOptions,
) -> Iterator[tuple[Any, str]]:
    """Arrow readers of `output_query` rows and their source: each Parquet file whole, then
    each text chunk."""
    for file in files:
        reader = con.sql(_file_output(con, file, ruleset)).to_arrow_reader(BATCH_ROWS)
        again = con.cursor()  # refused rows are re-read while `reader` streams
        yield (refused(again, file, ruleset, batch) for batch in reader), file.source
    for chunk in _merged(validated_chunks(inputs.streams, ruleset, options)):
        con.register(CHUNK_TABLE, _chunk_input(chunk, ruleset))
        sql = output_query(ruleset, CHUNK_TABLE, ordered=False)
        yield con.sql(sql).to_arrow_reader(BATCH_ROWS), chunk.source


def _chunk_input(chunk: Chunk, ruleset: CompiledRuleSet) -> Any:
    """A validated chunk as the compiler's input, with its line numbers and errors."""
    import pyarrow as pa

    from redflag.core.vector import VectorRuleSet

    codes: list[str | None] = [None] * len(chunk)
    messages: list[str | None] = [None] * len(chunk)
    for i, err in chunk.errors.items():
        codes[i], messages[i] = err.code, err.message
    extra = {
        LINE_COLUMN: pa.array(chunk.lines, pa.int64()),
        CODE_COLUMN: pa.array(codes, pa.string()),
        MESSAGE_COLUMN: pa.array(messages, pa.string()),
    }
    table = chunk_table(chunk.columns, VectorRuleSet(ruleset), extra)
    ids = pa.array([None if i is None else str(i) for i in chunk.ids], pa.string())
    return table.set_column(table.schema.get_field_index("id"), "id", ids)
