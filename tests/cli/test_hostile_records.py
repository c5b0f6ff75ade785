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
    return data * entry.get("input_repeat", 1)


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
