"""`batch --engine duckdb` (issue 15, tests 3 and 4): the Python engine's output, byte for
byte, on a seeded 100,000-record corpus and on the hostile-record catalogue; Parquet in
and out."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from redflag.cli import app
from tests.cli.test_hostile_records import CATALOGUE, entry_bytes
from tests.engines.corpus import ndjson, parquet_table, records

pytest.importorskip("duckdb", reason="duckdb is not installed (pip install 'redflag[sql]')")
pq = pytest.importorskip("pyarrow.parquet", reason="pyarrow is not installed")
runner = CliRunner()


def batch(*args: str, data: bytes | None = None):
    return runner.invoke(app, ["batch", *args], input=data)


@pytest.fixture(scope="module")
def corpus_100k(tmp_path_factory: pytest.TempPathFactory, ruleset) -> Path:
    path = tmp_path_factory.mktemp("corpus") / "corpus.ndjson"
    path.write_bytes(ndjson(ruleset, 100_000))
    return path


@pytest.mark.slow
@pytest.mark.parametrize("out_format", ["ndjson", "csv"])
def test_duckdb_output_is_byte_identical_on_a_seeded_100k_corpus(corpus_100k, tmp_path, out_format):
    python_out, duck_out = tmp_path / "python.out", tmp_path / "duckdb.out"
    common = [str(corpus_100k), "--format-out", out_format]
    a = batch(*common, "-o", str(python_out))
    b = batch(*common, "--engine", "duckdb", "-o", str(duck_out))
    assert a.exit_code == b.exit_code == 2  # the corpus has bad lines
    expected = python_out.read_bytes()
    assert expected.count(b"\n") == 100_000 + (out_format == "csv")
    assert b'"error"' in expected or b"bad-value" in expected
    assert duck_out.read_bytes() == expected
    assert a.stderr.split(" in ")[0] == b.stderr.split(" in ")[0]  # same counts


def test_duckdb_reads_csv_as_the_python_engine_does(ruleset, tmp_path):
    import csv
    import io

    rows = records(ruleset, 3_000, seed=7)
    names = ["id", *ruleset.flags]
    text = io.StringIO()
    writer = csv.writer(text)
    writer.writerow(names)
    for row in rows:
        writer.writerow(["" if row.get(n) is None else row.get(n) for n in names])
    writer.writerow(["bad", "sixty"] + [""] * (len(names) - 2))
    path = tmp_path / "in.csv"
    path.write_text(text.getvalue())
    a = batch("--format", "csv", str(path))
    b = batch("--format", "csv", str(path), "--engine", "duckdb")
    assert a.exit_code == b.exit_code == 2
    assert a.stdout == b.stdout
    assert '"code":"bad-value"' in b.stdout


ONE_LINE = [e for e in CATALOGUE["case"] + CATALOGUE["ok"] if b"\n" not in entry_bytes(e).strip()]


def test_hostile_catalogue_gets_the_same_lines_and_codes_through_duckdb():
    lines = [entry_bytes(e).strip() for e in ONE_LINE]
    lines = [line for line in lines if len(line) < 1_000_000]
    data = b"\n".join(lines) + b"\n"
    python = batch("--jobs", "1", data=data)
    duck = batch("--engine", "duckdb", data=data)
    assert "Traceback" not in duck.stderr
    assert duck.stdout == python.stdout
    got = [json.loads(line) for line in duck.stdout.splitlines()]
    assert len(got) == len(lines)
    by_input = dict(zip(lines, got, strict=True))
    for entry in CATALOGUE["case"]:
        line = entry_bytes(entry).strip()
        if line in by_input and "error" in by_input[line]:
            assert by_input[line]["error"]["code"] == entry["code"], entry["name"]
    assert sum("error" in g for g in got) >= 20


# --- Parquet -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def clean_parquet(tmp_path_factory, ruleset):
    rows = records(ruleset, 20_000, seed=3)
    folder = tmp_path_factory.mktemp("parquet")
    pq.write_table(parquet_table(ruleset, rows), folder / "corpus.parquet")
    text = b"".join(json.dumps({**r, "id": str(r.get("id"))}).encode() + b"\n" for r in rows)
    (folder / "corpus.ndjson").write_bytes(text)
    return folder


@pytest.mark.parametrize("out_format", ["ndjson", "csv"])
def test_parquet_in_gives_what_the_python_engine_gives_for_the_same_records(
    clean_parquet, out_format
):
    a = batch(str(clean_parquet / "corpus.ndjson"), "--format-out", out_format)
    b = batch(
        str(clean_parquet / "corpus.parquet"), "--engine", "duckdb", "--format-out", out_format
    )
    assert a.exit_code == b.exit_code == 0, b.output
    assert b.stdout == a.stdout


def test_parquet_out_holds_the_ndjson_results_as_columns(clean_parquet, tmp_path):
    a = batch(str(clean_parquet / "corpus.ndjson"))
    for source in ("corpus.parquet", "corpus.ndjson"):
        target = tmp_path / f"from-{source}.parquet"
        b = batch(str(clean_parquet / source), "--engine", "duckdb", "-o", str(target))
        assert b.exit_code == 0, b.output
        table = pq.read_table(target).to_pylist()
        expected = [json.loads(line) for line in a.stdout.splitlines()]
        assert len(table) == len(expected)
        for row, want in zip(table, expected, strict=True):
            assert row["error_code"] is None
            assert {k: row[k] for k in want} == want


def test_parquet_out_from_ndjson_keeps_bad_lines_as_error_rows(ruleset, tmp_path):
    data = b'{"id": "a", "back_pain": true}\n\n{"age": 67.5}\n'
    target = tmp_path / "out.parquet"
    result = batch("--engine", "duckdb", "-o", str(target), data=data)
    assert result.exit_code == 2
    rows = pq.read_table(target).to_pylist()
    assert [(r["line"], r["id"], r["error_code"]) for r in rows] == [
        (1, "a", None),
        (2, None, "bad-json"),
        (3, None, "bad-value"),
    ]
    assert rows[2]["level"] is None and rows[0]["level"] == "routine"
    assert rows[2]["error_message"] == "'age' must be a whole number from 0 to 120 years, got 67.5"


def test_parquet_values_a_flag_refuses_get_checks_errors(ruleset, tmp_path):
    import pyarrow as pa

    table = pa.table(
        {
            "id": ["ok", "old", "half", "nan", "clash"],
            "age": pa.array([40.0, 121.0, 67.5, float("nan"), None], pa.float64()),
            "back_pain": [True, None, None, None, False],
            "new_back_pain": [None, None, None, None, True],
        }
    )
    path = tmp_path / "bad.parquet"
    pq.write_table(table, path)
    result = batch(str(path), "--engine", "duckdb")
    assert result.exit_code == 2
    got = [json.loads(line) for line in result.stdout.splitlines()]
    assert "level" in got[0]
    for i, word in ((1, "121.0"), (2, "67.5"), (3, "nan")):
        assert got[i]["error"]["code"] == "bad-value"
        assert got[i]["error"]["message"] == (
            f"'age' must be a whole number from 0 to 120 years, got {word}"
        )
    assert got[4]["error"]["message"].startswith("'new_back_pain' is yes, which implies")
    assert [g["line"] for g in got] == [1, 2, 3, 4, 5]


def test_parquet_to_parquet_gives_refused_rows_checks_errors_in_any_batch(tmp_path):
    import pyarrow as pa

    n = 70_000  # two of the engine's 65,536-row batches
    ages = [40.0] * n
    ages[1], ages[n - 1] = 67.5, 121.0
    back = [True] * n
    back[n - 2] = False
    new_back: list[bool | None] = [None] * n
    new_back[n - 2] = True  # contradicts back_pain: no
    table = pa.table(
        {
            "id": [f"p{i}" for i in range(n)],
            "age": pa.array(ages, pa.float64()),
            "back_pain": back,
            "new_back_pain": pa.array(new_back, pa.bool_()),
        }
    )
    source, target = tmp_path / "in.parquet", tmp_path / "out.parquet"
    pq.write_table(table, source)
    result = batch(str(source), "--engine", "duckdb", "-o", str(target))
    assert result.exit_code == 2, result.output
    rows = pq.read_table(target).to_pylist()
    assert [r["line"] for r in rows] == list(range(1, n + 1))
    bad = {r["line"]: r for r in rows if r["error_code"] is not None}
    assert sorted(bad) == [2, n - 1, n]
    assert bad[2]["error_message"] == "'age' must be a whole number from 0 to 120 years, got 67.5"
    assert bad[n]["error_message"] == "'age' must be a whole number from 0 to 120 years, got 121.0"
    assert bad[n - 1]["error_message"].startswith("'new_back_pain' is yes, which implies")
    assert all(r["level"] is None and r["matched"] is None for r in bad.values())
    assert rows[0]["level"] is not None and rows[0]["error_message"] is None
    assert "errors 3" in result.stderr


def test_parquet_with_an_unknown_column_exits_2_before_any_row(tmp_path):
    import pyarrow as pa

    path = tmp_path / "typo.parquet"
    pq.write_table(pa.table({"id": ["a"], "backpain": [True]}), path)
    result = batch(str(path), "--engine", "duckdb")
    assert result.exit_code == 2
    assert result.stdout == ""
    assert f"{path}: error[unknown-flag]: 'backpain' is not a flag of rule set" in result.stderr
    assert "did you mean 'back_pain'?" in result.stderr


def test_parquet_with_a_wrong_column_type_exits_2_before_any_row(tmp_path):
    import pyarrow as pa

    path = tmp_path / "text.parquet"
    pq.write_table(pa.table({"back_pain": ["yes"]}), path)
    result = batch(str(path), "--engine", "duckdb")
    assert result.exit_code == 2
    assert result.stdout == ""
    assert (
        "error[bad-value]: column 'back_pain' has type VARCHAR; flag 'back_pain' needs BOOLEAN"
        in result.stderr
    )


def test_parquet_needs_the_duckdb_engine(tmp_path):
    path = tmp_path / "x.parquet"
    path.write_bytes(b"")
    result = batch(str(path))
    assert result.exit_code == 2
    assert "error[usage]: Parquet is read and written by the DuckDB engine" in result.stderr
    assert "hint: add --engine duckdb" in result.stderr


def test_a_file_that_is_not_parquet_is_an_input_error(tmp_path):
    path = tmp_path / "x.parquet"
    path.write_bytes(b"not parquet")
    result = batch(str(path), "--engine", "duckdb")
    assert result.exit_code == 2
    assert f"{path}: error[bad-input]: cannot read {path} as Parquet" in result.stderr


def test_full_is_refused_with_the_duckdb_engine():
    result = batch("--engine", "duckdb", "--full", data=b"{}\n")
    assert result.exit_code == 2
    assert "--full needs the Python engine" in result.stderr


@pytest.mark.slow
@pytest.mark.parametrize("extra", [["--fail-fast"], ["--line-buffered"]])
def test_fail_fast_and_line_buffered_give_the_python_engines_output(corpus_100k, extra):
    head = b"".join(corpus_100k.read_bytes().splitlines(keepends=True)[:300])
    a = batch(*extra, data=head)
    b = batch(*extra, "--engine", "duckdb", data=head)
    assert a.exit_code == b.exit_code == 2
    assert b.stdout == a.stdout
    assert ("stopped at the first bad record" in b.stderr) == (extra == ["--fail-fast"])


def test_several_inputs_name_their_file_as_the_python_engine_does(tmp_path):
    one, two = tmp_path / "one.ndjson", tmp_path / "two.ndjson"
    one.write_bytes(b'{"back_pain": true}\n')
    two.write_bytes(b'{"age": 30}\n\n')
    a = batch(str(one), str(two))
    b = batch(str(one), str(two), "--engine", "duckdb")
    assert a.exit_code == b.exit_code == 2
    assert b.stdout == a.stdout
    assert f'"file":"{two}"' in b.stdout
