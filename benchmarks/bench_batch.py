"""Benchmark `redflag batch` against the parse-only floor, jq, and a cold `redflag check`.

Generates a seeded corpus (benchmarks/corpus.py), then measures on that same corpus:
  1. floor: a Python loop that only parses each line (orjson or msgspec, the faster) and
     writes a constant result;
  2. `redflag batch` (subprocess, shipped rules): records/s, ratio to the floor, peak memory;
  3. jq evaluating an equivalent of three rules (skipped when jq is not installed);
  4. a cold single `redflag check` (JSON and human output) against
     `python -c "import typer"`, median of several runs.

The floor and batch run in alternating rounds and each round gives its own ratio: a shared
2-CPU machine slows down in bursts, and a ratio of runs minutes apart would measure the
bursts. The median ratio is the figure; the lowest and highest are printed beside it.

Usage: python benchmarks/bench_batch.py [--records 200000] [--rounds 5] [--runs 7] [--keep DIR]
Targets (issue 14): batch (default, one worker per CPU) >= 0.85 x floor and `--jobs 1`
>= 0.5 x floor, output bytes unchanged; peak memory < 100 MB PSS on 1,000,000 records; a cold
check <= 2.5 x `import typer` (issue 3).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from corpus import write_corpus  # noqa: E402

FLOOR = r"""
import sys, time
import orjson, msgspec
CONSTANT = {"line": 0, "id": None, "level": "routine", "matched": [], "could_escalate": []}
def run(loads, path, dump):
    out = open("/dev/null", "wb")
    start = time.perf_counter()
    n = 0
    parts = []
    constant = orjson.dumps(CONSTANT) + b"\n"
    with open(path, "rb") as f:
        for line in f:
            loads(line)
            parts.append(orjson.dumps(CONSTANT) + b"\n" if dump else constant)
            n += 1
            if len(parts) == 4096:
                out.write(b"".join(parts)); parts = []
    out.write(b"".join(parts))
    return n / (time.perf_counter() - start)
path = sys.argv[1]
for dump in (True, False):
    best = {name: run(loads, path, dump)
            for name, loads in (("orjson", orjson.loads), ("msgspec", msgspec.json.decode))}
    name = max(best, key=best.get)
    print(name, best[name], best["orjson"], best["msgspec"])
