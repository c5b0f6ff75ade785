"""Stage 1 of `batch`: the inputs (files, stdin, gzip) -> blocks of whole lines, in order.

Each input is read in turn and given as what its format's decoder takes: NDJSON as blocks of
whole lines (or lists of lines) with the number of their first line, or, for the workers,
stretches of a regular file left in the file; CSV as bounded text lines; a JSON array as
one text. Memory stays bounded: a line longer than any record may be is kept only up to a
block past MAX_RECORD_BYTES, enough for its too-large error.

Progress is an event of the source: `on_progress(n)` is called, as reading goes on, with
the number of bytes of the input files read so far (for gzip, of the compressed file).
Nothing else reads or moves the caller's streams.
"""

from __future__ import annotations

import gzip
import io
import os
import stat
import zlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, cast

import numpy as np

from redflag.errors import BadEncodingError, InputError, Location, TooLargeError
from redflag.formats.records import MAX_RECORD_BYTES

GZIP_MAGIC = b"\x1f\x8b"
CHUNK_SIZE = 8192  # records: bounds a chunk's memory when records are tiny
MAX_JSON_ARRAY_BYTES = 16 * 1024 * 1024  # parsed whole: about ten times that in memory
_NEWLINE = ord("\n")
# 1 MB. 2 MB blocks (chunks of ~2,500 records) save ~2,500 instructions a record of numpy's
# per-call overhead, but peaked at 115 MB PSS by default on 1,000,000 records (target < 100 MB,
# issue 14); 4 MB at 118 MB already on 200,000.
_BLOCK = 1 << 20
# One process (--jobs 1) reads a regular file in blocks of 3 MB (at most CHUNK_SIZE lines a
# chunk): the rules and the encoder pay numpy's per-call overhead once per chunk, so chunks of
# ~3,800 records instead of ~1,260 cost ~4,800 instructions a record less. Peak memory on
# 1,000,000 records: 74 MB PSS with 1 MB, 76 with 2, 91 with 3, 100 with 4 (no faster than 3;
# target < 100 MB, issue 14). A pipe keeps 1 MB blocks of whatever it has ready, so a slow
# producer's lines are still answered as they come; the workers' stretches stay 1 MB.
_FILE_BLOCKS = 3


@dataclass(frozen=True)
class Block:
    """Whole lines read together, and the number of the first."""

    data: bytes
    first: int


@dataclass(frozen=True)
class Lines:
    """Lines (with their newline or without), and the number of the first."""

    lines: list[bytes]
    first: int


@dataclass(frozen=True)
class Stretch:
    """Whole lines of a regular file, left in the file: where they start, how many bytes,
    and the number of the first line."""

    offset: int
    size: int
    first: int


class Source:
    """The inputs, in turn, as each format's decoder takes them; progress as an event.

    Args:
        inputs: (name for messages, binary stream) pairs; the caller opens and closes them.
        on_progress: called as reading goes on with the bytes of the inputs read so far.
    """

    def __init__(
        self,
        inputs: Sequence[tuple[str, IO[bytes]]],
        on_progress: Callable[[int], None] | None = None,
    ) -> None:
        self.inputs = inputs
        self._on_progress = on_progress
        self._done = 0  # bytes of the inputs read to their end

    def ndjson(self, lines_at_once: int | None = None) -> Iterator[tuple[str, Block | Lines]]:
        """Each input's lines: blocks of up to a megabyte as the stream has them ready, or,
        with `lines_at_once`, lists of that many lines (1: each line as soon as it arrives,
        for --line-buffered)."""
        for name, stream in self.inputs:
            parts: Iterator[Block] | Iterator[Lines]
            if lines_at_once == 1:
                parts = (Lines([line], n) for n, line in enumerate(bounded_lines(stream), 1))
            elif lines_at_once is not None:
                parts = _line_batches(stream, lines_at_once)
            elif is_regular_file(stream):
                parts = in_pieces(iter_blocks(stream, _BLOCK * _FILE_BLOCKS))
            else:
                parts = iter_blocks(stream)
            for part in parts:
                yield name, part
                self._report(stream)
            self._end(stream)

    def pieces(self) -> Iterator[tuple[str, IO[bytes], Block | Stretch]]:
        """Each input's lines in pieces of CHUNK_SIZE lines at most, for the workers: a
        regular file's as stretches left in the file, any other's as blocks."""
        for name, stream in self.inputs:
            if is_regular_file(stream):
                end = 0
                for part, end in file_stretches(stream):
                    yield name, stream, part
                    self._report_at(end)
                self._end_at(end)
                continue
            for block in in_pieces(iter_blocks(stream)):
                yield name, stream, block
                self._report(stream)
            self._end(stream)

    def csv_lines(self) -> Iterator[tuple[str, Iterator[str]]]:
        """Each input as UTF-8 text lines (a byte-order mark dropped), each read in at most
        MAX_RECORD_BYTES + 1 characters.

        Raises:
            BadEncodingError: an input is not UTF-8 (while its lines are read).
        """
        for name, stream in self.inputs:
            text = io.TextIOWrapper(stream, encoding="utf-8-sig", newline="")
            try:
                yield name, self._text_lines(text, stream, name)
            finally:
                text.detach()  # the caller owns (and closes) the stream
            self._end(stream)

    def json_texts(self) -> Iterator[tuple[str, str]]:
        """Each input read whole as UTF-8 text (a byte-order mark dropped), up to
        MAX_JSON_ARRAY_BYTES.

        Raises:
            TooLargeError: an input is larger than that.
            BadEncodingError: an input is not UTF-8.
        """
        for name, stream in self.inputs:
            raw = stream.read(MAX_JSON_ARRAY_BYTES + 1)  # read whole: bounded (issue 13)
            if len(raw) > MAX_JSON_ARRAY_BYTES:
                raise TooLargeError(
                    f"a JSON array over {MAX_JSON_ARRAY_BYTES // 1024 // 1024} MiB",
                    location=Location(name),
                    hint="for more records, give them as NDJSON (one JSON object per line)",
                )
            try:
                data = raw.decode("utf-8-sig")
            except UnicodeDecodeError:
                raise not_utf8(name) from None
            self._report(stream)
            yield name, data
            self._end(stream)

    def _text_lines(self, text: IO[str], stream: IO[bytes], name: str) -> Iterator[str]:
        try:
            for n, line in enumerate(bounded_text_lines(text), 1):
                yield line
                if n % CHUNK_SIZE == 0:
                    self._report(stream)
        except UnicodeDecodeError:
            raise not_utf8(name) from None

    def _report(self, stream: IO[bytes]) -> None:
        if self._on_progress is not None:
            self._on_progress(self._done + _position(stream))

    def _report_at(self, position: int) -> None:
        if self._on_progress is not None:
            self._on_progress(self._done + position)

    def _end(self, stream: IO[bytes]) -> None:
        if self._on_progress is not None:
            self._end_at(_position(stream))

    def _end_at(self, position: int) -> None:
        self._done += position
        if self._on_progress is not None:
            self._on_progress(self._done)


