"""The DuckDB engine's packed-bit derivation of level, worst case and lists from the rules'
truths, against the same derivation written plainly (core/vector.py's), including Arrow
arrays that do not start at a byte and rule sets of more than 64 rules."""

from __future__ import annotations

import numpy as np
import pytest

from redflag.engines.duckdb import outcome

pa = pytest.importorskip("pyarrow", reason="pyarrow is not installed")
parquet = pytest.importorskip("redflag.engines.parquet")

CODES = {False: 0, None: 1, True: 2}


def _truths(ruleset, n: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    columns = {}
    for i in range(len(ruleset.rules)):
        rolls = rng.random(n)
        columns[f"r{i}"] = pa.array([None if x < 0.3 else bool(x > 0.8) for x in rolls])
    return pa.table(columns)


def _plain(got, ruleset):
    n = got.num_rows
    codes = np.array(
        [[CODES[v] for v in got.column(f"r{i}").to_pylist()] for i in range(len(ruleset.rules))],
        dtype=np.int8,
    ).reshape(len(ruleset.rules), n)
    ranks = np.array([r.rank for r in ruleset.rules])[:, None]
    rank = np.where(codes == 2, ranks, len(ruleset.levels) - 1).min(axis=0)
    could = (codes == 1) & (ranks < rank[None, :])
    worst = np.minimum(rank, np.where(could, ranks, len(ruleset.levels)).min(axis=0, initial=99))
    return rank, codes == 2, could, worst


@pytest.mark.parametrize("part", ["whole", "batch at row 13", "chunked at row 13", "empty"])
def test_packed_outcome_equals_the_plain_derivation(ruleset, part):
    table = _truths(ruleset, 1000)
    got = {
        "whole": table,
        "batch at row 13": table.slice(13, 500).to_batches()[0],
        "chunked at row 13": table.slice(13, 500),
        "empty": table.slice(0, 0),
    }[part]
    found = outcome(got, ruleset)
    result = found.result()
    rank, matched, could, worst = _plain(got, ruleset)
    assert (result.rank == rank).all()
    assert (result.matched == matched).all()
    assert (result.could_escalate == could).all()
    assert (found.worst == worst).all()


@pytest.mark.parametrize("n_rules", [1, 8, 53, 64, 65, 130])
def test_rule_lists_hold_each_rows_set_bits_in_order(n_rules):
    rng = np.random.default_rng(n_rules)
    n = 300
    bits = rng.random((n_rules, n)) < 0.3
    bad = rng.random(n) < 0.1
    rules = pa.array([f"rule{i}" for i in range(n_rules)])
    packed = np.packbits(bits, axis=1, bitorder="little")
    got = parquet._rule_lists(packed, n, rules, bad).to_pylist()
    want = [
        None if bad[row] else [f"rule{i}" for i in range(n_rules) if bits[i, row]]
        for row in range(n)
    ]
    assert got == want
