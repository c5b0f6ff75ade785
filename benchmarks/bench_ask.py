"""How fast `redflag ask` feels: time to the first question and from answer to next question.

Run: python benchmarks/bench_ask.py   (prints figures; asserts nothing)
"""

from __future__ import annotations

import os
import statistics
import sys
import time

import pexpect

from redflag.core.interview import plan
from redflag.formats.rulefile import load_ruleset


def in_process() -> None:
    rules = load_ruleset(None)
    for record in ({}, {"back_pain": True}, {"back_pain": True, "cancer_history": False}):
        start = time.perf_counter()
        for _ in range(20):
            plan(rules, record)
        ms = (time.perf_counter() - start) / 20 * 1000
        print(f"plan() after {len(record)} answers: {ms:.1f} ms")


def through_a_terminal(runs: int = 5) -> None:
    env = {**os.environ, "NO_COLOR": "1", "TERM": "dumb"}
    first, steps = [], []
    for _ in range(runs):
        start = time.perf_counter()
        child = pexpect.spawn(
            sys.executable, ["-m", "redflag", "ask"], env=env, encoding="utf-8", timeout=10
        )
        child.delaybeforesend = None
        child.expect(r"\) > ")
        first.append(time.perf_counter() - start)
        while True:
            start = time.perf_counter()
            child.sendline("n")
            if child.expect([r"\) > ", pexpect.EOF]) == 1:
                break
            steps.append(time.perf_counter() - start)
        child.close()
    print(
        f"to the first question: median {statistics.median(first) * 1000:.0f} ms "
        f"; answer to next question: median "
        f"{statistics.median(steps) * 1000:.0f} ms, max {max(steps) * 1000:.0f} ms"
    )


if __name__ == "__main__":
    in_process()
    through_a_terminal()
