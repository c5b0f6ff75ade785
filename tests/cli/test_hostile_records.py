"""The hostile-record catalogue (tests/data/hostile/records.toml) through `check -`.

Every entry names the input, the exit code, the error code, the message and where it points;
this test is the list a reviewer reads to see what was tried and what each gets.
"""

import codecs
import json
import tomllib
from pathlib import Path

import pytest
from typer.testing import CliRunner

from redflag.cli import app

CATALOGUE = tomllib.loads(
    (Path(__file__).resolve().parent.parent / "data" / "hostile" / "records.toml").read_text()
)
runner = CliRunner()


def entry_bytes(entry) -> bytes:
    if "input_escaped" in entry:
        data = codecs.escape_decode(entry["input_escaped"].encode())[0]
    else:
        data = entry["input"].encode()
    data = data * entry.get("input_repeat", 1)
    whole: bytes = (
        entry.get("input_prefix", "").encode() + data + entry.get("input_suffix", "").encode()
    )
    return whole


ONE_LINE = [e for e in CATALOGUE["case"] + CATALOGUE["ok"] if b"\n" not in entry_bytes(e).strip()]


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_batch_gives_each_one_line_record_what_check_gives(jobs):
    # issue 13: check and batch once disagreed (a number past 2^53, a 4,301-digit integer)
    lines = [entry_bytes(e).strip() for e in ONE_LINE]
    lines = [line for line in lines if len(line) < 1_000_000]
    result = runner.invoke(app, ["batch", "--jobs", jobs], input=b"\n".join(lines) + b"\n")
    assert "Traceback" not in result.stderr
    got = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(got) == len(lines)
    for line, out in zip(lines, got, strict=True):
        alone = runner.invoke(app, ["check", "-", "--json"], input=line)
        if "error" in out:
            assert alone.exit_code == 2, (line, out)
            # under --json, check's error is JSON too (issue 17): the same code as batch's
            error = json.loads(alone.stderr)["error"]
            assert error["code"] == out["error"]["code"], (line, out, alone.stderr)
        else:
            assert alone.exit_code == 0, (line, out, alone.stderr)
            assert json.loads(alone.stdout)["level"] == out["level"], line


@pytest.mark.parametrize("entry", CATALOGUE["case"], ids=[c["name"] for c in CATALOGUE["case"]])
def test_hostile_record_gets_a_clear_error(entry):
    result = runner.invoke(app, ["check", "-"], input=entry_bytes(entry))
    assert result.exit_code == entry["exit"], result.output
    assert result.stdout == ""
    first = result.stderr.splitlines()[0]
    assert first.startswith(f"{entry['where']}: error[{entry['code']}]: {entry['message']}")
    assert "Traceback" not in result.stderr
    hint = result.stderr.splitlines()[1]
    assert hint.startswith("  hint: ")  # every error says how to fix it
    if "hint" in entry:
        assert hint == f"  hint: {entry['hint']}"


@pytest.mark.parametrize("entry", CATALOGUE["ok"], ids=[c["name"] for c in CATALOGUE["ok"]])
def test_tolerated_inputs_give_a_result(entry):
    result = runner.invoke(app, ["check", "-", "--json"], input=entry_bytes(entry))
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["level"] == entry["level"]


def test_catalogue_is_large_and_names_are_unique():
    names = [c["name"] for c in CATALOGUE["case"] + CATALOGUE["ok"]]
    assert len(names) == len(set(names)) >= 30
