"""A seeded corpus over every flag of the shipped rules, with bad lines among the good."""

from __future__ import annotations

import json
import random
from typing import Any

from redflag.core.compile import CompiledRuleSet
from redflag.core.flags import BoolFlag

BAD_LINES = (
    b"",  # blank: a bad record, never skipped
    b'{"back_pain": "yes"}',  # DuckDB's reader would make this true
    b'{"age": 67.5}',  # ... and round this to 68
    b'{"back_pain": false, "back_pain": true}',  # ... and keep the first
    b'{"backpain": true}',
    b'{"age": 500}',
    b'{"new_back_pain": true, "back_pain": false}',
    b"[1, 2]",
    b'{"back_pain": tru',
    b'{"id": 123456789012345678901234567890, "back_pain": true}',
    b'{"id": null}',
    b"\xff\xfe",
)


def records(ruleset: CompiledRuleSet, n: int, seed: int) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    flags = list(ruleset.flags.values())
    out = []
    for i in range(n):
        rec: dict[str, Any] = {"id": f"r{i}" if rng.random() < 0.8 else i}
        for flag in flags:
            roll = rng.random()
            if roll < 0.3:
                continue
            if roll < 0.33:
                rec[flag.id] = None
            elif isinstance(flag, BoolFlag):
                rec[flag.id] = rng.random() < 0.15
            else:
                value = rng.uniform(flag.min, flag.max)
                rec[flag.id] = round(value) if flag.type == "int" else round(value, 1)
        for implied_by, targets in ruleset.implications.implied.items():
            if rec.get(implied_by) is True:
                for target in targets:
                    if rec.get(target) is False:
                        rec[target] = True
        out.append(rec)
    return out


def ndjson(ruleset: CompiledRuleSet, n: int, seed: int = 15, bad_every: int = 97) -> bytes:
    rng = random.Random(seed + 1)
    lines = []
    for i, rec in enumerate(records(ruleset, n, seed)):
        if bad_every and i % bad_every == bad_every - 1:
            lines.append(rng.choice(BAD_LINES))
        else:
            lines.append(json.dumps(rec).encode())
    return b"\n".join(lines) + b"\n"


def parquet_table(ruleset: CompiledRuleSet, rows: list[dict[str, Any]]) -> Any:
    import pyarrow as pa

    columns: dict[str, Any] = {"id": pa.array([str(r.get("id")) for r in rows], pa.string())}
    for flag in ruleset.flags.values():
        kind = {"bool": pa.bool_(), "int": pa.int64(), "number": pa.float64()}[flag.type]
        columns[flag.id] = pa.array([r.get(flag.id) for r in rows], kind)
    return pa.table(columns)
