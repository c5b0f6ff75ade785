"""Every command's `--json` output validates against its schema in docs/schema/ (issue 17):
explain, test (--coverage, --matrix), diff (--cases, --exhaustive), rules analyze, validate,
verify and show, the `--json` error on stderr, and the record `ask --save` writes; through
Typer's runner and real processes.
The schemas are closed: a stray key anywhere fails. check, ask and batch: test_schema.py."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import typer.main

from redflag.cli import app
from tests.rulefiles import edited, lowered, with_rule
from tests.tooling import CASES, ROOT, RULES, run

SCHEMAS = ROOT / "docs" / "schema"
PUBLISHED = ROOT / "tests" / "cases" / "published"

# each command with a --json option, and the schema of what it prints
SCHEMA_OF = {
    "check": "result",
    "ask": "result",
    "explain": "explain",
    "test": "test",
    "diff": "diff",
    "rules analyze": "rules-analyze",
    "rules validate": "rules-validate",
    "rules verify": "rules-verify",
    "rules show": "rules-show",
}


def problems(kind: str, value: object, rules: Path | None = None) -> list[str]:
    """What is wrong with `value` by docs/schema/KIND.json, or by `rules schema RULES`."""
    if rules is None:
        doc = json.loads((SCHEMAS / f"{kind}.json").read_text())
    else:
        doc = json.loads(run("rules", "schema", str(rules), "--kind", kind).stdout)
    jsonschema.Draft202012Validator.check_schema(doc)
    found = jsonschema.Draft202012Validator(doc).iter_errors(value)
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in found]


def commands_with_json() -> set[str]:
    group: Any = typer.main.get_command(app)  # a click group (typer's own class of it)
    ctx = typer.Context(group)
    found = set()
    for name in group.list_commands(ctx):
        command = group.get_command(ctx, name)
        subs = getattr(command, "commands", {name: command})
        for sub_name, sub in subs.items():
            if any("--json" in p.opts for p in sub.params):
                found.add(name if sub is command else f"{name} {sub_name}")
    return found


def test_every_command_with_json_output_has_a_schema():
    assert commands_with_json() == set(SCHEMA_OF)
    for kind in {*SCHEMA_OF.values(), "error"}:
        assert (SCHEMAS / f"{kind}.json").is_file(), kind


def both_ways(tmp_path: Path) -> Path:
    """back_neuro lowered (a downgrade) and a planted emergency for back pain with fever (an
    upgrade of the case 'fever with back pain')."""
    path = with_rule(tmp_path, "planted", "emergency", "back_pain and fever")
    text = path.read_text().replace(
        'id = "back_neuro"\nlevel = "urgent"', 'id = "back_neuro"\nlevel = "soon"'
    )
    path.write_text(text)
    return path


def json_outputs(tmp_path: Path) -> dict[str, tuple[list[str], int]]:
    """A name -> (command line, exit code) for each shape of each command's --json output."""
    mini = str(ROOT / "tests" / "data" / "good_mini.toml")
    removed = edited(
        tmp_path,
        "removed.toml",
        'id = "back_neuro"\nlevel = "urgent"',
        'id = "back_neuro2"\nlevel = "urgent"',
    )
    weak = tmp_path / "weak.toml"  # a case back_neuro decides: downgraded by both_ways
    weak.write_text(
        '[[case]]\nname = "weak"\nrecord = { back_pain = true, limb_weakness = true }\n'
        'expect = "urgent"\n'
    )
    changed = [str(RULES), str(both_ways(tmp_path)), "--cases", str(CASES), "--cases", str(weak)]
    return {
        "explain": (["explain", "cancer_history", "back_pain", "age=67", "--json"], 0),
        "explain with id": (["explain", "-", "--json"], 0),
        "test": (["test", str(CASES), "--json"], 1),
        "test --coverage": (["test", str(CASES / "basic.toml"), "--coverage", "--json"], 0),
        "test --min-coverage": (
            ["test", str(CASES / "basic.toml"), "--min-coverage", "90", "--json"],
            1,
        ),
        "test --matrix": (
            ["test", str(PUBLISHED), str(CASES / "failing.toml"), "--matrix", "--json"],
            1,
        ),
        "diff": (["diff", *changed, "--json"], 1),
        "diff --exhaustive": (["diff", *changed, "--exhaustive", "--json"], 1),
        "diff proved": (["diff", str(RULES), str(RULES), "--exhaustive", "--json"], 0),
        "diff removed": (["diff", str(RULES), str(removed), "--json"], 0),
        "diff lowered": (["diff", str(RULES), str(lowered(tmp_path)), "--exhaustive", "--json"], 1),
        "rules analyze": (["rules", "analyze", "--json"], 0),
        "rules validate": (["rules", "validate", "--json"], 0),
        "rules validate warnings": (["rules", "validate", mini, "--json"], 0),
        "rules validate several": (["rules", "validate", str(RULES), mini, "--json"], 0),
        "rules show": (["rules", "show", "--json"], 0),
    }


