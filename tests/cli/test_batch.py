"""`redflag batch`: formats, errors mid-stream, order, exit codes, summary, pipes."""

from __future__ import annotations

import csv
import gzip
import io
import json
import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from redflag.cli import app
from tests.tooling import QUIET, run_process

runner = CliRunner()

GOOD = [
    {"id": "a", "back_pain": True, "fever": True},
    {"id": "b", "saddle_anaesthesia": True},
    {"id": 3, "back_pain": False},
]


def ndjson(records: Sequence[object]) -> str:
    return "".join(json.dumps(r) + "\n" for r in records)


def batch(*args: str, stdin: str | bytes | None = None):
    return runner.invoke(app, ["batch", *args], input=stdin)


def lines(output: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in output.splitlines()]


def check_json(record: object) -> dict[str, Any]:
    result = runner.invoke(app, ["check", "-", "--json"], input=json.dumps(record))
    assert result.exit_code in (0, 1), result.stderr
    doc: dict[str, Any] = json.loads(result.stdout)
    return doc


def check_error(text: str) -> str:
    """The stderr of `check -` for one record text (as text: without --json, issue 17)."""
    result = runner.invoke(app, ["check", "-"], input=text)
    assert result.exit_code == 2
    return result.stderr


def test_ndjson_gives_one_result_per_record_in_order_with_check_levels():
    result = batch(stdin=ndjson(GOOD))
    assert result.exit_code == 0, result.stderr
    out = lines(result.stdout)
    assert [o["line"] for o in out] == [1, 2, 3]
    assert [o["id"] for o in out] == ["a", "b", 3]
    for o, record in zip(out, GOOD, strict=True):
        full = check_json(record)
        assert o["level"] == full["level"]
        assert o["matched"] == [m["id"] for m in full["matched"]]
        assert o["could_escalate"] == [c["id"] for c in full["could_escalate"]]
        assert set(o) == {"line", "id", "level", "worst_case", "matched", "could_escalate"}
        assert o["worst_case"] == full["worst_case"]


BAD_LINES = [
    ("{not json", "bad-json"),
    ("[1, 2]", "not-an-object"),
    ('{"back_pian": true}', "unknown-flag"),
    ('{"age": "sixty"}', "bad-value"),
    ('{"age": 67.5}', "bad-value"),
    ('{"age": 121}', "bad-value"),
    ('{"back_pain": 1}', "bad-value"),
    ('{"back_pain": true, "back_pain": false}', "bad-json"),
    ('{"back_pain": null, "back\\u005fpain": true}', "bad-json"),
    ('{"id": true}', "bad-value"),
    ('{"age": NaN}', "bad-json"),
    ("", "bad-json"),
]


@pytest.mark.parametrize(("text", "code"), BAD_LINES)
def test_bad_record_mid_stream_gives_check_message_on_its_line(text: str, code: str):
    stream = ndjson([GOOD[0]]) + text + "\n" + ndjson([GOOD[1]])
    result = batch(stdin=stream)
    assert result.exit_code == 2
    out = lines(result.stdout)
    assert len(out) == 3
    assert [o["line"] for o in out] == [1, 2, 3]
    assert out[0]["level"] == check_json(GOOD[0])["level"]
    assert out[2]["level"] == check_json(GOOD[1])["level"]
    error = out[1]["error"]
    assert error["code"] == code
    assert f"error[{code}]: {error['message']}" in check_error(text)
    assert "errors 1" in result.stderr


def test_error_keeps_the_id_when_known():
    result = batch(stdin='{"id": "r9", "age": 300}\n')
    (out,) = lines(result.stdout)
    assert out == {
        "line": 1,
        "id": "r9",
        "error": {
            "code": "bad-value",
            "message": "'age' must be a whole number from 0 to 120 years, got 300",
            "hint": "write a number such as 60, or null if not known",
        },
    }


