"""How many questions `redflag ask` asks a person who answers "no" to everything.

Run: python benchmarks/ask_counts.py [RULES.toml ...]   (prints figures; asserts nothing)

The interview is simulated in-process with core.interview.plan, patient flags only (as
`ask` without --clinician); a numeric question is answered with the flag's minimum, except
age, answered 35 and 70 in two runs.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from redflag.core.flags import NumericFlag
from redflag.core.interview import plan
from redflag.formats.rulefile import load_ruleset


def interview(path: Path | None, age: int) -> tuple[int, float, float]:
    ruleset = load_ruleset(path)
    clinician = frozenset(f.id for f in ruleset.flags.values() if f.audience != "patient")
    record: dict[str, bool | int | float] = {}
    asked = 0
    slowest = 0.0
    total = 0.0
    while True:
        start = time.perf_counter()
        step = plan(ruleset, record, not_asked=clinician)
        took = time.perf_counter() - start
        slowest, total = max(slowest, took), total + took
        if step.next_flag is None:
            return asked, slowest, total
        flag = ruleset.flags[step.next_flag]
        if flag.id == "age":
            record[flag.id] = age
        elif isinstance(flag, NumericFlag):
            record[flag.id] = int(flag.min) if flag.type == "int" else flag.min
        else:
            record[flag.id] = False
        asked += 1


def main() -> None:
    paths = [Path(p) for p in sys.argv[1:]] or [None]
    for path in paths:
        for age in (35, 70):
            n, slowest, total = interview(path, age)
            print(
                f"{path or 'bundled rules'}: all 'no', age {age}: {n} questions; "
                f"slowest next-question {1000 * slowest:.1f} ms, all {1000 * total:.0f} ms"
            )


if __name__ == "__main__":
    main()
