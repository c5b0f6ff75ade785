"""Stage 4 of `batch`: a chunk's results -> the bytes of its output lines, in input order.

Three views over one result: NDJSON (the default), CSV, and --full's `check --json`
document per record. The sink (sink.py) writes what they give. For NDJSON and CSV the
records of a chunk are grouped by their result signature (level, matched rules, rules that
could escalate); the end of the JSON line is serialised once per signature and reused, so
encoding one result costs a line number and an id.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from itertools import chain, compress
from typing import TYPE_CHECKING, Any, Protocol, cast

import msgspec
import numpy as np
import orjson

from redflag.batch.columns import Ints
from redflag.batch.decode import Chunk
from redflag.batch.evaluate import FullResult
from redflag.core.compile import CompiledRuleSet
from redflag.core.record import RecordId
from redflag.core.vector import ChunkResult
from redflag.errors import InputError, RedflagError
from redflag.formats.result_json import RuleParts, result_json

if TYPE_CHECKING:  # the output model (formats/json_model.py); not imported at run time
    from redflag.formats.json_model import BatchErrorJSON, ErrorBodyJSON

CSV_COLUMNS = (
    "line",
    "id",
    "level",
    "matched",
    "could_escalate",
    "worst_case",
    "error_code",
    "error_message",
)
_MAX_CACHED = 65_536  # distinct signatures kept; bounded so memory stays constant


class Encoder(Protocol):
    """One chunk of results (and errors) -> output text, in input order."""

    def encode(self, chunk: Chunk, result: ChunkResult) -> list[bytes]:
        """The output of every entry of the chunk (whole lines, each part one or more)."""


def make_encoder(
    ruleset: CompiledRuleSet, format_out: str, *, full: bool, with_file: bool
) -> Encoder:
    """The encoder --format-out and --full choose (NDJSON, CSV, or check's full detail);
    `with_file`: name each record's input (several inputs)."""
    if format_out == "csv":
        return CsvEncoder(ruleset, with_file=with_file)
    if full:
        return FullEncoder(ruleset, with_file=with_file)
    return NdjsonEncoder(ruleset, with_file=with_file)


# msgspec for the many small values of a chunk: integers of any size, and, unlike orjson,
# no system malloc per call (orjson starts each output at 1 KiB: about a sixth of batch's
# time went there). orjson for whole documents.
_encode = msgspec.json.Encoder().encode


def to_json(value: object) -> bytes:
    """Compact JSON of an output line or part of one (integers of any size)."""
    try:
        return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS)
    except TypeError:  # an integer id beyond 64 bits
        return _encode(value)


def error_json(
    line: int, record_id: RecordId | None, err: InputError, source: str | None = None
) -> BatchErrorJSON:
    """`{"line", "file" (several inputs), "id", "error": {"code", "message", "hint"}}`."""
    out: BatchErrorJSON = {"line": line, "id": record_id, "error": error_body(err)}
    if source is not None:  # `file` after `line`, as it always was printed
        return cast("BatchErrorJSON", {"line": line, "file": source, **out})
    return out


def error_body(err: RedflagError) -> ErrorBodyJSON:
    """`{"code", "message", "hint"}` of an error."""
    return {"code": err.code, "message": err.message, "hint": err.hint}


