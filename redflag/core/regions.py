"""Numeric regions: the one definition of which values of a numeric flag an exact search tries.

Pure logic. Used by `diff --exhaustive`, `rules analyze` and `ask` (core/solve.py,
core/interview.py), so every enumerating tool splits a flag's values the same way.

A numeric flag with bounds [min, max] is compared in rules only with constants (a comparison
with anything else is refused by `constants`). The constants inside the bounds, with the
bounds themselves, cut [min, max] into pieces: each constant point, and each open interval
between two neighbouring points. On every piece each comparison `flag op c` has one truth,
so one value of the piece stands for all of them. Pieces with the same truths for every
comparison are merged (the first value is kept).

The representative is a value the flag accepts: for an `int` flag it is a whole number, and a
piece holding no whole number (the point 50.5, or the open interval (50, 51)) is dropped,
since no record can reach it. So a fractional threshold on an `int` flag (`age >= 50.5`) is
exact: it cuts between 50 and 51, and 51 is the value tried. When several rule sets are
searched together (OLD and NEW), a value must be valid in every one of them: inside every
declared range, and whole when any of them declares the flag `int`.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from itertools import pairwise

from redflag.core.compile import CompiledRule
from redflag.core.evaluate import Value, compare
from redflag.core.expr.nodes import FLIP, Compare, CompareOp, Name, Node, Number
from redflag.core.expr.walk import walk
from redflag.core.flags import CompiledFlag, NumericFlag
from redflag.core.logic import Truth
from redflag.errors import AnalysisError

Cut = tuple[CompareOp, float]


def constants(rules: Iterable[CompiledRule]) -> dict[str, set[Cut]]:
    """For each numeric flag, every (operator, constant) the rules compare it with, as
    `flag op c`.

    Raises:
        AnalysisError: a numeric flag is compared with another flag or a count, which regions
            cut at constants cannot represent exactly.
    """
    cuts: dict[str, set[Cut]] = {}
    for rule in rules:
        found = node_cuts(rule.condition)
        if isinstance(found, str):
            raise AnalysisError(
                f"rule '{rule.id}' compares flag '{found}' with something other "
                "than a number; exact analysis only handles comparisons with constants",
                hint="compare numeric flags with numbers, e.g. age >= 50",
            )
        for flag, pairs in found.items():
            cuts.setdefault(flag, set()).update(pairs)
    return cuts


def answers(
    specs: Mapping[str, Sequence[CompiledFlag]], cuts: Mapping[str, set[Cut]]
) -> dict[str, tuple[Value, ...]]:
    """The answers a search tries for each flag (its declarations in every rule set searched
    together, all of one kind: core/exhaustive.py `check_levels_match`): yes and no for a bool
    flag, one value per region for a numeric one."""
    found: dict[str, tuple[Value, ...]] = {}
    for flag, declared in specs.items():
        numeric = [spec for spec in declared if isinstance(spec, NumericFlag)]
        found[flag] = regions(numeric, cuts.get(flag, set())) if numeric else (True, False)
    return found


def node_cuts(node: Node) -> dict[str, set[Cut]] | str:
    """The (operator, constant) pairs each numeric flag in `node` is compared with, or the id
    of a flag compared with something other than a constant."""
    cuts: dict[str, set[Cut]] = {}
    for part in walk(node):
        if not isinstance(part, Compare):
            continue
        left, right = part.left, part.right
        if isinstance(left, Name) and isinstance(right, Number):
            cuts.setdefault(left.id, set()).add((part.op, right.value))
        elif isinstance(left, Number) and isinstance(right, Name):
            cuts.setdefault(right.id, set()).add((FLIP[part.op], left.value))
        elif isinstance(left, Name):
            return left.id
        elif isinstance(right, Name):
            return right.id
    return cuts


def regions(specs: Sequence[NumericFlag], cuts: Iterable[Cut]) -> tuple[Value, ...]:
    """One valid value for every region of a numeric flag, in increasing order.

    `specs` are the flag's declarations in every rule set searched together (at least one);
    a value must be valid for all of them. Empty when no value is (disjoint ranges).
    """
    assert specs, "regions of a flag no rule set declares"
    lo = max(float(s.min) for s in specs)
    hi = min(float(s.max) for s in specs)
    whole = any(s.type == "int" for s in specs)
    cut_list = sorted({(op, float(c)) for op, c in cuts})
    if whole:
        lo, hi = float(math.ceil(lo)), float(math.floor(hi))
    if lo > hi:
        return ()
    points = sorted({lo, hi, *(c for _, c in cut_list if lo <= c <= hi)})
    candidates = list(points)
    for a, b in pairwise(points):
        candidates.append(float(math.floor(a) + 1) if whole else (a + b) / 2)
    seen: dict[tuple[Truth, ...], float] = {}
    for value in sorted(candidates):
        if whole and (not value.is_integer() or not lo <= value <= hi):
            continue
        seen.setdefault(_signature(value, cut_list), value)
    return tuple(int(v) if whole else v for v in sorted(seen.values()))


def region_of(value: Value, values: Sequence[Value], cuts: Iterable[Cut]) -> int:
    """The index in `values` (the `regions` of the same cuts) of the region holding `value`,
    a value the flag accepts: the representative every comparison treats alike."""
    cut_list = sorted({(op, float(c)) for op, c in cuts})
    wanted = _signature(float(value), cut_list)
    for i, candidate in enumerate(values):
        if _signature(float(candidate), cut_list) == wanted:
            return i
    raise AssertionError(f"no region holds {value!r}")  # values are validated against bounds


def _signature(value: float, cut_list: Sequence[Cut]) -> tuple[Truth, ...]:
    return tuple(compare(op, (value, value), (c, c)) for op, c in cut_list)
