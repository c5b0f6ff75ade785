"""CLI tests read plain output at a fixed width: no colour, 100 columns."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _plain_fixed_width(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.setenv("COLUMNS", "100")
