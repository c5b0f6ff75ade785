"""The Python API is typed for its users: mypy --strict accepts a program using it, and
catches one that misuses it (py.typed, and the lazy names resolve for type checkers)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# mypy in a subprocess, given up to 300 s below: slow, and longer than the default timeout
pytestmark = [pytest.mark.slow, pytest.mark.timeout(360)]

GOOD = """
import redflag

rules: redflag.Rules = redflag.load_rules()
result: redflag.CheckResult = rules.check({"back_pain": True, "age": 70})
level: str = result.level
matched: tuple[str, ...] = result.matched
for item in rules.check_many([{"back_pain": True}]):
    if isinstance(item, redflag.RecordError):
        code: str = item.error.code
    else:
        worst: str = item.worst_case
try:
    rules.check({"nope": True})
except redflag.UnknownFlagError as err:
    hint: str | None = err.hint
"""

BAD = """
import redflag

level: int = redflag.load_rules().check({}).level
"""


def mypy(tmp_path: Path, source: str) -> subprocess.CompletedProcess[str]:
    program = tmp_path / "program.py"
    program.write_text(source)
    return subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-incremental", str(program)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )


def test_mypy_strict_accepts_a_program_using_the_api(tmp_path):
    done = mypy(tmp_path, GOOD)
    assert done.returncode == 0, done.stdout + done.stderr


def test_mypy_catches_a_misuse_of_the_api(tmp_path):
    done = mypy(tmp_path, BAD)
    assert done.returncode == 1
    assert (
        'Incompatible types in assignment (expression has type "str", variable has type "int")'
        in (done.stdout)
    )
