"""Plain (non-rich) output helpers: JSON to stdout."""

from __future__ import annotations

import json
import sys
from typing import Any


def print_json(data: Any) -> None:
    """Write one JSON document to stdout, indented, UTF-8, ending in a newline."""
    sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False) + "\n")
    sys.stdout.flush()
