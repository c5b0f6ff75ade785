"""The DuckDB engine: the compiled SQL (redflag/sql) run in embedded DuckDB.

`ChunkEvaluator` evaluates one chunk of records that the batch readers have already
validated (batch/decode.py, the same strict decoder and the same errors as the Python
engine), in place of core/vector.py; the writers then give byte for byte the same output.
duckdb and pyarrow are an optional extra (`redflag[sql]`), imported only here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from redflag.core.compile import CompiledRuleSet
from redflag.core.vector import ChunkResult, Columns, VectorRuleSet
from redflag.errors import UsageError
from redflag.sql import DIALECTS, compile_query

if TYPE_CHECKING:
    import duckdb
    import pyarrow as pa

CHUNK_TABLE = "redflag_chunk"
LINE_COLUMN = "redflag_line"
THREADS = 2  # the machines this runs on: more threads than cores only adds switching


def connect() -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB, or a usage error saying how to install it."""
    try:
        import duckdb
        import pyarrow  # noqa: F401  (chunks go to DuckDB as Arrow tables)
    except ImportError as err:
        raise UsageError(
            f"--engine duckdb needs the '{err.name}' package, which is not installed",
            hint="pip install 'redflag[sql]'",
        ) from None
    con = duckdb.connect(":memory:", config={"threads": THREADS})
    con.execute("SET enable_progress_bar = false")  # stderr carries batch's own summary
    return con


def chunk_table(
    columns: Columns, vector: VectorRuleSet, extra: dict[str, Any] | None = None
) -> pa.Table:
    """One chunk's validated columns as an Arrow table: `id` is the row's index, bool flags
    BOOLEAN (null when unknown), numeric flags DOUBLE (null when unknown)."""
    import pyarrow as pa

    data: dict[str, Any] = {"id": pa.array(np.arange(columns.size, dtype=np.int64))}
    for i, flag in enumerate(vector.bool_flags):
        codes = columns.codes[i]
        data[flag] = pa.array(codes == 2, mask=codes == 1)
    for i, flag in enumerate(vector.numeric_flags):
        values = columns.numbers[i]
        data[flag] = pa.array(values, mask=np.isnan(values))
    data.update(extra or {})
    return pa.table(data)


class ChunkEvaluator:
    """Evaluates chunks of validated records in DuckDB: a drop-in for VectorRuleSet.evaluate."""

    def __init__(
        self, ruleset: CompiledRuleSet, con: duckdb.DuckDBPyConnection | None = None
    ) -> None:
        self.ruleset = ruleset
        self.vector = VectorRuleSet(ruleset)  # the column layout the readers produce
        self.con = con if con is not None else connect()
        self.query = compile_query(ruleset, DIALECTS["duckdb"], CHUNK_TABLE, select="rules")

    def __call__(self, columns: Columns) -> ChunkResult:
        """Level rank, matched and could-escalate rules of every record of the chunk."""
        self.con.register(CHUNK_TABLE, chunk_table(columns, self.vector))
        try:
            got = self.con.sql(self.query.text).to_arrow_table()
        finally:
            self.con.unregister(CHUNK_TABLE)
        # DuckDB keeps insertion order (preserve_insertion_order, on by default): say so
        assert (got.column("id").to_numpy() == np.arange(columns.size)).all(), "rows reordered"
        return outcome(got, self.ruleset).result()


@dataclass(frozen=True)
class Outcome:
    """A batch's results from its rules' truths, as core/vector.py `evaluate` derives them:
    the level rank (the most urgent rule that is TRUE), the worst rank (the most urgent
    UNKNOWN rule above it), and rule x row bits, packed 8 rows a byte (numpy's
    `packbits(bitorder="little")`): matched (TRUE), could escalate (UNKNOWN, more urgent
    than the level). Bits, because Arrow has them packed already: a byte per rule and row
    (pyarrow.compute, then numpy) cost 0.7 CPU s a million rows, half DuckDB's own work."""

    size: int
    rank: npt.NDArray[np.intp]
    worst: npt.NDArray[np.intp]
    matched: npt.NDArray[np.uint8]
    could_escalate: npt.NDArray[np.uint8]

    def result(self) -> ChunkResult:
        """As the Python engine's ChunkResult (one bool per rule and row)."""
        return ChunkResult(
            self.rank, _unpack(self.matched, self.size), _unpack(self.could_escalate, self.size)
        )


def outcome(got: Any, ruleset: CompiledRuleSet) -> Outcome:
    """The Outcome of an Arrow table or batch of compile_query `rules` columns."""
    n = got.num_rows
    rules = ruleset.rules
    width = -(-n // 8)
    true = np.zeros((len(rules), width), dtype=np.uint8)
    unknown = np.zeros_like(true)
    for i in range(len(rules)):
        true[i], unknown[i] = _truth_bits(got.column(f"r{i}"), width)
    no_match = len(ruleset.levels) - 1
    levels = sorted({r.rank for r in rules if r.rank < no_match}, reverse=True)
    members = {level: [i for i, r in enumerate(rules) if r.rank == level] for level in levels}
    rank = np.full(n, no_match, dtype=np.intp)
    for level in levels:  # least urgent first: the most urgent is written last
        rank[_unpack(np.bitwise_or.reduce(true[members[level]]), n)] = level
    could = np.zeros_like(true)
    worst = rank.copy()
    for level in levels:
        above = np.packbits(rank > level, bitorder="little")
        could[members[level]] = unknown[members[level]] & above
        worst[_unpack(np.bitwise_or.reduce(could[members[level]]), n)] = level
    return Outcome(n, rank, worst, true, could)


def _truth_bits(truth: Any, width: int) -> tuple[npt.NDArray[np.uint8], npt.NDArray[np.uint8]]:
    """A BOOLEAN column's TRUE and NULL rows, packed: Arrow keeps them packed (values and
    validity bitmaps), so this is two byte-wise operations, no per-row work."""
    import pyarrow as pa

    if isinstance(truth, pa.ChunkedArray):
        truth = truth.combine_chunks()
    if width == 0:
        return np.zeros(0, dtype=np.uint8), np.zeros(0, dtype=np.uint8)
    if truth.offset % 8:  # never from DuckDB: a copy whose bitmaps start at a byte
        truth = pa.concat_arrays([truth])
    start = truth.offset // 8
    validity, values = truth.buffers()
    data = np.frombuffer(values, dtype=np.uint8, count=width, offset=start)
    if validity is None:
        return data, np.zeros(width, dtype=np.uint8)
    valid = np.frombuffer(validity, dtype=np.uint8, count=width, offset=start)
    return data & valid, ~valid


def _unpack(packed: npt.NDArray[np.uint8], n: int) -> npt.NDArray[np.bool_]:
    return np.unpackbits(packed, axis=-1, count=n, bitorder="little").view(np.bool_)
