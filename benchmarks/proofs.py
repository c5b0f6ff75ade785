"""Issue 11's figures: `rules analyze`, `diff --exhaustive` and `ask` on big and shipped rules.

Run: python benchmarks/proofs.py   (prints figures beside the targets; asserts nothing)

Each timing is the best of 3 runs in this process (the machine is shared; the best run is the
one least disturbed), measured around the core call, as the CLI's "in N s" is; except the
next questions of `ask`, each timed once in one interview (the slowest and the median shown).
Give the `uptime` load average with the figures.
"""

from __future__ import annotations

import random
import re
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from redflag.core.analysis import analyze
from redflag.core.exhaustive import find_downgrades
from redflag.core.flags import NumericFlag
from redflag.core.interview import Interviewer, plan
from redflag.formats.rulefile import load_ruleset

ROOT = Path(__file__).resolve().parents[1]

HEADER = """[ruleset]
id = "bench"
name = "bench"
version = "1.0.0"
status = "draft"
description = "benchmark"

[sources.S]
title = "t"
organisation = "o"
year = "2024"
url = "https://www.nice.org.uk/guidance/ng234"
"""


def _levels(names: tuple[str, ...]) -> str:
    return "".join(
        f'\n[[levels]]\nid = "{n}"\nlabel = "{n}"\ntimeframe = "t"\naction = "a"\n' for n in names
    )


def _flags(n: int) -> str:
    return "".join(f'\n[flags.f{i}]\ntype = "bool"\nquestion = "f{i}?"\n' for i in range(n))


def _rule(i: int, level: str, when: str) -> str:
    return (
        f'\n[[rules]]\nid = "r{i}"\nlevel = "{level}"\ntitle = "t"\nwhen = "{when}"\n'
        'rationale = "r"\nadvice = "a"\nsources = ["S"]\n'
    )


LEVELS = ("emergency", "urgent", "soon", "routine")


def conjunction(n: int) -> str:
    """One emergency rule all(f0, ..., f{n-1}) over 30 flags."""
    when = "all(" + ", ".join(f"f{i}" for i in range(n)) + ")"
    return HEADER + _levels(LEVELS) + _flags(30) + _rule(0, "emergency", when)


def many(rules: int = 1600, flags: int = 200, seed: int = 1) -> str:
    """`rules` small rules (2 to 4 flags, and/or/any/count) over `flags` bool flags."""
    rng = random.Random(seed)
    out = HEADER + _levels(LEVELS) + _flags(flags)
    for i in range(rules):
        names = [f"f{f}" for f in rng.sample(range(flags), rng.randint(2, 4))]
        shape = rng.randrange(4)
        if shape == 0:
            when = " and ".join(names)
        elif shape == 1:
            when = " or ".join(names)
        elif shape == 2:
            when = f"{names[0]} and any({', '.join(names[1:])})"
        else:
            when = f"count({', '.join(names)}) >= 2"
        out += _rule(i, rng.choice(LEVELS[:3]), when)
    return out


def small(rules: int = 40, flags: int = 12, seed: int = 2) -> str:
    """The interview file: `rules` rules over `flags` flags, wide any/all/count conditions."""
    rng = random.Random(seed)
    out = HEADER + _levels(LEVELS) + _flags(flags)
    for i in range(rules):
        names = [f"f{f}" for f in rng.sample(range(flags), rng.randint(3, 8))]
        half = len(names) // 2
        shape = rng.randrange(3)
        if shape == 0:
            when = f"any({', '.join(names[:half])}) and any({', '.join(names[half:])})"
        elif shape == 1:
            when = f"count({', '.join(names)}) >= {rng.randint(2, len(names) - 1)}"
        else:
            when = f"all({', '.join(names[:half])}) or any({', '.join(names[half:])})"
        out += _rule(i, rng.choice(LEVELS[:3]), when)
    return out


def best(fn: Callable[[], object], runs: int = 3) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def line(what: str, seconds: float, target: float, extra: str = "") -> None:
    verdict = "meets" if seconds <= target else "MISSES"
    print(f"{what}: {seconds * 1000:.1f} ms (target <= {target * 1000:g} ms: {verdict}){extra}")


