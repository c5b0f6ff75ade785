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


def run(*args: str, input: str | None = None):
    """Run the CLI in-process; result has exit_code, stdout, stderr."""
    return CliRunner().invoke(app, list(args), input=input)


def run_process(*args: str, input: str | None = None, cwd: Path | None = None):
    """Run `python -m redflag` for real."""
    return subprocess.run(
        [sys.executable, "-m", "redflag", *args],
        input=input,
        capture_output=True,
        text=True,
        cwd=cwd,
        check=False,
    )
