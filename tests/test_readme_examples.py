"""The README's console examples are real output of the current code.

Every fenced block with `$ ` command lines is run: each command (with `redflag` on PATH, in a
scratch folder holding the repository's rules, tests and docs and the `lowered.toml` the diff
example names) is compared with the lines under it. Timings, rates and short hashes are
normalised; a line ending in "..." matches any line it begins, and a line "..." alone ends
the comparison of that command. Commands that need what a test cannot have here (an
interactive terminal, a running server, a 200,000-record corpus, the reader's own file) are
listed in SKIP with the reason, and tested elsewhere.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.tooling import ROOT

README = (ROOT / "README.md").read_text(encoding="utf-8")

SKIP = {
    "redflag ask": "interactive: tests/cli/test_ask.py drives it through a pseudo-terminal",
    "curl ": "needs `redflag serve` running: tests/service/ start it on loopback",
    "corpus-200000.ndjson": "a generated corpus: benchmarks/ measure it",
    "my-rules.toml": "the reader's own rule file",
    "echo $?": "shows the exit code of the command before it, checked there",
    # "At scale": engines and the example's files; tests/sql, tests/engines and tests/spark
    # run the same compiled queries on real DuckDB, PostgreSQL and Spark
    "answers.ndjson": "the At scale example's file, with the DuckDB shell",
    "schema.sql": "the At scale example's file, with the DuckDB shell",
    "duckdb -c": "needs the DuckDB shell (not a dependency)",
    "intake.parquet": "the At scale example's Parquet file",
    "psql": "needs a running PostgreSQL server",
    "spark-submit": "needs a Spark installation's spark-submit",
}
NORMALISE = [
    (re.compile(r"\b\d+(\.\d+)? s\b"), "N s"),
    (re.compile(r"\b[\d,]+ records/s\b"), "N records/s"),
    (re.compile(r"sha256 [0-9a-f]{12}"), "sha256 HASH"),
    (re.compile(r"\b[0-9a-f]{64}\b"), "SHA256"),
    (re.compile(r"\b\d+ solver calls\b"), "N solver calls"),
]


def examples() -> list[tuple[int, str, list[str]]]:
    """(README line, command, expected lines) for every console command."""
    found: list[tuple[int, str, list[str]]] = []
    lines = README.splitlines()
    inside = False
    current: tuple[int, str, list[str]] | None = None
    for number, line in enumerate(lines, start=1):
        if line.startswith("```"):
            if inside and current is not None:
                found.append(current)
            inside, current = not inside, None
            continue
        if not inside:
            continue
        if line.startswith("$ "):
            if current is not None:
                found.append(current)
            current = (number, line[2:], [])
        elif current is not None and not current[2] and _open(current[1]):
            current = (current[0], current[1] + "\n" + line, [])  # the command goes on
        elif current is not None:
            current[2].append(line)
    return found


def _open(command: str) -> bool:
    """Whether a command continues on the next line (an open quote, a trailing backslash)."""
    return command.count("'") % 2 == 1 or command.endswith("\\")


def _skip_reason(command: str) -> str | None:
    return next((why for key, why in SKIP.items() if key in command), None)


CASES = [e for e in examples() if e[1].split("#")[0].strip()]


@pytest.fixture(scope="module")
def scratch(tmp_path_factory):
    folder = tmp_path_factory.mktemp("readme")
    text = (ROOT / "rules.toml").read_text(encoding="utf-8")
    (folder / "rules.toml").write_text(text, encoding="utf-8")
    lowered = text.replace(
        'id = "back_neuro"\nlevel = "urgent"', 'id = "back_neuro"\nlevel = "soon"'
    )
    assert lowered != text
    (folder / "lowered.toml").write_text(lowered, encoding="utf-8")
    for name in ("tests", "docs"):
        os.symlink(ROOT / name, folder / name)
    return folder


def _normal(text: str) -> str:
    for pattern, replacement in NORMALISE:
        text = pattern.sub(replacement, text)
    return text.rstrip()


def _matches(expected: list[str], got: list[str]) -> bool:
    for i, want in enumerate(expected):
        want = _normal(want)
        if want == "...":
            return True
        if i >= len(got):
            return False
        have = _normal(got[i])
        if want.endswith("...") and have.startswith(want[:-3].rstrip("─ ").rstrip()):
            continue
        if want != have:
            return False
    return len(got) == len(expected)


@pytest.mark.parametrize(("line", "command", "expected"), CASES, ids=[f"L{c[0]}" for c in CASES])
def test_readme_example_is_real_output(scratch, line, command, expected):
    reason = _skip_reason(command)
    if reason:
        pytest.skip(reason)
    shell = command.split("  #")[0].strip()
    env = {
        **os.environ,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        "NO_COLOR": "1",
        "TERM": "dumb",
    }
    outputs = []
    for width in ("80", "100"):
        done = subprocess.run(
            ["bash", "-c", shell],
            cwd=scratch,
            env={**env, "COLUMNS": width},
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        got = (done.stdout + done.stderr).splitlines()
        if _matches(expected, got):
            return
        outputs.append("\n".join(got))
    pytest.fail(
        f"README line {line}: `{command}` printed something else.\n--- README:\n"
        + "\n".join(expected)
        + "\n--- at 80 columns:\n"
        + outputs[0]
    )


def test_the_examples_are_found():
    commands = [c for _, c, _ in CASES]
    assert any(
        c.startswith("redflag check cancer_history back_pain limb_weakness") for c in commands
    )
    assert sum(1 for c in commands if _skip_reason(c) is None) >= 10
    assert shutil.which("bash")
