"""What differs between the SQL dialects, written out: quoting, literals, lists.

Everything else the compiler emits is the SQL common to DuckDB, PostgreSQL and Spark SQL:
BOOLEAN with NULL as unknown (their AND, OR and NOT are Kleene logic), CASE, COALESCE, CAST
and integer arithmetic. No generic transpiler: each dialect below is tested on its own
engine (issue 15: a transpiler turned a 1-based array index into wrong Spark code).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

DialectName = Literal["duckdb", "postgres", "spark"]


@dataclass(frozen=True)
class Dialect:
    """One SQL dialect: the spellings the compiler cannot share between engines."""

    name: DialectName
    double: str
    """The 64-bit float type (DOUBLE; PostgreSQL spells it DOUBLE PRECISION)."""
    text: str
    """The text type (VARCHAR, TEXT, STRING)."""

    def identifier(self, name: str) -> str:
        """A quoted identifier: no name can end the quotes (rule files are data)."""
        if self.name == "spark":
            return "`" + name.replace("`", "``") + "`"
        return '"' + name.replace('"', '""') + '"'

    def table(self, name: str) -> str:
        """A table name, each dot-separated part quoted (`schema.table`)."""
        return ".".join(self.identifier(part) for part in name.split("."))

    def string(self, text: str) -> str:
        """A string literal.

        DuckDB and PostgreSQL (standard_conforming_strings, on since 9.1) double a quote and
        read a backslash as itself. Spark reads backslash escapes, and would join 'a''b'
        into 'ab' (adjacent literals): there a quote and a backslash are escaped with one.
        """
        if self.name == "spark":
            return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"
        return "'" + text.replace("'", "''") + "'"

    def number(self, value: float) -> str:
        """A float constant, exactly: the shortest text that reads back as `value`.

        Cast from a string because a bare 38.5 is NUMERIC in PostgreSQL and DECIMAL in
        Spark, whose comparisons with a DOUBLE column need not round the same way.
        """
        return f"CAST('{value!r}' AS {self.double})"

    def string_list(self, items: list[str]) -> str:
        """A list of text values, NULL items left out (the matched rule ids of a row)."""
        if not items:
            return {
                "duckdb": "CAST([] AS VARCHAR[])",
                "postgres": "CAST(ARRAY[] AS TEXT[])",
                "spark": "CAST(array() AS ARRAY<STRING>)",
            }[self.name]
        joined = ", ".join(items)
        if self.name == "duckdb":
            return f"list_filter([{joined}], lambda x: x IS NOT NULL)"
        if self.name == "postgres":
            return f"array_remove(CAST(ARRAY[{joined}] AS TEXT[]), NULL)"
        return f"filter(array({joined}), x -> x IS NOT NULL)"


DIALECTS: dict[str, Dialect] = {
    "duckdb": Dialect("duckdb", "DOUBLE", "VARCHAR"),
    "postgres": Dialect("postgres", "DOUBLE PRECISION", "TEXT"),
    "spark": Dialect("spark", "DOUBLE", "STRING"),
}
