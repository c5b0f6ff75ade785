"""Fast records -> columns: msgspec Structs for one rule set, read as msgpack bytes by numpy.

Part of the `batch` fast path (formats/batch_read.py): the layout of the Struct, the
sentinels that tell "left out" from "null", and the conversion of a chunk to the
column-wise form of core/vector.py.
"""

from __future__ import annotations

import operator
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
