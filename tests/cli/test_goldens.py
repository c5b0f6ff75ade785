"""Human output pinned at 100 columns without colour; refresh with --update-goldens and review."""

import re

import pytest
from typer.testing import CliRunner

from redflag.cli import app
from redflag.formats.rulefile import load_ruleset
from tests.tooling import ROOT

runner = CliRunner()
ENV = {"NO_COLOR": "1", "COLUMNS": "100", "TERM": "dumb"}
INPUTS = "tests/data/golden_inputs"
DIFF_MINI = ["diff", "tests/data/good_mini.toml", f"{INPUTS}/mini_new.toml"]
# Timings ("examined in 0.09 s") vary from run to run; the goldens hold "N s" instead.
TIMING = re.compile(r"\b\d+\.\d+ s\b")


@pytest.fixture
def at_root(monkeypatch):
    """Run from the repository root, so paths in the output are the relative ones we give."""
    monkeypatch.chdir(ROOT)


@pytest.mark.parametrize(
    ("name", "argv", "exit_code"),
    [
        (
            "check_mscc.txt",
            ["check", "cancer_history", "back_pain", "limb_weakness", "age=67", "--details"],
            0,
        ),
        ("check_routine.txt", ["check", "back_pain", "age=35", "pain_duration_weeks=1", "-v"], 0),
        ("test_cases.txt", ["test", f"{INPUTS}/cases.toml"], 1),
        ("test_cases_coverage.txt", ["test", f"{INPUTS}/cases.toml", "--coverage"], 1),
        ("diff_mini.txt", DIFF_MINI, 0),
        (
            "diff_mini_cases_exhaustive.txt",
            [*DIFF_MINI, "--cases", f"{INPUTS}/mini_cases.toml", "--exhaustive"],
            1,
        ),
        ("rules_analyze.txt", ["rules", "analyze"], 0),
    ],
)
def test_human_output_golden(golden, at_root, name, argv, exit_code):
    result = runner.invoke(app, argv, env=ENV)
    assert result.exit_code == exit_code, result.output
    golden(name, TIMING.sub("N s", result.stdout))


# The default human output of `check` at an 80x24 terminal (issue 12): one screen, and the
# level (or the worst case not yet ruled out) with its action in the first lines.
# Every yes/no flag answered no: someone with no pain and no other symptom.
_SHIPPED = load_ruleset(None)
NO_EMERGENCY = [
    f"{f}=no" for f in _SHIPPED.flags if f not in _SHIPPED.numeric_flags and f != "back_pain"
]
SCREEN = {"NO_COLOR": "1", "COLUMNS": "80", "TERM": "dumb"}
SCREENS = [
    ("screen_emergency.txt", ["cancer_history", "back_pain", "limb_weakness"], "EMERGENCY"),
    ("screen_incomplete_routine.txt", ["back_pain", "age=35"], "EMERGENCY NOT RULED OUT"),
    ("screen_urgent_unknowns.txt", ["back_pain", "age=70", "night_pain"], "EMERGENCY NOT"),
    ("screen_no_pain.txt", ["back_pain=no", "age=35", *NO_EMERGENCY], "ROUTINE"),
]


@pytest.mark.parametrize(("name", "words", "headline"), SCREENS)
def test_check_fits_an_80x24_screen_with_level_and_action_first(golden, name, words, headline):
    result = runner.invoke(app, ["check", *words], env=SCREEN)
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert len(lines) <= 23, result.stdout  # one line left for the shell prompt
    assert all(len(line.rstrip()) <= 80 for line in lines)
    assert headline in lines[0]
    first = " ".join(line.strip("│ ") for line in lines[:5])
    assert "Call 999" in first or "No red flag was found" in first, first
    assert "decision support, not a diagnosis" in result.stdout
    golden(name, result.stdout)


def test_check_screen_through_a_real_process_at_80_columns(tmp_path):
    import os
    import subprocess
    import sys

    env = {**os.environ, **SCREEN, "REDFLAG_CACHE_DIR": str(tmp_path)}
    words = ["cancer_history", "back_pain", "limb_weakness"]
    proc = subprocess.run(
        [sys.executable, "-m", "redflag", "check", *words],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == runner.invoke(app, ["check", *words], env=SCREEN).stdout
    assert len(proc.stdout.splitlines()) <= 23
