"""Small builders for tests: a rule set from a few lines of Python."""

from __future__ import annotations

from collections.abc import Mapping

from redflag.core.compile import CompiledRuleSet, compile_ruleset
from redflag.core.model import Flag, Level, Rule, RuleSet, RuleSetMeta, Source

LEVELS = ("emergency", "urgent", "soon", "routine")


def make_ruleset(
    rules: dict[str, tuple[str, str]],
    numeric: Mapping[str, tuple[float, float]] | None = None,
    bools: tuple[str, ...] = ("a", "b", "c", "d", "e"),
    implies: Mapping[str, tuple[str, ...]] | None = None,
) -> CompiledRuleSet:
    """rules: id -> (level, when). bools: bool flags. numeric: id -> (min, max).
    implies: bool flag -> the flags a yes to it implies."""
    numeric = numeric or {}
    implies = implies or {}
    flags = tuple(
        Flag(id=f, type="bool", question=f"{f}?", implies=implies.get(f, ())) for f in bools
    ) + tuple(
        Flag(id=f, type="number", question=f"{f}?", min=lo, max=hi)
        for f, (lo, hi) in numeric.items()
    )
    doc = RuleSet(
        ruleset=RuleSetMeta(id="t", name="test", version="1", status="draft", description="test"),
        sources=(Source(key="S", title="t", organisation="o", year="2024", url="u"),),
        levels=tuple(
            Level(id=lv, label=lv.title(), timeframe="t", action=f"do {lv}") for lv in LEVELS
        ),
        flags=flags,
        rules=tuple(
            Rule(
                id=rid, level=level, title=rid, when=when, rationale="r", advice="a", sources=("S",)
            )
            for rid, (level, when) in rules.items()
        ),
    )
    return compile_ruleset(doc, sha256="0" * 64, source="test")
