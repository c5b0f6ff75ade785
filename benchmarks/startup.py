"""Cold start-up of `redflag check ... --json`: this checkout, and optionally another tree.

Run: python benchmarks/startup.py [--against DIR] [--runs N]   (prints figures; asserts nothing)

Each run is a fresh `python -m redflag` process, so it pays for interpreter start, imports,
reading and validating rules.toml, and printing. With `--against DIR` (for example a
`git worktree add /tmp/before 30359b5`, the last commit with the load cache, issue 13) the
two trees run interleaved with the same interpreter and environment, so load from other
work on the machine falls on both alike. The figure to compare is the median; the minimum is
the least disturbed run.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ARGS = ["check", "cancer_history", "back_pain", "limb_weakness", "--json"]


def once(tree: Path) -> float:
    env = {**os.environ, "PYTHONPATH": str(tree)}
    start = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "redflag", *ARGS],
        cwd=tree,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        check=True,
    )
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--against", type=Path, help="another source tree to time beside this")
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()
    trees = {"this checkout": ROOT}
    if args.against:
        trees[f"{args.against}"] = args.against.resolve()
    for tree in trees.values():  # warm the file cache and any bytecode or load cache
        once(tree)
        once(tree)
    times: dict[str, list[float]] = {name: [] for name in trees}
    for _ in range(args.runs):
        for name, tree in trees.items():
            times[name].append(once(tree))
    for name, values in times.items():
        print(
            f"{name}: `redflag {' '.join(ARGS)}` median {statistics.median(values) * 1000:.0f} ms, "
            f"min {min(values) * 1000:.0f} ms over {len(values)} cold processes"
        )


if __name__ == "__main__":
    main()
