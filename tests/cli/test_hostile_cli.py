"""Hostile command lines: each gets its documented exit code and a message, never a traceback."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from redflag.cli import app

runner = CliRunner()
DATA = Path(__file__).resolve().parent.parent / "data"

CASES = [
    # (name, argv, stdin, exit code, text expected on stderr)
    (
        "unknown option",
        ["check", "back_pain", "--colour"],
        None,
        2,
        "redflag check: error[usage]: no such option '--colour'\n"
        "  hint: run 'redflag check --help' to see what it accepts",
    ),
    (
        "unknown option close to one",
        ["check", "back_pain", "--jsn"],
        None,
        2,
        "redflag check: error[usage]: no such option '--jsn'\n"
        "  hint: did you mean '--json'? Or run 'redflag check --help' to see what it accepts",
    ),
    (
        "unknown command",
        ["chek", "back_pain"],
        None,
        2,
        "redflag: error[usage]: no such command 'chek'\n  hint: did you mean 'check'?",
    ),
    (
        "missing argument",
        ["diff"],
        None,
        2,
        "redflag diff: error[usage]: missing argument 'old'\n"
        "  hint: run 'redflag diff --help' to see what it accepts",
    ),
    (
        "a choice that is not one",
        ["batch", "--format", "xml"],
        "",
        2,
        "redflag batch: error[usage]: invalid value for '--format': 'xml' is not one of",
    ),
    (
        "stdin mixed with words",
        ["check", "-", "back_pain"],
        None,
        2,
        "error[usage]: give the flags to check as words, or '-' alone",
    ),
    ("no record at all", ["check"], None, 2, "error[usage]: give the flags to check as words"),
    (
        "--jobs beyond its maximum (100,000 forked processes would exhaust the machine)",
        ["batch", "--jobs", "100000"],
        "",
        2,
        "100000 is not in the range 0<=x<=64",
    ),
    (
        "--fail-on an undeclared level",
        ["check", "back_pain", "--fail-on", "high"],
        None,
        2,
        "error[usage]: --fail-on 'high' is not a level of rule set 'redflag-spinal'",
    ),
    (
        "--rules is a directory",
        ["check", "back_pain", "--rules", str(DATA)],
        None,
        3,
        "error[not-a-file]: this is a directory, not a rule file",
    ),
    (
        "--rules does not exist",
        ["check", "back_pain", "--rules", "/no/such/rules.toml"],
        None,
        3,
        "/no/such/rules.toml: error[not-found]: no such rule file",
    ),
    (
        "--rules is not TOML",
        ["check", "back_pain", "--rules", str(DATA / "bad_rules" / "not_toml.toml")],
        None,
        3,
        "error[toml]: not valid TOML",
    ),
    (
        "--rules has a hostile condition",
        ["check", "back_pain", "--rules", str(DATA / "bad_rules" / "injection.toml")],
        None,
        3,
        "error[bad-character]: rule 'r1': unexpected character",
    ),
    (
        "rules validate on a missing file",
        ["rules", "validate", "/no/such.toml"],
        None,
        3,
        "error[not-found]: no such rule file",
    ),
    (
        "a flag given twice",
        ["check", "fever", "fever=no"],
        None,
        2,
        "error[bad-input]: 'fever' is given twice",
    ),
    (
        "a numeric flag without a value",
        ["check", "age"],
        None,
        2,
        "error[bad-value]: 'age' needs a value",
    ),
]


@pytest.mark.parametrize(
    ("name", "argv", "stdin", "code", "text"), CASES, ids=[c[0] for c in CASES]
)
def test_hostile_command_line(name, argv, stdin, code, text):
    result = runner.invoke(app, argv, input=stdin)
    assert result.exit_code == code, result.output
    assert text in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    "argv",
    [["batch", "-", "--output", "{dir}"], ["rules", "doc", "--output", "{dir}"]],
    ids=["batch --output", "rules doc --output"],
)
def test_an_output_that_cannot_be_written_exits_74_naming_it(tmp_path, argv):
    result = runner.invoke(
        app, [a.replace("{dir}", str(tmp_path)) for a in argv], input='{"fever": true}\n'
    )
    assert result.exit_code == 74, result.output
    assert f"error[cannot-write]: cannot write {tmp_path}: Is a directory" in result.stderr


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full (Linux)")
@pytest.mark.parametrize(
    "argv", [["check", "fever"], ["check", "fever", "--json"], ["batch", "-"], ["batch", "-j1"]]
)
def test_a_full_disk_is_reported_not_a_crash(argv):
    with open("/dev/full", "wb") as full:
        result = subprocess.run(
            [sys.executable, "-m", "redflag", *argv, *(["-"] if argv[-1] == "-j1" else [])],
            input=b'{"fever": true}\n' * 5000,
            stdout=full,
            stderr=subprocess.PIPE,
            timeout=60,
            check=False,
        )
    assert result.returncode == 74
    message = "cannot write the output: No space left on device"
    if "--json" in argv:  # under --json the error is JSON too (issue 17)
        error = json.loads(result.stderr)["error"]
        assert (error["code"], error["message"]) == ("cannot-write", message)
    else:
        assert f"error[cannot-write]: {message}".encode() in result.stderr
    assert b"internal error" not in result.stderr


@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0, reason="root can read any file")
def test_unreadable_rules_file_exits_3(tmp_path):
    path = tmp_path / "rules.toml"
    path.write_text("x = 1")
    path.chmod(0)
    result = runner.invoke(app, ["check", "back_pain", "--rules", str(path)])
    assert result.exit_code == 3
    assert "error[unreadable]: cannot read the rule file" in result.stderr


def test_internal_error_is_one_line_without_debug_and_a_traceback_with_it(monkeypatch):
    import redflag.core.evaluate as evaluate_module

    def boom(*args, **kwargs):
        raise ZeroDivisionError("planted bug")

    monkeypatch.setattr(evaluate_module, "evaluate", boom)
    result = runner.invoke(app, ["check", "back_pain"])
    assert result.exit_code == 70
    assert result.stderr.startswith("redflag: internal error (a bug).")
    assert "Traceback" not in result.stderr
    result = runner.invoke(app, ["--debug", "check", "back_pain"])
    assert result.exit_code == 70
    assert "Traceback" in result.stderr and "planted bug" in result.stderr
    result = runner.invoke(app, ["check", "back_pain"])  # --debug does not stay for the next run
    assert "Traceback" not in result.stderr


def test_every_command_group_runs_through_the_one_handler(monkeypatch):
    """A bug in a command of the lazily built `rules` group is caught by the same handler
    as `check`: no command carries its own."""
    import redflag.formats.rulefile as rulefile

    def boom(*args, **kwargs):
        raise ZeroDivisionError("planted bug")

    monkeypatch.setattr(rulefile, "load_ruleset", boom)  # read when a command loads rules
    for words in (
        ["rules", "analyze"],
        ["explain", "back_pain"],
        ["diff", "rules.toml", "rules.toml"],
    ):
        result = runner.invoke(app, words)
        assert result.exit_code == 70, words
        assert result.stderr.startswith("redflag: internal error (a bug)."), words


def test_real_process_usage_error_exit_2_without_traceback():
    proc = subprocess.run(
        [sys.executable, "-m", "redflag", "check", "--nope"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 2
    assert proc.stderr == (
        "redflag check: error[usage]: no such option '--nope'\n"
        "  hint: run 'redflag check --help' to see what it accepts\n"
    )


DEEP = "[" * 100_000 + "]" * 100_000  # beyond any recursion limit of a recursive parser


@pytest.mark.parametrize(
    ("argv", "stdin", "file_text", "code", "text"),
    [
        (["check", "-"], '{"fever": ' + DEEP + "}", None, 2, "error[bad-json]: the JSON is nested"),
        (["batch", "--format", "json"], f"[{DEEP}]", None, 2, "the JSON is nested too deeply"),
        (["rules", "validate", "{file}"], None, f"x = {DEEP}\n", 3, "nested too deeply"),
        (["test", "{file}"], None, f"x = {DEEP}\n", 2, "error[bad-case-file]: not valid TOML"),
    ],
    ids=["check record", "batch JSON array", "rule file", "case file"],
)
def test_input_nested_too_deeply_is_an_error_not_a_crash(
    tmp_path, argv, stdin, file_text, code, text
):
    path = tmp_path / "deep.toml"
    if file_text is not None:
        path.write_text(file_text)
    result = runner.invoke(app, [a.replace("{file}", str(path)) for a in argv], input=stdin)
    assert result.exit_code == code, result.output
    assert text in result.stderr
    assert "internal error" not in result.stderr


def test_a_line_nested_too_deeply_is_an_error_line_between_good_ones():
    stdin = '{"fever": true}\n{"fever": ' + DEEP + '}\n{"fever": true}\n'
    result = subprocess.run(
        [sys.executable, "-m", "redflag", "batch"],
        input=stdin.encode(),
        capture_output=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2, result.stderr
    out = result.stdout.decode().splitlines()
    assert len(out) == 3 and '"code":"bad-json"' in out[1] and '"level"' in out[2]
    assert "nested too deeply" in out[1]


def _run_home(home: Path, *argv: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if k != "XDG_CACHE_HOME"}
    return subprocess.run(
        [sys.executable, "-m", "redflag", *argv],
        capture_output=True,
        text=True,
        env={**clean, "HOME": str(home), "NO_COLOR": "1", **env},
        check=False,
        timeout=60,
    )


def test_nothing_in_a_cache_directory_can_change_a_result(tmp_path):
    # issue 13: an edited load cache once turned an emergency into 'soon', "approved"
    import dataclasses
    import hashlib
    import json

    from redflag import __version__
    from redflag.formats import rulefile

    data = rulefile.bundled_rules_bytes()
    sha = hashlib.sha256(data).hexdigest()
    doc = dataclasses.asdict(rulefile._parse(data, "x")[0])
    doc["ruleset"]["status"] = "approved"
    for rule in doc["rules"]:
        rule["level"] = "soon"
    forged = {"format": 1, "sha256": sha, "ruleset": doc}
    for cache in (tmp_path / ".cache" / "redflag", tmp_path / "xdg" / "redflag"):
        cache.mkdir(parents=True)
        (cache / f"{sha}-{__version__}.json").write_text(json.dumps(forged))
        os.mkfifo(cache / "fifo")  # a FIFO once hung `check`
    before = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*"))
    for env in ({}, {"XDG_CACHE_HOME": str(tmp_path / "xdg")}, {"XDG_CACHE_HOME": "rel"}):
        proc = _run_home(tmp_path, "check", "--json", "cancer_history", "limb_weakness", **env)
        assert proc.returncode == 0, proc.stderr
        assert json.loads(proc.stdout)["level"] == "emergency"
    assert sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*")) == before


def test_check_writes_no_file_anywhere(tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    proc = subprocess.run(
        [sys.executable, "-m", "redflag", "check", "back_pain"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={**os.environ, "HOME": "", "XDG_CACHE_HOME": "rel", "PYTHONDONTWRITEBYTECODE": "1"},
        check=False,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    assert list(tmp_path.rglob("*")) == [home]


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_check_and_batch_agree_on_numbers_near_2_53(tmp_path, jobs):
    import json

    rules = tmp_path / "big.toml"
    text = (DATA / "good_mini.toml").read_text()
    rules.write_text(text.replace("max = 120", "max = 9007199254740991"))
    ages = ["9007199254740991", "9007199254740992", "9007199254740993", "9007199254740991.0"]
    lines = [f'{{"back_pain": true, "limb_weakness": true, "age": {a}}}' for a in ages]
    batch = runner.invoke(
        app, ["batch", "--rules", str(rules), "--jobs", jobs], input="\n".join(lines) + "\n"
    )
    got = [json.loads(line) for line in batch.stdout.splitlines()]
    for line, out in zip(lines, got, strict=True):
        alone = runner.invoke(app, ["check", "-", "--json", "--rules", str(rules)], input=line)
        if alone.exit_code == 0:
            assert out.get("level") == json.loads(alone.stdout)["level"], line
        else:
            assert out["error"]["code"] == "bad-value", line
    assert [("error" in out) for out in got] == [False, True, True, False]


BIG = "1" + "0" * 4400  # past Python's 4,300-digit int() limit: once exit 70 everywhere


@pytest.mark.parametrize(
    ("name", "text", "argv", "code", "message"),
    [
        (
            "rules.toml",
            (DATA / "good_mini.toml").read_text().replace("max = 120", f"max = {BIG}"),
            ["rules", "validate"],
            3,
            "error[toml]: not valid TOML for a rule file: a number is too long",
        ),
        (
            "rules.toml",
            (DATA / "good_mini.toml").read_text().replace("max = 120", f"max = {BIG}"),
            ["check", "back_pain", "--rules"],
            3,
            "error[toml]: not valid TOML for a rule file: a number is too long",
        ),
        (
            "cases.toml",
            f'[[case]]\nname = "x"\nexpect = "routine"\nrecord = {{age = {BIG}}}\n',
            ["test"],
            2,
            "error[bad-case-file]: not valid TOML for a case file: a number is too long",
        ),
        (
            "cases.ndjson",
            f'{{"name": "x", "expect": "routine", "record": {{"age": {BIG}}}}}\n',
            ["test"],
            2,
            "error[bad-case-file]: a number of 4,401 digits is too long",
        ),
    ],
)
def test_an_integer_past_4300_digits_in_a_file_is_an_error(
    tmp_path, name, text, argv, code, message
):
    path = tmp_path / name
    path.write_text(text)
    result = runner.invoke(app, [*argv, str(path)])
    assert result.exit_code == code, result.output
    assert message in result.stderr


def _hostile_rules(tmp_path: Path) -> Path:
    """good_mini.toml with escape sequences, a bidi override and rich markup in its text."""
    text = (DATA / "good_mini.toml").read_text()
    evil = r"\u001b]0;pwned\u0007\u001b[2J \u202eevil \u009b"
    text = text.replace(
        'title = "Rule one"', f'title = "Rule [/] [link=https://x.example]l[/link] {evil}"'
    )
    text = text.replace('question = "Back pain?"', f'question = "Back [/bold] pain? {evil}"')
    text = text.replace('name = "Mini"', 'name = "Mini [/bold] [red on red]hidden[/]"')
    text = text.replace('timeframe = "Now"', f'timeframe = "Now [/] {evil}"')
    text = text.replace('action = "Call 999"', f'action = "Call 999 [see note] {evil}"')
    path = tmp_path / "hostile.toml"
    path.write_text(text)
    return path


RECORD = ["back_pain", "limb_weakness", "age=60"]


@pytest.mark.parametrize(
    "argv",
    [
        ["rules", "show"],
        ["rules", "validate"],
        ["rules", "analyze"],
        ["check", *RECORD, "--rules"],
        ["check", "age=60", "--rules"],
        ["explain", *RECORD, "--rules"],
        ["diff", str(DATA / "good_mini.toml")],
    ],
    ids=lambda argv: " ".join(a for a in argv if "/" not in a),
)
def test_rule_text_is_shown_never_obeyed(tmp_path, argv):
    # issue 13: escapes set the window title and cleared the screen; `[/]` made rules show
    # exit 70; `[see note]` vanished; `[link=...]` made a hyperlink
    result = runner.invoke(app, [*argv, str(_hostile_rules(tmp_path))])
    assert result.exit_code in (0, 1), result.output
    out = result.stdout + result.stderr
    for hidden in ("\x1b", "\u202e", "\x9b", "\x07"):
        assert hidden not in out
    if argv[0] in ("check", "explain") or argv[:2] == ["rules", "show"]:
        assert "<U+202E>evil" in out and "\u241b[2J" in out
    if argv[:2] == ["rules", "show"]:
        assert "Mini [/bold] [red on red]hidden[/]" in out and "[link=https://x.example]" in out
    if argv[0] == "check" and "back_pain" in argv:
        assert "[see note]" in out and "Now [/]" in out


def test_case_names_and_csv_headers_are_shown_never_obeyed(tmp_path):
    cases = tmp_path / "cases.toml"
    cases.write_text(
        '[[case]]\nname = "evil \\u001b[2J \\u202e"\nexpect = "emergency"\nrecord = {}\n'
    )
    result = runner.invoke(app, ["test", str(cases)])
    assert result.exit_code == 1
    assert "evil \u241b[2J <U+202E>" in result.stdout and "\x1b" not in result.stdout
    result = runner.invoke(app, ["batch", "--format", "csv"], input="id,x\x1b[2J\n1,yes\n")
    assert "column 'x\u241b[2J' is not a flag" in result.stderr and "\x1b" not in result.stderr


def test_record_keys_reach_stderr_made_visible():
    record = '{"x\\u001b]0;pwned\\u0007\\u001b[2J\\n  hint: forged": true}'
    result = runner.invoke(app, ["check", "-"], input=record)
    assert result.exit_code == 2
    assert result.stderr.splitlines()[0] == (
        "<stdin>: error[unknown-flag]: 'x\u241b]0;pwned\u2407\u241b[2J\u240a  hint: forged' is "
        "not a flag of rule set 'redflag-spinal'"
    )


def test_visible_shows_every_control_character_and_leaves_text_alone():
    from redflag.errors import visible

    assert (
        visible("Back pain, 67 \u00e9\u00e8 \u2013 ok [x]")
        == "Back pain, 67 \u00e9\u00e8 \u2013 ok [x]"
    )
    assert visible("a\x1b[2J\x00\x7f") == "a\u241b[2J\u2400\u2421"
    assert visible("\u202e\u2066\u200b\x9b\ud800\u2028") == (
        "<U+202E><U+2066><U+200B><U+009B><U+D800><U+2028>"
    )
    assert visible("a\nb\tc") == "a\u240ab\tc" and visible("a\nb", newlines=True) == "a\nb"
    assert visible(visible("\x1b\u202e")) == visible("\x1b\u202e")


def test_csv_output_neutralises_spreadsheet_formulas():
    # issue 13 (OWASP "CSV Injection"): text cells starting = + - @ tab or CR get a leading '
    import csv
    import io

    ids = ['=HYPERLINK("http://x","y")', "+cmd|' /C calc'!A0", "@SUM(1)", "-2+3", "\tx", "ok"]
    lines = [json.dumps({"id": i, "back_pain": True}) for i in ids]
    lines += ['{"id": -2}', '{"id": "=1", "bogus": 1}']
    result = runner.invoke(
        app, ["batch", "--format-out", "csv", "--jobs", "1"], input="\n".join(lines) + "\n"
    )
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert [r["id"] for r in rows] == [*("'" + i for i in ids[:-1]), "ok", "-2", "'=1"]
    assert rows[-1]["error_code"] == "unknown-flag"


def _doc_rules(tmp_path: Path) -> Path:
    text = (DATA / "good_mini.toml").read_text()
    text = text.replace('url = "https://example.org"', 'url = "javascript:alert(document.domain)"')
    text = text.replace('action = "Call 999"', 'action = """Call\n| 999 ~~now~~"""')
    path = tmp_path / "doc.toml"
    path.write_text(text)
    return path


def test_rules_doc_links_only_web_addresses_and_validate_warns(tmp_path):
    path = _doc_rules(tmp_path)
    page = runner.invoke(app, ["rules", "doc", "--format", "html", str(path)])
    assert page.exit_code == 0, page.output
    assert "href" not in page.stdout
    assert "<code>javascript:alert(document.domain)</code>" in page.stdout
    validate = runner.invoke(app, ["rules", "validate", str(path)])
    assert validate.exit_code == 0
    assert "warning[url-scheme]: source 'S1' has a 'javascript:' URL" in validate.stderr


def test_rules_doc_markdown_keeps_tables_whole_and_escapes_strikethrough(tmp_path):
    page = runner.invoke(app, ["rules", "doc", str(_doc_rules(tmp_path))])
    assert page.exit_code == 0, page.output
    row = next(line for line in page.stdout.splitlines() if line.startswith("| `emergency`"))
    assert row == "| `emergency` | Emergency | Now | Call \\| 999 \\~\\~now\\~\\~ |"
    assert "javascript:" not in page.stdout.replace("`javascript:alert(document.domain)`", "")


def _shell(command: str, **env: str) -> subprocess.CompletedProcess[str]:
    """`python -m redflag ...` under a real shell, for closed and redirected descriptors."""
    return subprocess.run(
        ["sh", "-c", f"cd {ROOT} && exec {sys.executable} -m redflag {command}"],
        capture_output=True,
        text=True,
        env={**os.environ, **env},
        check=False,
        timeout=120,
    )


ROOT = DATA.parent.parent


@pytest.mark.parametrize(
    "command",
    [
        "check back_pain",
        "check back_pain --json",
        "explain back_pain",
        "rules show",
        "rules analyze",  # once exit 0 with its report lost
        "rules doc",
        "test tests/data/cases/basic.toml",
        "diff tests/data/good_mini.toml tests/data/good_mini.toml",
        "--version",
        "--help",
        "batch tests/data/cases/basic.ndjson",
    ],
)
def test_a_closed_stdout_exits_74_saying_so(command):
    # issue 13: `>&-` was exit 70 (Python's sys.stdout is None)
    proc = _shell(f"{command} >&-")
    assert proc.returncode == 74, proc.stderr
    message = "cannot write the output: standard output is closed"
    if "--json" in command:  # under --json the error is JSON too (issue 17)
        error = json.loads(proc.stderr)["error"]
        assert (error["code"], error["message"]) == ("cannot-write", message)
    else:
        assert f"error[cannot-write]: {message}" in proc.stderr


@pytest.mark.parametrize(
    "command", ["check -", "explain -", "batch", "batch -j1", "ask --no-tty-check"]
)
def test_a_closed_stdin_exits_2_saying_so(command):
    proc = _shell(f"{command} <&-")
    assert proc.returncode == 2, proc.stderr
    assert "error[bad-input]: standard input is closed" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_batch_with_output_file_needs_no_stdout(tmp_path):
    out, records = tmp_path / "out.ndjson", tmp_path / "in.ndjson"
    records.write_text('{"back_pain": true}\n')
    proc = _shell(f"batch -o {out} {records} >&-")
    assert proc.returncode == 0, proc.stderr
    assert out.read_text().count("\n") >= 1


@pytest.mark.parametrize(
    "argv",
    [
        ["test", "tests/data/cases/basic.toml"],  # once exit 1: "a failing case"
        ["rules", "show"],
        ["check", "back_pain"],
        ["check", "back_pain", "--json"],
        ["rules", "doc"],
    ],
)
def test_a_reader_that_goes_away_ends_the_command_quietly(argv):
    with subprocess.Popen(
        [sys.executable, "-m", "redflag", *argv],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    ) as proc:
        assert proc.stdout is not None and proc.stderr is not None
        proc.stdout.close()  # no reader: the first write gets EPIPE
        err = proc.stderr.read().decode()
        assert proc.wait(timeout=120) == 0, err
    assert err == ""


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full (Linux)")
@pytest.mark.parametrize("command", ["--version", "--help", "check --help", "rules show --help"])
def test_help_and_version_into_a_full_disk_exit_74(command):
    proc = _shell(f"{command} > /dev/full")
    assert proc.returncode == 74, proc.stderr
    assert proc.stderr.startswith("error[cannot-write]: cannot write the output: No space left")
    assert "Traceback" not in proc.stderr


@pytest.mark.parametrize(
    "env",
    [{"PYTHONIOENCODING": "ascii"}, {"LC_ALL": "C", "PYTHONUTF8": "0", "PYTHONCOERCECLOCALE": "0"}],
    ids=["ascii", "C locale"],
)
def test_a_non_utf8_terminal_gets_escapes_and_documents_stay_utf8(env):
    # issue 13: non-ASCII rule text with a non-UTF-8 stdout was exit 70
    env = {k: v for k, v in {**os.environ, **env}.items() if k != "PYTHONIOENCODING" or k in env}
    for command in ("check cancer_history limb_weakness", "rules show", "explain back_pain"):
        proc = _shell(command, **env)
        assert proc.returncode == 0, (command, proc.stderr)
    doc = subprocess.run(
        [sys.executable, "-m", "redflag", "rules", "doc"],
        cwd=ROOT,
        capture_output=True,
        env=env,
        check=False,
        timeout=120,
    )
    assert doc.returncode == 0
    doc.stdout.decode("utf-8")  # UTF-8 bytes, whatever the locale
    got = subprocess.run(
        [sys.executable, "-m", "redflag", "check", "--json", "cancer_history"],
        cwd=ROOT,
        capture_output=True,
        env=env,
        check=False,
        timeout=120,
    )
    assert got.returncode == 0
    assert json.loads(got.stdout.decode("utf-8"))["level"]


@pytest.mark.parametrize("jobs", ["1", "2"])
@pytest.mark.parametrize("out", ["ndjson", "csv"])
def test_a_rule_set_with_no_rules_still_answers_every_record(tmp_path, jobs, out):
    # issue 13: with rules = [] the CSV output held only its header
    text = (DATA / "good_mini.toml").read_text()
    path = tmp_path / "zero.toml"
    path.write_text("rules = []\n" + text[: text.index("[[rules]]")])
    records = '{"age": 5, "id": "a"}\n{"age": 7}\n{"bogus": 1}\n'
    argv = ["batch", "--rules", str(path), "--jobs", jobs, "--format-out", out]
    result = runner.invoke(app, argv, input=records)
    assert result.exit_code == 2, result.output
    lines = result.stdout.splitlines()
    if out == "csv":
        assert lines[1:] == [
            "1,a,routine,,,routine,,",
            "2,,routine,,,routine,,",
            "3,,,,,,unknown-flag,'bogus' is not a flag of rule set 'mini'",
        ]
    else:
        assert [json.loads(line).get("level") for line in lines] == ["routine", "routine", None]


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_a_rule_set_with_no_yes_no_flag_runs_in_batch(tmp_path, jobs):
    # issue 13: exit 70 with -j1; a raw traceback and 'worker-lost' with -j2
    path = tmp_path / "nobool.toml"
    text = (DATA / "good_mini.toml").read_text()
    text = text.replace('[flags.back_pain]\ntype = "bool"\nquestion = "Back pain?"\n', "")
    text = text.replace('[flags.limb_weakness]\ntype = "bool"\nquestion = "Weak limbs?"\n', "")
    path.write_text(text.replace("back_pain and limb_weakness and age >= 50", "age >= 50"))
    records = '{"age": 55}\n{"age": 7, "id": "x"}\n{"age": 7.5}\n'
    result = runner.invoke(app, ["batch", "--rules", str(path), "--jobs", jobs], input=records)
    assert result.exit_code == 2, result.output
    got = [json.loads(line) for line in result.stdout.splitlines()]
    assert [g.get("level") for g in got] == ["emergency", "routine", None]
    assert got[1]["id"] == "x" and got[2]["error"]["code"] == "bad-value"


def test_an_empty_csv_id_cell_is_no_id():
    # issue 13: an empty id cell made the row a bad record, though empty cells are unknown
    result = runner.invoke(
        app, ["batch", "--format", "csv"], input="id,back_pain\n,yes\n  ,no\n2,no\n"
    )
    assert result.exit_code == 0, result.output
    assert [json.loads(line)["id"] for line in result.stdout.splitlines()] == [None, None, "2"]


@pytest.mark.skipif(not os.path.exists("/dev/zero"), reason="needs /dev/zero")
@pytest.mark.parametrize(
    ("command", "head", "text"),
    [
        ("batch", "{}", "errors 2"),  # the 'yes' line and the long one
        ("batch -j1", "{}", "errors 2"),
        ("batch --line-buffered", "{}", "errors 2"),  # once exit 70
        ("batch --format csv", "back_pain", "errors 1"),  # once exit 70
        ("batch --format json", "[", "error[too-large]: a JSON array over 16 MiB"),  # once 70
        ("test /dev/stdin", "{}", "error[bad-case-file]: the case file is over 16 MiB"),
        ("batch --format fhir", "{}", "errors 3"),  # FHIR lines (issue 16): '{}' is none
    ],
)
def test_every_input_path_stays_in_bounded_memory(command, head, text):
    # issue 13: a 300 MB line under a 500 MB address-space limit; each path reads in bounded
    # pieces and refuses what is over its documented limit
    feed = f"(echo '{head}'; echo yes; head -c 300000000 /dev/zero | tr '\\0' a; echo)"
    proc = subprocess.run(
        ["sh", "-c", f"{feed} | (ulimit -v 500000; exec {sys.executable} -m redflag {command})"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert proc.returncode == 2, proc.stderr
    assert text in proc.stderr and "Traceback" not in proc.stderr


@pytest.fixture(scope="module")
def gzip_bomb(tmp_path_factory):
    """300 MB of one line, gzipped to about 1 MB."""
    import gzip

    path = tmp_path_factory.mktemp("bomb") / "bomb.ndjson.gz"
    with gzip.open(path, "wb", compresslevel=1) as fh:
        fh.write(b"back_pain\nyes\n")
        block = b"a" * (1 << 20)
        for _ in range(300):
            fh.write(block)
        fh.write(b"\n")
    return path


@pytest.mark.parametrize("options", ["", "--line-buffered", "--format csv"])
def test_a_gzip_bomb_stays_in_bounded_memory(gzip_bomb, options):
    # issue 13: a 4.3 MB gzip bomb took 2.0 GB with --line-buffered or --format csv
    command = f"{sys.executable} -m redflag batch {options} {gzip_bomb}"
    proc = subprocess.run(
        ["sh", "-c", f"ulimit -v 500000; exec {command}"],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr and "records in" in proc.stderr


def test_rules_validate_shows_raw_control_bytes_in_its_snippet_made_visible(tmp_path):
    # issue 13: rules validate echoed raw control bytes in its snippets
    path = tmp_path / "raw.toml"
    text = (DATA / "good_mini.toml").read_text()
    path.write_text(text.replace('name = "Mini"', 'name = "Mini \x1b]0;pwned\x07\x1b[2J"'))
    result = runner.invoke(app, ["rules", "validate", str(path)])
    assert result.exit_code == 3
    assert "\x1b" not in result.stderr and "\x07" not in result.stderr
    assert 'name = "Mini \u241b]0;pwned\u2407\u241b[2J"' in result.stderr


def test_duckdb_out_of_memory_is_a_clear_error_not_a_crash(monkeypatch):
    # DuckDB out of memory: exit 71 with what to do, never exit 70. A real memory limit
    # (ulimit -v) stops the interpreter itself on some machines, so DuckDB's own exception
    # is raised where the engine evaluates.
    import duckdb

    from redflag.engines import batch as engine

    def out_of_memory(*args, **kwargs):
        raise duckdb.OutOfMemoryException("Out of Memory Error: could not allocate block")

    monkeypatch.setattr(engine, "_text_to_text", out_of_memory)
    result = runner.invoke(app, ["batch", "--engine", "duckdb"], input="{}\n")
    assert result.exit_code == 71, result.output
    assert "error[out-of-memory]: DuckDB ran out of memory (Out of Memory Error" in result.stderr
    assert "drop --engine duckdb" in result.stderr
