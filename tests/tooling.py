"""Helpers for the clinician-tool tests: paths, the CLI in-process and as a real process."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from redflag.cli import app

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "tests" / "data"
CASES = DATA / "cases"
RULES = ROOT / "rules.toml"


def run(*args: str | Path, input: str | None = None):
    """Run the CLI in-process; result has exit_code, stdout, stderr."""
    return CliRunner().invoke(app, [str(arg) for arg in args], input=input)


def run_process(*args: str, input: str | None = None, cwd: Path | None = None):
    """Run `python -m redflag` for real."""
    return subprocess.run(
        [sys.executable, "-m", "redflag", *args],
        input=input,
        capture_output=True,
        text=True,
        cwd=cwd,
        check=False,
        timeout=120,
    )


# The quiet answer to each numeric flag of the shipped rules (bool flags: no): fires no rule
# on its own (tests/core/test_interview.py checks it).
QUIET = {
    "age": 30,
    "pain_duration_weeks": 0,
    "spa_criteria_count": 0,
    "nerve_symptom_days": 30,
    "corrected_calcium": 2.4,
    "neutrophil_count": 4,
    "temperature": 37,
    "heart_rate": 80,
    "systolic_bp": 120,
}
