"""Stage 2 of `batch`: lines -> chunks of columns, with each bad record's error in its place.

Every input record becomes one entry of a chunk, in order: either a row of the chunk's
columns (see core/vector.py) or an InputError (CSV and JSON arrays: tables.py).

Validation has one definition, `check`'s: formats/records.py reads the text and
core/record.py's `validate_record` decides. NDJSON lines take a faster route to the same
answers (columns.py): a msgspec decoder built from the rule set's flags reads types, bounds
and unknown keys while parsing. It never writes an error itself: any line it rejects, or
that it cannot prove `check` accepts (a duplicate key, which msgspec would resolve
silently; a non-whole int; a record contradicting an implication), is re-read by `check`'s
validator (`friendly`), so the error message, and the decision to accept, are exactly
those of `check` (tests/batch/test_decode.py tries both routes on hostile lines).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from redflag.batch import source as _source
from redflag.batch.columns import Ints, Layout
from redflag.batch.source import Block, Lines, block_lines
from redflag.core.compile import CompiledRuleSet
from redflag.core.evaluate import Record
from redflag.core.record import RecordId, validate_record
from redflag.core.vector import Columns, VectorRuleSet
from redflag.errors import InputError, Location
from redflag.formats.records import MAX_RECORD_BYTES, decode_record_bytes, parse_json_object


@dataclass
class Chunk:
    """Up to a few thousand consecutive records: columns, ids, and the bad ones.

    `lines[i]` is where entry i was read (line number, or position in a JSON array);
    `errors` maps an entry to its InputError (its column values are then unknown and
    ignored); `ids[i]` is the record id when known.
    """

    source: str
    lines: list[int]
    ids: list[RecordId | None]
    columns: Columns
    errors: dict[int, InputError] = field(default_factory=dict)
    records: list[Record | None] | None = None

    def __len__(self) -> int:
        return len(self.lines)

    def head(self, stop: int) -> Chunk:
        """The first `stop` entries (--fail-fast); the columns stay whole."""
        records = self.records[:stop] if self.records is not None else None
        errors = {i: e for i, e in self.errors.items() if i < stop}
        return Chunk(self.source, self.lines[:stop], self.ids[:stop], self.columns, errors, records)


class Rows:
    """Collects one chunk's entries: fast records, and errors in their places."""

    def __init__(self, layout: Layout, source: str, keep_records: bool) -> None:
        self.layout = layout
        self.source = source
        self.empty = layout.struct()
        self.given: Ints = np.zeros(0, dtype=np.intp)
        self.structs: list[Any] = []
        self.lines: list[int] = []
        self.errors: dict[int, InputError] = {}
        self.error_ids: dict[int, RecordId | None] = {}
        self.records: list[Record | None] | None = [] if keep_records else None

    def add_record(self, line: int, record: Record, record_id: RecordId | None) -> None:
        self.structs.append(self.layout.from_record(record, record_id))
        self.lines.append(line)
        if self.records is not None:
            self.records.append(record)

    def add_error(self, line: int, error: InputError, record_id: RecordId | None) -> None:
        self.errors[len(self.structs)] = error
        self.error_ids[len(self.structs)] = record_id
        self.structs.append(self.empty)
        self.lines.append(line)
        if self.records is not None:
            self.records.append(None)

    def chunk(self) -> Chunk:
        columns, ids, self.given = self.layout.columns(self.structs)
        for i, record_id in self.error_ids.items():
            ids[i] = record_id
        return Chunk(self.source, self.lines, ids, columns, self.errors, self.records)


def friendly(
    text: bytes | str, ruleset: CompiledRuleSet, source: str, line: int
) -> tuple[Record, RecordId | None] | tuple[InputError, RecordId | None]:
    """The slow path: exactly what `check -` does with this text, as a value."""
    if isinstance(text, bytes):
        data = text.removesuffix(b"\n").removesuffix(b"\r")  # the line ending is not data
        try:
            text = decode_record_bytes(data, source, line)
        except InputError as err:
            return err, None
    try:
        raw = parse_json_object(text, source, line)
    except InputError as err:
        return err, None
    return validated(raw, ruleset, Location(source, line))


