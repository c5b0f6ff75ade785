"""Rule file (TOML) -> CompiledRuleSet, with a source map for file:line:col diagnostics.

`tomllib` reads the TOML; pydantic checks its shape into the dataclasses of core/model.py;
core/compile.py checks its meaning. Nothing is cached between runs (issue 13: an edited cache
could change a result): a cold `check` stays fast because a file in the plain subset of TOML
that rule files use is read by formats/quicktoml.py and checked by `_quick_ruleset`, strict
stand-ins that answer only where they agree with tomllib and pydantic and otherwise hand the
file to them, so pydantic (about 130 ms of imports) and tomllib load only for unusual or
faulty files.
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from redflag.core.compile import CompiledRuleSet, PathPart, compile_ruleset
from redflag.core.model import Flag, Level, Rule, RuleSet, RuleSetMeta, Source
from redflag.errors import Diagnostic, Location, RuleFileError

if TYPE_CHECKING:
    from pydantic import ValidationError

BUNDLED = "rules.toml"
_MAX_BYTES = 4 * 1024 * 1024
_KEYED_TABLES = {"flags": "id", "sources": "key"}


def bundled_rules_bytes() -> bytes:
    """The rule file shipped inside the package.

    Read beside this package when it is a plain file (any normal install): importlib.resources
    costs a cold `check` about 4 ms of imports, so it serves only a zipped package.
    """
    beside = Path(__file__).resolve().parent.parent / BUNDLED
    if beside.is_file():
        return beside.read_bytes()
    from importlib import resources

    return resources.files("redflag").joinpath(BUNDLED).read_bytes()


def load_ruleset(path: Path | None = None) -> CompiledRuleSet:
    """Load, check and compile a rule file (the bundled one when `path` is None).

    Args:
        path: the rule file to read; None for the bundled rules.

    Raises:
        RuleFileError: the file cannot be read, is not TOML, or has errors (all of them).
    """
    source = source_name(path)
    return ruleset_from_bytes(read_rule_file(path), source)


def source_name(path: Path | None) -> str:
    """How diagnostics name the rule file: its path, or `rules.toml (bundled)`."""
    return str(path) if path is not None else f"{BUNDLED} (bundled)"


def read_rule_file(path: Path | None) -> bytes:
    """The bytes of a rule file (the bundled one when `path` is None), within the size limit.

    Raises:
        RuleFileError: missing, a directory, unreadable or over 4 MiB.
    """
    return _read(path, source_name(path))


def ruleset_from_bytes(data: bytes, source: str) -> CompiledRuleSet:
    """Check and compile rule-file bytes already read (so that a signature is verified
    over exactly the bytes that are used).

    Raises:
        RuleFileError: not TOML, or with errors (all of them).
    """
    sha = hashlib.sha256(data).hexdigest()
    doc, text = _parse(data, source)
    return compile_ruleset(doc, sha256=sha, source=source, locate=_LazyLocate(text, source))


def check_rule_file(path: Path | None) -> CompiledRuleSet:
    """Load a rule file with every check (for `rules validate`)."""
    return load_ruleset(path)


class _LazyLocate:
    """A `_SourceMap.locate` that builds the map only when a diagnostic needs a location."""

    def __init__(self, text: str, source: str) -> None:
        self.text, self.source = text, source
        self.smap: _SourceMap | None = None

    def __call__(self, path: tuple[PathPart, ...], offset: int | None, length: int) -> Location:
        if self.smap is None:
            self.smap = _SourceMap(self.text, self.source)
        return self.smap.locate(path, offset, length)


def _fail(source: str, code: str, message: str, hint: str | None = None) -> RuleFileError:
    return RuleFileError([Diagnostic(code, message, Location(source), hint)], source=source)


def _read(path: Path | None, source: str) -> bytes:
    if path is None:
        return bundled_rules_bytes()
    try:
        if path.is_dir():
            raise _fail(
                source,
                "not-a-file",
                "this is a directory, not a rule file",
                "give the path of a .toml rule file",
            )
        with path.open("rb") as fh:
            data = fh.read(_MAX_BYTES + 1)
    except FileNotFoundError:
        raise _fail(
            source,
            "not-found",
            "no such rule file",
            "check the path; leave out --rules to use the bundled rules",
        ) from None
    except OSError as err:
        raise _fail(
            source,
            "unreadable",
            f"cannot read the rule file: {err.strerror}",
            "check the path and its permissions",
        ) from None
    if len(data) > _MAX_BYTES:
        raise _fail(
            source,
            "too-large",
            f"the rule file is over {_MAX_BYTES // 1024 // 1024} MiB",
            "a rule file is a few hundred kilobytes at most; is this the right file?",
        )
    return data


_TOML_POS = re.compile(r"\(at line (\d+), column (\d+)\)")


def _parse(data: bytes, source: str) -> tuple[RuleSet, str]:
    from redflag.formats import quicktoml

    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as err:
        raise _fail(
            source,
            "not-utf8",
            f"the rule file is not UTF-8 text (byte {err.start})",
            "save it as UTF-8",
        ) from None
    quick = quicktoml.loads(text)
    doc = _quick_ruleset(quick) if quick is not None else None
    if doc is not None:
        return doc, text
    import tomllib  # here: only files outside quicktoml's subset, or with errors, need it

    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        message = str(err)
        location = Location(source)
        pos = _TOML_POS.search(message)
        if pos:
            line, col = int(pos.group(1)), int(pos.group(2))
            lines = text.splitlines()
            snippet = lines[line - 1] if 0 < line <= len(lines) else None
            location = Location(source, line, col, 1, snippet)
            message = message[: pos.start()].strip()
        diag = Diagnostic(
            "toml", f"not valid TOML: {message}", location, "see https://toml.io for the syntax"
        )
        raise RuleFileError([diag], source=source) from None
    except ValueError:  # tomllib's int() past 4,300 digits (issue 13)
        raise _fail(
            source,
            "toml",
            "not valid TOML for a rule file: a number is too long (over 4,300 digits)",
            "a bound is a number such as 120",
        ) from None
    except RecursionError:
        raise _fail(
            source,
            "toml",
            "not valid TOML for a rule file: arrays or tables nested too deeply",
            "a rule file nests tables and arrays a few levels at most",
        ) from None
    smap = _SourceMap(text, source)
    prepared, problems = _key_tables(raw, smap)
    try:
        doc = _validate(prepared)
    except _ValidationFailed as failed:
        problems.extend(_pydantic_diagnostics(failed.error, raw, smap))
        raise RuleFileError(problems, source=source) from None
    if problems:
        raise RuleFileError(problems, source=source)
    return doc, text


class _ValidationFailed(Exception):
    def __init__(self, error: ValidationError) -> None:
        self.error = error


def _validate(prepared: dict[str, Any]) -> RuleSet:
    from pydantic import TypeAdapter, ValidationError

    try:
        return TypeAdapter(RuleSet).validate_python(prepared)
    except ValidationError as err:
        raise _ValidationFailed(err) from None


def _key_tables(raw: dict[str, Any], smap: _SourceMap) -> tuple[dict[str, Any], list[Diagnostic]]:
    """Turn `[flags.ID]` and `[sources.KEY]` tables into lists whose items carry their key."""
    prepared = dict(raw)
    problems: list[Diagnostic] = []
    for table, key_field in _KEYED_TABLES.items():
        entries = raw.get(table)
        if not isinstance(entries, dict):
            continue
        items = []
        for key, body in entries.items():
            if isinstance(body, dict) and key_field in body:
                problems.append(
                    Diagnostic(
                        "unknown-key",
                        f"[{table}.{key}] must not set '{key_field}': it comes from the table name",
                        smap.locate((table, key, key_field), None, 1),
                        f"remove '{key_field} = ...'",
                    )
                )
            items.append({**body, key_field: key} if isinstance(body, dict) else body)
        prepared[table] = items
    return prepared, problems


def _pydantic_diagnostics(
    error: ValidationError, raw: Mapping[str, Any], smap: _SourceMap
) -> list[Diagnostic]:
    out = []
    for e in error.errors():
        path: list[PathPart] = list(e["loc"])
        # items of keyed tables were validated as a list: name them by key again
        table = raw.get(str(path[0])) if path else None
        if len(path) >= 2 and isinstance(table, dict) and isinstance(path[1], int):
            keys = list(table)
            if path[1] < len(keys):
                path[1] = keys[path[1]]
        kind = e["type"]
        hint = None
        if kind == "missing" and path:
            owner = _describe_path(path[:-1], raw)
            code, message = "missing-key", f"{owner} is missing the required key '{path[-1]}'"
            hint = "add it; see the README section 'The rule file'"
        elif kind in ("extra_forbidden", "unexpected_keyword_argument") and path:
            owner = _describe_path(path[:-1], raw)
            code, message = "unknown-key", f"{owner} has an unknown key '{path[-1]}'"
            hint = _allowed_keys_hint(str(path[-1]), path[:-1])
        else:
            code, message = "bad-type", f"{_describe_path(path, raw)}: {e['msg']}"
            if kind == "literal_error":
                hint = "allowed values: " + str(e.get("ctx", {}).get("expected", ""))
        out.append(Diagnostic(code, message, smap.locate(tuple(path), None, 1), hint))
    return out


def _describe_path(path: list[PathPart], raw: Mapping[str, Any]) -> str:
    if not path:
        return "the rule file"
    head = str(path[0])
    if head in ("rules", "levels") and len(path) >= 2 and isinstance(path[1], int):
        items = raw.get(head)
        ident = None
        if isinstance(items, list) and path[1] < len(items) and isinstance(items[path[1]], dict):
            ident = items[path[1]].get("id")
        name = f"{head[:-1]} '{ident}'" if isinstance(ident, str) else f"{head} #{path[1] + 1}"
        rest = path[2:]
    elif head in _KEYED_TABLES and len(path) >= 2:
        name = f"[{head}.{path[1]}]"
        rest = path[2:]
    else:
        name = f"[{head}]" if len(path) > 1 else f"'{head}'"
        rest = path[1:]
    return name + "".join(f".{p}" if isinstance(p, str) else f"[{p}]" for p in rest)


def _allowed_keys_hint(key: str, parent: list[PathPart]) -> str:
    from redflag.core import model
    from redflag.core.suggest import did_you_mean

    by_table: dict[str, type] = {
        "ruleset": model.RuleSetMeta,
        "sources": model.Source,
        "levels": model.Level,
        "flags": model.Flag,
        "rules": model.Rule,
    }
    cls = by_table.get(str(parent[0])) if parent else model.RuleSet
    if cls is None:
        return "remove it"
    hidden = set(_KEYED_TABLES.values()) if parent and parent[0] in _KEYED_TABLES else set()
    allowed = [f.name for f in dataclasses.fields(cls) if f.name not in hidden]
    return did_you_mean(key, allowed, then="Allowed keys: " + ", ".join(allowed) + ".")


class _SourceMap:
    """Where each table and key of a TOML document starts, for file:line:col diagnostics."""

    _HEADER = re.compile(r"^\s*(\[\[?)\s*([^\]]+?)\s*\]\]?")
    _KEY = re.compile(r"^\s*([A-Za-z0-9_\-]+|\"[^\"]*\")\s*=\s*")

    def __init__(self, text: str, source: str) -> None:
        self.source = source
        self.lines = text.splitlines()
        self.where: dict[tuple[PathPart, ...], tuple[int, int]] = {}
        counters: dict[str, int] = {}
        table: tuple[PathPart, ...] = ()
        closing: str | None = None  # the delimiter of a multi-line string we are inside
        for number, line in enumerate(self.lines, start=1):
            if closing is not None:
                if closing in line:
                    closing = None
                continue
            header = self._HEADER.match(line)
            if header:
                parts: list[PathPart] = [p.strip().strip('"') for p in header.group(2).split(".")]
                if header.group(1) == "[[":
                    name = ".".join(str(p) for p in parts)
                    counters[name] = counters.get(name, -1) + 1
                    parts.append(counters[name])
                table = tuple(parts)
                self.where.setdefault(table, (number, line.index("[") + 1))
                continue
            key = self._KEY.match(line)
            if key:
                path = (*table, key.group(1).strip('"'))
                self.where.setdefault(path, (number, key.end() + 1))
                value = line[key.end() :]
                for quotes in ('"""', "'''"):
                    if value.startswith(quotes) and quotes not in value[3:]:
                        closing = quotes

    def locate(self, path: tuple[PathPart, ...], offset: int | None, length: int) -> Location:
        """The location of `path` (or of `offset` inside its string value)."""
        probe = path
        while probe and probe not in self.where:
            probe = probe[:-1]
        if not probe:
            return Location(self.source)
        line, col = self.where[probe]
        snippet = self.lines[line - 1]
        if offset is not None and probe == path:
            quote = snippet[col - 1 : col + 2]
            if quote in ('"""', "'''"):
                return self._in_multiline(line, col + 3, offset, length)
            return Location(self.source, line, col + 1 + offset, length, snippet)
        return Location(self.source, line, col, length, snippet)

    def _in_multiline(self, line: int, col: int, offset: int, length: int) -> Location:
        first = self.lines[line - 1][col - 1 :]
        if not first:  # TOML trims a newline right after the opening quotes
            line, col, first = line + 1, 1, self.lines[line] if line < len(self.lines) else ""
        while offset > len(first) and line < len(self.lines):
            offset -= len(first) + 1
            line, col = line + 1, 1
            first = self.lines[line - 1]
        return Location(self.source, line, col + offset, length, self.lines[line - 1])


