"""Apache Spark in local mode (issue 15, test 5): the compiled Spark SQL and
`redflag.spark.check_dataframe` equal the Python engine on the exhaustive records and on a
seeded corpus.

Spark takes 20-30 s to start, so this module shares one `local[2]` session. Run it alone:
    .venv/bin/python -m pytest tests/spark -q
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from typer.testing import CliRunner

from redflag.cli import app
from redflag.errors import UsageError
from redflag.sql import DIALECTS, compile_query
from tests.engines.corpus import parquet_table, records
from tests.sql.engines import arrow_table, enumerated_records, fast_python_outcomes

pyspark = pytest.importorskip(
    "pyspark", reason="pyspark is not installed (pip install 'redflag[spark]')"
)
pytestmark = pytest.mark.slow  # a JVM, and every record through Spark: minutes on 2 cores


@pytest.fixture(scope="module")
def spark():
    from pyspark.sql import SparkSession

    session = (
        SparkSession.builder.master("local[2]")
        .appName("redflag-tests")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.sql.session.timeZone", "UTC")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


def test_spark_sql_equals_python_on_every_enumerated_record(spark, ruleset):
    rows = enumerated_records(ruleset)
    expected = fast_python_outcomes(ruleset, rows)
    spark.createDataFrame(arrow_table(ruleset, rows)).createOrReplaceTempView("records")
    query = compile_query(ruleset, DIALECTS["spark"], "records", select="truth")
    got = {int(r[0]): (r[1], r[2], tuple(r[3:])) for r in spark.sql(query.text).collect()}
    assert got == expected


def _python_batch(ruleset_rows) -> dict[str, dict[str, Any]]:
    text = b"".join(json.dumps(r).encode() + b"\n" for r in ruleset_rows)
    result = CliRunner().invoke(app, ["batch", "--jobs", "1"], input=text)
    assert result.exit_code == 0, result.output
    return {row["id"]: row for row in map(json.loads, result.stdout.splitlines())}


@pytest.mark.parametrize("which", ["corpus", "enumerated"])
def test_check_dataframe_equals_batch(spark, ruleset, which):
    from redflag.spark import check_dataframe

    if which == "corpus":
        rows = [{**r, "id": str(r["id"])} for r in records(ruleset, 20_000, seed=5)]
    else:
        rows = [{**r, "id": f"e{i}"} for i, r in enumerate(enumerated_records(ruleset))]
    expected = _python_batch(rows)
    df = spark.createDataFrame(parquet_table(ruleset, rows))
    out = check_dataframe(df)
    assert out.columns[: len(df.columns)] == df.columns
    got = {
        r["id"]: r
        for r in out.select("id", "level", "matched", "could_escalate", "worst_case").collect()
    }
    assert len(got) == len(expected)
    for key, want in expected.items():
        row = got[key]
        assert (row["level"], row["worst_case"]) == (want["level"], want["worst_case"]), key
        assert (list(row["matched"]), list(row["could_escalate"])) == (
            want["matched"],
            want["could_escalate"],
        ), key


def test_check_dataframe_keeps_other_columns_and_treats_a_missing_flag_as_unknown(spark):
    from redflag.spark import check_dataframe

    df = spark.createDataFrame(
        [("x", True, 70), ("y", None, None)], "note string, back_pain boolean, age int"
    )
    rows = check_dataframe(df).collect()
    assert [(r["note"], r["back_pain"], r["age"]) for r in rows] == [
        ("x", True, 70),
        ("y", None, None),
    ]
    assert rows[0]["level"] == "soon" and "age_over_50" in rows[0]["matched"]
    assert rows[1]["level"] == "routine" and rows[1]["worst_case"] == "emergency"
    assert rows[0]["ruleset_id"] == "redflag-spinal"


def test_check_dataframe_refuses_a_flag_column_of_the_wrong_type(spark):
    from redflag.spark import check_dataframe

    df = spark.createDataFrame([("yes",)], "back_pain string")
    with pytest.raises(
        UsageError, match="column 'back_pain' has type string; flag 'back_pain' needs boolean"
    ):
        check_dataframe(df)


@pytest.mark.parametrize(
    "text", ["it's", "a''b", "back\\slash\\", "x'); DROP TABLE t; --", "tick`s", "\\'", "ünï ✓"]
)
def test_spark_string_literals_and_identifiers_read_back_as_the_same_text(spark, text):
    dialect = DIALECTS["spark"]
    literal, name = dialect.string(text), dialect.identifier(text)
    row = spark.sql(f"SELECT {literal} AS {name}").collect()[0]
    assert row[0] == text
    assert row.asDict() == {text: text}
