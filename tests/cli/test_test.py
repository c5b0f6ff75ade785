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
    assert "TRUE  back_pain and fever" in out
    assert out.endswith("1 passed, 1 failed\n")


def test_min_coverage_below_exits_1_with_reason():
    result = run("test", str(CASES / "basic.toml"), "--min-coverage", "50")
    assert result.exit_code == 1
    assert "Coverage: 4/33 rules fired (12.1%)" in result.stdout
    assert "rule coverage 12.1% is below --min-coverage 50%" in result.stdout
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