"""

JQ_FILTER = (
    "{line: input_line_number, id: .id, level: (if (.saddle_anaesthesia == true) then "
    '"emergency" elif (.back_pain == true and .fever == true) then "urgent" '
    'elif (.back_pain == true and (.age // 0) >= 50) then "soon" else "routine" end)}'
)


def _tree(pid: int) -> list[int]:
    """pid and all its descendants (Linux /proc)."""
    found, stack = [], [pid]
    while stack:
        current = stack.pop()
        found.append(current)
        for task in Path(f"/proc/{current}/task").glob("*/children"):
            with contextlib.suppress(OSError):
                stack.extend(int(c) for c in task.read_text().split())
    return found


def _tree_memory(pid: int) -> tuple[float, float]:
    """Summed RSS and summed PSS (MB) of a process and its descendants, now."""
    rss = pss = 0
    for member in _tree(pid):
        with contextlib.suppress(OSError):
            for line in Path(f"/proc/{member}/smaps_rollup").read_text().splitlines():
                if line.startswith("Rss:"):
                    rss += int(line.split()[1])
                elif line.startswith("Pss:"):
                    pss += int(line.split()[1])
    return rss / 1024, pss / 1024


def timed(
    cmd: list[str],
    stdin_path: Path | None = None,
    env: dict[str, str] | None = None,
    memory: bool = True,
):
    """Wall seconds, peak memory in MB and stderr of a command.

    Memory is sampled every 50 ms over the whole process tree (batch's workers included):
    the peaks of the summed PSS (each shared page split between the processes sharing it:
    the physical memory the run holds) and of the summed RSS (shared pages counted once per
    process: an upper bound). Sampling takes CPU from the run, so throughput is timed in
    runs without it (memory=False: the peaks are then 0).
    """
    with (stdin_path or Path(os.devnull)).open("rb") as stdin, tempfile.TemporaryFile() as err_file:
        before = time.perf_counter()
        proc = subprocess.Popen(
            cmd, stdin=stdin, stdout=subprocess.DEVNULL, stderr=err_file, env=env
        )
        peak_rss = peak_pss = 0.0
        while memory and proc.poll() is None:
            rss, pss = _tree_memory(proc.pid)
            peak_rss, peak_pss = max(peak_rss, rss), max(peak_pss, pss)
            time.sleep(0.05)
        proc.wait()
        elapsed = time.perf_counter() - before
        err_file.seek(0)
        err = err_file.read().decode()
    if proc.returncode not in (0, 1, 2):
        raise SystemExit(f"{cmd} failed ({proc.returncode}): {err}")
    return elapsed, (peak_pss, peak_rss), err


def summary_rate(stderr: str) -> float:
    """records/s from batch's summary line `... (123,456 records/s): ...`."""
    if "records/s" not in stderr:
        return 0.0
    return float(stderr.split(" records/s")[0].rsplit("(", 1)[-1].replace(",", ""))


def median_times(
    commands: list[tuple[list[str], bytes | None]], runs: int, env: dict[str, str]
) -> list[float]:
    """Median wall time of each (command, stdin), the commands taking turns in each run."""
    times: list[list[float]] = [[] for _ in commands]
    for _ in range(runs):
        for (cmd, stdin), spent in zip(commands, times, strict=True):
            start = time.perf_counter()
            subprocess.run(cmd, input=stdin, capture_output=True, env=env, check=False)
            spent.append(time.perf_counter() - start)
    return [statistics.median(spent) for spent in times]


def main() -> None:
    """Run every measurement and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=200_000)
    parser.add_argument("--rounds", type=int, default=5, help="floor/batch rounds")
    parser.add_argument("--runs", type=int, default=7, help="cold-check runs")
    parser.add_argument("--keep", type=Path, help="keep the corpus in this directory")
    args = parser.parse_args()
    workdir = args.keep or Path(tempfile.mkdtemp(prefix="redflag-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    corpus = workdir / f"corpus-{args.records}.ndjson"
    if not corpus.exists():
        write_corpus(corpus, args.records)
    n = args.records
    size = corpus.stat().st_size
    print(f"corpus: {n:,} records, {size / n:.0f} bytes/record ({corpus})")
    # As installed for a user: byte-code caches on (pip compiles them at install time), so drop
    # PYTHONDONTWRITEBYTECODE if this shell sets it; the warm-up runs below write them.
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    py = sys.executable

    modes = (("default: one worker per CPU", "0"), ("single process, -j 1", "1"))
    targets = {"0": 0.85, "1": 0.5}  # issue 14
    batches = {
        jobs: [py, "-m", "redflag", "batch", "--jobs", jobs, str(corpus)] for _, jobs in modes
    }
    for cmd in batches.values():
        subprocess.run(cmd, capture_output=True, env=env, check=False)  # warm the caches
    floors, bares, libs = [], [], set()
    inside: dict[str, list[float]] = {jobs: [] for _, jobs in modes}
    whole: dict[str, list[float]] = {jobs: [] for _, jobs in modes}
    ratios: dict[str, list[float]] = {jobs: [] for _, jobs in modes}
    for _ in range(args.rounds):
        out = subprocess.run(
            [py, "-c", FLOOR, str(corpus)], capture_output=True, text=True, check=True
        ).stdout.split()
        floors.append(float(out[1]))
        bares.append(float(out[5]))
        libs.add(out[0])
        for _, jobs in modes:
            elapsed, _, err = timed(batches[jobs], env=env, memory=False)
            inside[jobs].append(summary_rate(err))
            whole[jobs].append(n / elapsed)
            ratios[jobs].append(inside[jobs][-1] / floors[-1])
    floor, bare = statistics.median(floors), statistics.median(bares)
    print(
        f"1. floor ({'/'.join(sorted(libs))} parse + orjson dump of a constant result, as "
        f"PERFORMANCE.md): {floor:,.0f} records/s (median of {args.rounds} rounds; "
        f"{min(floors):,.0f} to {max(floors):,.0f})"
    )
    print(f"   stricter floor (parse + write constant bytes): {bare:,.0f} records/s")
    for label, jobs in modes:
        rate, ratio = statistics.median(inside[jobs]), statistics.median(ratios[jobs])
        _, (pss, rss), _ = timed(batches[jobs], env=env)
        print(
            f"2. redflag batch ({label}): {rate:,.0f} records/s in-process (its summary line); "
            f"ratio to the floor {ratio:.2f}, target >= {targets[jobs]} "
            f"(rounds {min(ratios[jobs]):.2f} to "
            f"{max(ratios[jobs]):.2f}), {rate / bare:.2f} to the stricter floor"
        )
        end_to_end = statistics.median(whole[jobs])
        print(
            f"   end to end incl. start-up: {end_to_end:,.0f} records/s, ratio "
            f"{end_to_end / floor:.2f}; peak memory {pss:.0f} MB PSS, {rss:.0f} MB summed RSS "
            "(all its processes; target < 100 MB PSS)"
        )

    jq = shutil.which("jq")
    if jq:
        elapsed, (jq_pss, _), _ = timed([jq, "-c", JQ_FILTER], stdin_path=corpus)
        print(f"3. jq, 3 rules: {n / elapsed:,.0f} records/s, peak memory {jq_pss:.0f} MB PSS")
    else:
        print("3. jq: not installed, skipped")

    record = b'{"cancer_history": true, "back_pain": true, "limb_weakness": true, "age": 67}'
    human = [py, "-m", "redflag", "check", "cancer_history", "back_pain", "limb_weakness"]
    typer_t, check_json, check_human = median_times(
        [
            ([py, "-c", "import typer"], None),
            ([py, "-m", "redflag", "check", "-", "--json"], record),
            (human, None),
        ],
        args.runs,
        env,
    )
    print(
        f"4. import typer {typer_t * 1000:.0f} ms; cold check --json {check_json * 1000:.0f} ms "
        f"({check_json / typer_t:.2f}x); cold check (human) {check_human * 1000:.0f} ms "
        f"({check_human / typer_t:.2f}x) (target <= 2.5x)"
    )


if __name__ == "__main__":
    main()
