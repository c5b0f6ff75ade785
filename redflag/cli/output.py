"""Plain (non-rich) output helpers: JSON to stdout."""

from __future__ import annotations

import json
import sys
from typing import Any


def print_json(data: Any) -> None:
    """Write one JSON document to stdout, indented, UTF-8, ending in a newline."""
    write_utf8(json.dumps(data, indent=2, ensure_ascii=False) + "\n")


def write_utf8(text: str) -> None:
    """Write a document (JSON, Markdown, HTML) to stdout as UTF-8 bytes, whatever the locale's
    encoding: with PYTHONIOENCODING=ascii or LC_ALL=C, non-ASCII text was exit 70 (issue 13)."""
    sys.stdout.flush()
    sys.stdout.buffer.write(text.encode("utf-8"))
    sys.stdout.buffer.flush()
