"""`redflag ask`: the interview, through a real pseudo-terminal and through Typer's runner."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

import pexpect
import pytest
from typer.testing import CliRunner

from redflag.cli import app
from redflag.core.flags import BoolFlag
from redflag.core.interview import plan
from redflag.formats.rulefile import load_ruleset

RULES = load_ruleset(None)
QUESTIONS = {" ".join(f.question.split()): f.id for f in RULES.flags.values()}
PROMPT = r"\) > "
CHECKLIST = r"or n for none; q quit\) > "
STOPPED = "Interview stopped: no result, nothing saved."
NO_CHANGE = "No further answer"  # "... can change this result", or "... of yours ..."
EMERGENCY_ACTION = " ".join(RULES.levels[0].action.split())
# the first question of an empty interview: the flag deciding the most emergency rules
_FIRST = plan(RULES, {}).next_flag
assert _FIRST is not None
FIRST: str = _FIRST


def _flat(text: str) -> str:
    return " ".join(text.replace("\r", "").split())


@pytest.fixture
def spawn(tmp_path):
    children = []

    def start(*args: str, checklist: str | None = "n") -> pexpect.spawn:
        """Start `redflag ask`; answer its opening checklist with `checklist` (None: leave it)."""
        env = {
            **os.environ,
            "NO_COLOR": "1",
            "TERM": "dumb",  # plain text, 80 columns
            "COLUMNS": "80",
        }
        child = pexpect.spawn(
            sys.executable,
            ["-m", "redflag", "ask", *args],
            env=env,
            encoding="utf-8",
            timeout=60,  # each expect(); 10 s was too short on a loaded 2-core machine
            dimensions=(50, 80),
        )
        children.append(child)
        if checklist is not None and "--all" not in args:
            child.expect(CHECKLIST)
            child.sendline(checklist)
        return child

    yield start
    for child in children:
        child.close(force=True)


def _question(before: str) -> str:
    """The flag whose question is on screen, from the text before the prompt."""
    block = before.replace("\r", "").split("\n")
    start = max(i for i, line in enumerate(block) if re.match(r"Question \d+ \(", line))
    text = " ".join(line.strip() for line in block[start + 1 : -1])
    return QUESTIONS[text]


def _interview(child: pexpect.spawn, answer) -> tuple[list[str], str]:
    """Answer every question with `answer(flag)` until the program ends."""
    asked, transcript = [], []
    while child.expect([PROMPT, pexpect.EOF]) == 0:
        transcript.append(child.before + child.after)
        flag = _question(child.before)
        asked.append(flag)
        child.sendline(answer(flag))
    transcript.append(child.before)
    child.close()
    return asked, "".join(transcript).replace("\r", "")


QUIET_NUMBERS = {"age": "40", "pain_duration_weeks": "1", "spa_criteria_count": "0"}


def _no(flag: str) -> str:
    """An answer that raises nothing: no, or a number that crosses no threshold."""
    return QUIET_NUMBERS[flag] if flag in RULES.numeric_flags else "n"


def test_mscc_interview_shows_emergency_and_its_action_before_it_ends(spawn):
    child = spawn()
    yes = {"cancer_history", "limb_weakness"}
    asked, out = _interview(child, lambda f: "y" if f in yes else _no(f))
    assert child.exitstatus == 0
    assert asked[0] == FIRST
    assert yes <= set(asked)
    assert asked[-1] in yes  # the emergency ends the interview at once
    assert len(asked) < 15
    flat = _flat(out)
    found = flat.index("Provisional level: EMERGENCY Now")
    assert flat.index(EMERGENCY_ACTION, found) < flat.index(NO_CHANGE) < flat.index("Matched rules")
    assert "because: Cancer with nerve symptoms: possible spinal cord compression" in flat
    assert "EMERGENCY Cancer with nerve symptoms: possible spinal cord compression" in flat


def test_emergency_is_shown_at_once_even_when_asking_everything(spawn):
    child = spawn("--all")
    child.expect(PROMPT)  # age, first in the file
    child.sendline("60")
    child.expect(PROMPT)  # cancer_history
    assert _question(child.before) == "cancer_history"
    child.sendline("y")
    while True:
        child.expect(PROMPT)
        flag = _question(child.before)
        if flag == "limb_weakness":
            child.sendline("y")
            break
        child.sendline(_no(flag))
    child.expect(PROMPT)
    shown = _flat(child.before)
    assert "Provisional level: EMERGENCY Now" in shown
    assert EMERGENCY_ACTION in shown
    assert re.search(r"Question \d+ \(at most \d+ more\)", shown)
    child.sendintr()
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 130


def test_no_symptoms_stops_early_with_routine(spawn):
    child = spawn()
    asked, out = _interview(child, _no)
    assert child.exitstatus == 0
    assert 0 < len(asked) < len(RULES.flags)
    assert asked[0] == FIRST
    flat = _flat(out)
    assert NO_CHANGE in flat
    assert "ROUTINE Self-care; review if not improving" in flat
    assert "No rule matched the answers given." in flat
    assert "Question 1 (at most " in flat


def test_back_undoes_an_answer_and_dont_know_is_saved_as_null(spawn, tmp_path):
    saved = tmp_path / "answers.json"
    child = spawn("--save", str(saved))
    child.expect(PROMPT)
    assert _question(child.before) == FIRST
    child.sendline("y")
    child.expect(PROMPT)
    assert "Question 2" in child.before
    child.sendline("b")
    child.expect(PROMPT)
    assert "Going back one question." in child.before
    assert "Question 1 " in child.before
    assert _question(child.before) == FIRST
    child.sendline("don't know")
    asked, out = _interview(child, _no)
    assert child.exitstatus == 0
    assert FIRST not in asked
    data = json.loads(saved.read_text(encoding="utf-8"))
    assert data[FIRST] is None
    assert set(data) == {FIRST, *asked}
    # the terminal is 80 columns: a long temporary path (pytest-xdist adds a folder) wraps
    unspaced = "".join(out.split())
    assert "".join(f"Answers saved to {saved}".split()) in unspaced


def test_back_at_the_first_question_says_so(spawn):
    child = spawn()
    child.expect(PROMPT)
    child.sendline("b")
    child.expect(PROMPT)
    assert "This is the first question: there is nothing to go back to." in child.before
    child.sendeof()
    child.expect(pexpect.EOF)


def test_out_of_range_and_non_numbers_are_asked_again(spawn):
    child = spawn("--all")
    child.expect(PROMPT)
    assert _question(child.before) == "age"
    child.sendline("130")
    child.expect(PROMPT)
    assert _flat(child.before) == (
        "130 'age' must be a whole number from 0 to 120 years, got 130. "
        "Type a number from 0 to 120 years, or d if you don't know. "
        "(a number from 0 to 120 years; d, ?, b, q"
    )
    child.sendline("sixty")
    child.expect(PROMPT)
    assert "'age' must be a whole number from 0 to 120 years, got \"sixty\"." in _flat(child.before)
    child.sendline("67.5")
    child.expect(PROMPT)
    assert "got 67.5." in _flat(child.before)
    child.sendline("67")
    child.expect(PROMPT)
    assert _question(child.before) == "cancer_history"
    assert "Question 2" in child.before
    child.sendintr()
    child.expect(pexpect.EOF)


def test_unclear_yes_no_answer_is_asked_again(spawn):
    child = spawn()
    child.expect(PROMPT)
    child.sendline("maybe")
    child.expect(PROMPT)
    assert _flat(child.before) == (
        "maybe Please answer y (yes), n (no) or d (don't know); ? for help, b to go back, "
        "q to stop. (y/n/d, ? help, b back, q quit"
    )
    child.sendintr()
    child.expect(pexpect.EOF)


def test_help_says_why_the_question_is_asked(spawn):
    child = spawn()
    child.expect(PROMPT)
    child.sendline("?")
    child.expect(PROMPT)
    shown = _flat(child.before)
    assert "Asked because the answer can decide:" in shown
    needed = plan(RULES, {}).needed_by[FIRST]
    question = " ".join(RULES.flags[FIRST].question.split())
    rules = " ".join(f"{o.rule.level.upper()} {o.rule.title} [{o.rule.id}]" for o in needed[:6])
    assert shown == (
        f"? Asked because the answer can decide: {rules} "
        f"and {len(needed) - 6} less urgent or similar rules "
        f"{question} (y/n/d, ? help, b back, q quit"
    )
    assert shown.index("EMERGENCY") < shown.index("less urgent")
    child.sendintr()
    child.expect(pexpect.EOF)


@pytest.mark.parametrize("how", ["ctrl-c", "ctrl-d"])
def test_ctrl_c_and_ctrl_d_stop_with_exit_130_and_no_traceback(spawn, how):
    child = spawn()
    child.expect(PROMPT)
    child.sendline("y")
    child.expect(PROMPT)
    if how == "ctrl-c":
        child.sendintr()
    else:
        child.sendeof()
    child.expect(pexpect.EOF)
    rest = _flat(child.before)
    child.close()
    assert child.exitstatus == 130
    assert rest.endswith(STOPPED)
    assert "Traceback" not in rest


def test_refuses_a_stdin_that_is_not_a_terminal(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "redflag", "ask"],
        input="y\n",
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert proc.stderr == (
        "error[usage]: 'redflag ask' is an interview and needs a terminal, but stdin is not one\n"
        "  hint: for scripts, give the answers as JSON: echo '{\"back_pain\": true}' | "
        "redflag check -   (or pass --no-tty-check to answer from a pipe)\n"
    )


# Typer's runner: answers piped in with --no-tty-check.
runner = CliRunner()


def test_runner_refuses_without_tty_check():
    result = runner.invoke(app, ["ask"], input="y\n")
    assert result.exit_code == 2
    assert "needs a terminal" in result.stderr


def test_piped_answers_reach_routine():
    result = runner.invoke(
        app, ["ask", "--no-tty-check"], input="n\n30\n" * 80
    )  # "30" is refused by yes/no questions, "n" by numbers
    assert result.exit_code == 0, result.output
    assert NO_CHANGE in result.stdout
    assert "No rule matched the answers given." in result.stdout
    assert result.stdout.count("Question ") < len(RULES.flags)


def test_json_goes_alone_to_stdout_and_equals_check_for_the_saved_answers(tmp_path):
    saved = tmp_path / "a.json"
    answers = "n\ny\ny\nn\nn\nd\n" + "n\n30\n" * 80
    result = runner.invoke(
        app, ["ask", "--no-tty-check", "--json", "--save", str(saved)], input=answers
    )
    assert result.exit_code == 0, result.output
    asked = json.loads(result.stdout)
    assert "Question 1" in result.stderr
    again = runner.invoke(app, ["check", "-", "--json"], input=saved.read_text())
    assert again.exit_code == 0
    assert json.loads(again.stdout) == asked
    assert None in json.loads(saved.read_text()).values()


def test_fail_on_exits_1_when_reached():
    # back pain, no cancer, then yes to everything: some emergency rule matches.
    result = runner.invoke(
        app, ["ask", "--no-tty-check", "--fail-on", "urgent"], input="n\ny\nn\n" + "y\n" * 40
    )
    assert result.exit_code == 1, result.output
    assert "EMERGENCY" in result.stdout


def test_answers_ending_early_exit_130():
    result = runner.invoke(app, ["ask", "--no-tty-check"], input="n\ny\n")
    assert result.exit_code == 130
    assert STOPPED in result.output


def test_save_into_a_missing_directory_is_refused_before_asking(tmp_path):
    target = tmp_path / "nope" / "a.json"
    result = runner.invoke(app, ["ask", "--no-tty-check", "--save", str(target)], input="n\n")
    assert result.exit_code == 2
    assert result.stderr == (
        f"error[usage]: --save {target}: cannot write there (no directory {target.parent})\n"
        "  hint: give a file path in an existing directory\n"
    )
    assert result.stdout == ""


def test_uses_the_rule_file_given_with_rules(tmp_path):
    rules = tmp_path / "rules.toml"
    rules.write_text(
        """
