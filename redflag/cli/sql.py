"""`redflag sql`: the rule set compiled to one SQL query (DuckDB, PostgreSQL or Spark SQL)."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

import typer

from redflag.cli.common import RulesOption, load


class SqlDialect(StrEnum):
    """SQL dialects."""

    duckdb = "duckdb"
    postgres = "postgres"
    spark = "spark"


def sql(
    dialect: Annotated[
        SqlDialect, typer.Option("--dialect", help="The SQL dialect to write.")
    ] = SqlDialect.duckdb,
    rules: RulesOption = None,
    table: Annotated[
        str,
        typer.Option(
            "--table",
            help="The input table (or schema.table): an 'id' column and one column per flag, "
            "NULL for unknown.",
        ),
    ] = "records",
    schema: Annotated[
        bool,
        typer.Option("--schema", help="Print the CREATE TABLE for the input table instead."),
    ] = False,
) -> None:
    """Print one SQL query that checks every row of a table, with check's three-valued results.

    Each row gives id, level, worst_case, matched and could_escalate (lists of rule ids, most
    urgent first) and the rule set's id, version and sha256. SQL NULL is unknown.

    Example:

        redflag sql --dialect duckdb --table records > check.sql

        redflag sql --dialect duckdb --table records --schema > schema.sql

        redflag sql --dialect postgres --table intake.answers | psql -d clinic
    """
    from redflag.sql import DIALECTS, compile_query, compile_schema

    ruleset = load(rules)
    chosen = DIALECTS[dialect.value]
    if schema:
        print(compile_schema(ruleset, chosen, table) + ";")
    else:
        print(compile_query(ruleset, chosen, table).text + ";")