def not_utf8(name: str) -> BadEncodingError:
    """The error for a CSV or JSON-array input that is not UTF-8 (NDJSON's is per line)."""
    return BadEncodingError(
        f"{name} is not valid UTF-8 text",
        location=Location(name),
        hint="save the file as UTF-8 (CSV and JSON arrays are read as text)",
    )


def _position(stream: IO[bytes]) -> int:
    """How far the file under `stream` has been read (for gzip: the compressed file)."""
    raw = stream.fileobj if isinstance(stream, _Gunzip) else stream
    try:
        return raw.tell()
    except (OSError, ValueError, AttributeError):  # a pipe, a closed stream: no figure
        return 0


def iter_blocks(stream: IO[bytes], size: int | None = None) -> Iterator[Block]:
    """Whole lines in blocks, in order.

    A block is whatever the stream has ready (up to `size`, default _BLOCK) cut after its last
    newline, so a slow producer's lines are answered as they come. A line longer than any
    record may be is kept only up to a block past MAX_RECORD_BYTES (enough for its too-large
    error), so memory stays bounded. The last block may lack a final newline.
    """
    read = getattr(stream, "read1", stream.read)
    rest, first = b"", 1
    size = size or _BLOCK
    while data := read(size):
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


def file_stretches(stream: IO[bytes]) -> Iterator[tuple[Stretch | Block, int]]:
    """The lines of a regular file from the stream's position on, cut as iter_blocks and
    in_pieces cut them but left in the file: only their newlines are counted here, through
    one reused buffer. Each comes with the file position after it (for progress); the
    stream itself is not moved.

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
                yield Block(line, first), position
                first += 1
                continue
        lines = count_newlines(view[:size])
        if lines > CHUNK_SIZE:
            size, lines = _cuts(view[:size])[0], CHUNK_SIZE
        yield Stretch(position, size, first), position + size
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


def bounded_text_lines(text: IO[str]) -> Iterator[str]:
    """The lines of `text`, each read in at most MAX_RECORD_BYTES + 1 characters (issue 13: a
    line with no end took all memory). The rest of a longer line is skipped in bounded reads
    and the line becomes one over the csv module's field limit, so that row is an error."""
    import csv

    limit = MAX_RECORD_BYTES + 1
    skipping = False  # inside the rest of a long line: answered already, read on to its end
    while True:
        line = text.readline(limit)
        if not line:
            return
        if skipping:
            skipping = not line.endswith("\n")
            continue
        if len(line) == limit and not line.endswith("\n"):
            skipping = True
            line = '"' + "x" * (csv.field_size_limit() + 1) + '"\n'
        yield line


def _line_batches(stream: IO[bytes], size: int) -> Iterator[Lines]:
    """Lines (without their newline) in lists of at most `size`."""
    for block in iter_blocks(stream):
        lines = block_lines(block.data)
        for start in range(0, len(lines), size):
            yield Lines(lines[start : start + size], block.first + start)


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
