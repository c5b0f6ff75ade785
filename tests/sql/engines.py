"""One rule set, many records, three engines: the Python engine, DuckDB and PostgreSQL.

Each gives, per record id, (level, worst_case, each rule's truth as True/False/None).
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from redflag.core.compile import CompiledRuleSet
from redflag.core.evaluate import evaluate
from redflag.core.exhaustive import domain_for, searched_flags
from redflag.core.flags import BoolFlag
from redflag.core.implication import contradiction
from redflag.core.logic import Truth
from redflag.sql import DIALECTS, compile_query

Record = Mapping[str, Any]
Outcome = tuple[str, str, tuple[bool | None, ...]]
_AS_BOOL = {Truth.TRUE: True, Truth.FALSE: False, Truth.UNKNOWN: None}


def python_outcomes(ruleset: CompiledRuleSet, records: Sequence[Record]) -> dict[int, Outcome]:
    """check's engine (core/evaluate.py, with its trace: about 1.5 ms a record)."""
    out = {}
    for i, record in enumerate(records):
        result = evaluate(ruleset, record)
        by_rule = {o.rule.id: _AS_BOOL[o.truth] for o in result.outcomes}
        worst = ruleset.levels[result.worst_rank].id
        out[i] = (result.level.id, worst, tuple(by_rule[r.id] for r in ruleset.rules))
    return out


def fast_python_outcomes(ruleset: CompiledRuleSet, records: Sequence[Record]) -> dict[int, Outcome]:
    """batch's engine (core/vector.py) for the level and worst case, and each rule's truth
    from core/closures.py (both tested equal to core/evaluate.py in tests/core)."""
    import numpy as np

    from redflag.core.closures import truth_function
    from redflag.core.implication import close
    from redflag.core.vector import Columns, VectorRuleSet

    vector = VectorRuleSet(ruleset)
    codes = np.array(
        [[{None: 1, False: 0, True: 2}[r.get(f)] for r in records] for f in vector.bool_flags],
        dtype=np.int8,
    ).reshape(len(vector.bool_flags), len(records))
    numbers = np.array(
        [[r.get(f, np.nan) for r in records] for f in vector.numeric_flags], dtype=np.float64
    ).reshape(len(vector.numeric_flags), len(records))
    chunk = vector.evaluate(Columns(codes, numbers))
    truths = [truth_function(r.condition, ruleset) for r in ruleset.rules]
    out = {}
    for i, record in enumerate(records):
        closed = close(record, ruleset.implications)
        rank = int(chunk.rank[i])
        could = [r.rank for j, r in enumerate(ruleset.rules) if chunk.could_escalate[j, i]]
        worst = min(could, default=rank)
        by_rule = tuple(_AS_BOOL[t(closed)] for t in truths)
        out[i] = (ruleset.levels[rank].id, ruleset.levels[worst].id, by_rule)
    return out


def arrow_table(ruleset: CompiledRuleSet, records: Sequence[Record]) -> Any:
    import pyarrow as pa

    columns: dict[str, Any] = {"id": pa.array(range(len(records)), pa.int64())}
    for flag in ruleset.flags.values():
        kind = (
            pa.bool_()
            if isinstance(flag, BoolFlag)
            else pa.int64()
            if flag.type == "int"
            else pa.float64()
        )
        columns[flag.id] = pa.array([r.get(flag.id) for r in records], kind)
    return pa.table(columns)


def _rows_to_outcomes(rows: Sequence[Sequence[Any]]) -> dict[int, Outcome]:
    return {int(row[0]): (row[1], row[2], tuple(row[3:])) for row in rows}


def duckdb_outcomes(ruleset: CompiledRuleSet, records: Sequence[Record]) -> dict[int, Outcome]:
    import duckdb

    query = compile_query(ruleset, DIALECTS["duckdb"], "records", select="truth")
    con = duckdb.connect()
    con.register("records", arrow_table(ruleset, records))
    rows = con.execute(query.text).fetchall()
    con.close()
    return _rows_to_outcomes(rows)


def postgres_outcomes(
    conn: Any, ruleset: CompiledRuleSet, records: Sequence[Record]
) -> dict[int, Outcome]:
    dialect = DIALECTS["postgres"]
    q = dialect.identifier
    types = {"bool": "BOOLEAN", "int": "BIGINT", "number": "DOUBLE PRECISION"}
    flags = list(ruleset.flags.values())
    columns = ", ".join([f"{q('id')} BIGINT", *(f"{q(f.id)} {types[f.type]}" for f in flags)])
    with conn.transaction(), conn.cursor() as cur:
        cur.execute("DROP TABLE IF EXISTS records")
        cur.execute(f"CREATE TEMP TABLE records ({columns})")
        names = ", ".join(q(n) for n in ["id", *(f.id for f in flags)])
        with cur.copy(f"COPY records ({names}) FROM STDIN") as copy:
            for i, record in enumerate(records):
                copy.write_row([i, *(record.get(f.id) for f in flags)])
        cur.execute(compile_query(ruleset, dialect, "records", select="truth").text)
        return _rows_to_outcomes(cur.fetchall())


def is_valid(record: Record, ruleset: CompiledRuleSet) -> bool:
    return contradiction(record, ruleset.implications) is None


def enumerated_records(ruleset: CompiledRuleSet, seed: int = 15) -> list[dict[str, Any]]:
    """Partial records from the exhaustive search's enumeration (core/exhaustive.py).

    Per rule, over the flags its search covers (`searched_flags`), each flag unknown or
    taking each of its values (bools yes/no; numbers one value per region, `domain_for`):
    every such record when there are at most 6,561 (3^8) of them; else (the shipped rules have
    8.6e11 in all) every record with at most two flags answered, every record with all
    answered "no"/lowest region but at most two flags changed (to unknown or another
    value), and 300 seeded random ones. Records that contradict an implication are left out
    (validation refuses them). Duplicates are removed.
    """
    domain = domain_for([ruleset])
    rng = random.Random(seed)
    seen: dict[tuple[tuple[str, Any], ...], None] = {}
    for rule in ruleset.rules:
        flags = searched_flags(rule, ruleset)
        for record in _records_for(flags, domain, rng):
            if is_valid(record, ruleset):
                seen.setdefault(tuple(sorted(record.items())), None)
    return [dict(key) for key in seen]


def _records_for(
    flags: Sequence[str], domain: Mapping[str, Sequence[Any]], rng: random.Random
) -> Iterator[dict[str, Any]]:
    choices = [(None, *domain[f]) for f in flags]
    total = 1
    for c in choices:
        total *= len(c)
    if total <= 6_561:
        for values in itertools.product(*choices):
            yield {f: v for f, v in zip(flags, values, strict=True) if v is not None}
        return
    base = {f: domain[f][-1] if isinstance(domain[f][0], bool) else domain[f][0] for f in flags}
    for k in range(3):
        for chosen in itertools.combinations(range(len(flags)), k):
            options = [domain[flags[i]] for i in chosen]
            for values in itertools.product(*options):
                yield {flags[i]: v for i, v in zip(chosen, values, strict=True)}
            others = [[v for v in choices[i] if v != base[flags[i]]] for i in chosen]
            for values in itertools.product(*others):
                record = dict(base)
                for i, v in zip(chosen, values, strict=True):
                    record[flags[i]] = v
                yield {f: v for f, v in record.items() if v is not None}
    for _ in range(300):
        record = {f: rng.choice(c) for f, c in zip(flags, choices, strict=True)}
        yield {f: v for f, v in record.items() if v is not None}
