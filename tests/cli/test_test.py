import json

import pytest

from tests.tooling import CASES, ROOT, run, run_process


def test_passing_cases_print_dots_and_summary():
    result = run("test", str(CASES / "basic.toml"), str(CASES / "basic.ndjson"))
    assert result.exit_code == 0
    assert result.stdout == ".....\n5 passed, 0 failed\n"


def test_failure_shows_record_expected_got_and_rules_then_exits_1():
    result = run("test", str(CASES / "failing.toml"))
    assert result.exit_code == 1
    out = result.stdout
    assert out.startswith(".F\n\nFAIL wrong on purpose  (")
    assert "failing.toml:6)" in out
    assert '  record: {"back_pain": true, "fever": true}\n' in out
    assert "  expected: emergency   got: urgent\n" in out
    assert "  - rule 'spinal_infection' must not match, but it did\n" in out
    assert "FIRED      URGENT  spinal_infection" in out
    assert "TRUE  back_pain and any(fever, temperature >= 38)" in out
    assert out.endswith("1 passed, 1 failed\n")


def test_min_coverage_below_exits_1_with_reason(ruleset):
    result = run("test", str(CASES / "basic.toml"), "--min-coverage", "50")
    assert result.exit_code == 1
    n = len(ruleset.rules)
    share = f"{100 * 4 / n:.1f}%"
    assert f"Coverage: 4/{n} rules fired ({share})" in result.stdout
    assert f"rule coverage {share} is below --min-coverage 50%" in result.stdout
    assert result.stdout.endswith("3 passed, 0 failed\n")


