import json

from redflag.core.solve import METHOD
from tests.rulefiles import lowered, rationale_only
from tests.tooling import CASES, RULES, run, run_process


def test_lowered_rule_exits_1_and_its_counterexample_checks_out(tmp_path):
    new = lowered(tmp_path)
    result = run_process("diff", str(RULES), str(new), "--exhaustive")
    assert result.returncode == 1
    out = result.stdout
    assert "  changed back_neuro: level (urgent -> soon)\n" in out
    assert f"method: {METHOD};" in out
    assert "DOWNGRADE: 1 kind of record gets a lower level under NEW" in out
    line = next(x for x in out.splitlines() if x.strip().startswith("{"))
    record = line.strip()
    assert json.loads(record) == {"limb_weakness": True}
    before = run_process("check", "-", "--json", "--rules", str(RULES), input=record)
    after = run_process("check", "-", "--json", "--rules", str(new), input=record)
    assert json.loads(before.stdout)["level"] == "urgent"
    assert json.loads(after.stdout)["level"] == "soon"


def test_rationale_only_change_exits_0_with_proof(tmp_path):
    result = run("diff", str(RULES), str(rationale_only(tmp_path)), "--exhaustive")
    assert result.exit_code == 0
    assert "  changed back_neuro: rationale\n" in result.stdout
    assert "proved: no record gets a lower level under NEW" in result.stdout


def test_case_downgrades_are_listed_first_with_rules(tmp_path):
    cases = tmp_path / "c.toml"
    cases.write_text(
        '[[case]]\nname = "weak"\nrecord = { back_pain = true, limb_weakness = true }\n'
        'expect = "urgent"\n'
    )
    result = run("diff", str(RULES), str(lowered(tmp_path)), "--cases", str(cases))
    assert result.exit_code == 1
    assert (
        "Cases: 1 compared, 1 downgraded, 0 upgraded\n\n"
        "DOWNGRADES (less urgent under NEW)\n"
        "  weak: urgent -> soon\n"
        '    record: {"back_pain": true, "limb_weakness": true}\n'
        "    OLD rules: back_neuro; NEW rules: back_neuro\n"
    ) in result.stdout


def test_json_output_is_data(tmp_path):
    result = run(
        "diff",
        str(RULES),
        str(lowered(tmp_path)),
        "--cases",
        str(CASES / "basic.toml"),
        "--exhaustive",
        "--json",
    )
    assert result.exit_code == 1
    data = json.loads(result.stdout)
    assert data["rules"] == [
        {
            "id": "back_neuro",
            "change": "changed",
            "fields": ["level"],
            "old_level": "urgent",
            "new_level": "soon",
        }
    ]
    assert data["cases_compared"] == 3
    assert data["exhaustive"]["downgrades"][0]["record"] == {"limb_weakness": True}


def test_same_file_exits_0():
    result = run("diff", str(RULES), str(RULES), "--exhaustive")
    assert result.exit_code == 0
    assert "Rules: 0 changed, 0 added, 0 removed" in result.stdout