def interview_times(ruleset_path: Path) -> tuple[float, list[float]]:
    """The first question (a new interview: the encoding is built), best of 3; then every
    next question of one interview (one Interviewer, as `ask` keeps) answering "no" to
    everything (a numeric question with the flag's minimum), every flag askable."""
    ruleset = load_ruleset(ruleset_path)
    plan(ruleset, {})  # warm the solver import

    def first() -> None:
        with Interviewer(ruleset) as fresh:
            fresh.plan({})

    record: dict[str, bool | int | float] = {}
    nexts: list[float] = []
    with Interviewer(ruleset) as interviewer:
        step = interviewer.plan(record)
        while step.next_flag is not None:
            spec = ruleset.flags[step.next_flag]
            record[step.next_flag] = spec.min if isinstance(spec, NumericFlag) else False
            start = time.perf_counter()
            step = interviewer.plan(record)
            nexts.append(time.perf_counter() - start)
    return best(first), nexts


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)

        def write(name: str, text: str) -> Path:
            path = folder / name
            path.write_text(text)
            return path

        all30 = load_ruleset(write("all30.toml", conjunction(30)))
        all29 = load_ruleset(write("all29.toml", conjunction(29)))
        line("all(f0..f29): rules analyze", best(lambda: analyze(all30)), 10)
        report = find_downgrades(all30, all29)
        line(
            "all(f0..f29) -> all(f0..f28): diff --exhaustive",
            best(lambda: find_downgrades(all30, all29)),
            10,
            f"; {'proved' if not report.counterexamples else 'downgrade'}",
        )
        back = find_downgrades(all29, all30)
        line(
            "all(f0..f28) -> all(f0..f29): diff --exhaustive",
            best(lambda: find_downgrades(all29, all30)),
            10,
            f"; smallest downgrade answers {len(back.counterexamples[0].record)} flags",
        )

        text = many()
        big = load_ruleset(write("many.toml", text))
        found = analyze(big)
        line(
            "1,600 rules, 200 flags: rules analyze",
            best(lambda: analyze(big), runs=1),
            10,
            f"; {len(found.findings)} findings, {found.calls} solver calls",
        )
        # every tenth rule's condition changed: 160 rules to search
        count = iter(range(10**9))
        edited = re.sub(
            r'^when = "(.*)"$',
            lambda m: f'when = "({m[1]}) and f0"' if next(count) % 10 == 0 else m[0],
            text,
            flags=re.M,
        )
        big2 = load_ruleset(write("many2.toml", edited))
        diff = find_downgrades(big, big2)
        line(
            "1,600 rules, 160 conditions changed: diff --exhaustive",
            best(lambda: find_downgrades(big, big2), runs=1),
            5,
            f"; {len(diff.counterexamples)} downgrade kinds",
        )

        shipped_text = (ROOT / "rules.toml").read_text()
        shipped = load_ruleset(ROOT / "rules.toml")
        lowered = load_ruleset(
            write(
                "lowered.toml",
                shipped_text.replace(
                    'id = "back_neuro"\nlevel = "urgent"', 'id = "back_neuro"\nlevel = "soon"'
                ),
            )
        )
        line(
            f"shipped rules ({len(shipped.rules)}): diff --exhaustive, one rule lowered",
            best(lambda: find_downgrades(shipped, lowered)),
            1,
        )
        line(
            f"shipped rules ({len(shipped.rules)}): rules analyze",
            best(lambda: analyze(shipped)),
            2,
        )

        for name, path, target_first, target_next in (
            ("40 rules and 12 flags", write("small.toml", small()), 0.5, 0.2),
            ("shipped rules", ROOT / "rules.toml", 0.05, 0.05),
        ):
            first, nexts = interview_times(path)
            line(f"ask, {name}: first question", first, target_first)
            median = f"; median {statistics.median(nexts) * 1000:.1f} ms of {len(nexts)}"
            line(f"ask, {name}: slowest next question (all 'no')", max(nexts), target_next, median)


if __name__ == "__main__":
    main()
