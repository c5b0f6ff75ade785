"""Human output pinned at 100 columns without colour; refresh with --update-goldens and review."""

import pytest
from typer.testing import CliRunner

from redflag.cli import app

runner = CliRunner()
ENV = {"NO_COLOR": "1", "COLUMNS": "100", "TERM": "dumb"}


@pytest.mark.parametrize(
    ("name", "argv"),
    [
        ("check_mscc.txt", ["check", "cancer_history", "back_pain", "limb_weakness", "age=67"]),
        ("check_routine.txt", ["check", "back_pain", "age=35", "pain_duration_weeks=1"]),
    ],
)
def test_human_output_golden(golden, name, argv):
    result = runner.invoke(app, argv, env=ENV)
    assert result.exit_code == 0
    golden(name, result.stdout)
