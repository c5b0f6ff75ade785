"""Property: every verdict of `diff --exhaustive` and `rules analyze` agrees with brute force.

(This replaces the fixed-seed cross-check of 4 bool flags and one int flag: the same
comparisons, on more kinds of rule file and edit.)

Random small rule files and random edits of them: levels, conditions, thresholds (fractional
ones too, on int and float flags), a numeric flag's bounds and type, implied flags, flags and
rules added or removed. Brute force tries every record both rule files accept: each bool flag
yes / no / unknown, the numeric flag unknown or every value on a grid four times finer than
the constants (so every region the search uses has grid values in it, and values between).
"""

from __future__ import annotations

import itertools
import random
from dataclasses import dataclass, field, replace
from typing import Literal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from redflag.core.analysis import analyze
from redflag.core.compile import compile_ruleset
from redflag.core.evaluate import evaluate
from redflag.core.exhaustive import find_downgrades
from redflag.core.implication import contradiction
from redflag.core.logic import Truth
from redflag.core.model import Flag, Level, Rule, RuleSet, RuleSetMeta, Source
from tests.fuzzing import examples

BOOLS = ("a", "b", "c", "d")
LEVELS = ("emergency", "urgent", "soon", "routine")
GRID = 0.25  # constants are multiples of 0.5, bounds whole numbers


@dataclass
class Spec:
    """A small rule file: bool flags, one numeric flag x, implications, rules."""

    bools: tuple[str, ...] = BOOLS
    x_type: Literal["int", "number"] = "int"
    x_min: float = 0.0
    x_max: float = 6.0
    implies: dict[str, tuple[str, ...]] = field(default_factory=dict)
    rules: list[tuple[str, str]] = field(default_factory=list)

    def build(self):
        flags = [
            Flag(id=f, type="bool", question=f"{f}?", implies=self.implies.get(f, ()))
            for f in self.bools
        ]
        flags.append(Flag(id="x", type=self.x_type, question="x?", min=self.x_min, max=self.x_max))
        doc = RuleSet(
            ruleset=RuleSetMeta(id="t", name="t", version="1", status="draft", description="t"),
            sources=(Source(key="S", title="t", organisation="o", year="2024", url="u"),),
            levels=tuple(Level(id=lv, label=lv, timeframe="t", action="a") for lv in LEVELS),
            flags=tuple(flags),
            rules=tuple(
                Rule(
                    id=f"r{i}",
                    level=lv,
                    title="t",
                    when=w,
                    rationale="r",
                    advice="a",
                    sources=("S",),
                )
                for i, (lv, w) in enumerate(self.rules)
            ),
        )
        return compile_ruleset(doc, sha256="0" * 64, source="t")


def threshold(rng: random.Random) -> str:
    """A multiple of 0.5, often at or next to a bound (0, 6 and the edited 0..2, 4..7)."""
    if rng.random() < 0.4:
        return f"{rng.choice([0, 0.5, 1, 2, 4, 4.5, 5, 6, 6.5, 7]):g}"
    return f"{rng.randint(0, 14) / 2:g}"


def condition(rng: random.Random, bools: tuple[str, ...], depth: int = 0) -> str:
    roll = rng.random()
    if depth >= 2 or roll < 0.35:
        if rng.random() < 0.7:
            return rng.choice(bools)
        return f"x {rng.choice(['>=', '<', '>', '<=', '==', '!='])} {threshold(rng)}"
    parts = [condition(rng, bools, depth + 1) for _ in range(rng.randint(2, 3))]
    kind = rng.random()
    if kind < 0.3:
        return "(" + " and ".join(parts) + ")"
    if kind < 0.55:
        return "(" + " or ".join(parts) + ")"
    if kind < 0.7:
        return f"not {parts[0]}"
    if kind < 0.85:
        return "any(" + ", ".join(parts) + ")"
    op = rng.choice([">=", ">", "<", "<=", "=="])
    return f"count({', '.join(parts)}) {op} {rng.randint(0, len(parts))}"


def random_spec(rng: random.Random) -> Spec:
    spec = Spec(x_type=rng.choice(["int", "number"]))
    if rng.random() < 0.4:
        spec.implies = {"a": ("b",)}
    spec.rules = [(rng.choice(LEVELS[:3]), condition(rng, BOOLS[:3])) for _ in range(3)]
    if rng.random() < 0.5:  # a comparison an unknown x decides by the bounds (age <= 120)
        bound = rng.choice(["x <= 6", "x >= 0", "x < 6.5", "x > 4", "x != 7"])
        spec.rules[0] = (spec.rules[0][0], f"{rng.choice(BOOLS[:3])} and {bound}")
    return spec


