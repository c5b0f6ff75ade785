"""`--json` errors: one `{"error": {code, message, hint, where}}` object on stderr, for every
command (issue 17); `rules validate --json` and `rules show --json`."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import typer.main
from typer.core import TyperGroup
from typer.testing import CliRunner

from redflag.cli import app

ROOT = Path(__file__).resolve().parents[2]
runner = CliRunner()


def run(*args: str, input: str | None = None):
    return runner.invoke(app, list(args), input=input)


def json_error(result) -> dict[str, Any]:
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    doc = json.loads(lines[0])
    assert list(doc) == ["error"]
    error = doc["error"]
    assert {"code", "message", "hint", "where"} <= set(error)
    return dict(error)


def every_command() -> list[str]:
    group = typer.main.get_command(app)
    assert isinstance(group, TyperGroup)
    ctx = typer.Context(group)
    names = []
    for name in group.list_commands(ctx):
        command = group.get_command(ctx, name)
        subs = getattr(command, "commands", None)
        names += [f"{name} {sub}" for sub in subs] if subs else [name]
    return names


@pytest.mark.parametrize("command", every_command())
def test_every_command_gives_a_json_usage_error_under_json(command):
    result = run(*command.split(), "--json", "--no-such-option")
    assert result.exit_code == 2
    error = json_error(result)
    assert error["code"] == "usage"
    # commands without --json of their own refuse it first, in JSON all the same
    assert error["message"] in ("no such option '--no-such-option'", "no such option '--json'")
    assert error["where"] == f"redflag {command}"
    assert f"run 'redflag {command} --help'" in error["hint"]


CASES = [
    (["check", "limb_weaknes", "--json"], 2, "unknown-flag", "argument 1 ('limb_weaknes')"),
    (["check", "--rules", "/no/such.toml", "back_pain", "--json"], 3, "bad-rule-file", None),
    (["explain", "age=500", "--json"], 2, "bad-value", "argument 1 ('age=500')"),
    (["ask", "--no-tty-check", "--rules", "/no/such.toml", "--json"], 3, "bad-rule-file", None),
    (["diff", "/no/such.toml", "rules.toml", "--json"], 3, "bad-rule-file", None),
    (["rules", "validate", "/no/such.toml", "--json"], 3, "bad-rule-file", None),
    (["rules", "show", "/no/such.toml", "--json"], 3, "bad-rule-file", None),
    (["rules", "analyze", "/no/such.toml", "--json"], 3, "bad-rule-file", None),
    (["check", "back_pain", "--json", "--require-approved"], 4, "not-approved", None),
]


@pytest.mark.parametrize(("args", "exit", "code", "where"), CASES, ids=lambda v: str(v))
def test_json_errors_carry_code_message_hint_and_where(args, exit, code, where):
    result = run(*args)
    assert result.exit_code == exit, result.output
    assert result.stdout == ""
    error = json_error(result)
    assert error["code"] == code
    if where is not None:
        assert error["where"] == where
    if code == "bad-rule-file":
        assert error["where"] == "/no/such.toml"
        assert [e["code"] for e in error["errors"]] == ["not-found"]
        assert error["errors"][0]["hint"]


def test_every_bad_word_is_listed_under_errors():
    error = json_error(run("check", "bogus", "limb_weaknes", "--json"))
    assert [e["where"] for e in error["errors"]] == [
        "argument 1 ('bogus')",
        "argument 2 ('limb_weaknes')",
    ]
    assert error["errors"][1]["hint"] == "did you mean 'limb_weakness'?"


def test_a_rule_file_error_lists_every_diagnostic_with_its_location(tmp_path):
    bad = tmp_path / "bad.toml"
    text = (ROOT / "rules.toml").read_text()
    bad.write_text(text.replace('when = "(cancer_history', 'when = "(cancer_histroy', 1))
    error = json_error(run("rules", "validate", str(bad), "--json"))
    assert error["code"] == "bad-rule-file"
    first = error["errors"][0]
    assert first["code"] == "unknown-flag" and first["severity"] == "error"
    assert first["where"].startswith(f"{bad}:")
    assert "did you mean 'cancer_history'" in first["hint"]


def test_without_json_errors_stay_text():
    result = run("check", "limb_weaknes")
    assert result.stderr.startswith("argument 1 ('limb_weaknes'): error[unknown-flag]: ")


def test_json_errors_in_a_real_process_are_ascii_json():
    done = subprocess.run(
        [sys.executable, "-m", "redflag", "check", "\u202eevil", "--json"],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert done.returncode == 2
    assert done.stderr.isascii()
    assert json.loads(done.stderr)["error"]["code"] == "unknown-flag"


def test_rules_validate_json_reports_counts_and_warnings():
    result = run("rules", "validate", "--json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["ok"] is True
    assert doc["ruleset"]["id"] == "redflag-spinal"
    assert doc["counts"]["levels"] == 4
    assert doc["warnings"] == []


def test_rules_show_json_is_the_whole_rule_set():
    import redflag

    result = run("rules", "show", "--json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    rules = redflag.load_rules()
    assert doc["ruleset"]["sha256"] == rules.info.sha256
    assert [lv["id"] for lv in doc["levels"]] == list(rules.levels)
    assert [f["id"] for f in doc["flags"]] == list(rules.flags)
    mscc = next(r for r in doc["rules"] if r["id"] == "mscc_neuro")
    assert mscc["level"] == "emergency" and "NG234" in mscc["sources"]
    age = next(f for f in doc["flags"] if f["id"] == "age")
    assert (age["type"], age["min"], age["max"]) == ("int", 0, 120)


def test_the_readme_example_is_what_check_prints():
    section = (ROOT / "README.md").read_text().split("## Errors as JSON", 1)[1]
    block = section.split("```console\n", 1)[1].split("```", 1)[0]
    command, expected = block.splitlines()
    assert command.startswith("$ redflag ")
    result = run(*command.split()[2:])
    assert result.stderr == expected + "\n"
