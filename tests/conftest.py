"""Shared fixtures: goldens, a clean environment for every test, and the bundled rule set."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from redflag.core.compile import CompiledRuleSet
from redflag.formats.rulefile import load_ruleset

ROOT = Path(__file__).resolve().parent.parent


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-goldens", action="store_true", help="rewrite tests/**/goldens/* from the output"
    )


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
