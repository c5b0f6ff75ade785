"""Time `diff --exhaustive` and `rules analyze` on the shipped rules; prints figures.

Run: python benchmarks/exhaustive.py   (not a test: no timing asserts anywhere)
"""

from __future__ import annotations

import re
import tempfile
import time
from pathlib import Path

from redflag.core.analysis import analyze
from redflag.core.exhaustive import find_downgrades
from redflag.formats.rulefile import load_ruleset

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    text = (ROOT / "rules.toml").read_text()
    shipped = load_ruleset(ROOT / "rules.toml")
    variants = {
        "one rule lowered": text.replace(
            'id = "back_neuro"\nlevel = "urgent"', 'id = "back_neuro"\nlevel = "soon"'
        ),
        "all 33 conditions rewritten": re.sub(
            r'^when = "(.*)"$', lambda m: f'when = "({m[1]}) or ({m[1]})"', text, flags=re.M
        ),
    }
    with tempfile.TemporaryDirectory() as tmp:
        for name, body in variants.items():
            path = Path(tmp) / "new.toml"
            path.write_text(body)
            new = load_ruleset(path)
            start = time.perf_counter()
            report = find_downgrades(shipped, new)
            took = time.perf_counter() - start
            print(
                f"diff --exhaustive, {name}: {took:.3f} s, {report.visited} partial records, "
                f"{len(report.counterexamples)} downgrade kinds"
            )
    start = time.perf_counter()
    result = analyze(shipped)
    took = time.perf_counter() - start
    print(f"rules analyze: {took:.3f} s, {result.visited} partial records")


if __name__ == "__main__":
    main()
