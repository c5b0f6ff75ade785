"""Cross-check the exact search against brute force on small random rule sets.

Brute force tries every record over 4 bool flags (yes / no / unknown) and one int flag (every
whole value 0..10, or unknown): 972 records, more values than the search's regions, so this
also checks that one value per region is enough.
"""

import itertools
import random

import pytest

from redflag.core.analysis import analyze
from redflag.core.compile import compile_ruleset
from redflag.core.evaluate import evaluate
from redflag.core.exhaustive import find_downgrades
from redflag.core.logic import Truth
from redflag.core.model import Flag, Level, Rule, RuleSet, RuleSetMeta, Source

BOOLS = ("a", "b", "c", "d")
LEVELS = ("emergency", "urgent", "soon", "routine")


def build(rules):
    flags = (
        *(Flag(id=f, type="bool", question=f"{f}?") for f in BOOLS),
        Flag(id="x", type="int", question="x?", min=0.0, max=10.0),
    )
    doc = RuleSet(
        ruleset=RuleSetMeta(id="t", name="t", version="1", status="draft", description="t"),
        sources=(Source(key="S", title="t", organisation="o", year="2024", url="u"),),
        levels=tuple(Level(id=lv, label=lv, timeframe="t", action="a") for lv in LEVELS),
        flags=flags,
        rules=tuple(
            Rule(id=f"r{i}", level=lv, title="t", when=w, rationale="r", advice="a", sources=("S",))
            for i, (lv, w) in enumerate(rules)
        ),
    )
    return compile_ruleset(doc, sha256="0" * 64, source="t")


def condition(rng, depth=0):
    roll = rng.random()
    if depth >= 2 or roll < 0.35:
        leaf = rng.random()
        if leaf < 0.75:
            return rng.choice(BOOLS)
        return f"x {rng.choice(['>=', '<', '>', '<=', '==', '!='])} {rng.randint(1, 9)}"
    parts = [condition(rng, depth + 1) for _ in range(rng.randint(2, 3))]
    kind = rng.random()
    if kind < 0.3:
        return "(" + " and ".join(parts) + ")"
    if kind < 0.55:
        return "(" + " or ".join(parts) + ")"
    if kind < 0.7:
        return f"not {parts[0]}"
    if kind < 0.85:
        return "any(" + ", ".join(parts) + ")"
    return f"count({', '.join(parts)}) >= {rng.randint(1, len(parts))}"


def random_rules(rng, n):
    return [(rng.choice(LEVELS[:3]), condition(rng)) for _ in range(n)]


def all_records():
    for values in itertools.product((True, False, None), repeat=len(BOOLS)):
        for x in (None, *range(11)):
            record = {f: v for f, v in zip(BOOLS, values, strict=True) if v is not None}
            if x is not None:
                record["x"] = x
            yield record


RECORDS = list(all_records())


@pytest.mark.parametrize("seed", range(50))
def test_downgrades_match_brute_force(seed):
    rng = random.Random(seed)
    old_rules = random_rules(rng, 4)
    new_rules = list(old_rules)
    for _ in range(rng.randint(1, 2)):  # change a level, a condition, or drop a rule
        i = rng.randrange(len(new_rules))
        what = rng.random()
        if what < 0.4:
            new_rules[i] = (rng.choice(LEVELS[:3]), new_rules[i][1])
        elif what < 0.8:
            new_rules[i] = (new_rules[i][0], condition(rng))
        else:
            new_rules[i] = (new_rules[i][0], "a and not a")
    old, new = build(old_rules), build(new_rules)
    sizes = [len(r) for r in RECORDS if evaluate(new, r).rank > evaluate(old, r).rank]
    report = find_downgrades(old, new)
    assert bool(report.counterexamples) == bool(sizes), (old_rules, new_rules)
    if sizes:
        assert min(len(c.record) for c in report.counterexamples) == min(sizes)
        for cex in report.counterexamples:
            assert evaluate(new, cex.record).rank > evaluate(old, cex.record).rank


@pytest.mark.parametrize("seed", range(30))
def test_analysis_matches_brute_force(seed):
    rng = random.Random(1000 + seed)
    rules = random_rules(rng, 4)
    ruleset = build(rules)
    results = [evaluate(ruleset, rec) for rec in RECORDS]
    truths = {r.id: [res.outcomes[i].truth for res in results] for i, r in enumerate(ruleset.rules)}
    report = analyze(ruleset)
    kinds = {(f.kind, f.rule_id) for f in report.findings}
    for i, rule in enumerate(ruleset.rules):
        fires = [t is Truth.TRUE for t in truths[rule.id]]
        assert (("vacuous", rule.id) in kinds) == (not any(fires)), rules
        assert (("always-fires", rule.id) in kinds) == all(fires), rules
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
            assert (("masked", rule.id) in kinds) == masked, rules
    live = [r for r in ruleset.rules if ("vacuous", r.id) not in kinds]
    for i, a in enumerate(live):
        for b in live[i + 1 :]:
            same = truths[a.id] == truths[b.id]
            assert (("redundant", b.id) in kinds and same) or not same, rules
    dropped = any(
        evaluate(ruleset, {**rec, f: True}).rank > evaluate(ruleset, {**rec, f: False}).rank
        for rec in RECORDS
        for f in BOOLS
        if f not in rec
    )
    assert any(f.kind == "non-monotone" for f in report.findings) == dropped, rules