def test_whole_float_for_int_flag_is_accepted_like_check():
    a = lines(batch(stdin='{"age": 67.0, "back_pain": true}\n').stdout)[0]
    b = lines(batch(stdin='{"age": 67, "back_pain": true}\n').stdout)[0]
    assert a == b
    assert a["level"] == check_json({"age": 67.0, "back_pain": True})["level"]


def test_nulls_colons_in_ids_and_escaped_keys_are_not_duplicates():
    records = [
        '{"id": "a:b:c", "back_pain": true}',
        '{"back_pain": null, "fever": null, "age": null}',
        '{"back\\u005fpain": true, "fever": true}',
    ]
    result = batch(stdin="\n".join(records) + "\n")
    assert result.exit_code == 0, result.stdout
    out = lines(result.stdout)
    assert out[0]["id"] == "a:b:c"
    assert out[2]["level"] == check_json({"back_pain": True, "fever": True})["level"]


def test_big_integer_id_is_carried_through():
    result = batch(stdin='{"id": 123456789012345678901234567890, "back_pain": true}\n')
    assert result.exit_code == 0
    assert '"id":123456789012345678901234567890' in result.stdout


def test_fail_fast_stops_after_the_first_bad_record():
    stream = ndjson([GOOD[0]]) + "{bad\n" + ndjson(GOOD)
    result = batch("--fail-fast", stdin=stream)
    assert result.exit_code == 2
    out = lines(result.stdout)
    assert len(out) == 2
    assert out[1]["error"]["code"] == "bad-json"
    assert "--fail-fast" in result.stderr


def test_fail_on_level_exits_1_and_bad_records_win_with_2():
    assert batch("--fail-on", "emergency", stdin=ndjson(GOOD)).exit_code == 1
    assert batch("--fail-on", "emergency", stdin=ndjson([GOOD[2]])).exit_code == 0
    bad = ndjson(GOOD) + "{bad\n"
    assert batch("--fail-on", "emergency", stdin=bad).exit_code == 2


def test_fail_on_unknown_level_is_a_usage_error():
    result = batch("--fail-on", "soonish", stdin=ndjson(GOOD))
    assert result.exit_code == 2
    assert "error[usage]: --fail-on 'soonish' is not a level" in result.stderr


def test_summary_on_stderr_counts_levels_and_errors():
    result = batch(stdin=ndjson(GOOD) + "{bad\n")
    assert result.stderr.startswith("redflag batch: 4 records in ")
    assert "emergency 1, urgent 1, soon 0, routine 1; errors 1" in result.stderr
    assert "records/s" in result.stderr
    assert "redflag batch" not in result.stdout


def test_csv_input_header_names_flags_empty_cell_unknown(tmp_path: Path):
    path = tmp_path / "in.csv"
    path.write_text("id,back_pain,fever,age\nr1,yes,Y,\nr2,no,,70\nr3,1,0,abc\nr4,true\n")
    result = batch("--format", "csv", str(path))
    assert result.exit_code == 2
    out = lines(result.stdout)
    assert [o["line"] for o in out] == [2, 3, 4, 5]
    assert out[0]["level"] == check_json({"back_pain": True, "fever": True})["level"]
    assert out[1]["level"] == check_json({"back_pain": False, "age": 70})["level"]
    assert out[1]["could_escalate"] == [
        c["id"] for c in check_json({"back_pain": False, "age": 70})["could_escalate"]
    ]
    assert out[2]["id"] == "r3"
    assert out[2]["error"]["message"] == "'age' must be a number, got 'abc'"
    assert out[3]["error"]["message"] == "this row has 2 cells, the header has 4"


def test_csv_unknown_column_is_an_error_before_any_row(tmp_path: Path):
    path = tmp_path / "in.csv"
    path.write_text("back_pain,fevr\nyes,no\n")
    result = batch("--format", "csv", str(path))
    assert result.exit_code == 2
    assert result.stdout == ""
    assert (
        f"{path}:1:2: error[unknown-flag]: column 'fevr' is not a flag of rule set "
        "'redflag-spinal'" in result.stderr
    )
    assert "did you mean 'fever'?" in result.stderr


