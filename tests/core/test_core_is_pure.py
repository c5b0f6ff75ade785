"""The core is pure logic (STYLE.md section 2): values in, values out.

No module under redflag/core imports the clock, threads, the environment, processes, the
network or files, or calls open/print/input; a time budget comes in from redflag/budget.py.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import redflag.core

CORE = Path(redflag.core.__file__).parent
FORBIDDEN_MODULES = {
    "time", "threading", "os", "sys", "subprocess", "socket", "shutil", "signal",
    "multiprocessing", "asyncio", "datetime", "pathlib", "io", "tempfile", "redflag.budget",
    "redflag.cli", "redflag.formats", "redflag.batch", "redflag.service",
}  # fmt: skip
FORBIDDEN_CALLS = {"open", "print", "input", "exit", "breakpoint", "eval", "exec"}
MODULES = sorted(CORE.rglob("*.py"))


def _offences(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found: list[str] = []
    for node in ast.walk(tree):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module]
        found.extend(
            f"line {getattr(node, 'lineno', 0)}: import {name}"
            for name in names
            if any(name == m or name.startswith(m + ".") for m in FORBIDDEN_MODULES)
        )
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id in FORBIDDEN_CALLS
        ):
            found.append(f"line {node.lineno}: {node.func.id}(...)")
    return found


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(CORE)))
def test_core_module_has_no_clock_io_or_environment(path: Path) -> None:
    assert _offences(path) == []


def test_the_check_sees_an_offence(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text("import time\nfrom os import environ\nprint(time.monotonic())\n")
    assert _offences(bad) == ["line 1: import time", "line 2: import os", "line 3: print(...)"]
