"""The kinds of JSON Schema `rules schema --kind` prints: a module of its own, so the command
line can offer them without importing formats/schema.py at start-up."""

from __future__ import annotations

from enum import StrEnum


class SchemaKind(StrEnum):
    """What `rules schema --kind` describes."""

    record = "record"
    result = "result"
    batch_line = "batch-line"
    explain = "explain"
    test = "test"
    diff = "diff"
    rules_analyze = "rules-analyze"
    rules_validate = "rules-validate"
    rules_verify = "rules-verify"
    rules_show = "rules-show"
    error = "error"
