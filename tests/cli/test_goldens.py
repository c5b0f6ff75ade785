"""Human output pinned at 100 columns without colour; refresh with --update-goldens and review."""

import re

import pytest
from typer.testing import CliRunner

from redflag.cli import app
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
        ("check_mscc.txt", ["check", "cancer_history", "back_pain", "limb_weakness", "age=67"], 0),
        ("check_routine.txt", ["check", "back_pain", "age=35", "pain_duration_weeks=1"], 0),
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