class _Signatures:
    """Per chunk: one small index per record into the distinct result signatures."""

    def __init__(self, ruleset: CompiledRuleSet) -> None:
        self.ruleset = ruleset
        rules = ruleset.rules
        # matched / could-escalate rules listed most urgent first, as evaluate() sorts them
        order = sorted(range(len(rules)), key=lambda i: rules[i].rank)
        self.order = np.array(order, dtype=np.intp)
        self.ordered_ids = [rules[i].id for i in order]
        self.ranks = np.array([rule.rank for rule in rules], dtype=np.intp)  # in rule order
        self.level_json = [orjson.dumps(level.id) for level in ruleset.levels]

    def group(self, result: ChunkResult) -> tuple[list[int], list[bytes], list[int]]:
        """Per record the index of its signature; each signature's key and one record."""
        bits = np.concatenate([result.matched, result.could_escalate])
        if not len(bits):  # a rule set with no rules: one signature, or no row (issue 13)
            n = bits.shape[1]
            return [0] * n, [b""] if n else [], [0] if n else []
        packed = np.ascontiguousarray(np.packbits(bits, axis=0).T)
        keys = packed.view(np.dtype((np.void, packed.shape[1]))).ravel()
        unique, first, inverse = np.unique(keys, return_index=True, return_inverse=True)
        return inverse.ravel().tolist(), [u.tobytes() for u in unique], first.tolist()

    def worst_ranks(self, result: ChunkResult, records: Ints) -> Ints:
        """Per record: the most urgent rank its could-escalate rules lead to, else its rank.

        A rule could escalate a record only below the record's rank, so the minimum of the
        record's rank and the ranks of its could-escalate rules is that rank.
        """
        could = result.could_escalate[:, records]
        rank = result.rank[records]
        if not len(could):
            return rank
        return np.where(could, self.ranks[:, None], rank[None, :]).min(axis=0)  # type: ignore[no-any-return]

    def heads(self, result: ChunkResult, records: list[int]) -> list[bytes]:
        """`,"level":...,"matched":[...],"could_escalate":` for each of the records."""
        columns = np.array(records, dtype=np.intp)
        levels = self.level_json
        matched = result.matched[self.order][:, columns].T.tolist()
        ids = self.ordered_ids
        return [
            b',"level":'
            + levels[rank]
            + b',"matched":'
            + orjson.dumps(list(compress(ids, hits)))
            + b',"could_escalate":'
            for rank, hits in zip(result.rank[columns].tolist(), matched, strict=True)
        ]

    def tails(self, result: ChunkResult, records: list[int]) -> list[bytes]:
        """`[...],"worst_case":...}` and a newline: the rules that could escalate each record."""
        # worst_case depends on the could-escalate rules only, so it belongs to the tail
        # (heads are shared by records with the same level and matched rules)
        columns = np.array(records, dtype=np.intp)
        levels = self.level_json
        could = result.could_escalate[self.order][:, columns].T.tolist()
        worst = self.worst_ranks(result, columns).tolist()
        ids = self.ordered_ids
        return [
            orjson.dumps(list(compress(ids, open_))) + b',"worst_case":' + levels[w] + b"}\n"
            for open_, w in zip(could, worst, strict=True)
        ]

    def describe(
        self, result: ChunkResult, records: list[int]
    ) -> list[tuple[str, list[str], list[str], str]]:
        """Level id, matched rule ids, could-escalate rule ids and worst case of each record."""
        columns = np.array(records, dtype=np.intp)
        levels = [self.ruleset.levels[r].id for r in result.rank[columns].tolist()]
        matched = result.matched[self.order][:, columns].T.tolist()
        could = result.could_escalate[self.order][:, columns].T.tolist()
        worst = [self.ruleset.levels[w].id for w in self.worst_ranks(result, columns).tolist()]
        ids = self.ordered_ids
        return [
            (level, list(compress(ids, m)), list(compress(ids, c)), w)
            for level, m, c, w in zip(levels, matched, could, worst, strict=True)
        ]


class NdjsonEncoder:
    """`{"line", "id", "level", "matched", "could_escalate", "worst_case"}` per record.

    The text after the id is two cached pieces: one per matched set (with the level it
    implies), one per could-escalate set and level (with the worst case they give). A chunk's
    lines are one join of those pieces, their ids and line numbers (no formatting per line).
    """

    def __init__(self, ruleset: CompiledRuleSet, *, with_file: bool) -> None:
        self.with_file = with_file
        self.signatures = _Signatures(ruleset)
        self._heads: dict[Any, bytes] = {}
        self._tails: dict[Any, bytes] = {}

    def encode(self, chunk: Chunk, result: ChunkResult) -> list[bytes]:
        """The lines of every entry of the chunk."""
        sig = self.signatures
        heads = _cached(self._heads, _row_keys(result.matched), lambda i: sig.heads(result, i))
        # A tail is the could-escalate set and the worst case, which is the level itself
        # when that set is empty: keyed by both.
        tail_keys = list(zip(_row_keys(result.could_escalate), result.rank.tolist(), strict=True))
        tails = _cached(self._tails, tail_keys, lambda i: sig.tails(result, i))
        source = chunk.source if self.with_file else None
        middle = ',"id":'
        if source is not None:
            middle = ',"file":' + orjson.dumps(source).decode() + middle
        # '{"line":N,"id":' of every record in one join (a JSON string holds no raw newline)
        text = '{"line":' + (middle + '\n{"line":').join(map(str, chunk.lines)) + middle
        lines = text.encode().split(b"\n") if chunk.lines else []
        ids = list(map(_encode, chunk.ids))
        errors = chunk.errors
        parts = []
        begin = 0
        for i in sorted(errors) if errors else ():
            parts.append(_lines(lines, ids, heads, tails, begin, i))
            body = error_json(chunk.lines[i], chunk.ids[i], errors[i], source)
            parts.append(to_json(body) + b"\n")
            begin = i + 1
        parts.append(_lines(lines, ids, heads, tails, begin, len(lines)))
        return parts


def _lines(
    lines: list[bytes],
    ids: list[bytes],
    heads: list[bytes],
    tails: list[bytes],
    begin: int,
    end: int,
) -> bytes:
    """Records begin..end-1 as result lines, in one join (`lines`: each one's start, up to
    its id)."""
    if begin == 0 and end == len(lines):
        pieces = zip(lines, ids, heads, tails, strict=True)
    else:
        span = slice(begin, end)
        pieces = zip(lines[span], ids[span], heads[span], tails[span], strict=True)
    return b"".join(chain.from_iterable(pieces))


