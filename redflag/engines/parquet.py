"""Parquet in and out for the DuckDB engine: the schema checked before any row, values
re-checked by core/record.py, results written by DuckDB or Arrow.

Strictness as in the Python engine. The column names and types are checked against the
flags before a row is read (an unknown column or a wrong type ends the run, exit 2). Values a
column type allows but a flag does not (out of bounds, 67.5 for a whole number, NaN, a
contradicted implication) are found by one SQL filter, and every row it finds is re-read by
core/record.py `validate_record`, whose error (code, message, hint) the row gets: the same
one definition of a bad value as `check`. The filter only chooses which rows to re-read.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from redflag.core.compile import CompiledRuleSet
from redflag.core.record import ID_KEY, unknown_flag, validate_record
from redflag.core.vector import ChunkResult, Columns
from redflag.engines.duckdb import LINE_COLUMN, status_result
from redflag.errors import BadValueError, InputError, Location
from redflag.sql import DIALECTS, compile_query

if TYPE_CHECKING:
    import duckdb

_SQL = DIALECTS["duckdb"]
_WHOLE = {"TINYINT", "SMALLINT", "INTEGER", "BIGINT", "UTINYINT", "USMALLINT", "UINTEGER"}
_NUMBER = _WHOLE | {"FLOAT", "DOUBLE", "UBIGINT"}
_ID = _WHOLE | {"VARCHAR", "UBIGINT"}
INPUT_VIEW = "redflag_input"
CODE_COLUMN, MESSAGE_COLUMN, HINT_COLUMN = "error_code", "error_message", "error_hint"
BATCH_ROWS = 65_536


@dataclass(frozen=True)
class ParquetInput:
    """One Parquet file checked against the rule set: which flag columns it has."""

    path: str
    source: str
    columns: dict[str, str]  # column -> DuckDB type

    def select(self, ruleset: CompiledRuleSet) -> str:
        """The file as the compiler's input: line, id, then every flag (NULL where absent)."""
        q = _SQL.identifier
        parts = [f"{q('file_row_number')} + 1 AS {q(LINE_COLUMN)}"]
        parts.append(
            q(ID_KEY) if ID_KEY in self.columns else f"CAST(NULL AS VARCHAR) AS {q(ID_KEY)}"
        )
        for flag in ruleset.flags.values():
            kind = "DOUBLE" if flag.is_numeric else "BOOLEAN"
            if flag.id in self.columns:
                parts.append(q(flag.id))
            else:
                parts.append(f"CAST(NULL AS {kind}) AS {q(flag.id)}")
        scan = f"read_parquet({_SQL.string(self.path)}, file_row_number = true)"
        return "SELECT " + ", ".join(parts) + f" FROM {scan}"


def open_parquet(
    con: duckdb.DuckDBPyConnection, path: str, source: str, ruleset: CompiledRuleSet
) -> ParquetInput:
    """Read a Parquet file's schema and check it against the flags.

    Raises:
        InputError: the file cannot be read as Parquet.
        UnknownFlagError: a column that is neither a flag nor `id` (with a did-you-mean).
        BadValueError: a column whose type cannot hold its flag's values.
    """
    import duckdb

    try:
        described = con.sql(f"DESCRIBE SELECT * FROM read_parquet({_SQL.string(path)})").fetchall()
    except duckdb.Error as err:
        raise InputError(
            f"cannot read {source} as Parquet: {str(err).splitlines()[0]}",
            location=Location(source),
            hint="give a Parquet file, or --format ndjson|csv for text",
        ) from None
    columns = {str(row[0]): str(row[1]) for row in described}
    where = Location(source)
    for name, kind in columns.items():
        if name == ID_KEY:
            if kind not in _ID:
                raise BadValueError(
                    f"column 'id' has type {kind}; it must be text or whole numbers",
                    location=where,
                    hint="store ids as strings (VARCHAR) or integers",
                )
            continue
        flag = ruleset.flags.get(name)
        if flag is None:
            raise unknown_flag(name, ruleset, where)
        wanted = {"BOOLEAN"} if not flag.is_numeric else _NUMBER
        if kind not in wanted:
            expect = (
                "BOOLEAN" if not flag.is_numeric else "a number type (integer, FLOAT or DOUBLE)"
            )
            raise BadValueError(
                f"column '{name}' has type {kind}; flag '{name}' needs {expect}",
                location=where,
                hint="write the column with that type; null (missing) is unknown",
            )
    return ParquetInput(path, source, columns)


def suspect(ruleset: CompiledRuleSet) -> str:
    """A SQL filter for rows whose values the flags may refuse (a superset: re-checked)."""
    q = _SQL.identifier
    tests = []
    for flag in ruleset.flags.values():
        if not flag.is_numeric:
            continue
        assert flag.min is not None and flag.max is not None  # checked at load
        column = q(flag.id)
        # NaN sorts above every number in DuckDB, so it fails the range too
        tests.append(
            f"NOT ({column} >= {_SQL.number(flag.min)} AND {column} <= {_SQL.number(flag.max)})"
        )
        if flag.type == "int":
            tests.append(f"{column} <> trunc({column})")
    for source, targets in ruleset.implications.implied.items():
        tests += [
            f"(COALESCE({q(source)}, FALSE) AND COALESCE(NOT {q(t)}, FALSE))" for t in targets
        ]
    return " OR ".join(tests) if tests else "FALSE"