[ruleset]
id = "tiny"
name = "tiny"
version = "1"
status = "draft"
description = "test"

[sources.S]
title = "t"
organisation = "t"
year = "2024"
url = "https://example.org"

[[levels]]
id = "high"
label = "High"
timeframe = "now"
action = "Act now."

[[levels]]
id = "low"
label = "Low"
timeframe = "later"
action = "Wait."

[flags.a]
type = "bool"
question = "Is A so?"

[flags.b]
type = "bool"
question = "Is B so?"

[[rules]]
id = "both"
level = "high"
title = "A and B"
when = "a and b"
rationale = "t"
advice = "t"
sources = ["S"]
""",
        encoding="utf-8",
    )
    no = runner.invoke(app, ["ask", "--no-tty-check", "--rules", str(rules)], input="n\nn\n")
    assert no.exit_code == 0, no.output
    assert no.stdout.count("Question ") == 1  # a is no: b cannot matter
    assert "LOW" in no.stdout
    yes = runner.invoke(
        app,
        ["ask", "--no-tty-check", "--rules", str(rules), "--fail-on", "high"],
        input="n\ny\ny\n",
    )
    assert yes.exit_code == 1, yes.output
    assert "Provisional level:  HIGH  now" in yes.stdout
    assert "Act now." in yes.stdout


def test_typed_brackets_are_shown_as_typed_not_as_styles():
    result = runner.invoke(app, ["ask", "--no-tty-check", "--all"], input="[bold]x[/]\n")
    assert result.exit_code == 130
    assert (
        "'age' must be a whole number from 0 to 120 years, got \"[bold]x[/]\". "
        "Type a number from 0 to 120 years, or d if you don't know." in _flat(result.stdout)
    )


@pytest.mark.parametrize("word", ["q", "quit", "exit", "Q"])
def test_q_quit_and_exit_stop_with_exit_130_and_say_so(spawn, word):
    child = spawn()
    child.expect(PROMPT)
    assert "q quit" in child.before + child.after
    child.sendline(word)
    child.expect(pexpect.EOF)
    rest = _flat(child.before)
    child.close()
    assert child.exitstatus == 130
    assert rest.endswith("Interview stopped (you typed q): no result, nothing saved.")


def test_dont_know_to_an_emergency_question_ends_with_what_to_do_not_with_no_change(spawn):
    child = spawn()
    answers = {"back_pain": "y", "bladder_dysfunction": "d"}
    asked, out = _interview(child, lambda f: answers.get(f) or _no(f))
    assert child.exitstatus == 0
    assert "bladder_dysfunction" in asked
    flat = _flat(out)
    assert NO_CHANGE not in flat
    bladder = " ".join(RULES.flags["bladder_dysfunction"].question.split())
    assert (
        "You did not know the answer to a question that could make this an EMERGENCY: "
        f"- {bladder} If you cannot tell, treat this as an EMERGENCY: {EMERGENCY_ACTION}"
    ) in flat
    assert "EMERGENCY NOT RULED OUT" in flat
    assert "If every answer is no: ROUTINE" in flat


PRESUPPOSING_RULES = """
[ruleset]
id = "presuppose"
name = "presuppose"
version = "1"
status = "draft"
description = "a follow-up question that presupposes a yes"