def edit(rng: random.Random, spec: Spec) -> Spec:
    """One or two random edits of every kind a rule file can make."""
    new = replace(spec, implies=dict(spec.implies), rules=list(spec.rules))
    for _ in range(rng.randint(1, 2)):
        what = rng.choice([0, 1, 2, 3, 3, 3, 4, 5, 6, 7, 8])
        i = rng.randrange(len(new.rules))
        if what == 0:
            new.rules[i] = (rng.choice(LEVELS[:3]), new.rules[i][1])
        elif what == 1:
            new.rules[i] = (new.rules[i][0], condition(rng, new.bools))
        elif what == 2:  # move a threshold, maybe to a fractional one
            level, when = new.rules[i]
            new.rules[i] = (level, f"({when}) and x >= {threshold(rng)}")
        elif what == 3:  # bounds of x
            new.x_min = float(rng.randint(0, 2))
            new.x_max = float(rng.randint(4, 7))
        elif what == 4:  # type of x
            new.x_type = "number" if new.x_type == "int" else "int"
        elif what == 5:  # implications
            new.implies = {} if new.implies else {rng.choice("ac"): ("b",)}
        elif what == 6 and len(new.rules) > 1:  # remove a rule
            del new.rules[i]
        elif what == 7:  # add a rule reading the flag d
            new.rules.append((rng.choice(LEVELS[:3]), f"d and {condition(rng, new.bools)}"))
        else:  # remove the flag d (unused by the rules so far)
            if not any("d" in w for _, w in new.rules):
                new.bools = BOOLS[:3]
    return new


def x_values(*specs: Spec) -> list[float]:
    lo = max(s.x_min for s in specs)
    hi = min(s.x_max for s in specs)
    whole = any(s.x_type == "int" for s in specs)
    steps = round((hi - lo) / GRID)
    values = [lo + k * GRID for k in range(steps + 1)]
    return [v for v in values if not whole or v.is_integer()]


def records(*specs: Spec):
    """Every record every spec accepts (each bool yes/no/unknown, x on the grid)."""
    bools = sorted(set(specs[0].bools).union(*(s.bools for s in specs[1:])))
    rulesets = [s.build() for s in specs]
    xs = x_values(*specs)
    for values in itertools.product((True, False, None), repeat=len(bools)):
        base = {f: v for f, v in zip(bools, values, strict=True) if v is not None}
        for x in (None, *xs):
            record: dict[str, bool | int | float] = dict(base)
            if x is not None:
                whole = any(s.x_type == "int" for s in specs)
                record["x"] = int(x) if whole else x
            if any(contradiction(record, rs.implications) for rs in rulesets):
                continue
            yield record


def on(ruleset, record):
    return evaluate(ruleset, {k: v for k, v in record.items() if k in ruleset.flags})


@pytest.mark.slow
@settings(max_examples=examples(60), deadline=None, derandomize=True)
@given(st.integers(0, 2**32))
def test_diff_exhaustive_agrees_with_brute_force(seed):
    rng = random.Random(seed)
    old_spec = random_spec(rng)
    new_spec = edit(rng, old_spec)
    old, new = old_spec.build(), new_spec.build()
    sizes = [len(r) for r in records(old_spec, new_spec) if on(new, r).rank > on(old, r).rank]
    report = find_downgrades(old, new)
    assert bool(report.counterexamples) == bool(sizes), (old_spec, new_spec)
    if sizes:
        assert min(len(c.record) for c in report.counterexamples) == min(sizes)
        for cex in report.counterexamples:
            assert on(new, cex.record).rank > on(old, cex.record).rank


@pytest.mark.slow
@settings(max_examples=examples(40), deadline=None, derandomize=True)
@given(st.integers(0, 2**32))
def test_rules_analyze_agrees_with_brute_force(seed):
    rng = random.Random(seed)
    spec = edit(rng, random_spec(rng))
    ruleset = spec.build()
    recs = list(records(spec))
    results = [evaluate(ruleset, rec) for rec in recs]
    report = analyze(ruleset)
    kinds = {(f.kind, f.rule_id) for f in report.findings}
    for i, rule in enumerate(ruleset.rules):
        fires = [res.outcomes[i].truth is Truth.TRUE for res in results]
        assert (("vacuous", rule.id) in kinds) == (not any(fires)), spec
        assert (("always-fires", rule.id) in kinds) == all(fires), spec
        if any(fires) and not all(fires):
            masked = all(
                any(
                    o.truth is Truth.TRUE and o.compiled.rank <= rule.rank
                    for j, o in enumerate(res.outcomes)
                    if j != i
                )
                for res, fired in zip(results, fires, strict=True)
                if fired
            )
            assert (("masked", rule.id) in kinds) == masked, spec
    truths = {r.id: [res.outcomes[i].truth for res in results] for i, r in enumerate(ruleset.rules)}
    live = [r for r in ruleset.rules if ("vacuous", r.id) not in kinds]
    for i, a in enumerate(live):
        for b in live[i + 1 :]:
            if truths[a.id] == truths[b.id]:  # the same on every record: b is redundant
                assert ("redundant", b.id) in kinds, spec
    for finding in report.findings:
        if finding.kind == "redundant":
            assert truths[finding.rule_id] == truths[finding.others[0]], finding
    for finding in report.findings:  # every witness makes its rule fire
        if finding.kind in ("masked", "redundant", "always-fires"):
            assert finding.record is not None
            result = evaluate(ruleset, finding.record)
            assert finding.rule_id in {o.rule.id for o in result.matched}, finding
    dropped = any(
        evaluate(ruleset, {**rec, f: True}).rank > evaluate(ruleset, {**rec, f: False}).rank
        for rec in recs
        for f in spec.bools
        if f not in rec
        and not contradiction({**rec, f: True}, ruleset.implications)
        and not contradiction({**rec, f: False}, ruleset.implications)
    )
    assert any(f.kind == "non-monotone" for f in report.findings) == dropped, spec