def test_bad_case_file_exits_2_with_location(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text('[[case]]\nname = "a"\nrecord = {}\n')
    result = run("test", str(bad))
    assert result.exit_code == 2
    assert result.stderr == (
        f"{bad}:1: error[bad-case-file]: case #1: missing 'expect'\n"
        "  hint: every case needs name, record and expect, e.g.\n"
        '[[case]]\nname = "cancer and weak legs"\n'
        "record = { cancer_history = true, back_pain = true, limb_weakness = true }\n"
        'expect = "emergency"\n'
    )


def test_default_is_tests_cases_under_the_current_directory(tmp_path):
    (tmp_path / "tests" / "cases").mkdir(parents=True)
    (tmp_path / "tests" / "cases" / "a.toml").write_text((CASES / "basic.toml").read_text())
    result = run_process("test", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "...\n3 passed, 0 failed\n"


def test_real_process_exit_code_on_failure():
    result = run_process("test", str(CASES / "failing.toml"), cwd=ROOT)
    assert result.returncode == 1
    assert result.stdout.splitlines()[-1] == "1 passed, 1 failed"


def test_json_passing_cases_exit_0_with_one_document_on_stdout():
    result = run("test", str(CASES / "basic.toml"), str(CASES / "basic.ndjson"), "--json")
    assert result.exit_code == 0
    assert result.stderr == ""
    assert result.stdout.startswith("{\n") and result.stdout.endswith("}\n")
    data = json.loads(result.stdout)
    assert set(data) == {"ruleset", "summary", "cases"}
    assert data["ruleset"]["id"] == "redflag-spinal"
    assert data["summary"] == {"cases": 5, "passed": 5, "failed": 0}
    assert all(c["passed"] and c["problems"] == [] for c in data["cases"])
    first = data["cases"][0]
    assert (first["name"], first["file"], first["line"]) == (
        "cancer with weak legs",
        str(CASES / "basic.toml"),
        3,
    )
    assert data["cases"][3]["line"] == 1  # NDJSON: the line of the case
    assert data["cases"][4]["line"] == 3


def test_json_failing_case_exits_1_with_expected_got_and_problems():
    result = run("test", str(CASES / "failing.toml"), "--json")
    assert result.exit_code == 1
    assert result.stderr == ""
    data = json.loads(result.stdout)
    assert data["summary"] == {"cases": 2, "passed": 1, "failed": 1}
    assert data["cases"][1] == {
        "name": "wrong on purpose",
        "file": str(CASES / "failing.toml"),
        "line": 6,
        "passed": False,
        "record": {"back_pain": True, "fever": True},
        "expected": {"level": "emergency", "matched": [], "not_matched": ["spinal_infection"]},
        "got": {"level": "urgent", "matched": ["spinal_infection"]},
        "problems": [
            "expected level emergency, got urgent",
            "rule 'spinal_infection' must not match, but it did",
        ],
    }


def test_json_coverage_fields(ruleset):
    result = run("test", str(CASES / "basic.toml"), "--json", "--coverage")
    assert result.exit_code == 0
    cov = json.loads(result.stdout)["coverage"]
    assert cov["fired"] == ["mscc_neuro", "ces_saddle", "back_neuro", "cancer_back_review"]
    assert len(cov["rules"]) == len(ruleset.rules)
    assert len(cov["not_fired"]) == len(ruleset.rules) - 4
    assert "age_over_50" in cov["near_missed"]
    assert "age" in cov["flags_set"] and "fever" in cov["flags_set"]
    assert "pain_duration_weeks" in cov["flags_not_set"]
    assert cov["fired_percent"] == pytest.approx(100 * 4 / len(ruleset.rules))
    assert (cov["min_coverage"], cov["below_min_coverage"]) == (None, False)


def test_json_min_coverage_below_exits_1_and_says_so_in_the_data():
    result = run("test", str(CASES / "basic.toml"), "--json", "--min-coverage", "50")
    assert result.exit_code == 1
    data = json.loads(result.stdout)
    assert data["summary"]["failed"] == 0
    assert (data["coverage"]["min_coverage"], data["coverage"]["below_min_coverage"]) == (
        50.0,
        True,
    )


def test_json_bad_case_file_exits_2_with_the_error_on_stderr_only(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text('[[case]]\nname = "a"\nrecord = {}\n')
    result = run("test", str(bad), "--json")
    assert result.exit_code == 2
    assert result.stdout == ""
    error = json.loads(result.stderr)["error"]  # under --json the error is JSON (issue 17)
    assert (error["where"], error["code"], error["message"]) == (
        f"{bad}:1",
        "bad-case-file",
        "case #1: missing 'expect'",
    )


def test_json_bad_rule_file_exits_3_with_nothing_on_stdout(tmp_path):
    rules = tmp_path / "rules.toml"
    rules.write_text("not toml [")
    result = run("test", str(CASES / "basic.toml"), "--json", "--rules", str(rules))
    assert result.exit_code == 3
    assert result.stdout == ""
    assert "error" in result.stderr


def test_json_real_process_stdout_is_only_json():
    result = run_process("test", str(CASES / "failing.toml"), "--json", "--coverage", cwd=ROOT)
    assert result.returncode == 1
    assert result.stderr == ""
    data = json.loads(result.stdout)  # the whole of stdout, so nothing else is on it
    assert data["summary"] == {"cases": 2, "passed": 1, "failed": 1}
    assert data["cases"][1]["got"]["level"] == "urgent"
    assert "coverage" in data


def test_matrix_prints_the_table_sensitivity_and_under_triaged_cases_first(tmp_path):
    cases = tmp_path / "cases.toml"
    cases.write_text(
        '[[case]]\nname = "weak legs with cancer"\n'
        'record = { cancer_history = true, limb_weakness = true }\nexpect = "emergency"\n'
        '[[case]]\nname = "missed on purpose"\nrecord = { back_pain = true }\n'
        'expect = "emergency"\ndebatable = true\n'
        '[[case]]\nname = "over on purpose"\nrecord = { saddle_anaesthesia = true }\n'
        'expect = "routine"\n'
    )
    result = run("test", str(cases), "--matrix")
    assert result.exit_code == 1
    out = result.stdout
    assert "50.0% (1/2)" in out  # emergency sensitivity
    assert "exact agreement: 33.3% (1/3)" in out
    assert "emergency cases given routine: 1" in out
    assert "over-triaged by 2 levels or more: 1 of 1" in " ".join(out.split())
    # the same figures without the debatable case: only its miss goes
    assert (
        "on the 2 cases not marked debatable: emergency sensitivity 100.0% (1/1), exact "
        "agreement 50.0% (1/2), over-triaged by 2 levels or more: 1 of 1"
    ) in " ".join(out.split())
    matrix = json.loads(run("test", str(cases), "--matrix", "--json").stdout)["matrix"]
    assert matrix["exact"] == 1
    assert matrix["sensitivity"]["emergency"] == 0.5
    assert matrix["not_debatable"] == {
        "cases": 2,
        "exact": 1,
        "exact_share": 0.5,
        "sensitivity": {"emergency": 1.0, "urgent": None, "soon": None, "routine": 1.0},
        "most_urgent_to_least": 0,
        "over_triaged_2_tiers": {"cases": ["over on purpose"], "of": 1},
    }
    under = out.index("under-triaged (1):")
    assert out.index("emergency -> routine (debatable): missed on purpose") > under
    assert out.index("over-triaged (1):") > under
    assert out.rstrip().endswith("1 passed, 2 failed")
