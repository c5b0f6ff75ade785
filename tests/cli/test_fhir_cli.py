"""`check - --fhir`, `explain -` and `rules questionnaire` with FHIR input and output.

The round trip of issue 16: the generated Questionnaire, a QuestionnaireResponse answering
it for every case in tests/cases/, and `check - --fhir` gives the same level, matched rules
and worst case as `check - --json` on the equivalent record.
"""

import json
import tomllib
from pathlib import Path

import pytest
from typer.testing import CliRunner

from redflag.cli import app
from tests.formats.fhir.fhir_helpers import response_for

runner = CliRunner()
CASES_DIR = Path(__file__).resolve().parent.parent / "cases"
CASES = [
    case
    for path in sorted(CASES_DIR.rglob("*.toml"))
    for case in tomllib.loads(path.read_text())["case"]
]


def run(*args, input=None):
    return runner.invoke(app, list(args), input=input)


def summary_of_bundle(bundle):
    risk = next(e["resource"] for e in bundle["entry"]
                if e["resource"]["resourceType"] == "RiskAssessment")  # fmt: skip
    ext = {e["url"].rsplit("/", 1)[1]: e["valueCoding"]["code"] for e in risk["extension"]}
    rules = [
        p["outcome"]["coding"][0]["code"] for p in risk["prediction"] if "coding" in p["outcome"]
    ]
    return ext["level"], rules, ext["worst-case"]


def test_round_trip_covers_every_case_file():
    assert len(CASES) > 200


@pytest.fixture(scope="module")
def questionnaire_link_ids():
    out = run("rules", "questionnaire")
    assert out.exit_code == 0, out.output
    return [i["linkId"] for i in json.loads(out.stdout)["item"]]


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_check_fhir_round_trip_matches_check_json(case, ruleset, questionnaire_link_ids):
    record = case["record"]
    assert set(record) - {"id"} <= set(questionnaire_link_ids)
    as_json = run("check", "-", "--json", input=json.dumps(record))
    qr = response_for(record, ruleset)
    as_fhir = run("check", "-", "--fhir", input=json.dumps(qr))
    assert as_json.exit_code == as_fhir.exit_code == 0, as_fhir.output
    want = json.loads(as_json.stdout)
    assert summary_of_bundle(json.loads(as_fhir.stdout)) == (
        want["level"],
        [m["id"] for m in want["matched"]],
        want["worst_case"],
    )


def test_check_reads_a_questionnaire_response_for_the_human_view():
    qr = {"resourceType": "QuestionnaireResponse", "status": "completed", "item": [
        {"linkId": f, "answer": [{"valueBoolean": True}]}
        for f in ("cancer_history", "back_pain", "limb_weakness")]}  # fmt: skip
    out = run("check", "-", input=json.dumps(qr))
    assert out.exit_code == 0, out.output
    assert "EMERGENCY" in out.stdout and "Call 999 or go to A&E now" in out.stdout


def test_explain_reads_a_questionnaire_response():
    qr = {"resourceType": "QuestionnaireResponse", "status": "completed",
          "item": [{"linkId": "back_pain", "answer": [{"valueBoolean": True}]}]}  # fmt: skip
    out = run("explain", "-", "--json", input=json.dumps(qr))
    assert out.exit_code == 0, out.output
    assert json.loads(out.stdout)["answered"] == {"back_pain": True}


def test_a_bad_item_exits_2_with_the_item_path():
    qr = {"resourceType": "QuestionnaireResponse", "status": "completed",
          "item": [{"linkId": "age", "answer": [{"valueString": "sixty"}]}]}  # fmt: skip
    out = run("check", "-", "--fhir", input=json.dumps(qr))
    assert out.exit_code == 2
    assert out.stderr == (
        "<stdin> QuestionnaireResponse.item[0] (linkId 'age'): error[bad-value]: 'age' must be "
        'a whole number from 0 to 120 years, got "sixty"\n'
        "  hint: write a number such as 60, or null if not known\n"
    )


def test_json_and_fhir_together_are_a_usage_error():
    out = run("check", "back_pain", "--json", "--fhir")
    assert out.exit_code == 2
    assert "--json and --fhir both choose the output" in out.stderr


def test_check_fhir_r5_from_words():
    out = run("check", "back_pain", "--fhir", "--fhir-version", "R5")
    assert out.exit_code == 0, out.output
    assert json.loads(out.stdout)["resourceType"] == "Bundle"


@pytest.mark.parametrize("version", ["R4B", "R5"])
def test_rules_questionnaire_prints_one_item_per_flag(ruleset, version):
    out = run("rules", "questionnaire", "--fhir-version", version)
    assert out.exit_code == 0, out.output
    q = json.loads(out.stdout)
    assert q["resourceType"] == "Questionnaire" and len(q["item"]) == len(ruleset.flags)


def test_the_readme_risk_assessment_is_what_check_fhir_prints():
    readme = (Path(__file__).resolve().parent.parent.parent / "README.md").read_text()
    command = "redflag check cancer_history back_pain limb_weakness age=67 --fhir"
    block = readme.split(command, 1)[1].split("```json", 1)[1].split("```", 1)[0]
    out = run(*command.split()[1:])
    bundle = json.loads(out.stdout)
    risk = next(e["resource"] for e in bundle["entry"]
                if e["resource"]["resourceType"] == "RiskAssessment")  # fmt: skip
    assert json.dumps(risk["basis"]) in block
    assert json.dumps(risk["mitigation"]) in block
    assert json.dumps(risk["prediction"][0]["qualitativeRisk"]["coding"][1]) in block
    assert risk["prediction"][0]["rationale"].startswith(
        "In a person who has or has had cancer, new weakness, walking or balance problems, "
    )