def _quick_ruleset(raw: dict[str, Any]) -> RuleSet | None:
    """`raw` as a RuleSet when it is plainly right, exactly as pydantic would build it; else None.

    Stricter than pydantic (no coercions but an exact int to float; every doubt is None), so
    that pydantic, with its diagnostics, decides every file this does not accept.
    """
    if set(raw) != {"ruleset", "sources", "levels", "flags", "rules"}:
        return None
    sources, flags = raw["sources"], raw["flags"]
    levels, rules = raw["levels"], raw["rules"]
    if not (isinstance(sources, dict) and isinstance(flags, dict)):
        return None
    if not (isinstance(levels, list) and isinstance(rules, list)):
        return None
    meta = _quick(RuleSetMeta, raw["ruleset"], {})
    made_sources = [_quick(Source, body, {"key": key}) for key, body in sources.items()]
    made_levels = [_quick(Level, body, {}) for body in levels]
    made_flags = [_quick(Flag, body, {"id": key}) for key, body in flags.items()]
    made_rules = [_quick(Rule, body, {}) for body in rules]
    if meta is None or None in made_sources or None in made_levels:
        return None
    if None in made_flags or None in made_rules:
        return None
    return RuleSet(
        ruleset=meta,
        sources=tuple(made_sources),
        levels=tuple(made_levels),
        flags=tuple(made_flags),
        rules=tuple(made_rules),
    )


