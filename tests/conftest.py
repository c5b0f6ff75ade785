"""Shared fixtures: an isolated load cache for every test, and the bundled rule set."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from redflag.core.compile import CompiledRuleSet
from redflag.formats.rulefile import load_ruleset

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def _isolated_cache(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Iterator[None]:
    monkeypatch.setenv("REDFLAG_CACHE_DIR", str(tmp_path_factory.mktemp("cache")))
    monkeypatch.delenv("REDFLAG_DEBUG", raising=False)
    yield


@pytest.fixture(scope="session")
def ruleset() -> CompiledRuleSet:
    """The shipped rule set, validated from scratch (no cache)."""
    return load_ruleset(None, cache_dir=None)
