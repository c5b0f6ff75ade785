"""JSON Schemas (issue 17): docs/schema/ is what `rules schema` generates, and real outputs of
check, ask, batch and the Python API validate against it; records check accepts validate and
records it refuses for their keys or values do not. The other commands' --json outputs and
the --json error: tests/cli/test_json_schemas.py."""

from __future__ import annotations

import json
import subprocess
import sys
import tomllib
from pathlib import Path

import jsonschema
import pytest
from typer.testing import CliRunner

import redflag
from redflag.cli import app

ROOT = Path(__file__).resolve().parents[2]
SCHEMAS = ROOT / "docs" / "schema"
KINDS = (
    "record",
    "result",
    "batch-line",
    "explain",
    "test",
    "diff",
    "rules-analyze",
    "rules-validate",
    "rules-verify",
    "rules-show",
    "error",
)
runner = CliRunner()


def validator(kind: str) -> jsonschema.Draft202012Validator:
    doc = json.loads((SCHEMAS / f"{kind}.json").read_text())
    jsonschema.Draft202012Validator.check_schema(doc)
    return jsonschema.Draft202012Validator(doc)


def errors(kind: str, value: object) -> list[str]:
    return [e.message for e in validator(kind).iter_errors(value)]


@pytest.mark.parametrize("kind", KINDS)
def test_committed_schema_is_what_rules_schema_generates(kind):
    result = runner.invoke(app, ["rules", "schema", "--kind", kind])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == json.loads((SCHEMAS / f"{kind}.json").read_text()), (
        f"docs/schema/{kind}.json is stale: redflag rules schema --kind {kind} > "
        f"docs/schema/{kind}.json"
    )


def test_every_kind_is_committed_and_offered_by_the_cli():
    from redflag.formats.schema_kind import SchemaKind

    assert [k.value for k in SchemaKind] == list(KINDS)
    assert sorted(p.stem for p in SCHEMAS.glob("*.json")) == sorted(KINDS)
    refused = CliRunner().invoke(app, ["rules", "schema", "--kind", "nonsense"])
    assert refused.exit_code == 2
    offered = refused.stderr.split("is not one of", 1)[1].split("\n", 1)[0]
    assert [k.strip(" '") for k in offered.split(",")] == list(KINDS)


@pytest.mark.parametrize("kind", KINDS)
def test_each_schema_is_a_valid_closed_draft_2020_12_schema(kind):
    doc = json.loads((SCHEMAS / f"{kind}.json").read_text())
    jsonschema.Draft202012Validator.check_schema(doc)
    assert doc["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    for node in [doc, *doc.get("$defs", {}).values()]:
        if node.get("type") == "object" and "properties" in node:
            assert node["additionalProperties"] is False, node.get("title")


RECORDS = [
    {"cancer_history": True, "back_pain": True, "limb_weakness": True},
    {"back_pain": True, "age": 35},
    {"id": "p-7", "back_pain": False, "age": 70, "cancer_history": None},
    {"id": 12, "bone_metastases": True},
    {},
]


@pytest.mark.parametrize("record", RECORDS)
def test_check_json_output_validates_and_its_record_too(record):
    assert errors("record", record) == []
    result = runner.invoke(app, ["check", "-", "--json"], input=json.dumps(record))
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert errors("result", out) == []
    assert errors("result", redflag.load_rules().check(record).to_json()) == []


def test_check_json_of_a_real_process_validates():
    done = subprocess.run(
        [sys.executable, "-m", "redflag", "check", "back_pain", "age=80", "--json"],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    assert errors("result", json.loads(done.stdout)) == []


def test_ask_json_output_validates():
    answers = "n\ny\ny\nn\nn\nd\n" + "n\n30\n" * 80
    result = runner.invoke(app, ["ask", "--no-tty-check", "--json"], input=answers)
    assert result.exit_code == 0, result.output
    assert errors("result", json.loads(result.stdout)) == []


@pytest.mark.slow
@pytest.mark.parametrize("extra", [[], ["--full"]], ids=["default", "full"])
def test_every_batch_line_validates_good_and_bad(extra, tmp_path):
    lines = [json.dumps(r) for r in RECORDS] + ['{"Back_Pain": true}', '{"age": 500}', "[1]", ""]
    one = tmp_path / "one.ndjson"
    one.write_text("\n".join(lines) + "\n")
    two = tmp_path / "two.ndjson"
    two.write_text('{"id": "x", "back_pain": true}\n{"nope": 1}\n')
    for files in ([one], [one, two]):  # two inputs add "file" to each line
        result = runner.invoke(app, ["batch", *map(str, files), *extra])
        assert result.exit_code == 2, result.output  # bad records present
        out = [json.loads(line) for line in result.stdout.splitlines()]
        assert len(out) == len(lines) + (2 if len(files) == 2 else 0)
        for line in out:
            assert errors("batch-line", line) == [], line
        assert any("error" in line for line in out)


def test_the_schemas_refuse_what_redflag_would_not_write():
    good = redflag.load_rules().check({"back_pain": True}).to_json()
    assert errors("result", {**good, "level": "panic"})
    assert errors("result", {**good, "extra": 1})
    assert errors("result", {**good, "answered": {"back_pain": "yes"}})
    without = dict(good)
    del without["worst_case"]
    assert errors("result", without)
    assert errors("batch-line", {"line": 1, "id": None, "level": "routine"})


def hostile_json_records():
    cases = tomllib.loads((ROOT / "tests" / "data" / "hostile" / "records.toml").read_text())
    for case in cases["case"]:
        if "input" not in case or "input_repeat" in case:
            continue
        try:
            value = json.loads(case["input"])
        except ValueError:
            continue
        yield pytest.param(case, value, id=case["name"])


@pytest.mark.parametrize(("case", "value"), list(hostile_json_records()))
def test_record_schema_agrees_with_check_on_the_hostile_records(case, value):
    found = errors("record", value)
    if case["code"] in ("unknown-flag", "bad-value", "not-an-object"):
        assert found, f"the schema accepts what check refuses ({case['code']})"
    elif case["exit"] == 0:
        assert found == []


def test_record_schema_names_bounds_and_questions():
    doc = json.loads((SCHEMAS / "record.json").read_text())
    age = doc["properties"]["age"]
    assert (age["type"], age["minimum"], age["maximum"]) == (["integer", "null"], 0, 120)
    assert doc["properties"]["back_pain"]["type"] == ["boolean", "null"]
    assert doc["additionalProperties"] is False
    assert set(doc["properties"]) == {"id", *redflag.load_rules().flags}
