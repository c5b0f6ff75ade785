"""Shared fixtures: goldens, a clean environment for every test, and the bundled rule set.

Importing tests.fuzzing loads the hypothesis profile named by HYPOTHESIS_PROFILE (ci or long).
"""

from __future__ import annotations

import signal
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


SLOW_TIMEOUT = 900  # seconds; the default (pyproject.toml) is 300


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if fuzzing.PROFILE == "long" and item.get_closest_marker("hypothesis"):
            item.add_marker(pytest.mark.timeout(0))  # a long fuzz may take hours
        elif item.get_closest_marker("slow") and not item.get_closest_marker("timeout"):
            # a slow test took 418 s on the 2-core machine at a load average of 11
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


@pytest.fixture(autouse=True)
def _python_signal_handlers() -> Iterator[None]:
    """Each test starts with Python's own Ctrl-C and SIGTERM handling, and what it changes is
    put back: pytest-xdist's workers ignore SIGINT, and a test that left a handler behind
    made the signal tests depend on which tests ran before them on the same worker."""
    saved = {signum: signal.getsignal(signum) for signum in (signal.SIGINT, signal.SIGTERM)}
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    yield
    for signum, handler in saved.items():
        signal.signal(signum, handler)


@pytest.fixture(scope="session")
def ruleset() -> CompiledRuleSet:
    """The shipped rule set, loaded as every command loads it."""
    return load_ruleset(None)
