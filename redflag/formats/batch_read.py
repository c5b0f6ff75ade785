"""NDJSON input for `batch` -> chunks of columns, and the pieces every input format shares.

Every input record becomes one entry of a chunk, in order: either a row of the chunk's
columns (see core/vector.py) or an InputError (CSV and JSON arrays: batch_tables.py).
NDJSON lines take a fast path (batch_columns.py): a msgspec decoder built from the rule
set's flags validates types, bounds and unknown keys while parsing. Any line the fast path
rejects, or that it cannot prove equal to the friendly path (a duplicate key, which msgspec
would resolve silently), is re-read by the same friendly validator `check` uses
(formats/records.py + core/record.py), so the error message, and the decision to accept,
are exactly those of `check`.
"""

from __future__ import annotations

import gzip
import io
import os
import stat
import zlib
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import IO, Any, cast

import numpy as np

from redflag.core.compile import CompiledRuleSet
from redflag.core.evaluate import Record
from redflag.core.record import RecordId, validate_record
from redflag.core.vector import Columns, VectorRuleSet
from redflag.errors import InputError, Location
from redflag.formats.batch_columns import Ints, Layout
from redflag.formats.records import MAX_RECORD_BYTES, decode_record_bytes, parse_json_object

GZIP_MAGIC = b"\x1f\x8b"
CHUNK_SIZE = 8192  # records: bounds a chunk's memory when records are tiny


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

    def chunks(
        self, stream: IO[bytes], source: str, chunk_size: int, keep_records: bool
    ) -> Iterator[Chunk]:
        """NDJSON -> chunks; each physical line is one entry (a blank line is an error).

        With chunk_size 1 (--line-buffered) each line is handled as soon as it arrives;
        otherwise the stream is read in blocks of about a megabyte.
        """
        if chunk_size == 1 or keep_records:
            number = 0
            lines = bounded_lines(stream)
            batches = (
                iter(lambda: list(islice(lines, 1)), [])
                if chunk_size == 1
                else _line_batches(stream, chunk_size)
            )
            for batch in batches:
                yield self._chunk(batch, source, number + 1, keep_records)
                number += len(batch)
            return
        for block in iter_blocks(stream):
            yield from self.block_chunks(block.data, source, block.first)

    def block_chunks(self, block: bytes, source: str, first: int) -> Iterator[Chunk]:
        """The chunks of one block of whole NDJSON lines, the first being line `first`."""
        structs = self._decode_block(block)
        if structs is not None:
            yield self._fast_chunk(structs, block, source, first, lambda: block_lines(block))
            return
        lines = block_lines(block)
        for start in range(0, len(lines), CHUNK_SIZE):
            yield self._chunk(lines[start : start + CHUNK_SIZE], source, first + start, False)

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
        if len(ends) > CHUNK_SIZE:
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
_BLOCK = 1 << 20


@dataclass(frozen=True)
class Block:
    """Whole lines read together, and the number of the first."""

    data: bytes
    first: int


@dataclass(frozen=True)
class Stretch:
    """Whole lines of a regular file, left in the file: where they start, how many bytes,
    and the number of the first line."""

    offset: int
    size: int
    first: int


def iter_blocks(stream: IO[bytes]) -> Iterator[Block]:
    """Whole lines in blocks, in order.

    A block is whatever the stream has ready (up to _BLOCK) cut after its last newline, so a
    slow producer's lines are answered as they come. A line longer than any record may be is
    kept only up to a block past MAX_RECORD_BYTES (enough for its too-large error), so memory
    stays bounded. The last block may lack a final newline.
    """
    read = getattr(stream, "read1", stream.read)
    rest, first = b"", 1
    while data := read(_BLOCK):
        cut = data.rfind(b"\n")
        if cut < 0:
            rest = (rest + data)[: MAX_RECORD_BYTES + 1]
            continue
        block, rest = rest + data[: cut + 1], data[cut + 1 :]
        yield Block(block, first)
        first += count_newlines(block)
    if rest:
        yield Block(rest, first)


def is_regular_file(stream: IO[bytes]) -> bool:
    """Whether the stream reads a regular file as it is (not a pipe, not gzip)."""
    try:
        return isinstance(stream, io.BufferedReader) and stat.S_ISREG(
            os.fstat(stream.fileno()).st_mode
        )
    except (OSError, ValueError):
        return False


def file_stretches(stream: IO[bytes]) -> Iterator[Stretch | Block]:
    """The lines of a regular file from the stream's position on, cut as iter_blocks and
    in_pieces cut them but left in the file: only their newlines are counted here, through
    one reused buffer. The stream is moved past each stretch as it is given (its position
    shows progress).

    A line longer than _BLOCK comes as a Block holding its first MAX_RECORD_BYTES + 1 bytes:
    enough for its too-large error, as iter_blocks keeps enough, and memory stays bounded.
    """
    fd, position = stream.fileno(), stream.tell()
    buffer = bytearray(_BLOCK)
    view = memoryview(buffer)
    first = 1
    while size := os.preadv(fd, [buffer], position):
        if size == len(buffer):  # more may follow: end the stretch after its last newline
            size = buffer.rfind(b"\n") + 1
            if not size:
                line, position = _long_line(fd, position)
                stream.seek(position)
                yield Block(line, first)
                first += 1
                continue
        lines = count_newlines(view[:size])
        if lines > CHUNK_SIZE:
            size, lines = _cuts(view[:size])[0], CHUNK_SIZE
        stream.seek(position + size)
        yield Stretch(position, size, first)
        first += lines
        position += size