def _row_keys(bits: np.ndarray[Any, np.dtype[np.bool_]]) -> list[Any]:
    """One small key per record (column) of a rule x record bit matrix: an int up to 64
    rules, else the packed bytes."""
    n_rules = bits.shape[0]
    if n_rules <= 64:
        weights = np.left_shift(np.uint64(1), np.arange(n_rules, dtype=np.uint64))
        keys = np.bitwise_or.reduce(np.where(bits, weights[:, None], np.uint64(0)), axis=0)
        return list(keys.tolist())
    packed = np.ascontiguousarray(np.packbits(bits, axis=0).T)
    return [row.tobytes() for row in packed]


def _cached(
    cache: dict[Any, bytes], keys: list[Any], make: Callable[[list[int]], list[bytes]]
) -> list[bytes]:
    """The cached value of each key; the missing ones made in one call (from one record
    of each), then kept."""
    found = list(map(cache.get, keys))
    if None not in found:
        return found  # type: ignore[return-value]  # no None in it
    if len(cache) > _MAX_CACHED:
        cache.clear()
        found = [None] * len(keys)
    missing: dict[Any, int] = {}
    for i, value in enumerate(found):
        if value is None:
            missing.setdefault(keys[i], i)
    cache.update(zip(missing, make(list(missing.values())), strict=True))
    return list(map(cache.__getitem__, keys))


class FullEncoder:
    """`{"line"}` (and `"file"`) plus exactly what `check --json` gives, per record.

    Each record's core Result (evaluate.py, --full) goes through check --json's own
    `result_json`: one function for both, and no second evaluation here. The rules' JSON
    is made once for the run (`RuleParts`): each line is written before the next is made.
    """

    def __init__(self, ruleset: CompiledRuleSet, *, with_file: bool) -> None:
        self.with_file = with_file
        self.ruleset = ruleset
        self.parts = RuleParts(ruleset)

    def encode(self, chunk: Chunk, result: ChunkResult) -> list[bytes]:
        """One line per entry of the chunk."""
        assert isinstance(result, FullResult), "--full results come from evaluate_records"
        parts = []
        source = chunk.source if self.with_file else None
        for i, (line, one) in enumerate(zip(chunk.lines, result.results, strict=True)):
            err = chunk.errors.get(i)
            if err is not None or one is None:
                assert err is not None
                parts.append(to_json(error_json(line, chunk.ids[i], err, source)) + b"\n")
                continue
            where = {"line": line} if source is None else {"line": line, "file": source}
            body = {**where, "id": chunk.ids[i], **result_json(one, self.ruleset, self.parts)}
            parts.append(to_json(body) + b"\n")
        return parts


class CsvEncoder:
    """One CSV row per record: line, id, level, matched, could_escalate, worst_case, error_code
    and error_message.

    Rule ids in `matched` and `could_escalate` are separated by spaces; a `file` column
    follows `line` when there are several inputs.
    """

    def __init__(self, ruleset: CompiledRuleSet, *, with_file: bool) -> None:
        self.with_file = with_file
        self.signatures = _Signatures(ruleset)
        self._header = False

    def encode(self, chunk: Chunk, result: ChunkResult) -> list[bytes]:
        """The rows of every entry of the chunk (the header row before the first)."""
        text = io.StringIO()
        writer = csv.writer(text, lineterminator="\n")
        if not self._header:
            writer.writerow(
                (*CSV_COLUMNS[:1], "file", *CSV_COLUMNS[1:]) if self.with_file else CSV_COLUMNS
            )
            self._header = True
        source = spreadsheet_safe(chunk.source)
        where = (lambda n: (n, source)) if self.with_file else (lambda n: (n,))
        inverse, _, firsts = self.signatures.group(result)
        cells = [
            (level, " ".join(matched), " ".join(could), worst, "", "")
            for level, matched, could, worst in self.signatures.describe(result, firsts)
        ]
        for i, j in enumerate(inverse):
            record_id = chunk.ids[i]
            if record_id is None:
                record_id = ""
            elif isinstance(record_id, str):
                record_id = spreadsheet_safe(record_id)
            err = chunk.errors.get(i)
            if err is None:
                writer.writerow((*where(chunk.lines[i]), record_id, *cells[j]))
            else:
                message = spreadsheet_safe(err.message)
                row = (*where(chunk.lines[i]), record_id, "", "", "", "", err.code, message)
                writer.writerow(row)
        return [text.getvalue().encode("utf-8")]


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n")


def spreadsheet_safe(text: str) -> str:
    """A CSV text cell that no spreadsheet runs as a formula (issue 13; OWASP "CSV Injection").

    A cell starting with = + - @, a tab or a line break gets a leading single quote, which
    spreadsheets show as text. Numbers (an integer id such as -2) are written as they are.
    """
    return "'" + text if text.startswith(_FORMULA_START) else text
