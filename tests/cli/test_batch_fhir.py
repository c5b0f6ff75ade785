"""`batch --format fhir` and `batch --format-out fhir`: one resource or Bundle per line."""

import json
import tomllib
from pathlib import Path

import pytest
from typer.testing import CliRunner

from redflag.cli import app
from redflag.formats.fhir.codes import validate_resource
from tests.formats.fhir.fhir_helpers import response_for

runner = CliRunner()
CASES = tomllib.loads((Path(__file__).resolve().parent.parent / "cases" / "rules.toml")
                      .read_text())["case"]  # fmt: skip


def run(*args, input=None):
    return runner.invoke(app, list(args), input=input)


def lines(text):
    return [json.loads(line) for line in text.splitlines()]


def test_fhir_input_gives_what_batch_gives_for_the_same_records(ruleset):
    records = [{k: v for k, v in c["record"].items() if k != "id"} for c in CASES]
    plain = run("batch", "-j1", input="".join(json.dumps(r) + "\n" for r in records))
    responses = "".join(json.dumps(response_for(r, ruleset)) + "\n" for r in records)
    fhir = run("batch", "--format", "fhir", input=responses)
    assert plain.exit_code == fhir.exit_code == 0, fhir.output
    keys = ("line", "level", "matched", "could_escalate", "worst_case")
    want = [{k: line[k] for k in keys} for line in lines(plain.stdout)]
    got = [{k: line[k] for k in keys} for line in lines(fhir.stdout)]
    assert got == want and len(got) == len(CASES)


def test_fhir_output_is_one_valid_bundle_per_line_and_an_outcome_per_bad_line():
    out = run("batch", "--format-out", "fhir",
              input='{"back_pain": true}\n{"back_pian": true}\n\n')  # fmt: skip
    assert out.exit_code == 2
    bundle, unknown, blank = lines(out.stdout)
    validate_resource(bundle, "R4B")
    assert bundle["identifier"] == {"system": "https://redflag.example/fhir/batch-line",
                                    "value": "<stdin>:1"}  # fmt: skip
    for outcome in (unknown, blank):
        validate_resource(outcome, "R4B")
        assert outcome["resourceType"] == "OperationOutcome"
    assert unknown["issue"][0]["details"]["coding"][0]["code"] == "unknown-flag"
    assert blank["issue"][0]["details"]["coding"][0]["code"] == "bad-json"
    assert "redflag batch: 3 records" in out.stderr


def test_fhir_to_fhir_in_r5(ruleset):
    qr = response_for({"cancer_history": True, "back_pain": True, "limb_weakness": True}, ruleset)
    out = run("batch", "--format", "fhir", "--format-out", "fhir", "--fhir-version", "R5",
              "--fail-on", "emergency", input=json.dumps(qr) + "\n")  # fmt: skip
    assert out.exit_code == 1  # --fail-on emergency reached
    (bundle,) = lines(out.stdout)
    validate_resource(bundle, "R5")


def test_a_bad_item_is_an_error_line_with_its_path_and_the_run_goes_on(ruleset):
    bad = response_for({"age": 700}, ruleset)
    good = response_for({"back_pain": True}, ruleset)
    out = run("batch", "--format", "fhir", input=f"{json.dumps(bad)}\n{json.dumps(good)}\n")
    assert out.exit_code == 2
    error, result = lines(out.stdout)
    assert error["error"]["code"] == "bad-value"
    where = "<stdin>:1 QuestionnaireResponse.item[0] (linkId 'age')"
    assert error["error"]["location"] == where
    assert result["line"] == 2 and result["level"]


def test_a_plain_record_under_format_fhir_is_refused():
    out = run("batch", "--format", "fhir", input='{"back_pain": true}\n')
    assert out.exit_code == 2
    assert lines(out.stdout)[0]["error"]["code"] == "bad-fhir"


@pytest.mark.parametrize(
    "args",
    [("--format", "fhir", "--format-out", "csv"), ("--format", "csv", "--format-out", "fhir")],
)
def test_fhir_with_csv_is_a_usage_error(args):
    out = run("batch", *args, input="")
    assert out.exit_code == 2
    assert "error[usage]" in out.stderr
