"""Fast records -> columns: msgspec Structs for one rule set, their bools read by numpy.

Part of decode, the `batch` fast path (decode.py): the layout of the Struct, the sentinels
that tell "left out" from "null", and the conversion of a chunk to the column-wise form of
core/vector.py. Its bounds and types are the rule set's own (`ruleset.flags`); whatever it
accepts that `check` might not, decode.py hands to `check`'s validator.
"""

from __future__ import annotations

import operator
from itertools import repeat
from typing import Annotated, Any

import msgspec
import numpy as np

from redflag.core.compile import CompiledRuleSet
from redflag.core.evaluate import Record
from redflag.core.record import RecordId
from redflag.core.vector import Columns, VectorRuleSet

# msgpack type bytes of false and true -> truth codes; anything else (nil, absent) unknown
_FALSE, _TRUE = 0xC2, 0xC3
_CODE = np.ones(256, dtype=np.int8)
_CODE[_FALSE], _CODE[_TRUE] = 0, 2


class Layout:
    """The fast record type of one rule set, and how a chunk of them becomes columns.

    A decoded record is a msgspec Struct: bool flags first, then numeric flags, then `id`.
    Numbers are read field by field (a None, given as null, becomes NaN). Bools, ~40 per
    record, are read by encoding the records' values (`msgspec.structs.astuple`, a tuple per
    record, in C) to msgpack in one call and reading the bytes with numpy: far cheaper than
    converting each value in Python. Tuples, not the Structs themselves: a Struct encodes as
    a map and writes every key (a third more instructions). Every record is an array of the
    same length and a bool value is one byte, so each bool sits at a fixed offset from the
    start of its record; where a record starts follows from the lengths of what comes after
    the bools (a number is 9 bytes, a null 1, the id its own length).

    Sentinels tell a key left out from a key given as null (the duplicate-key check counts
    the distinct keys given): a bool left out decodes to 0 (its own msgpack byte), a number
    left out to -inf (JSON cannot write it; the bounds refuse it), an id left out to False.
    Format: https://github.com/msgpack/msgpack/blob/master/spec.md
    """

    def __init__(self, ruleset: CompiledRuleSet, vector: VectorRuleSet) -> None:
        self.bool_flags, self.numeric_flags = vector.bool_flags, vector.numeric_flags
        bools: list[tuple[str, Any, Any]] = [(f, bool | None, 0) for f in self.bool_flags]
        numbers = []
        for flag_id in self.numeric_flags:
            flag = ruleset.flags[flag_id]
            # int flags decode as float too: check_value accepts 67.0 as 67; a non-whole
            # value is caught after decoding and re-read by the slow path.
            bounded = Annotated[float, msgspec.Meta(ge=flag.min, le=flag.max)]
            numbers.append((flag_id, bounded | None, _LEFT_OUT))
        # JSON cannot give an id of false; `"id": null` is refused, as core/record.py does
        record_id = [("id", str | int, False)]
        options: dict[str, Any] = {"forbid_unknown_fields": True, "gc": False, "kw_only": True}
        self.struct = msgspec.defstruct("FastRecord", bools + numbers + record_id, **options)
        decoder = msgspec.json.Decoder(self.struct)
        self.decode, self.decode_lines = decoder.decode, decoder.decode_lines
        self.encode = msgspec.msgpack.Encoder().encode
        self._values = msgspec.structs.astuple
        fields = len(bools) + len(numbers) + len(record_id)
        header = _header_len(fields)  # of each record's array
        self.bool_offsets = np.arange(header, header + len(self.bool_flags), dtype=np.intp)
        # a record's length, less its numbers' values and its id's value
        self.fixed_length = header + len(self.bool_flags)
        # the bytes every record starts with: its array header
        self.signature = np.frombuffer(self.encode(self._values(self.struct()))[:header], np.uint8)
        self.get_id = operator.attrgetter("id")
        self.get_numbers = [operator.attrgetter(f) for f in self.numeric_flags]

    def from_record(self, record: Record, record_id: RecordId | None) -> Any:
        """A validated record (slow path) as the fast record type."""
        values: dict[str, Any] = {f: record.get(f, 0) for f in self.bool_flags}
        for f in self.numeric_flags:
            value = record.get(f)
            values[f] = _LEFT_OUT if value is None else float(value)
        return self.struct(**values, id=False if record_id is None else record_id)

    def columns(self, structs: list[Any]) -> tuple[Columns, list[RecordId | None], Ints]:
        """Fast records -> columns, ids, and how many distinct keys each record gave."""
        n = len(structs)
        if not n:
            empty = Columns(
                _CODE[np.zeros((len(self.bool_flags), 0), dtype=np.uint8)],
                np.zeros((len(self.numeric_flags), 0)),
            )
            return empty, [], np.zeros(0, dtype=np.intp)
        ids = list(map(self.get_id, structs))
        values = [list(map(get, structs)) for get in self.get_numbers]  # None -> NaN
        numbers = np.array(values, dtype=np.float64).reshape(len(self.get_numbers), n)
        left_out = numbers == _LEFT_OUT
        # map(operator.is_not, ...) runs in C, not a generator's frame per record
        has_id = np.fromiter(map(operator.is_not, ids, repeat(False)), dtype=np.bool_, count=n)
        given = np.count_nonzero(~left_out, axis=0) + has_id
        id_lengths = _id_lengths(ids, has_id)
        lengths = None
        if id_lengths is not None:
            lengths = self.fixed_length + np.where(np.isnan(numbers), 1, 9).sum(axis=0)
            lengths += id_lengths
        data, starts = self._encode_all(structs, lengths)
        tags = data[starts[None, :] + self.bool_offsets[:, None]]
        given += np.count_nonzero(tags != _ABSENT, axis=0)
        numbers[left_out] = np.nan  # left out or null: unknown
        return Columns(_CODE[tags], numbers), [None if i is False else i for i in ids], given

    def _encode_all(
        self, structs: list[Any], lengths: Ints | None
    ) -> tuple[np.ndarray[Any, np.dtype[np.uint8]], Ints]:
        """All records as msgpack in one call, and where each starts.

        `lengths` is each record's expected msgpack length (None when not known).
        """
        k = len(structs)
        if lengths is not None:  # every length known: one call
            try:
                data = np.frombuffer(self.encode(list(map(self._values, structs))), np.uint8)
            except OverflowError:  # an integer id beyond 64 bits: only its presence is read
                data = np.frombuffer(b"", dtype=np.uint8)
            starts = np.zeros(k, dtype=np.intp)
            np.cumsum(lengths[:-1], out=starts[1:])
            starts += _header_len(k)
            ok = len(data) and starts[-1] + lengths[-1] == len(data)
            if ok and self._starts_ok(data, starts):
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
        values = self._values(struct)
        try:
            return self.encode(values)
        except OverflowError:  # the id is last: only its presence is read
            return self.encode((*values[:-1], 0))


def _id_lengths(ids: list[Any], has_id: np.ndarray[Any, np.dtype[np.bool_]]) -> Ints | None:
    """msgpack length of each id when all are ASCII strings or absent, else None (unknown)."""
    texts = [i or "" for i in ids]  # False (absent) -> ""
    try:
        text = "".join(texts)
    except TypeError:  # an int id: let the exact path measure
        return None
    if not text.isascii():
        return None
    n = np.fromiter(map(len, texts), dtype=np.intp, count=len(ids))
    header = np.where(n <= 31, 1, np.where(n <= 0xFF, 2, np.where(n <= 0xFFFF, 3, 5)))
    return np.where(has_id, header + n, 1)


def _header_len(n: int) -> int:
    """The length of a msgpack map or array header for n entries."""
    return 1 if n <= 15 else 3 if n <= 0xFFFF else 5


Ints = np.ndarray[Any, np.dtype[np.intp]]
_ABSENT = 0x00
_LEFT_OUT = float("-inf")
