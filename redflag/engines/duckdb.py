"""The DuckDB engine: the compiled SQL (redflag/sql) run in embedded DuckDB.

`ChunkEvaluator` evaluates one chunk of records that the batch readers have already
validated (batch/decode.py, the same strict decoder and the same errors as the Python
engine), in place of core/vector.py; the writers then give byte for byte the same output.
duckdb and pyarrow are an optional extra (`redflag[sql]`), imported only here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from redflag.core.compile import CompiledRuleSet
from redflag.core.vector import ChunkResult, Columns, VectorRuleSet
from redflag.errors import UsageError
from redflag.sql import DIALECTS, compile_query
from redflag.sql.compiler import RANK_COLUMN

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
        self.query = compile_query(ruleset, DIALECTS["duckdb"], CHUNK_TABLE, select="status")
        self.n_rules = len(ruleset.rules)

    def __call__(self, columns: Columns) -> ChunkResult:
        """Level rank, matched and could-escalate rules of every record of the chunk."""
        self.con.register(CHUNK_TABLE, chunk_table(columns, self.vector))
        try:
            got = self.con.sql(self.query.text).fetchnumpy()
        finally:
            self.con.unregister(CHUNK_TABLE)
        return status_result(got, self.n_rules, columns.size)


def status_result(got: dict[str, Any], n_rules: int, n: int) -> ChunkResult:
    """The `status` columns of compile_query as a ChunkResult, rows in `id` order."""
    order = np.asarray(got["id"], dtype=np.intp)
    rank = np.empty(n, dtype=np.intp)
    rank[order] = np.asarray(got[RANK_COLUMN], dtype=np.intp)
    status = np.empty((n_rules, n), dtype=np.int8)
    for i in range(n_rules):
        status[i, order] = np.asarray(got[f"s{i}"], dtype=np.int8)
    return ChunkResult(rank, status == 2, status == 1)