[sources.S]
title = "t"
organisation = "t"
year = "2024"
url = "https://example.org"

[[levels]]
id = "high"
label = "High"
timeframe = "now"
action = "Act now."

[[levels]]
id = "low"
label = "Low"
timeframe = "later"
action = "Wait."

[flags.cancer]
type = "bool"
question = "Have you ever had cancer?"

[flags.spread]
type = "bool"
implies = ["cancer"]
question = "Has your cancer spread to your bones?"

[flags.weak]
type = "bool"
question = "Are your legs weak?"

[[rules]]
id = "cancer_weak"
level = "high"
title = "cancer and weakness"
when = "(cancer or spread) and weak"
rationale = "t"
advice = "t"
sources = ["S"]
"""


def test_a_question_presupposing_a_no_answer_is_not_asked(spawn, tmp_path):
    # Generic, from the rule file: `spread` implies `cancer`, so a no to cancer answers it.
    rules = tmp_path / "rules.toml"
    rules.write_text(PRESUPPOSING_RULES, encoding="utf-8")
    child = spawn("--rules", str(rules))
    questions = {
        "Have you ever had cancer?": "cancer",
        "Has your cancer spread to your bones?": "spread",
    }
    asked = []
    while child.expect([PROMPT, pexpect.EOF]) == 0:
        text = _flat(child.before)
        asked.append(next(flag for q, flag in questions.items() if q in text))
        child.sendline("n")
    child.close()
    assert child.exitstatus == 0
    assert asked == ["cancer"]


def test_opening_checklist_lets_a_cancer_patient_say_numbness_first(spawn):
    from redflag.core.interview import checklist

    ticks = checklist(RULES)
    child = spawn(checklist=None)
    child.expect(CHECKLIST)
    shown = _flat(child.before)
    for number, flag in enumerate(ticks, start=1):
        assert f"{number}. {' '.join(RULES.flags[flag].question.split())}" in shown
    for spec in RULES.flags.values():  # a follow-up presupposing another answer is asked
        if isinstance(spec, BoolFlag) and spec.implies:
            assert " ".join(spec.question.split()) not in shown
    child.sendline(f"{ticks.index('cancer_history') + 1}, sensory_change")
    asked, out = _interview(child, _no)
    assert child.exitstatus == 0
    assert asked == []  # the emergency is known at once: nothing left to ask
    flat = _flat(out)
    assert "Noted as yes: cancer_history, sensory_change" in flat
    assert flat.index("Provisional level: EMERGENCY Now") < flat.index(EMERGENCY_ACTION)


def test_checklist_asks_again_for_words_not_on_it_and_q_stops(spawn):
    from redflag.core.interview import checklist

    child = spawn(checklist=None)
    child.expect(CHECKLIST)
    child.sendline("3 99 numbness")
    child.expect(CHECKLIST)
    n = len(checklist(RULES))
    assert _flat(child.before) == (
        f"3 99 numbness Not on the list: 99 numbness. Type numbers from 1 to {n} separated "
        "by spaces, or n for none. (numbers such as 2 5,"
    )
    child.sendline("quit")
    child.expect(pexpect.EOF)
    rest = _flat(child.before)
    child.close()
    assert child.exitstatus == 130
    assert rest.endswith("Interview stopped (you typed q): no result, nothing saved.")


def test_an_unticked_symptom_is_still_asked_not_taken_as_no(spawn):
    from redflag.core.interview import checklist

    child = spawn(checklist=str(checklist(RULES).index("back_pain") + 1))  # back pain only
    asked, _ = _interview(child, _no)
    assert child.exitstatus == 0
    assert "back_pain" not in asked
    assert "bladder_dysfunction" in asked  # left unticked: unknown, so asked


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full (Linux)")
def test_save_into_a_full_disk_exits_74():
    # issue 13: a full disk is the output failing (74), not bad input (2)
    result = runner.invoke(
        app, ["ask", "--no-tty-check", "--save", "/dev/full"], input="y\nn\n" + "d\n" * 80
    )
    assert result.exit_code == 74, result.output
    assert "error[cannot-write]: --save /dev/full: cannot write the answers" in result.stderr
