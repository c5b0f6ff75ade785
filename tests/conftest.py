"""Shared fixtures: goldens, a clean environment for every test, and the bundled rule set.

Importing tests.fuzzing loads the hypothesis profile named by HYPOTHESIS_PROFILE (ci or long).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from redflag.core.compile import CompiledRuleSet
from redflag.formats.rulefile import load_ruleset
from tests import fuzzing

ROOT = Path(__file__).resolve().parent.parent


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-goldens", action="store_true", help="rewrite tests/**/goldens/* from the output"
    )


SLOW_TIMEOUT = 600  # seconds; the default (pyproject.toml) is 120


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if fuzzing.PROFILE == "long" and item.get_closest_marker("hypothesis"):
            item.add_marker(pytest.mark.timeout(0))  # a long fuzz may take hours
        elif item.get_closest_marker("slow") and not item.get_closest_marker("timeout"):
            # a Spark corpus test takes two minutes on a loaded 2-core machine
            item.add_marker(pytest.mark.timeout(SLOW_TIMEOUT))


def pytest_report_header() -> str:
    return f"hypothesis profile: {fuzzing.PROFILE} (HYPOTHESIS_PROFILE)"


@pytest.fixture
def golden(request: pytest.FixtureRequest):
    """Compare text with a golden file beside the test (rewrite it with --update-goldens)."""

    def check(name: str, text: str) -> None:
        path = Path(request.path).parent / "goldens" / name
        if request.config.getoption("--update-goldens"):
            path.parent.mkdir(exist_ok=True)
            path.write_text(text)
        assert path.exists(), f"no golden {path}: run pytest --update-goldens and review the diff"
        assert text == path.read_text()

    return check


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.delenv("REDFLAG_DEBUG", raising=False)
    yield


@pytest.fixture(scope="session")
def ruleset() -> CompiledRuleSet:
    """The shipped rule set, loaded as every command loads it."""
    return load_ruleset(None)
