"""Record streams for `batch`: NDJSON, CSV and JSON-array input -> chunks of columns.

Every input record becomes one entry of a chunk, in order: either a row of the chunk's
columns (see core/vector.py) or an InputError. NDJSON lines take a fast path: a msgspec
decoder built from the rule set's flags validates types, bounds and unknown keys while
parsing. Any line the fast path rejects, or that it cannot prove equal to the friendly path
(a duplicate key, which msgspec would resolve silently), is re-read by the same friendly
validator `check` uses (formats/records.py + core/record.py), so the error message, and the
decision to accept, are exactly those of `check`.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import operator
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import IO, Annotated, Any, cast

import msgspec
import numpy as np

from redflag.core.compile import CompiledRuleSet
from redflag.core.evaluate import Record
from redflag.core.record import RecordId, suggest_flag, validate_record
from redflag.core.vector import Columns, VectorRuleSet
from redflag.errors import (
    BadJSONError,
    BadValueError,
    InputError,
    Location,
    NotAnObjectError,
    UnknownFlagError,
)
from redflag.formats.records import FALSE_WORDS, TRUE_WORDS, UNKNOWN_WORDS, parse_json_object

FORMATS = ("ndjson", "csv", "json")
GZIP_MAGIC = b"\x1f\x8b"

# msgpack type bytes of false and true -> truth codes; anything else (nil, absent) unknown
_FALSE, _TRUE = 0xC2, 0xC3
_CODE = np.ones(256, dtype=np.int8)
_CODE[_FALSE], _CODE[_TRUE] = 0, 2


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


class _Layout:
    """The fast record type of one rule set, and where its values sit in msgpack bytes.

    A decoded record is a msgspec Struct: bool flags first, then numeric flags, then `id`.
    A chunk of them becomes columns by encoding the whole list to msgpack in one call (C
    speed) and reading the bytes with numpy: far cheaper than converting ~40 Python objects
    per record. Every record is a map with the same keys; a bool value is one byte and a
    numeric value is always a float64 (9 bytes), so each value sits at a fixed offset from
    the start of its record, and only the id varies in length (computed from the ids).

    Sentinels tell a key left out from a key given as null (the duplicate-key check counts
    the distinct keys given): a bool left out decodes to 0 (its own msgpack byte), a number
    left out to -inf and given as null to +inf (JSON cannot write either; the bounds refuse
    them), an id left out to False. Format: https://github.com/msgpack/msgpack/blob/master/spec.md
    """

    def __init__(self, ruleset: CompiledRuleSet, vector: VectorRuleSet) -> None:
        self.bool_flags, self.numeric_flags = vector.bool_flags, vector.numeric_flags
        bools: list[tuple[str, Any, Any]] = [(f, bool | None, 0) for f in self.bool_flags]
        numbers, nullable = [], []
        for flag_id in self.numeric_flags:
            flag = ruleset.flags[flag_id]
            # int flags decode as float too: check_value accepts 67.0 as 67; a non-whole
            # value is caught after decoding and re-read by the slow path.
            bounded = Annotated[float, msgspec.Meta(ge=flag.min, le=flag.max)]
            numbers.append((flag_id, bounded, _LEFT_OUT))
            nullable.append((flag_id, bounded | None, _LEFT_OUT))
        # JSON cannot give an id of false; `"id": null` is refused, as core/record.py does
        record_id = [("id", str | int, False)]
        options: dict[str, Any] = {"forbid_unknown_fields": True, "gc": False, "kw_only": True}
        self.struct = msgspec.defstruct("FastRecord", bools + numbers + record_id, **options)
        with_nulls = msgspec.defstruct("FastRecordNulls", bools + nullable + record_id, **options)
        self.decode = msgspec.json.Decoder(self.struct).decode
        self._decode_nulls = msgspec.json.Decoder(with_nulls).decode
        self.encode = msgspec.msgpack.Encoder().encode
        names = [name for name, _, _ in bools + numbers + record_id]
        key_lengths = [len(self.encode(name)) for name in names]
        offset = _map_header_len(len(names))
        offsets = []
        for name, length in zip(names, key_lengths, strict=True):
            offsets.append(offset + length)
            offset += length + (1 if name in self.bool_flags else 9)
        n_bool = len(self.bool_flags)
        self.bool_offsets = np.array(offsets[:n_bool], dtype=np.intp)
        self.numeric_offsets = np.array(offsets[n_bool:-1], dtype=np.intp) + 1  # past the tag
        self.id_offset = offsets[-1]
        self.fixed_length = offsets[-1]  # everything but the id value
        self.signature = np.frombuffer(self.encode(self.struct())[: offsets[0]], dtype=np.uint8)
        self.get_id = operator.attrgetter("id")

    def decode_with_nulls(self, text: bytes) -> Any:
        """A line the fast decoder refused, if only because a number was null; else raise."""
        record = self._decode_nulls(text)
        nulls = {f: _NULL for f in self.numeric_flags if getattr(record, f) is None}
        return msgspec.structs.replace(record, **nulls)

    def from_record(self, record: Record, record_id: RecordId | None) -> Any:
        """A validated record (slow path) as the fast record type."""
        values: dict[str, Any] = {f: record.get(f, 0) for f in self.bool_flags}
        for f in self.numeric_flags:
            value = record.get(f)
            values[f] = _LEFT_OUT if value is None else float(value)
        return self.struct(**values, id=False if record_id is None else record_id)

    def columns(self, structs: list[Any]) -> tuple[Columns, list[RecordId | None], Ints]:
        """Fast records -> columns, ids, and how many distinct keys each record gave."""
        ids = list(map(self.get_id, structs))
        data, starts = self._encode_all(structs, ids)
        width = int(starts[1] - starts[0]) if len(starts) > 1 else 0
        if width and len(data) == starts[0] + width * len(starts):
            # every record has the same length (ids of one length, or none): a 2-D view
            records = data[int(starts[0]) :].reshape(len(starts), width)
            tags = np.ascontiguousarray(records[:, self.bool_offsets].T)
            raw = records[:, self.numeric_offsets[:, None] + _EIGHT]
        else:
            tags = data[starts[None, :] + self.bool_offsets[:, None]]
            raw = data[starts[:, None, None] + self.numeric_offsets[None, :, None] + _EIGHT]
        given = np.count_nonzero(tags != _ABSENT, axis=0)
        numbers = np.ascontiguousarray(raw).view(">f8")[:, :, 0].T.astype(np.float64)
        given += np.count_nonzero(numbers != _LEFT_OUT, axis=0)
        numbers[np.isinf(numbers)] = np.nan  # left out or null: unknown
        given += data[starts + self.id_offset] != _FALSE
        return Columns(_CODE[tags], numbers), [None if i is False else i for i in ids], given

    def _encode_all(
        self, structs: list[Any], ids: list[Any]
    ) -> tuple[np.ndarray[Any, np.dtype[np.uint8]], Ints]:
        """All records as msgpack in one call, and where each starts."""
        k = len(structs)
        try:
            data = np.frombuffer(self.encode(structs), dtype=np.uint8)
        except OverflowError:  # an integer id beyond 64 bits: only its presence is read
            data = np.frombuffer(b"", dtype=np.uint8)
        lengths = self.fixed_length + _id_lengths(ids)
        starts = np.zeros(k, dtype=np.intp)
        np.cumsum(lengths[:-1], out=starts[1:])
        starts += _array_header_len(k)
        if len(data) and starts[-1] + lengths[-1] == len(data) and self._starts_ok(data, starts):
            return data, starts
        encoded = [self._encode_any_id(s) for s in structs]  # exact, slower
        lengths = np.fromiter(map(len, encoded), dtype=np.intp, count=k)
        starts = np.zeros(k, dtype=np.intp)
        np.cumsum(lengths[:-1], out=starts[1:])
        return np.frombuffer(b"".join(encoded), dtype=np.uint8), starts

    def _starts_ok(self, data: np.ndarray[Any, np.dtype[np.uint8]], starts: Ints) -> bool:
        window = data[starts[:, None] + np.arange(len(self.signature))]
        return bool((window == self.signature).all())

    def _encode_any_id(self, struct: Any) -> bytes:
        try:
            return self.encode(struct)
        except OverflowError:
            return self.encode(msgspec.structs.replace(struct, id=0))


def _id_lengths(ids: list[Any]) -> Ints:
    """msgpack length of each id when all are ASCII strings or absent, else -1 (unknown)."""
    try:
        text = "".join([i or "" for i in ids])  # False (absent) -> ""
    except TypeError:  # an int id: let the exact path measure
        return np.full(len(ids), -1, dtype=np.intp)
    if not text.isascii():
        return np.full(len(ids), -1, dtype=np.intp)
    n = np.fromiter(map(len, [i or "" for i in ids]), dtype=np.intp, count=len(ids))
    header = np.where(n <= 31, 1, np.where(n <= 0xFF, 2, np.where(n <= 0xFFFF, 3, 5)))
    absent = np.fromiter((i is False for i in ids), dtype=np.bool_, count=len(ids))
    return np.where(absent, 1, header + n)


def _map_header_len(n: int) -> int:
    return 1 if n <= 15 else 3 if n <= 0xFFFF else 5


def _array_header_len(n: int) -> int:
    return 1 if n <= 15 else 3 if n <= 0xFFFF else 5


Ints = np.ndarray[Any, np.dtype[np.intp]]
_ABSENT = 0x00
_LEFT_OUT, _NULL = float("-inf"), float("inf")
_EIGHT = np.arange(8, dtype=np.intp)


class _Rows:
    """Collects one chunk's entries: fast records, and errors in their places."""

    def __init__(self, layout: _Layout, source: str, keep_records: bool) -> None:
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


