"""`redflag check` through Typer's runner and through a real subprocess."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from redflag.cli import app
from redflag.formats.rulefile import load_ruleset

DATA = Path(__file__).resolve().parent.parent / "data"
runner = CliRunner()


def run(*args, input=None, env=None):
    return runner.invoke(app, list(args), input=input, env=env)


def test_mscc_words_give_emergency_with_nice_source_under_details():
    result = run("check", "cancer_history", "back_pain", "limb_weakness", "--details")
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "EMERGENCY" in out
    assert "[mscc_neuro]" in out
    assert "NG234" in out and "NICE" in out
    assert "Call 999 or go to A&E now" in out
    assert "decision support, not a diagnosis" in out
    assert "not signed off by a clinician" in out


def test_default_output_is_compact_and_counts_the_sources():
    short = run("check", "cancer_history", "back_pain", "limb_weakness").stdout
    assert run("check", "cancer_history", "back_pain", "limb_weakness", "-v").stdout != short
    assert "Call 999 or go to A&E now" in short
    assert "NG234" not in short and "https://" not in short
    assert "its 9 sources: run again with --details" in short
    assert "decision support, not a diagnosis" in short


def test_json_from_stdin_has_level_and_could_escalate():
    result = run("check", "-", "--json", input='{"back_pain": true, "age": 70}')
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert data["level"] == "soon"
    assert {m["id"] for m in data["matched"]} == {"age_over_50"}
    escalations = {e["id"]: e["missing"] for e in data["could_escalate"]}
    assert escalations["ces_saddle"] == ["saddle_anaesthesia"]
    assert "cancer_history" in escalations["mscc_neuro"]
    assert data["answered"] == {"back_pain": True, "age": 70}
    assert data["ruleset"]["id"] == "redflag-spinal" and len(data["ruleset"]["sha256"]) == 64
    assert "id" not in data


def test_json_carries_the_record_id_and_full_matched_rule():
    result = run("check", "-", "--json", input='{"id": "p-17", "saddle_anaesthesia": true}')
    data = json.loads(result.stdout)
    assert data["id"] == "p-17"
    (matched,) = data["matched"]
    assert set(matched) == {"id", "level", "title", "rationale", "advice", "sources"}
    assert matched["sources"][0].keys() == {"key", "title", "organisation", "year", "url"}


def test_unknown_flag_exits_2_with_suggestion():
    result = run("check", "back_pian")
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr == (
        "argument 1 ('back_pian'): error[unknown-flag]: 'back_pian' is not a flag of rule set "
        "'redflag-spinal'\n  hint: did you mean 'back_pain'?\n"
    )


def test_bad_value_exits_2():
    result = run("check", "-", input='{"age": "sixty"}')
    assert result.exit_code == 2
    assert "error[bad-value]: 'age' must be a whole number from 0 to 120 years" in result.stderr


def test_bad_json_exits_2_with_location():
    result = run("check", "-", input='{"age": 6')
    assert result.exit_code == 2
    assert result.stderr.startswith("<stdin>:1:10: error[bad-json]: not valid JSON")


def test_broken_rule_file_exits_3():
    result = run("check", "back_pain", "--rules", str(DATA / "bad_rules" / "unknown_flag.toml"))
    assert result.exit_code == 3
    assert "error[unknown-flag]: rule 'r1': unknown flag 'limb_weaknes'" in result.stderr


def test_no_words_is_a_usage_error():
    result = run("check")
    assert result.exit_code == 2
    assert "give the flags to check as words" in result.stderr


@pytest.mark.parametrize(
    ("level", "code"), [("emergency", 1), ("urgent", 1), ("soon", 1), ("routine", 1)]
)
def test_fail_on_reached(level, code):
    assert run("check", "saddle_anaesthesia", "--fail-on", level).exit_code == code


def test_fail_on_not_reached_and_unknown_level():
    assert run("check", "back_pain", "age=30", "--fail-on", "urgent").exit_code == 0
    bad = run("check", "back_pain", "--fail-on", "critical")
    assert bad.exit_code == 2
    assert "use one of: emergency, urgent, soon, routine" in bad.stderr


def test_no_color_and_piped_output_has_no_escape_codes():
    result = run("check", "cancer_history", "limb_weakness", env={"NO_COLOR": "1"})
    assert "\x1b[" not in result.stdout
    assert "EMERGENCY" in result.stdout


def test_rules_validate_clean_and_broken():
    ok = run("rules", "validate")
    assert ok.exit_code == 0
    rules = load_ruleset()
    assert ok.stdout.startswith(
        f"rules.toml (bundled): ok: {len(rules.rules)} rules, {len(rules.flags)} flags, 4 levels"
    )
    bad = run("rules", "validate", str(DATA / "bad_rules" / "several_errors.toml"))
    assert bad.exit_code == 3
    assert bad.stderr.count("error[") == 3
    assert bad.stderr.rstrip().endswith("3 errors in the rule file")


def test_rules_show_lists_every_rule():
    result = run("rules", "show", env={"COLUMNS": "200"})
    assert result.exit_code == 0
    for rule_id in ("mscc_neuro", "ces_saddle", "x_axial_spa"):
        assert rule_id in result.stdout


def test_version():
    from redflag import __version__

    assert run("--version").stdout == f"redflag {__version__}\n"


def _subprocess(*args, input=None):
    env = {**os.environ, "NO_COLOR": "1"}
    return subprocess.run(
        [sys.executable, "-m", "redflag", *args],
        input=input,
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )


def test_real_process_check_json():
    proc = _subprocess("check", "-", "--json", input='{"back_pain": true, "age": 70}')
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["level"] == "soon"


def test_real_process_human_output_when_piped_has_no_colour():
    proc = _subprocess("check", "cancer_history", "back_pain", "limb_weakness")
    assert proc.returncode == 0
    assert "\x1b[" not in proc.stdout
    assert "EMERGENCY" in proc.stdout and "possible spinal cord compression" in proc.stdout


def test_real_process_errors_have_no_traceback():
    proc = _subprocess("check", "-", input="not json")
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    proc = _subprocess("check", "back_pain", "--rules", "/nonexistent.toml")
    assert proc.returncode == 3
    assert "no such rule file" in proc.stderr and "Traceback" not in proc.stderr


def test_every_bad_word_is_reported_in_one_run():
    result = run("check", "back_pain", "fevr", "age=300", "limb_weakness=maybe")
    assert result.exit_code == 2
    assert result.stderr == (
        "argument 2 ('fevr'): error[unknown-flag]: 'fevr' is not a flag of rule set "
        "'redflag-spinal'\n"
        "  hint: did you mean 'fever'?\n"
        "argument 3 ('age=300'): error[bad-value]: 'age' must be a whole number from 0 to 120 "
        "years, got 300\n"
        "  hint: write a number such as 60, or null if not known\n"
        "argument 4 ('limb_weakness=maybe'): error[bad-value]: 'limb_weakness' is a yes/no "
        "flag, got 'maybe'\n"
        "  hint: write limb_weakness (yes), limb_weakness=no, or limb_weakness=unknown\n"
    )


@pytest.mark.parametrize("word", ["answers.json", "data/answers", "records.ndjson"])
def test_a_file_name_among_the_flags_suggests_reading_it_from_stdin(word):
    result = run("check", word)
    assert result.exit_code == 2
    assert result.stderr == (
        f"argument 1 ({word!r}): error[usage]: {word!r} looks like a file, but check reads "
        "flags as words\n"
        f"  hint: to read one JSON record from a file: redflag check - < {word}\n"
    )


@pytest.mark.parametrize(
    "argv",
    [
        ["--debug", "check", "back_pain"],
        ["check", "--debug", "back_pain"],
        ["check", "back_pain", "--debug"],
    ],
)
def test_debug_is_accepted_anywhere_on_the_line(argv, monkeypatch):
    from redflag.cli.handler import State

    monkeypatch.setattr(State, "debug", False)
    result = run(*argv)
    assert result.exit_code == 0, result.output
    assert State.debug is True


def test_real_process_accepts_debug_after_the_subcommand(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "redflag", "check", "back_pain", "--debug", "--nope"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={**os.environ, "REDFLAG_CACHE_DIR": str(tmp_path)},
    )
    assert proc.returncode == 2
    assert proc.stderr.startswith("redflag check: error[usage]: no such option '--nope'")


@pytest.mark.parametrize(
    ("words", "level", "worst"),
    [
        (["back_pain", "age=35"], "routine", "emergency"),
        (["cancer_history", "back_pain", "limb_weakness"], "emergency", "emergency"),
    ],
)
def test_worst_case_is_the_same_in_check_json_batch_and_batch_full(words, level, worst):
    from redflag.formats.records import record_from_words
    from redflag.formats.rulefile import load_ruleset

    record, _ = record_from_words(words, load_ruleset(None))
    checked = json.loads(run("check", *words, "--json").stdout)
    assert (checked["level"], checked["worst_case"]) == (level, worst)
    line = json.dumps(record) + "\n"
    short = json.loads(run("batch", input=line).stdout)
    full = json.loads(run("batch", "--full", input=line).stdout)
    assert (short["level"], short["worst_case"]) == (level, worst)
    assert (full["level"], full["worst_case"]) == (level, worst)


def test_fail_on_worst_acts_on_what_unanswered_questions_could_lead_to():
    assert run("check", "back_pain", "--fail-on", "urgent").exit_code == 0
    assert run("check", "back_pain", "--fail-on-worst", "urgent").exit_code == 1
    bad = run("check", "back_pain", "--fail-on-worst", "high")
    assert bad.exit_code == 2
    assert "error[usage]: --fail-on-worst 'high' is not a level" in bad.stderr


def test_details_print_every_source_url_whole_at_80_columns():
    from redflag.formats.rulefile import load_ruleset

    ruleset = load_ruleset(None)
    words = ["cancer_history", "back_pain", "limb_weakness"]
    out = run("check", *words, "--details", env={"COLUMNS": "80"}).stdout
    lines = [line.strip() for line in out.splitlines()]
    mscc = next(r.rule for r in ruleset.rules if r.rule.id == "mscc_neuro")
    urls = {ruleset.sources[k].url for k in mscc.sources}
    assert any(len(url) > 80 for url in urls)  # the case that used to be folded
    for url in urls:
        assert url in lines, url


def test_source_urls_are_terminal_hyperlinks_on_a_terminal():
    import io

    from rich.console import Console

    from redflag.cli.render import THEME, result_renderable
    from redflag.core.evaluate import evaluate
    from redflag.formats.rulefile import load_ruleset

    ruleset = load_ruleset(None)
    result = evaluate(ruleset, {"cancer_history": True, "limb_weakness": True})
    buffer = io.StringIO()
    term = Console(file=buffer, force_terminal=True, width=80, theme=THEME, color_system="standard")
    term.print(result_renderable(result, ruleset, details=True), crop=False)
    url = "https://www.nice.org.uk/guidance/ng234/chapter/Recommendations"
    assert "\x1b]8;id=" in buffer.getvalue() and url in buffer.getvalue()


def test_spread_to_the_bones_with_no_cancer_is_a_bad_value_not_a_silent_answer():
    result = run("check", "bone_metastases", "cancer_history=no")
    assert result.exit_code == 2
    assert (
        "error[bad-value]: 'bone_metastases' is yes, which implies 'cancer_history', "
        "but 'cancer_history' is no" in result.stderr
    )


NUMBER_TEXTS = ["60", "60.0", "1e2", "-0", "6_0", "+60", "nan", "inf", "0x10", "6 0", "60."]


@pytest.mark.parametrize("text", NUMBER_TEXTS)
def test_a_number_word_and_a_csv_cell_follow_one_grammar(text):
    word = run("check", "back_pain", f"age={text}", "--json")
    cell = run("batch", "-", "--format", "csv", input=f"back_pain,age\nyes,{text}\n")
    line = json.loads(cell.stdout.splitlines()[0])
    word_ok = word.exit_code == 0
    cell_ok = "error" not in line
    assert word_ok == cell_ok, (word.stdout, line)
    if not word_ok:
        assert json.loads(word.stderr)["error"]["code"] == line["error"]["code"] == "bad-value"
    expected_ok = text in ("60", "60.0", "1e2", "-0")
    assert word_ok is expected_ok
