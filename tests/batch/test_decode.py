"""The fast decoder is only a faster route to `check`'s answers: on hostile lines it accepts
what `check`'s validator accepts, with the same values, and refuses the rest with the same
error (issue 14: one definition of validation, core/record.py)."""

from __future__ import annotations

import numpy as np
import pytest

from redflag.batch.decode import Chunk, FastDecoder, friendly
from redflag.batch.source import Block, Lines
from redflag.core.vector import VectorRuleSet
from redflag.errors import InputError
from tests.cli.test_hostile_records import CATALOGUE, entry_bytes

# lines the fast decoder reads itself, or must hand over: duplicate keys (msgspec keeps the
# last), bounds, types, ids, nesting, numbers at the edges of JSON
TRAPS = [
    b'{"back_pain": true}',
    b'{"back_pain": true, "back_pain": false}',
    b'{"age": 70, "age": 70}',
    b'{"id": "a:b", "back_pain": true}',
    b'{"id": "a", "id": "b"}',
    b'{"age": 67.5}',
    b'{"age": 67.0}',
    b'{"age": -1}',
    b'{"age": 121}',
    b'{"age": 1e400}',
    b'{"age": NaN}',
    b'{"age": "70"}',
    b'{"age": true}',
    b'{"back_pain": 1}',
    b'{"back_pain": "yes"}',
    b'{"back_pain": null, "age": null}',
    b'{"id": null}',
    b'{"id": true}',
    b'{"id": 1.5}',
    b'{"id": 123456789012345678901234567890}',
    b'{"id": {"a": 1}}',
    b'{"back_pain": {"x": true}}',
    b'{"limb_weaknes": true}',
    b"{}",
    b"",
    b"   ",
    b'\xef\xbb\xbf{"back_pain": true}',
    b'{"back_pain": true}\r',
    b'{"id": "\xff"}',
    b'{"id": "\\ud800"}',
    b'{"pain_duration_weeks": 0, "pain_thoracic": true}',
    b'[{"back_pain": true}]',
    b'{"back_pain": true} {"fever": true}',
]
HOSTILE = [entry_bytes(e).strip() for e in CATALOGUE["case"] + CATALOGUE["ok"]]
LINES = TRAPS + [line for line in HOSTILE if b"\n" not in line and len(line) < 1_000_000]


def _outcome(chunk: Chunk) -> tuple[str, str] | tuple[None, list[float]]:
    """The entry's error (code, message), or its column values."""
    assert len(chunk) == 1
    err = chunk.errors.get(0)
    if err is not None:
        return err.code, err.message
    columns = chunk.columns
    return None, [*columns.codes[:, 0].tolist(), *np.nan_to_num(columns.numbers[:, 0], nan=-9)]


@pytest.mark.parametrize("line", LINES, ids=range(len(LINES)))
def test_the_fast_path_gives_what_checks_validator_gives(ruleset, line):
    decoder = FastDecoder(ruleset, VectorRuleSet(ruleset))
    # the default route (the fast decoder, handing over what it cannot prove) for a block
    # and for one line at a time (--line-buffered); --full reads every line the friendly way
    (block,) = decoder.chunks(Block(line + b"\n", 1), "<stdin>", False)
    (one,) = decoder.chunks(Lines([line + b"\n"], 1), "<stdin>", False)
    (full,) = decoder.chunks(Lines([line], 1), "<stdin>", True)
    alone, _ = friendly(line, ruleset, "<stdin>", 1)
    want = _outcome(full)
    assert _outcome(block) == _outcome(one) == want
    if isinstance(alone, InputError):
        assert want == (alone.code, alone.message)
    else:
        assert want[0] is None and full.records == [alone]


def test_the_traps_cover_both_answers(ruleset):
    decoder = FastDecoder(ruleset, VectorRuleSet(ruleset))
    codes = set()
    for line in TRAPS:
        (chunk,) = decoder.chunks(Block(line + b"\n", 1), "<stdin>", False)
        codes.add(chunk.errors[0].code if chunk.errors else None)
    assert {None, "bad-json", "bad-value", "unknown-flag", "bad-encoding"} <= codes