def test_json_array_input_numbers_records_by_position():
    doc = json.dumps([GOOD[0], 5, GOOD[1]])
    result = batch("--format", "json", stdin=doc)
    out = lines(result.stdout)
    assert [o["line"] for o in out] == [1, 2, 3]
    assert out[1]["error"]["code"] == "not-an-object"
    assert out[2]["level"] == "emergency"
    dup = batch("--format", "json", stdin='[{"fever": true, "fever": false}]')
    assert lines(dup.stdout)[0]["error"]["message"] == "key 'fever' appears more than once"


def test_json_array_refuses_text_that_is_not_unicode_as_check_does():
    doc = '[{"id": "a\\ud800", "fever": true}, {"\\udc00": true}, {"id": "\\ud83d\\ude00"}]'
    result = batch("--format", "json", stdin=doc)
    assert result.exit_code == 2
    out = lines(result.stdout)
    assert [o.get("error", {}).get("code") for o in out] == ["bad-json", "bad-json", None]
    assert out[0]["error"]["message"].startswith("'a\\ud800' holds an unpaired surrogate")
    assert out[2]["id"] == "\U0001f600"  # a surrogate pair is one character: fine


def test_gzip_input_by_suffix_and_by_magic_bytes(tmp_path: Path):
    data = gzip.compress(ndjson(GOOD).encode())
    (tmp_path / "a.ndjson.gz").write_bytes(data)
    (tmp_path / "b.ndjson").write_bytes(data)
    plain = batch(stdin=ndjson(GOOD)).stdout
    assert batch(str(tmp_path / "a.ndjson.gz")).stdout == plain
    assert batch(str(tmp_path / "b.ndjson")).stdout == plain


def test_csv_output_has_the_same_columns(tmp_path: Path):
    out_path = tmp_path / "out.csv"
    result = batch("--format-out", "csv", "--output", str(out_path), stdin=ndjson(GOOD) + "{x\n")
    assert result.stdout == ""
    rows = list(csv.DictReader(io.StringIO(out_path.read_text())))
    expected = lines(batch(stdin=ndjson(GOOD)).stdout)
    assert [r["level"] for r in rows[:3]] == [e["level"] for e in expected]
    assert [r["worst_case"] for r in rows[:3]] == [e["worst_case"] for e in expected]
    assert rows[0]["matched"] == " ".join(expected[0]["matched"])
    assert rows[3]["error_code"] == "bad-json"
    assert list(rows[0]) == [
        "line",
        "id",
        "level",
        "matched",
        "could_escalate",
        "worst_case",
        "error_code",
        "error_message",
    ]


def test_full_adds_exactly_what_check_json_gives():
    result = batch("--full", stdin=ndjson(GOOD))
    for o, record in zip(lines(result.stdout), GOOD, strict=True):
        line = o.pop("line")
        assert o == check_json(record)
        assert line == GOOD.index(record) + 1


def test_full_with_csv_output_is_a_usage_error():
    result = batch("--full", "--format-out", "csv", stdin=ndjson(GOOD))
    assert result.exit_code == 2
    assert "error[usage]" in result.stderr


def test_missing_file_is_an_error_before_output(tmp_path: Path):
    result = batch(str(tmp_path / "nope.ndjson"))
    assert result.exit_code == 2
    assert "cannot read" in result.stderr and "No such file" in result.stderr


def test_line_buffered_gives_the_same_output():
    stream = ndjson(GOOD) + "{x\n"
    assert batch("--line-buffered", stdin=stream).stdout == batch(stdin=stream).stdout


def _run(args: list[str], **kw: Any) -> subprocess.Popen[bytes]:
    env = dict(os.environ, REDFLAG_DEBUG="0")
    return subprocess.Popen([sys.executable, "-m", "redflag", *args], env=env, **kw)


