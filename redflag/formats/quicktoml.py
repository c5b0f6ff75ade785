"""A fast reader for the plain subset of TOML that rule files use; None means "ask tomllib".

Why (issue 13): a load cache that skipped TOML and pydantic could be edited to change a result,
while `tomllib` alone costs a cold `check` about 20 ms. This reader handles only lines of the
shapes below and returns None, never a guess, for anything else (an escape, a dotted key, an
inline table, a table defined twice...), so the caller falls back to `tomllib`, whose reading
is then the only one. Where it answers, the answer equals `tomllib.loads` (tests compare them on
every rule file in the repository and on generated documents).

    # comment                 [table.sub]           [[array]]
    key = "text"              key = 'text'          key = \"\"\"multi-line text\"\"\"
    key = 12    key = -1.5    key = true            key = ["a", "b"]

It must not do more: a new shape goes to `tomllib`, not here.
"""

from __future__ import annotations

import re
from typing import Any

# Anything that needs TOML's full rules: escapes, tabs, carriage returns, control characters.
_HARD = re.compile(r"[\x00-\x09\x0b-\x1f\x7f\\]")
_KEY = r"[A-Za-z0-9_-]+"
_END = r"[ ]*(?:#.*)?$"
_TABLE = re.compile(rf"\[[ ]*({_KEY}(?:\.{_KEY})*)[ ]*\]{_END}")
_ARRAY_TABLE = re.compile(rf"\[\[[ ]*({_KEY}(?:\.{_KEY})*)[ ]*\]\]{_END}")
_PAIR = re.compile(rf"({_KEY})[ ]*=[ ]*")
_STRING = r'"[^"]*"|\'[^\']*\''
_VALUE = re.compile(
    rf"(?:({_STRING})"
    r"|(-?(?:0|[1-9][0-9]{0,15})(?:\.[0-9]{1,15})?)"
    r"|(true|false)"
    rf"|\[[ ]*((?:(?:{_STRING})[ ]*,[ ]*)*(?:(?:{_STRING})[ ]*,?[ ]*)?)\]"
    rf"){_END}"
)
_ITEM = re.compile(_STRING)
_TAIL = re.compile(_END)


def loads(text: str) -> dict[str, Any] | None:
    """The document `text` as `tomllib.loads` reads it, or None when it is outside the subset."""
    if _HARD.search(text):
        return None
    root: dict[str, Any] = {}
    table = root
    arrays: set[int] = set()  # ids of lists created by [[...]]
    lines = text.split("\n")
    i = 0
    while i < len(lines):
        line = lines[i].lstrip(" ")
        i += 1
        if not line or line.startswith("#"):
            continue
        if line.startswith("["):
            opened = _open(root, line, arrays)
            if opened is None:
                return None
            table = opened
            continue
        key, _, rest = line.partition("=")
        key, rest = key.rstrip(" "), rest.lstrip(" ")
        if rest[:1] == '"' and rest[:3] != '"""' and _is_bare(key) and key not in table:
            end = rest.find('"', 1)  # the common line, `key = "text"`, without a regex
            tail = rest[end + 1 :].lstrip(" ") if end > 0 else "?"
            if not tail or tail[0] == "#":
                table[key] = rest[1:end]
                continue
        pair = _PAIR.match(line)
        if pair is None or pair.group(1) in table:
            return None
        rest = line[pair.end() :]
        if rest.startswith('"""'):
            value, i = _multiline(lines, i, rest[3:])
            if value is None:
                return None
            table[pair.group(1)] = value
            continue
        match = _VALUE.match(rest)
        if match is None:
            return None
        string, number, boolean, items = match.groups()
        if string is not None:
            table[pair.group(1)] = string[1:-1]
        elif number is not None:
            table[pair.group(1)] = float(number) if "." in number else int(number)
        elif boolean is not None:
            table[pair.group(1)] = boolean == "true"
        else:
            table[pair.group(1)] = [s[1:-1] for s in _ITEM.findall(items)]
    return root


def _is_bare(key: str) -> bool:
    """A TOML bare key: ASCII letters, digits, '_' and '-'."""
    return key.isascii() and key.replace("_", "a").replace("-", "a").isalnum()


def _open(root: dict[str, Any], line: str, arrays: set[int]) -> dict[str, Any] | None:
    array = _ARRAY_TABLE.match(line)
    header = array or _TABLE.match(line)
    if header is None:
        return None
    *parents, last = header.group(1).split(".")
    where = root
    for part in parents:
        child = where.setdefault(part, {})
        if id(child) in arrays:
            return None  # a sub-table of an array element: tomllib's business
        if not isinstance(child, dict):
            return None
        where = child
    new: dict[str, Any] = {}
    if array is not None:
        existing = where.get(last)
        if existing is None:
            existing = where[last] = []
            arrays.add(id(existing))
        elif id(existing) not in arrays:
            return None
        existing.append(new)
    else:
        if last in where:
            return None  # defined before, explicitly or implicitly: tomllib decides
        where[last] = new
    return new


def _multiline(lines: list[str], i: int, first: str) -> tuple[str | None, int]:
    """A basic multi-line string starting after its opening quotes on line i - 1."""
    parts = []
    text = first
    if not first:  # TOML trims a newline right after the opening quotes
        if i >= len(lines):
            return None, i
        text, i = lines[i], i + 1
    while True:
        end = text.find('"""')
        if end >= 0:
            parts.append(text[:end])
            if '"' in text[:end] or not _TAIL.match(text[end + 3 :]):
                return None, i
            return "\n".join(parts), i
        if '"' in text:
            return None, i
        parts.append(text)
        if i >= len(lines):
            return None, i
        text, i = lines[i], i + 1
