"""Apache Spark: `check_dataframe` adds the result columns to a DataFrame.

It runs the compiled Spark SQL (redflag/sql, dialect `spark`) rather than the column-wise
Python engine inside `mapInArrow`: the query runs in the JVM, with no Python worker per
executor and no Arrow round trip per batch, Spark's optimizer sees every expression, and it
is the same compiled query that is proven equal to the Python engine on DuckDB and
PostgreSQL (tests/sql) and on Spark itself (tests/spark). pyspark is an optional extra:
`pip install 'redflag[spark]'`.
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import TYPE_CHECKING

from redflag.core.compile import CompiledRuleSet
from redflag.core.flags import BoolFlag
from redflag.errors import UsageError
from redflag.sql import DIALECTS, compile_query
from redflag.sql.compiler import RESULT_COLUMNS

if TYPE_CHECKING:
    from pyspark.sql import DataFrame

__all__ = ["RESULT_COLUMNS", "check_dataframe"]

_SPARK = DIALECTS["spark"]
_RESERVED = "redflag_"  # the compiled query's own names start with it
_NUMBER_TYPES = {"tinyint", "smallint", "int", "bigint", "float", "double"}


def check_dataframe(df: DataFrame, rules: Path | CompiledRuleSet | None = None) -> DataFrame:
    """`df` with the result columns added: level, worst_case, matched, could_escalate (arrays
    of rule ids, most urgent first) and ruleset_id, ruleset_version, ruleset_sha256.

    Each flag is a column (boolean for yes/no flags, a number type for numeric ones; null
    is unknown); a flag without a column is unknown for every row. Other columns are kept
    as they are. Values are not range-checked here: check them upstream (as for `redflag
    sql`), or run `redflag batch`, which refuses bad records.

    Args:
        df: the records.
        rules: a rule file, a loaded rule set, or None for the bundled rules.

    Raises:
        UsageError: a flag column of the wrong type, or a column name the results use.
        RuleFileError: the rule file has errors.
    """
    from pyspark.sql import functions as F

    ruleset = rules if isinstance(rules, CompiledRuleSet) else _load(rules)
    types = dict(df.dtypes)
    _check_columns(types, ruleset)
    q = _SPARK.identifier
    others = [c for c in df.columns if c not in ruleset.flags and c != "id"]
    carried = {c: f"{_RESERVED}carry_{i}" for i, c in enumerate(others)}
    kept_flags = {f: f"{_RESERVED}flag_{i}" for i, f in enumerate(ruleset.flags) if f in types}
    columns = [F.col(q("id")) if "id" in types else F.lit(None).cast("string").alias("id")]
    columns += [F.col(q(c)).alias(alias) for c, alias in carried.items()]
    columns += [F.col(q(f)).alias(alias) for f, alias in kept_flags.items()]
    for flag in ruleset.flags.values():
        if flag.id in types:
            columns.append(F.col(q(flag.id)))
        else:
            columns.append(
                F.lit(None)
                .cast("boolean" if isinstance(flag, BoolFlag) else "double")
                .alias(flag.id)
            )
    view = f"{_RESERVED}input_{uuid.uuid4().hex}"
    df.select(*columns).createOrReplaceTempView(view)
    carry = (*carried.values(), *kept_flags.values())
    query = compile_query(ruleset, _SPARK, view, select="results", carry=carry)
    result = df.sparkSession.sql(query.text)
    back = {alias: name for name, alias in (*carried.items(), *kept_flags.items())}
    order = list(df.columns)
    if "id" not in types:
        result = result.drop("id")
    restored = result.select(
        *(F.col(q(alias)).alias(back[alias]) for alias in carry),
        *(F.col(q(c)) for c in result.columns if c not in back),
    )
    return restored.select(*(q(c) for c in order), *(q(c) for c in RESULT_COLUMNS[1:]))


def _load(path: Path | None) -> CompiledRuleSet:
    from redflag.formats.rulefile import load_ruleset

    return load_ruleset(path)


def _check_columns(types: dict[str, str], ruleset: CompiledRuleSet) -> None:
    for name, kind in types.items():
        if name.startswith(_RESERVED) or name in RESULT_COLUMNS[1:]:
            raise UsageError(
                f"column '{name}' is a name the results use",
                hint=f"rename it: results add {', '.join(RESULT_COLUMNS[1:])}",
            )
        flag = ruleset.flags.get(name)
        if flag is None:
            continue
        is_bool = isinstance(flag, BoolFlag)
        if not (kind == "boolean" if is_bool else kind in _NUMBER_TYPES):
            need = "boolean" if is_bool else "a number type"
            raise UsageError(
                f"column '{name}' has type {kind}; flag '{name}' needs {need}",
                hint="cast the column; null is unknown",
            )