def test_closed_pipe_is_quiet(tmp_path: Path):
    path = tmp_path / "big.ndjson"
    path.write_text(ndjson(GOOD * 20000))
    proc = _run(["batch", str(path)], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout is not None and proc.stderr is not None
    first = [proc.stdout.readline() for _ in range(3)]
    proc.stdout.close()
    stderr = proc.stderr.read()
    proc.stderr.close()
    assert proc.wait(timeout=120) == 0
    assert stderr == b""
    assert [json.loads(x)["line"] for x in first] == [1, 2, 3]


def test_real_subprocess_reads_stdin_and_writes_stdout():
    proc = _run(
        ["batch", "-"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    out, err = proc.communicate(ndjson(GOOD).encode(), timeout=120)
    assert proc.returncode == 0
    assert [json.loads(x)["id"] for x in out.splitlines()] == ["a", "b", 3]
    assert err.startswith(b"redflag batch: 3 records")


def test_several_files_are_read_in_turn_and_named(tmp_path: Path):
    (tmp_path / "a.ndjson").write_text(ndjson(GOOD[:2]))
    (tmp_path / "b.ndjson").write_text(ndjson(GOOD[2:]) + "{x\n")
    result = batch(str(tmp_path / "a.ndjson"), str(tmp_path / "b.ndjson"))
    out = lines(result.stdout)
    assert [(o["line"], Path(o["file"]).name) for o in out] == [
        (1, "a.ndjson"),
        (2, "a.ndjson"),
        (1, "b.ndjson"),
        (2, "b.ndjson"),
    ]
    assert out[3]["error"]["code"] == "bad-json"
    assert list(out[0]) == [
        "line",
        "file",
        "id",
        "level",
        "matched",
        "could_escalate",
        "worst_case",
    ]


def test_crlf_lines_and_a_missing_final_newline_are_fine(tmp_path: Path):
    path = tmp_path / "in.ndjson"
    path.write_bytes(ndjson(GOOD).replace("\n", "\r\n").encode() + b'{"id": "z", "fever": true}')
    out = lines(batch(str(path)).stdout)
    assert [o["id"] for o in out] == ["a", "b", 3, "z"]
    assert lines(batch(stdin=ndjson(GOOD)).stdout) == out[:3]


def test_a_record_split_over_blocks_is_read_whole(tmp_path: Path, monkeypatch):
    from redflag.batch import source

    monkeypatch.setattr(source, "_BLOCK", 7)
    path = tmp_path / "in.ndjson"
    path.write_text(ndjson(GOOD))
    assert batch(str(path)).stdout == batch(stdin=ndjson(GOOD)).stdout


NOT_UTF8 = {
    "ndjson": b'{"back_pain": true}\n{"id": "\xff"}\n',
    "csv": b"back_pain\nyes\n\xff\xfe\n",
    "json": b'[{"id": "\xff"}]',
}


@pytest.mark.parametrize("fmt", sorted(NOT_UTF8))
def test_input_that_is_not_utf8_is_bad_encoding_in_every_format(tmp_path: Path, fmt: str):
    # issue 14: NDJSON said bad-encoding, CSV and JSON arrays bad-input
    path = tmp_path / f"in.{fmt}"
    path.write_bytes(NOT_UTF8[fmt])
    result = batch("--format", fmt, str(path))
    assert result.exit_code == 2
    if fmt == "ndjson":  # a line is a record: its error is data, in its place
        bad = lines(result.stdout)[1]
        assert bad["line"] == 2 and bad["error"]["code"] == "bad-encoding"
    else:  # CSV and JSON arrays are read as text: the whole input is refused
        assert f"error[bad-encoding]: {path} is not valid UTF-8 text" in result.stderr


def test_progress_bar_shows_on_a_terminal_and_does_not_change_the_output(tmp_path: Path):
    pexpect = pytest.importorskip("pexpect")
    path = tmp_path / "in.ndjson"
    path.write_text(ndjson(GOOD * 2000))
    out = tmp_path / "out.ndjson"
    child = pexpect.spawn(
        sys.executable,
        ["-m", "redflag", "batch", str(path), "-o", str(out)],
        env=dict(os.environ, NO_COLOR="1"),
        timeout=60,
    )
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    shown = child.before.decode()
    assert "checking records" in shown  # the progress bar, on the terminal only
    assert "redflag batch: 6,000 records" in shown
    assert out.read_text() == batch(stdin=ndjson(GOOD * 2000)).stdout


def test_damaged_gzip_is_an_error_after_the_results_of_all_it_gave(tmp_path: Path):
    records = [{"id": f"r{i}", "back_pain": True, "age": i % 100} for i in range(60_000)]
    whole = gzip.compress(ndjson(records).encode())
    cut = tmp_path / "cut.ndjson.gz"
    cut.write_bytes(whole[: len(whole) * 2 // 3])  # a download that stopped two thirds in
    runs = [batch("--jobs", jobs, str(cut)) for jobs in ("1", "2")]
    for result in runs:
        assert result.exit_code == 2
        assert f"error[bad-input]: {cut} is not valid gzip data (it ends before" in result.stderr
        assert "internal error" not in result.stderr
    got = lines(runs[0].stdout)  # every line written is whole JSON, in order
    assert len(records) // 2 < len(got) < len(records)
    assert [o["id"] for o in got] == [r["id"] for r in records[: len(got)]]
    assert runs[1].stdout == runs[0].stdout  # workers: nothing read is left unanswered
    garbage = tmp_path / "garbage.gz"
    garbage.write_bytes(b"\x1f\x8b\x08\x00" + b"not gzip at all" * 10)
    result = batch(str(garbage))
    assert result.exit_code == 2 and "is not valid gzip data" in result.stderr


def test_csv_row_the_csv_module_cannot_read_is_an_error_in_its_place(tmp_path: Path):
    path = tmp_path / "in.csv"
    path.write_text("id,fever\na,yes\n" + "x" * 200_000 + ",yes\nb,no\n")
    result = batch("--format", "csv", str(path))
    assert result.exit_code == 2
    out = lines(result.stdout)
    assert [o["line"] for o in out] == [2, 3, 4]
    assert out[1]["error"]["message"].startswith("this row cannot be read as CSV: field larger")
    assert out[0]["level"] and out[2]["level"]
    path.write_text("x" * 200_000 + ",fever\na,yes\n")  # the header itself
    result = batch("--format", "csv", str(path))
    assert result.exit_code == 2 and "this row cannot be read as CSV" in result.stderr
    assert result.stdout == ""


def _all_answered_no():
    from redflag.formats.rulefile import load_ruleset

    shipped = load_ruleset(None)
    return {f: QUIET[f] if f in shipped.numeric_flags else False for f in shipped.flags}


@pytest.mark.parametrize("jobs", ["1", "2", "duckdb", "parquet"])
def test_fail_on_worst_acts_on_the_worst_case_not_the_level(tmp_path, jobs):
    settled = json.dumps(_all_answered_no())
    partial = json.dumps({"back_pain": False})  # routine, but an emergency is not ruled out
    calm = tmp_path / "calm.ndjson"
    calm.write_text(settled + "\n" + settled + "\n")
    mixed = tmp_path / "mixed.ndjson"
    mixed.write_text(settled + "\n" + partial + "\n")
    how = {
        "duckdb": ["--engine", "duckdb"],
        "parquet": ["--engine", "duckdb", "-o", str(tmp_path / "out.parquet")],
    }.get(jobs, ["-j", jobs])
    for path, code in ((calm, 0), (mixed, 1)):
        result = run_process("batch", str(path), *how, "--fail-on-worst", "emergency")
        assert result.returncode == code, (path.name, result.stderr)
        if jobs != "parquet":
            lines = [json.loads(x) for x in result.stdout.splitlines()]
            assert [x["level"] for x in lines] == ["routine", "routine"]
            assert lines[-1]["worst_case"] == ("routine" if code == 0 else "emergency")
    # --fail-on alone looks at the level: both files are routine
    assert run_process("batch", str(mixed), *how, "--fail-on", "emergency").returncode == 0