def kind_of(args: list[str]) -> str:
    command = " ".join(args[:2]) if args[0] == "rules" else args[0]
    return SCHEMA_OF[command]


NAMES = [
    "explain", "explain with id", "test", "test --coverage", "test --min-coverage",
    "test --matrix", "diff", "diff --exhaustive", "diff proved", "diff removed", "diff lowered",
    "rules analyze", "rules validate", "rules validate warnings", "rules validate several",
    "rules show",
]  # fmt: skip
RECORD = '{"id": "p-1", "back_pain": true, "fever": null}'  # for a command line reading -


def output(name: str, tmp_path: Path) -> tuple[str, object]:
    """The schema kind and the parsed --json output of one of json_outputs."""
    args, code = json_outputs(tmp_path)[name]
    result = run(*args, input=RECORD if "-" in args else None)
    assert result.exit_code == code, result.output
    return kind_of(args), json.loads(result.stdout)


def test_names_cover_the_outputs(tmp_path):
    assert list(json_outputs(tmp_path)) == NAMES


@pytest.mark.parametrize("name", NAMES)
def test_json_output_validates_against_its_schema(name, tmp_path):
    kind, out = output(name, tmp_path)
    assert problems(kind, out) == []


def test_analyze_json_of_other_rules_validates_against_their_schema(tmp_path):
    """A finding names a rule of the file analysed: the schema `rules schema FILE` makes."""
    vacuous = with_rule(tmp_path, "never", "urgent", "back_pain and not back_pain")
    result = run("rules", "analyze", str(vacuous), "--json")
    assert result.exit_code == 1
    out = json.loads(result.stdout)
    assert {"kind": "vacuous", "rule": "never", "record": None}.items() <= out["findings"][
        0
    ].items()
    assert problems("rules-analyze", out, rules=vacuous) == []
    assert problems("rules-analyze", out)  # the shipped rules have no rule 'never'


def test_the_outputs_exercise_every_optional_part(tmp_path):
    """So the validations above are not vacuous: each optional part occurs somewhere."""
    got: dict[str, Any] = {name: output(name, tmp_path)[1] for name in NAMES}
    assert got["test --coverage"]["coverage"]["min_coverage"] is None
    assert got["test --min-coverage"]["coverage"]["below_min_coverage"] is True
    matrix = got["test --matrix"]["matrix"]
    assert matrix["under_triaged"] and matrix["over_triaged"]
    assert got["test"]["summary"]["failed"] > 0
    diff = got["diff --exhaustive"]
    assert diff["downgrades"] and diff["upgrades"] and diff["exhaustive"]["downgrades"]
    assert got["explain with id"]["id"] == "p-1"
    assert "exhaustive" not in got["diff"]
    assert got["diff proved"]["exhaustive"]["downgrades"] == []
    assert {r["change"] for r in got["diff removed"]["rules"]} == {"added", "removed"}
    assert any(f["record"] for f in got["rules analyze"]["findings"])
    assert got["rules validate warnings"]["warnings"]
    assert isinstance(got["rules validate several"], list)


# diff's records answer flags of OLD or NEW, any two rule files: a map of answers, not closed
OPEN = {"diff": {"record"}}


def stray(value: object, depth: int, open_keys: set[str]) -> object:
    """`value` with a key `stray` added to the first closed object `depth` objects down."""
    if isinstance(value, dict):
        if depth == 0:
            return {**value, "stray": 1}
        for key, item in value.items():
            if key not in open_keys and isinstance(item, dict | list) and item:
                changed = stray(item, depth - 1, open_keys)
                if changed is not item:
                    return {**value, key: changed}
        return value
    if isinstance(value, list) and value:
        first = stray(value[0], depth, open_keys)
        return value if first is value[0] else [first, *value[1:]]
    return value


@pytest.mark.parametrize("name", NAMES)
def test_a_stray_key_fails_at_every_depth(name, tmp_path):
    kind, out = output(name, tmp_path)
    tried = 0
    for depth in range(6):
        changed = stray(out, depth, OPEN.get(kind, set()))
        if changed != out:
            tried += 1
            assert problems(kind, changed), f"a stray key {depth} objects down passes"
    assert tried >= 2 or kind == "rules-validate"


def test_diff_records_are_maps_of_answers(tmp_path):
    _, out = output("diff --exhaustive", tmp_path)
    assert isinstance(out, dict)
    cex = out["exhaustive"]["downgrades"][0]
    bad = {**out, "exhaustive": {**out["exhaustive"], "downgrades": [
        {**cex, "record": {"limb_weakness": "yes"}}]}}  # fmt: skip
    assert problems("diff", bad)