def in_pieces(blocks: Iterator[Block]) -> Iterator[Block]:
    """The same lines in blocks of CHUNK_SIZE lines at most.

    A worker answers a whole piece at once, and a result line (about 100 to 600 bytes) can
    be two hundred times its record (`{}`): a megabyte of tiny records would come back as
    a couple of hundred megabytes.
    """
    for block in blocks:
        if count_newlines(block.data) <= CHUNK_SIZE:
            yield block
            continue
        start, first = 0, block.first
        for end in _cuts(block.data):
            yield Block(block.data[start:end], first)
            start, first = end, first + CHUNK_SIZE


def _cuts(data: bytes | memoryview) -> list[int]:
    """Where pieces of CHUNK_SIZE lines end, for data of more lines than that."""
    ends = np.flatnonzero(np.frombuffer(data, dtype=np.uint8) == _NEWLINE)
    cuts = (ends[CHUNK_SIZE - 1 :: CHUNK_SIZE] + 1).tolist()
    return cuts if cuts[-1] == len(data) else [*cuts, len(data)]


def _long_line(fd: int, position: int) -> tuple[bytes, int]:
    """A line longer than _BLOCK cut to MAX_RECORD_BYTES + 1 bytes (with its newline), and
    where the next line starts."""
    kept = b""
    while data := os.pread(fd, _BLOCK, position):
        cut = data.find(b"\n")
        kept = (kept + (data if cut < 0 else data[:cut]))[: MAX_RECORD_BYTES + 1]
        if cut >= 0:
            return kept + b"\n", position + cut + 1
        position += len(data)
    return kept, position


def count_newlines(data: bytes | memoryview) -> int:
    """The number of b"\\n" in data (numpy: several times faster than bytes.count)."""
    return int(np.count_nonzero(np.frombuffer(data, dtype=np.uint8) == _NEWLINE))


def block_lines(block: bytes) -> list[bytes]:
    """The lines of a block, without their newlines."""
    lines = block.split(b"\n")
    if not lines[-1]:
        lines.pop()  # the block ended with a newline
    return lines


def bounded_lines(stream: IO[bytes]) -> Iterator[bytes]:
    """The lines of `stream` as they arrive, each read in at most MAX_RECORD_BYTES + 1 bytes.

    A longer line is cut there (so it is refused as too-large) and the rest of it skipped in
    bounded reads: a 300 MB line under --line-buffered once took 300 MB and exit 70 (issue 13).
    """
    limit = MAX_RECORD_BYTES + 1
    skipping = False  # inside the rest of a long line: answered already, read on to its end
    while True:
        line = stream.readline(limit)
        if not line:
            return
        if skipping:
            skipping = not line.endswith(b"\n")
            continue
        skipping = len(line) == limit and not line.endswith(b"\n")
        yield line


def _line_batches(stream: IO[bytes], chunk_size: int) -> Iterator[list[bytes]]:
    """Lines (without their newline) in lists of at most chunk_size."""
    for block in iter_blocks(stream):
        lines = block_lines(block.data)
        for start in range(0, len(lines), chunk_size):
            yield lines[start : start + chunk_size]


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


def decompressed(stream: IO[bytes], source: str) -> IO[bytes]:
    """The stream itself, or its gunzipped content when it is gzip (`.gz` or magic bytes).

    `source` names the input in messages (a path, or <stdin>).
    """
    buffered: IO[bytes] = stream
    if not isinstance(stream, io.BufferedReader):
        buffered = io.BufferedReader(stream)  # type: ignore[type-var]
    assert isinstance(buffered, io.BufferedReader)
    if buffered.peek(2)[:2] == GZIP_MAGIC or source.endswith(".gz"):
        # GzipFile is a BufferedIOBase reading bytes; typeshed does not call it an IO[bytes]
        return cast(IO[bytes], _Gunzip(source, buffered))
    return buffered


class _Gunzip(gzip.GzipFile):
    """A GzipFile whose damaged or cut-short data is an InputError, not a crash.

    Results for the records read before the damage are already written; the error says
    that the rest could not be read.
    """

    def __init__(self, source: str, fileobj: IO[bytes]) -> None:
        super().__init__(fileobj=fileobj, mode="rb")
        self.source = source

    def read(self, size: int | None = -1) -> bytes:
        try:
            return super().read(size)
        except _DAMAGED as err:
            raise self._damaged(err) from None

    def read1(self, size: int = -1) -> bytes:
        try:
            return super().read1(size)
        except _DAMAGED as err:
            raise self._damaged(err) from None

    def readline(self, size: int | None = -1) -> bytes:
        try:
            return super().readline(size)
        except _DAMAGED as err:
            raise self._damaged(err) from None

    def _damaged(self, err: Exception) -> InputError:
        reason = "it ends before its end marker" if isinstance(err, EOFError) else str(err)
        return InputError(
            f"{self.source} is not valid gzip data ({reason}); the records after the damage "
            "were not read",
            location=Location(self.source),
            hint="check the file: gzip -t tells whether it is whole",
        )


_DAMAGED = (gzip.BadGzipFile, EOFError, zlib.error)
