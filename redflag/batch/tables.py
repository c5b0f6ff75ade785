"""Stage 2 of `batch` for CSV and JSON arrays: rows -> chunks, by `check`'s validator per record."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from itertools import islice
from typing import Any

from redflag.batch.decode import Chunk, FastDecoder, Rows, add_outcome, validated
from redflag.core.compile import CompiledRuleSet
from redflag.core.record import suggest_flag
from redflag.errors import (
    BadJSONError,
    BadValueError,
    InputError,
    Location,
    NotAnObjectError,
    UnknownFlagError,
)
from redflag.formats.records import (
    FALSE_WORDS,
    TRUE_WORDS,
    UNKNOWN_WORDS,
    Flaw,
    json_int,
    may_hold_surrogates,
    number_text,
    pair_flaw,
)


def csv_chunks(
    lines: Iterator[str],
    decoder: FastDecoder,
    source: str,
    chunk_size: int,
    keep_records: bool,
) -> Iterator[Chunk]:
    """CSV lines (the source's) with a header row naming flags (and optionally `id`) -> chunks.

    An empty cell is unknown; bools are yes/no/true/false/1/0 (any case). An unknown column
    is an error before any row is read.

    Raises:
        UnknownFlagError: a header names no flag of the rule set.
        InputError: the header is missing, empty or names a column twice.
    """
    ruleset = decoder.ruleset
    reader = csv.reader(lines)
    header = next(_rows(reader, source), None)
    if isinstance(header, InputError):
        raise header
    if header is None or not [h for h in header if h.strip()]:
        raise InputError(
            "the CSV has no header row",
            location=Location(source, 1),
            hint="the first row names the columns: flag ids, and optionally id",
        )
    names = [h.strip() for h in header]
    _check_header(names, ruleset, source)
    while True:
        rows = Rows(decoder.layout, source, keep_records)
        for cells in islice(_rows(reader, source), chunk_size):
            line = reader.line_num
            where = Location(source, line)
            if isinstance(cells, InputError):
                rows.add_error(line, cells, None)
                continue
            if len(cells) != len(names):
                error = InputError(
                    f"this row has {len(cells)} cells, the header has {len(names)}",
                    location=where,
                    hint="give one cell per column; leave a cell empty if not known",
                )
                rows.add_error(line, error, None)
                continue
            try:
                raw = {
                    name: _cell(name, cell, ruleset, where)
                    for name, cell in zip(names, cells, strict=True)
                }
                if raw.get("id", "") is None:  # an empty id cell: no id, as documented
                    del raw["id"]
            except InputError as err:
                rows.add_error(line, err, _csv_id(names, cells))
                continue
            add_outcome(rows, validated(raw, ruleset, where), line)
        if not rows.structs:
            return
        yield rows.chunk()


def _rows(reader: Any, source: str) -> Iterator[list[str] | InputError]:
    """The reader's rows; a row it cannot read (a cell over the csv module's size limit) is
    an InputError in its place, and reading goes on from the next line."""
    while True:
        try:
            yield next(reader)
        except StopIteration:
            return
        except csv.Error as err:
            yield InputError(
                f"this row cannot be read as CSV: {err}",
                location=Location(source, reader.line_num),
                hint="a cell holds a yes/no answer, a number or an id: a few characters",
            )


def _check_header(names: list[str], ruleset: CompiledRuleSet, source: str) -> None:
    seen: set[str] = set()
    for col, name in enumerate(names, start=1):
        where = Location(source, 1, col)
        if name in seen:
            raise InputError(
                f"column '{name}' appears twice in the header",
                location=where,
                hint="give each flag one column",
            )
        seen.add(name)
        if name != "id" and name not in ruleset.flags:
            raise UnknownFlagError(
                f"column '{name}' is not a flag of rule set '{ruleset.meta.id}'",
                location=where,
                hint=suggest_flag(name, ruleset),
            )


def _cell(name: str, cell: str, ruleset: CompiledRuleSet, where: Location) -> object:
    text = cell.strip()
    if name == "id":
        return text or None
    word = text.lower()
    if not text or word in UNKNOWN_WORDS:
        return None
    if ruleset.flags[name].type == "bool":
        if word in TRUE_WORDS:
            return True
        if word in FALSE_WORDS:
            return False
        raise BadValueError(
            f"'{name}' must be yes or no, got {text!r}",
            location=where,
            hint="write yes, no, true, false, 1 or 0; leave the cell empty if not known",
        )
    number = number_text(text)
    if number is None:
        raise BadValueError(
            f"'{name}' must be a number, got {text!r}",
            location=where,
            hint="write a number such as 60; leave the cell empty if not known",
        )
    return int(number) if number.is_integer() and "." not in text and "e" not in word else number


def _csv_id(names: list[str], cells: list[str]) -> str | None:
    if "id" in names:
        return cells[names.index("id")].strip() or None
    return None


def json_array_chunks(
    text: str,
    decoder: FastDecoder,
    source: str,
    chunk_size: int,
    keep_records: bool,
) -> Iterator[Chunk]:
    """One JSON array of records (read whole) -> chunks; entry N is the Nth element.

    Raises:
        BadJSONError: the text is not JSON, or not an array.
    """
    ruleset = decoder.ruleset
    try:
        in_text = may_hold_surrogates(text)
        doc = json.loads(
            text,
            object_pairs_hook=lambda pairs: _Flawed.of(pairs, in_text),
            parse_constant=_no_constant,
            parse_int=json_int,
        )
    except json.JSONDecodeError as err:
        raise BadJSONError(
            f"not valid JSON: {err.msg}",
            location=Location(source, err.lineno, err.colno),
            hint="--format json reads one JSON array of records",
        ) from None
    except ValueError as err:
        raise BadJSONError(
            str(err), location=Location(source), hint="write a finite number, or null"
        ) from None
    except RecursionError:
        raise BadJSONError(
            "the JSON is nested too deeply",
            location=Location(source),
            hint="--format json reads one array of flat records: [{...}, {...}]",
        ) from None
    if not isinstance(doc, list):
        raise BadJSONError(
            "expected a JSON array of records",
            location=Location(source),
            hint="--format json reads [{...}, {...}]; use the default NDJSON for one per line",
        )
    for start in range(0, len(doc), chunk_size):
        rows = Rows(decoder.layout, source, keep_records)
        for n, item in enumerate(doc[start : start + chunk_size], start=start + 1):
            where = Location(source, n)
            if isinstance(item, _Flawed):
                rows.add_error(n, item.flaw.error(where), None)
            elif not isinstance(item, dict):
                rows.add_error(
                    n,
                    NotAnObjectError(
                        f"expected a JSON object, got {type(item).__name__}",
                        location=where,
                        hint='a record is one JSON object such as {"back_pain": true}',
                    ),
                    None,
                )
            else:
                add_outcome(rows, validated(item, ruleset, where), n)
        yield rows.chunk()


class _Flawed(dict[str, Any]):
    """An object of the array that `check` refuses while parsing it, and why: refused in
    its place, as a bad record, while the rest of the array is read."""

    flaw: Flaw

    @classmethod
    def of(cls, pairs: list[tuple[str, Any]], in_text: bool) -> dict[str, Any]:
        flaw = pair_flaw(pairs, in_text)
        if flaw is None:
            return dict(pairs)
        flawed = cls()
        flawed.flaw = flaw
        return flawed


def _no_constant(name: str) -> None:
    raise ValueError(f"{name} is not allowed in JSON records")