def _friendly(
    text: bytes | str, ruleset: CompiledRuleSet, source: str, line: int
) -> tuple[Record, RecordId | None] | tuple[InputError, RecordId | None]:
    """The slow path: exactly what `check -` does with this text, as a value."""
    if isinstance(text, bytes):
        text = text.removesuffix(b"\n").removesuffix(b"\r")  # the line ending is not data
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError as err:
            return BadJSONError(
                f"not valid UTF-8 (byte {err.start + 1})",
                location=Location(source, line),
                hint="save the file as UTF-8",
            ), None
    try:
        raw = parse_json_object(text, source, line)
    except InputError as err:
        return err, None
    return _validated(raw, ruleset, Location(source, line))


def _validated(
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
        self.layout = _Layout(ruleset, vector)
        self._int_rows = [
            i for i, f in enumerate(vector.numeric_flags) if ruleset.flags[f].type == "int"
        ]

    def chunks(
        self, stream: IO[bytes], source: str, chunk_size: int, keep_records: bool
    ) -> Iterator[Chunk]:
        """NDJSON -> chunks; each physical line is one entry (a blank line is an error).

        With chunk_size 1 (--line-buffered) each line is handled as soon as it arrives;
        otherwise the stream is read in blocks of about a megabyte.
        """
        batches = (
            iter(lambda: list(islice(stream, 1)), [])
            if chunk_size == 1
            else _line_batches(stream, chunk_size)
        )
        number = 0
        for batch in batches:
            yield self._chunk(batch, source, number + 1, keep_records)
            number += len(batch)

    def _chunk(self, batch: list[bytes], source: str, first: int, keep_records: bool) -> Chunk:
        rows = _Rows(self.layout, source, keep_records)
        if keep_records:  # --full evaluates each record with core/evaluate.py: slow path
            for i, text in enumerate(batch, start=first):
                rows_add(rows, _friendly(text, self.ruleset, source, i), i)
            return rows.chunk()
        structs = rows.structs
        append, decode, with_nulls = (
            structs.append,
            self.layout.decode,
            self.layout.decode_with_nulls,
        )
        try:
            for text in batch:
                try:
                    append(decode(text))
                except msgspec.ValidationError:
                    append(with_nulls(text))  # a null number; anything else raises again
        except ValueError:
            return self._chunk_with_errors(batch, source, first)
        rows.lines = list(range(first, first + len(batch)))
        chunk = rows.chunk()
        fast = np.arange(len(batch), dtype=np.intp)
        data = np.frombuffer(b"".join(batch), dtype=np.uint8)
        if np.count_nonzero(data == _COLON) == int(rows.given.sum()):
            colons = rows.given  # every record: colons == given (see _recheck)
        else:
            colons = np.array([text.count(b":") for text in batch], dtype=np.intp)
        self._recheck(chunk, batch, first, fast, colons, rows.given)
        return chunk

    def _decode_or_none(self, text: bytes) -> Any:
        try:
            try:
                return self.layout.decode(text)
            except msgspec.ValidationError:
                return self.layout.decode_with_nulls(text)
        except ValueError:  # msgspec's errors and bad UTF-8
            return None

    def _chunk_with_errors(self, batch: list[bytes], source: str, first: int) -> Chunk:
        rows = _Rows(self.layout, source, False)
        decode = self._decode_or_none
        fast: list[int] = []
        colons: list[int] = []
        structs, lines = rows.structs, rows.lines
        for i, text in enumerate(batch, start=first):
            struct = decode(text)
            if struct is None:  # let the slow path say what is wrong
                rows_add(rows, _friendly(text, self.ruleset, source, i), i)
                continue
            structs.append(struct)
            fast.append(len(lines))
            colons.append(text.count(b":"))
            lines.append(i)
        chunk = rows.chunk()
        if fast:
            index = np.array(fast, dtype=np.intp)
            self._recheck(chunk, batch, first, index, np.array(colons), rows.given[index])
        return chunk

    def _recheck(
        self, chunk: Chunk, batch: list[bytes], first: int, fast: Ints, colons: Ints, given: Ints
    ) -> None:
        """Send to the slow path the fast rows it might disagree with.

        Duplicate keys (msgspec keeps the last silently; `check` refuses them): every key of
        a JSON object is followed by a ':', so keys <= colons, and the decoder tells the
        distinct keys given. colons == given proves that no key was repeated; otherwise (a
        ':' inside an id, or a real duplicate) the slow path decides. int flags: a non-whole
        value (67.5) is re-read by the slow path too, which refuses it.
        """
        doubtful = set(fast[colons != given].tolist())
        numbers = chunk.columns.numbers
        for row in self._int_rows:
            values = numbers[row, fast]
            known = ~np.isnan(values)
            doubtful.update(fast[known & (values != np.floor(values))].tolist())
        for i in sorted(doubtful):
            line = chunk.lines[i]
            outcome, record_id = _friendly(batch[line - first], self.ruleset, chunk.source, line)
            if isinstance(outcome, InputError):
                chunk.errors[i] = outcome
                chunk.ids[i] = record_id


_COLON = ord(":")
_BLOCK = 2 << 20


def _line_batches(stream: IO[bytes], chunk_size: int) -> Iterator[list[bytes]]:
    """Lines (without their newline) in lists of at most chunk_size, read by blocks."""
    rest = b""
    while True:
        data = stream.read(_BLOCK)
        if not data:
            break
        lines = data.split(b"\n")
        if rest:
            lines[0] = rest + lines[0]
        rest = lines.pop()  # a partial line, or b"" after a final newline
        for start in range(0, len(lines), chunk_size):
            yield lines[start : start + chunk_size]
    if rest:
        yield [rest]


def rows_add(
    rows: _Rows,
    outcome: tuple[Record, RecordId | None] | tuple[InputError, RecordId | None],
    line: int,
) -> None:
    """Add a slow-path outcome (a record or an error) as the next entry."""
    first, record_id = outcome
    if isinstance(first, InputError):
        rows.add_error(line, first, record_id)
    else:
        rows.add_record(line, first, record_id)


def csv_chunks(
    text: IO[str],
    decoder: FastDecoder,
    source: str,
    chunk_size: int,
    keep_records: bool,
) -> Iterator[Chunk]:
    """CSV with a header row naming flags (and optionally `id`) -> chunks.

    An empty cell is unknown; bools are yes/no/true/false/1/0 (any case). An unknown column
    is an error before any row is read.

    Raises:
        UnknownFlagError: a header names no flag of the rule set.
        InputError: the header is missing, empty or names a column twice.
    """
    ruleset = decoder.ruleset
    reader = csv.reader(text)
    header = next(reader, None)
    if header is None or not [h for h in header if h.strip()]:
        raise InputError(
            "the CSV has no header row",
            location=Location(source, 1),
            hint="the first row names the columns: flag ids, and optionally id",
        )
    names = [h.strip() for h in header]
    _check_header(names, ruleset, source)
    while True:
        rows = _Rows(decoder.layout, source, keep_records)
        for cells in islice(reader, chunk_size):
            line = reader.line_num
            where = Location(source, line)
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
            except InputError as err:
                rows.add_error(line, err, _csv_id(names, cells))
                continue
            rows_add(rows, _validated(raw, ruleset, where), line)
        if not rows.structs:
            return
        yield rows.chunk()


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


_NUMBER = re.compile(r"-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?")


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
    if not _NUMBER.fullmatch(text):
        raise BadValueError(
            f"'{name}' must be a number, got {text!r}",
            location=where,
            hint="write a number such as 60; leave the cell empty if not known",
        )
    number = float(text)
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
        doc = json.loads(text, object_pairs_hook=_MaybeDuplicate.of, parse_constant=_no_constant)
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
    if not isinstance(doc, list):
        raise BadJSONError(
            "expected a JSON array of records",
            location=Location(source),
            hint="--format json reads [{...}, {...}]; use the default NDJSON for one per line",
        )
    for start in range(0, len(doc), chunk_size):
        rows = _Rows(decoder.layout, source, keep_records)
        for n, item in enumerate(doc[start : start + chunk_size], start=start + 1):
            where = Location(source, n)
            if isinstance(item, _MaybeDuplicate):
                rows.add_error(
                    n,
                    BadJSONError(
                        f"key '{item.duplicate}' appears more than once",
                        location=where,
                        hint="give each flag once",
                    ),
                    None,
                )
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
                rows_add(rows, _validated(item, ruleset, where), n)
        yield rows.chunk()


class _MaybeDuplicate(dict[str, Any]):
    duplicate: str | None = None

    @classmethod
    def of(cls, pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, value in pairs:
            if key in out:
                marked = cls(out)
                marked.duplicate = key
                return marked
            out[key] = value
        return out


def _no_constant(name: str) -> None:
    raise ValueError(f"{name} is not allowed in JSON records")


def open_path(path: Path) -> IO[bytes]:
    """Open a file for reading bytes.

    Raises:
        InputError: the file cannot be opened.
    """
    try:
        return path.open("rb")
    except OSError as err:
        raise InputError(
            f"cannot read {path}: {err.strerror or err}", hint="check the file name"
        ) from None


def decompressed(stream: IO[bytes], name: str) -> IO[bytes]:
    """The stream itself, or its gunzipped content when it is gzip (`.gz` or magic bytes)."""
    buffered: IO[bytes] = stream
    if not isinstance(stream, io.BufferedReader):
        buffered = io.BufferedReader(stream)  # type: ignore[type-var]
    assert isinstance(buffered, io.BufferedReader)
    if buffered.peek(2)[:2] == GZIP_MAGIC or name.endswith(".gz"):
        # GzipFile is a BufferedIOBase reading bytes; typeshed does not call it an IO[bytes]
        return cast(IO[bytes], gzip.GzipFile(fileobj=buffered, mode="rb"))
    return buffered