def test_the_schemas_hold_level_and_rule_ids_to_the_rule_set():
    explained = json.loads(run("explain", "back_pain", "--json").stdout)
    assert problems("explain", {**explained, "level": "panic"})
    bad_rule = [{**explained["rules"][0], "id": "no_such_rule"}, *explained["rules"][1:]]
    assert problems("explain", {**explained, "rules": bad_rule})
    assert problems("explain", {**explained, "answered": {"back_pain": None}})
    shown = json.loads(run("rules", "show", "--json").stdout)
    rules = [{**shown["rules"][0], "level": "panic"}, *shown["rules"][1:]]
    assert problems("rules-show", {**shown, "rules": rules})
    flags = [{k: v for k, v in shown["flags"][0].items() if k != "help"}, *shown["flags"][1:]]
    assert problems("rules-show", {**shown, "flags": flags}), "every field is written"


ERRORS = [
    (["check", "limb_weaknes", "age=500", "--json"], 2),  # several bad words: `errors`
    (["check", "--rules", str(ROOT / "tests" / "data" / "bad_rules" / "bad_status.toml"),
      "back_pain", "--json"], 3),  # a rule file's diagnostics: `errors` with severity
    (["explain", "age=500", "--json"], 2),
    (["test", "/no/such/cases", "--json"], 2),
    (["diff", str(RULES), "--json"], 2),  # usage
    (["rules", "show", "/no/such.toml", "--json"], 3),
    (["rules", "verify", str(RULES), "--json"], 2),
    (["check", "back_pain", "--json", "--require-approved"], 4),
]  # fmt: skip


@pytest.mark.parametrize(("args", "code"), ERRORS, ids=[" ".join(a[:2]) for a, _ in ERRORS])
def test_json_errors_validate_against_the_error_schema(args, code):
    result = run(*args)
    assert result.exit_code == code, result.output
    lines = result.stderr.splitlines()
    assert lines
    for line in lines:
        assert problems("error", json.loads(line)) == []
    doc = json.loads(lines[-1])
    assert problems("error", {**doc, "stray": 1})
    assert problems("error", {"error": {**doc["error"], "stray": 1}})


def test_json_errors_with_several_problems_validate():
    doc = json.loads(run("check", "limb_weaknes", "age=500", "--json").stderr)
    assert len(doc["error"]["errors"]) == 2
    bad = ROOT / "tests" / "data" / "bad_rules" / "bad_status.toml"
    doc = json.loads(run("rules", "validate", str(bad), "--json").stderr)
    assert doc["error"]["errors"][0]["severity"] == "error"
    assert problems("error", doc) == []


def test_verify_json_validates(tmp_path):
    pytest.importorskip("cryptography")
    from tests.cli.test_sign import approved_copy

    assert run("rules", "keygen", str(tmp_path / "k")).exit_code == 0
    rules = approved_copy(tmp_path)
    assert run("rules", "sign", str(rules), "--key", str(tmp_path / "k.key")).exit_code == 0
    result = run("rules", "verify", str(rules), "--key", str(tmp_path / "k.pub"), "--json")
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert problems("rules-verify", out) == []
    assert out["signed"]["approved_by"] == "Dr A Reviewer"
    assert problems("rules-verify", {**out, "signed": {**out["signed"], "stray": 1}})
    assert problems("rules-verify", {**out, "verified": False})


@pytest.mark.parametrize("name", ["explain", "test --matrix", "diff --exhaustive", "rules show"])
def test_json_output_of_a_real_process_validates(name, tmp_path):
    args, code = json_outputs(tmp_path)[name]
    done = subprocess.run(
        [sys.executable, "-m", "redflag", *args], capture_output=True, text=True, cwd=ROOT
    )
    assert done.returncode == code, done.stderr
    assert problems(kind_of(args), json.loads(done.stdout)) == []


def test_json_error_of_a_real_process_validates():
    done = subprocess.run(
        [sys.executable, "-m", "redflag", "explain", "limb_weaknes", "--json"],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 2
    assert done.stdout == ""
    assert problems("error", json.loads(done.stderr)) == []


def test_the_answers_ask_saves_are_a_record(tmp_path):
    """`ask --save` writes a record (null for don't know) that `check -` reads back."""
    saved = tmp_path / "answers.json"
    answers = "n\ny\ny\nn\nn\nd\n" + "n\n30\n" * 80
    result = run("ask", "--no-tty-check", "--json", "--save", str(saved), input=answers)
    assert result.exit_code == 0, result.output
    record = json.loads(saved.read_text(encoding="utf-8"))
    assert None in record.values()
    assert problems("record", record) == []
    assert problems("result", json.loads(result.stdout)) == []