def bad_rows(
    con: duckdb.DuckDBPyConnection, parquet: ParquetInput, ruleset: CompiledRuleSet
) -> dict[int, InputError]:
    """Each refused row's line -> its error, from core/record.py validate_record."""
    names = list(parquet.columns)
    q = _SQL.identifier
    picked = ", ".join(q(c) for c in names)
    sql = (
        f"SELECT {q(LINE_COLUMN)}, {picked} FROM ({parquet.select(ruleset)}) "
        f"WHERE {suspect(ruleset)} ORDER BY {q(LINE_COLUMN)}"
    )
    errors: dict[int, InputError] = {}
    for row in con.sql(sql).fetchall():
        line, values = int(row[0]), dict(zip(names, row[1:], strict=True))
        try:
            validate_record(values, ruleset, Location(parquet.source, line))
        except InputError as err:
            errors[line] = err
    return errors


def errors_table(errors: dict[int, InputError]) -> Any:
    """line, error_code, error_message, error_hint: an Arrow table DuckDB can join."""
    import pyarrow as pa

    lines = sorted(errors)
    return pa.table(
        {
            LINE_COLUMN: pa.array(lines, pa.int64()),
            CODE_COLUMN: pa.array([errors[n].code for n in lines], pa.string()),
            MESSAGE_COLUMN: pa.array([errors[n].message for n in lines], pa.string()),
            HINT_COLUMN: pa.array([errors[n].hint for n in lines], pa.string()),
        }
    )


def with_errors(select: str, errors: str | None) -> str:
    """A Parquet file's rows with `error_code` and `error_message` (NULL for good rows),
    from the table of bad rows `errors` (line, code, message), or all NULL when None."""
    q = _SQL.identifier
    if errors is None:
        nulls = ", ".join(f"CAST(NULL AS VARCHAR) AS {q(c)}" for c in (CODE_COLUMN, MESSAGE_COLUMN))
        return f"SELECT *, {nulls} FROM ({select})"
    picked = f"{q(CODE_COLUMN)}, {q(MESSAGE_COLUMN)}"
    return (
        f"SELECT f.*, {picked} FROM ({select}) AS f "
        f"LEFT JOIN {q(errors)} AS e USING ({q(LINE_COLUMN)})"
    )


def output_select(ruleset: CompiledRuleSet, table: str, source: str | None, ordered: bool) -> str:
    """The Parquet output columns (CSV's, with lists) over an input table or view that
    carries line numbers and error columns; `ordered` sorts by line (after a join)."""
    q = _SQL.identifier
    carry = (LINE_COLUMN, CODE_COLUMN, MESSAGE_COLUMN)
    results = compile_query(ruleset, _SQL, table, select="results", carry=carry).text
    ok = f"{q(CODE_COLUMN)} IS NULL"
    file_column = [f"{_SQL.string(source)} AS {q('file')}"] if source is not None else []
    columns = [
        f"{q(LINE_COLUMN)} AS {q('line')}",
        *file_column,
        f"CAST({q(ID_KEY)} AS VARCHAR) AS {q(ID_KEY)}",
        *(
            f"CASE WHEN {ok} THEN {q(c)} END AS {q(c)}"
            for c in ("level", "matched", "could_escalate", "worst_case")
        ),
        q(CODE_COLUMN),
        q(MESSAGE_COLUMN),
    ]
    order = f" ORDER BY {q(LINE_COLUMN)}" if ordered else ""
    return "SELECT " + ", ".join(columns) + f" FROM ({results}) AS r{order}"


@dataclass
class ParquetChunk:
    """A stretch of Parquet rows evaluated by DuckDB: what the batch writers take."""

    lines: list[int]
    ids: list[Any]
    result: ChunkResult
    errors: dict[int, InputError]


def status_chunks(
    con: duckdb.DuckDBPyConnection,
    parquet: ParquetInput,
    ruleset: CompiledRuleSet,
    errors: dict[int, InputError],
) -> Iterator[ParquetChunk]:
    """The file's rows evaluated in DuckDB, in file order, BATCH_ROWS at a time."""
    q = _SQL.identifier
    con.execute(f"CREATE OR REPLACE TEMP VIEW {q(INPUT_VIEW)} AS {parquet.select(ruleset)}")
    query = compile_query(ruleset, _SQL, INPUT_VIEW, select="status", carry=(LINE_COLUMN,))
    reader = con.sql(query.text).to_arrow_reader(BATCH_ROWS)
    n_rules = len(ruleset.rules)
    for batch in reader:
        got = {
            name: batch.column(name).to_numpy(zero_copy_only=False) for name in batch.schema.names
        }
        lines = got[LINE_COLUMN].astype(np.int64)
        n = len(lines)
        if n == 0:
            continue
        # DuckDB keeps insertion order (preserve_insertion_order, on by default): say so
        assert (np.diff(lines) == 1).all(), "DuckDB returned Parquet rows out of order"
        got["id"] = np.arange(n)  # status_result orders rows by `id`: here, already in order
        result = status_result(got, n_rules, n)
        first = int(lines[0])
        ids = batch.column(ID_KEY).to_pylist()
        mine = {int(line) - first: err for line, err in errors.items() if first <= line < first + n}
        yield ParquetChunk(lines.tolist(), ids, result, mine)


def empty_columns(ruleset: CompiledRuleSet, n: int) -> Columns:
    """Columns of unknowns (the writers read results, not the records' values)."""
    n_bool = sum(1 for f in ruleset.flags.values() if not f.is_numeric)
    n_num = len(ruleset.flags) - n_bool
    return Columns(np.ones((n_bool, n), dtype=np.int8), np.full((n_num, n), np.nan))
