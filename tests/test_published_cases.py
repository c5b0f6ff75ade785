"""The published-case evaluation set: complete evidence per case, and the safety targets."""

import json
import tomllib
from pathlib import Path

from typer.testing import CliRunner

from redflag.cli import app
from redflag.core.casework import run_cases, triage_matrix
from redflag.formats.casefile import case_files, load_cases

PUBLISHED = Path(__file__).resolve().parent / "cases" / "published"


def published(ruleset):
    return [c for p in case_files([PUBLISHED]) for c in load_cases(p, ruleset)]


def test_every_published_case_carries_its_evidence():
    tables = [
        t for p in sorted(PUBLISHED.glob("*.toml")) for t in tomllib.loads(p.read_text())["case"]
    ]
    assert len(tables) >= 40
    for table in tables:
        for key in ("citation", "url", "diagnosis", "why"):
            assert str(table.get(key, "")).strip(), f"{table['name']}: no {key}"
        assert table["url"].startswith(("http://", "https://")), table["name"]
    benign = [t for t in tables if t["expect"] in ("soon", "routine")]
    assert len(benign) >= 10


def test_emergency_sensitivity_is_at_least_95_percent_and_no_emergency_gets_routine(ruleset):
    matrix = triage_matrix(ruleset, run_cases(ruleset, published(ruleset)))
    sensitivity = matrix.sensitivity(0)
    assert sensitivity is not None and sensitivity >= 0.95, [r.case.name for r in matrix.under]
    assert matrix.to_lowest(0) == 0


def test_matrix_json_through_the_cli_has_the_same_figures(ruleset):
    result = CliRunner().invoke(app, ["test", str(PUBLISHED), "--matrix", "--json"])
    assert result.exit_code in (0, 1)
    doc = json.loads(result.stdout)["matrix"]
    matrix = triage_matrix(ruleset, run_cases(ruleset, published(ruleset)))
    assert doc["levels"] == ["emergency", "urgent", "soon", "routine"]
    assert doc["cases"] == matrix.total
    assert doc["exact"] == matrix.exact
    assert doc["sensitivity"]["emergency"] == matrix.sensitivity(0)
    assert doc["most_urgent_to_least"] == 0
    assert [u["name"] for u in doc["under_triaged"]] == [r.case.name for r in matrix.under]
    first = doc["counts"]["emergency"]
    assert sum(first.values()) == matrix.expected(0)
