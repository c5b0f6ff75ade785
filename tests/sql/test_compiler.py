"""`redflag sql` and the compiler's quoting: rule files are data, never SQL."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from redflag.cli import app
from redflag.core.compile import compile_ruleset
from redflag.core.flags import BoolFlag
from redflag.core.model import Flag, Level, Rule, RuleSet, RuleSetMeta, Source
from redflag.sql import DIALECTS, compile_query

duckdb = pytest.importorskip(
    "duckdb", reason="duckdb is not installed (pip install 'redflag[sql]')"
)
runner = CliRunner()

HOSTILE = [
    "it's",
    "a''b",
    "back\\slash\\",
    "x'); DROP TABLE records; --",
    'double "quote"',
    "new\nline",
    "tick`s",
    "ünïcødé ✓",
    "\\'",
]


def _select_one(engine: str, sql: str, request: pytest.FixtureRequest):
    if engine == "duckdb":
        return duckdb.connect().execute(sql).fetchone()
    with request.getfixturevalue("postgres").cursor() as cur:
        cur.execute(sql)
        return cur.fetchone()


@pytest.mark.parametrize("engine", ["duckdb", "postgres"])
@pytest.mark.parametrize("text", HOSTILE)
def test_string_literals_read_back_as_the_same_text(engine, text, request):
    literal = DIALECTS[engine].string(text)
    assert _select_one(engine, f"SELECT {literal}", request) == (text,), literal


@pytest.mark.parametrize("engine", ["duckdb", "postgres"])
@pytest.mark.parametrize("text", HOSTILE)
def test_identifiers_name_a_column_whatever_its_text(engine, text, request):
    q = DIALECTS[engine].identifier
    sql = f"SELECT {q(text)} FROM (SELECT 1 AS {q(text)}) AS t"
    assert _select_one(engine, sql, request) == (1,), sql


def _hostile_ruleset():
    meta = RuleSetMeta(
        id="x'); DROP TABLE records; --", name="n", version="1'--", status="draft", description="d"
    )
    doc = RuleSet(
        ruleset=meta,
        sources=(Source(key="S", title="t", organisation="o", year="2024", url="u"),),
        levels=(
            Level(id="now", label="l", timeframe="t", action="a"),
            Level(id="later", label="l", timeframe="t", action="a"),
        ),
        flags=(Flag(id="a", type="bool", question="q"),),
        rules=(
            Rule(
                id="r1",
                level="now",
                title="'); DROP TABLE records; --",
                when="a",
                rationale="r",
                advice="a",
                sources=("S",),
            ),
        ),
    )
    return compile_ruleset(doc, sha256="0" * 64, source="t")


def test_a_hostile_rule_set_id_and_table_name_stay_data_in_duckdb():
    ruleset = _hostile_ruleset()
    table = 'we"ird; DROP'
    con = duckdb.connect()
    con.execute('CREATE TABLE "we""ird; DROP" (id INTEGER, a BOOLEAN)')
    con.execute('INSERT INTO "we""ird; DROP" VALUES (1, TRUE), (2, NULL), (3, FALSE)')
    rows = con.execute(compile_query(ruleset, DIALECTS["duckdb"], table).text).fetchall()
    meta = ruleset.meta
    assert rows == [
        (1, "now", "now", ["r1"], [], meta.id, meta.version, "0" * 64),
        (2, "later", "now", [], ["r1"], meta.id, meta.version, "0" * 64),
        (3, "later", "later", [], [], meta.id, meta.version, "0" * 64),
    ]
    assert con.execute('SELECT count(*) FROM "we""ird; DROP"').fetchone() == (3,)


def test_the_query_never_contains_rule_titles_or_condition_text():
    ruleset = _hostile_ruleset()
    for dialect in DIALECTS.values():
        text = compile_query(ruleset, dialect, "records").text
        assert "DROP TABLE records; --'" not in text.replace(dialect.string(ruleset.meta.id), "")


def test_sql_command_prints_a_query_duckdb_runs_with_checks_results(tmp_path):
    result = runner.invoke(app, ["sql", "--dialect", "duckdb", "--table", "answers"])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("-- redflag: rule set redflag-spinal ")
    con = duckdb.connect()
    con.execute("CREATE TABLE answers AS SELECT 'p1' AS id")
    for flag in ("cancer_history", "back_pain", "limb_weakness"):
        con.execute(f"ALTER TABLE answers ADD COLUMN {flag} BOOLEAN DEFAULT TRUE")
    check = runner.invoke(app, ["check", "cancer_history", "back_pain", "limb_weakness", "--json"])
    assert check.exit_code == 0
    expected = json.loads(check.stdout)
    given = ("cancer_history", "back_pain", "limb_weakness")
    missing = [(f, kind) for f, kind in _flags() if f not in given]
    for flag, kind in missing:
        con.execute(f"ALTER TABLE answers ADD COLUMN {flag} {kind}")
    row = con.execute(result.stdout).fetchone()
    assert row[0] == "p1"
    assert row[1] == expected["level"]
    assert row[3] == [m["id"] for m in expected["matched"]]
    assert row[4] == [c["id"] for c in expected["could_escalate"]]


def _flags():
    from redflag.formats.rulefile import load_ruleset

    return [
        (f.id, "BOOLEAN" if isinstance(f, BoolFlag) else "DOUBLE")
        for f in load_ruleset(None).flags.values()
    ]


def test_sql_command_rejects_an_unknown_dialect():
    result = runner.invoke(app, ["sql", "--dialect", "oracle"])
    assert result.exit_code == 2
    assert "oracle" in result.stderr


@pytest.mark.parametrize("name", ["duckdb", "postgres", "spark"])
def test_each_dialect_writes_its_own_list_and_quoting(name, ruleset):
    text = compile_query(ruleset, DIALECTS[name], "records").text
    spelling = {
        "duckdb": ('"records"', "list_filter(["),
        "postgres": ('"records"', "array_remove(CAST(ARRAY["),
        "spark": ("`records`", "filter(array("),
    }[name]
    assert all(s in text for s in spelling)


def test_schema_then_query_in_postgres_gives_checks_level_for_a_record(postgres):
    schema = runner.invoke(
        app, ["sql", "--dialect", "postgres", "--schema", "--table", "s.answers"]
    )
    query = runner.invoke(app, ["sql", "--dialect", "postgres", "--table", "s.answers"])
    assert schema.exit_code == query.exit_code == 0
    check = runner.invoke(app, ["check", "back_pain", "age=35", "--json"])
    expected = json.loads(check.stdout)
    with postgres.cursor() as cur:
        cur.execute("DROP SCHEMA IF EXISTS s CASCADE")
        cur.execute("CREATE SCHEMA s")
        cur.execute(schema.stdout)
        cur.execute("INSERT INTO s.answers (id, back_pain, age) VALUES ('p2', TRUE, 35)")
        cur.execute(query.stdout)
        row = cur.fetchone()
    assert row[:3] == ("p2", expected["level"], expected["worst_case"])
    assert row[4] == [c["id"] for c in expected["could_escalate"]]


def test_the_engines_stay_off_the_start_up_path_of_check_and_batch():
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from typer.testing import CliRunner\n"
        "from redflag.cli import app\n"
        "r = CliRunner()\n"
        "assert r.invoke(app, ['check', 'back_pain']).exit_code == 0\n"
        "assert r.invoke(app, ['batch'], input=b'{}\\n').exit_code == 0\n"
        "engines = ('duckdb', 'pyarrow', 'pyspark', 'psycopg')\n"
        "print(sorted(m for m in engines if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"