def validated(
    raw: Mapping[str, object], ruleset: CompiledRuleSet, where: Location
) -> tuple[Record, RecordId | None] | tuple[InputError, RecordId | None]:
    raw_id = raw.get("id")
    known_id = raw_id if isinstance(raw_id, str | int) and not isinstance(raw_id, bool) else None
    try:
        return validate_record(raw, ruleset, where)
    except InputError as err:
        return err, known_id


class FastDecoder:
    """The fast path for one rule set: a strict msgspec decoder, and the NDJSON chunker."""

    def __init__(self, ruleset: CompiledRuleSet, vector: VectorRuleSet) -> None:
        self.ruleset = ruleset
        self.vector = vector
        self.layout = Layout(ruleset, vector)
        self._int_rows = [
            i for i, f in enumerate(vector.numeric_flags) if ruleset.flags[f].type == "int"
        ]

    def chunks(self, part: Block | Lines, source: str, keep_records: bool) -> Iterator[Chunk]:
        """The chunks of a block of whole NDJSON lines or of a list of lines (the source's
        parts); each physical line is one entry (a blank line is an error)."""
        if isinstance(part, Lines):
            yield self._chunk(part.lines, source, part.first, keep_records)
        else:
            yield from self.block_chunks(part.data, source, part.first)

    def block_chunks(self, block: bytes, source: str, first: int) -> Iterator[Chunk]:
        """The chunks of one block of whole NDJSON lines, the first being line `first`."""
        structs = self._decode_block(block)
        if structs is not None:
            yield self._fast_chunk(structs, block, source, first, lambda: block_lines(block))
            return
        lines = block_lines(block)
        size = _source.CHUNK_SIZE
        for start in range(0, len(lines), size):
            yield self._chunk(lines[start : start + size], source, first + start, False)

    def _decode_block(self, block: bytes) -> list[Any] | None:
        """Every line of a block (CHUNK_SIZE at most) decoded in one call, or None unless that
        provably gives exactly what decoding line by line gives.

        msgspec's decode_lines reads any whitespace-separated JSON values, so it would let a
        record span lines, or two share one. It does not here when: the block starts with
        '{'; every line ends with '}' (before an optional '\\r'); and there are as many
        records as lines. A decoded record is a flat object (no value holds braces outside
        a string), and a string cannot hold a raw '\\r' or '\\n', so each line end closes a
        record; as many records as line ends leaves exactly one record per line.
        """
        if block[:1] != b"{":
            return None  # a blank, a BOM, or not JSON: line by line
        data = np.frombuffer(block, dtype=np.uint8)
        ends = np.flatnonzero(data == _NEWLINE)
        if block[-1:] != b"\n":  # the last line lacks its newline
            ends = np.append(ends, len(block))
        if len(ends) > _source.CHUNK_SIZE:
            return None  # tiny records: a chunk at a time, so memory stays bounded
        if (np.diff(ends, prepend=-1) - 1).max() > MAX_RECORD_BYTES:
            return None  # check refuses such a line: the slow path says so
        last = ends - 1  # the last byte of each line, before an optional "\\r"
        last -= data[last] == _RETURN
        if not (data[last] == _CLOSE).all():
            return None
        try:
            structs = self.layout.decode_lines(block)
        except ValueError:  # msgspec's errors and bad UTF-8
            return None
        return structs if len(structs) == len(ends) else None

    def _chunk(
        self,
        batch: list[bytes],
        source: str,
        first: int,
        keep_records: bool,
    ) -> Chunk:
        """One chunk of lines (without newlines)."""
        rows = Rows(self.layout, source, keep_records)
        if keep_records:  # --full evaluates each record with core/evaluate.py: slow path
            for i, line in enumerate(batch, start=first):
                add_outcome(rows, friendly(line, self.ruleset, source, i), i)
            return rows.chunk()
        if max(map(len, batch)) > MAX_RECORD_BYTES:  # check refuses such records: so do we
            return self._chunk_with_errors(batch, source, first)
        try:
            structs = list(map(self.layout.decode, batch))
        except ValueError:  # msgspec's errors and bad UTF-8
            return self._chunk_with_errors(batch, source, first)
        return self._fast_chunk(structs, b"\n".join(batch), source, first, lambda: batch)

    def _fast_chunk(
        self,
        structs: list[Any],
        text: bytes,
        source: str,
        first: int,
        lines: Callable[[], list[bytes]],
    ) -> Chunk:
        """A chunk of records that all passed the fast decoder; `text` holds their lines,
        `lines()` gives them one by one (for the few the slow path must re-read)."""
        rows = Rows(self.layout, source, False)
        rows.structs = structs
        rows.lines = list(range(first, first + len(structs)))
        chunk = rows.chunk()
        fast = np.arange(len(structs), dtype=np.intp)
        all_colons = np.count_nonzero(np.frombuffer(text, dtype=np.uint8) == _COLON)
        if all_colons == int(rows.given.sum()):
            colons = rows.given  # every record: colons == given (see _recheck)
        else:
            colons = np.array([line.count(b":") for line in lines()], dtype=np.intp)
        self._recheck(chunk, lines, first, fast, colons, rows.given)
        return chunk

    def _decode_or_none(self, text: bytes) -> Any:
        if len(text) > MAX_RECORD_BYTES:
            return None  # the slow path says whether it is too large
        try:
            return self.layout.decode(text)
        except ValueError:  # msgspec's errors and bad UTF-8
            return None

    def _chunk_with_errors(self, batch: list[bytes], source: str, first: int) -> Chunk:
        rows = Rows(self.layout, source, False)
        decode = self._decode_or_none
        fast: list[int] = []
        colons: list[int] = []
        structs, lines = rows.structs, rows.lines
        for i, text in enumerate(batch, start=first):
            struct = decode(text)
            if struct is None:  # let the slow path say what is wrong
                add_outcome(rows, friendly(text, self.ruleset, source, i), i)
                continue
            structs.append(struct)
            fast.append(len(lines))
            colons.append(text.count(b":"))
            lines.append(i)
        chunk = rows.chunk()
        if fast:
            index = np.array(fast, dtype=np.intp)
            self._recheck(chunk, lambda: batch, first, index, np.array(colons), rows.given[index])
        return chunk

    def _recheck(
        self,
        chunk: Chunk,
        lines: Callable[[], list[bytes]],
        first: int,
        fast: Ints,
        colons: Ints,
        given: Ints,
    ) -> None:
        """Send to the slow path the fast rows it might disagree with.

        Duplicate keys (msgspec keeps the last silently; `check` refuses them): every key of
        a JSON object is followed by a ':', so keys <= colons, and the decoder tells the
        distinct keys given. colons == given proves that no key was repeated; otherwise (a
        ':' inside an id, or a real duplicate) the slow path decides. int flags: a non-whole
        value (67.5) is re-read by the slow path too, which refuses it.
        """
        doubtful = set(fast[colons != given].tolist())
        doubtful.update(fast[self.vector.contradicting(chunk.columns)[fast]].tolist())
        numbers = chunk.columns.numbers
        for row in self._int_rows:
            values = numbers[row, fast]
            known = ~np.isnan(values)
            doubtful.update(fast[known & (values != np.floor(values))].tolist())
        batch = lines() if doubtful else []
        for i in sorted(doubtful):
            line = chunk.lines[i]
            outcome, record_id = friendly(batch[line - first], self.ruleset, chunk.source, line)
            if isinstance(outcome, InputError):
                chunk.errors[i] = outcome
                chunk.ids[i] = record_id


_COLON, _NEWLINE, _RETURN, _CLOSE = (ord(c) for c in ":\n\r}")


def add_outcome(
    rows: Rows,
    outcome: tuple[Record, RecordId | None] | tuple[InputError, RecordId | None],
    line: int,
) -> None:
    """Add a slow-path outcome (a record or an error) as the next entry."""
    first, record_id = outcome
    if isinstance(first, InputError):
        rows.add_error(line, first, record_id)
    else:
        rows.add_record(line, first, record_id)