_STATUS = frozenset({"draft", "approved"})
_FLAG_TYPES = frozenset({"bool", "int", "number"})
_NUMBER_FIELDS = frozenset({"min", "max"})
_EXACT_FLOAT = 2**53  # an int no bigger converts to float exactly, as pydantic converts it


_FIELDS: dict[type[Any], tuple[frozenset[str], frozenset[str]]] = {}  # all, required


def _quick(cls: type[Any], body: object, given: dict[str, str]) -> Any:
    if not isinstance(body, dict) or any(key in body for key in given):
        return None
    if cls not in _FIELDS:
        every = dataclasses.fields(cls)
        _FIELDS[cls] = (
            frozenset(f.name for f in every),
            frozenset(
                f.name
                for f in every
                if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
            ),
        )
    fields, required = _FIELDS[cls]
    values: dict[str, Any] = dict(given)
    for key, value in body.items():
        if key not in fields:
            return None
        if key in _NUMBER_FIELDS:
            if type(value) is int and abs(value) <= _EXACT_FLOAT:
                value = float(value)
            elif type(value) is not float:
                return None
        elif key in ("sources", "implies"):
            if type(value) is not list or any(type(v) is not str for v in value):
                return None
            value = tuple(value)
        elif type(value) is not str:
            return None
        values[key] = value
    if not required <= values.keys():
        return None
    if cls is RuleSetMeta and values["status"] not in _STATUS:
        return None
    if cls is Flag and values["type"] not in _FLAG_TYPES:
        return None
    if cls is Flag and values.get("audience", "patient") not in ("patient", "clinician"):
        return None
    return cls(**values)
