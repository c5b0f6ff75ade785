"""Benchmark the engines of issue 15 on 1,000,000 seeded records (2 cores).

Measures, on one seeded corpus (benchmarks/corpus.py, which agrees with the implied flags, so
no record is refused), as NDJSON and as Parquet:
  1. the Python engine, `redflag batch` NDJSON -> NDJSON (its workers, one per CPU);
  2. the DuckDB engine, `redflag batch --engine duckdb` Parquet -> Parquet;
  3. the DuckDB engine on NDJSON -> NDJSON with the strict checks (the Python engine's own
     reader and validator, then DuckDB), and where its time goes;
  4. Spark, `redflag.spark.check_dataframe` over the Parquet file on local[1] and local[2]
     (records/s, written to Spark's no-op sink), and the per-job overhead (a 10-row job).
Peak memory is the process tree's peak PSS, sampled every 50 ms (a separate run each).

Usage: python benchmarks/bench_engines.py [--records 1000000] [--keep DIR] [--no-spark]
       [--repeat 5]  (DuckDB Parquet -> Parquet again: best and median wall, CPU, load)
Targets (issue 15): DuckDB Parquet -> Parquet >= 1,000,000 records/s and >= 3x the Python
engine's NDJSON throughput in the same run.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from bench_batch import summary_rate, timed  # noqa: E402
from corpus import records  # noqa: E402

REDFLAG = [sys.executable, "-m", "redflag"]

PHASES = r"""
import sys, time
clock = lambda: (time.perf_counter(), time.process_time())
start = clock()
import pyarrow.parquet as pq
import redflag.cli, redflag.engines.batch as engine
from redflag.engines.duckdb import connect
from redflag.engines.parquet import open_parquet, output_schema, refused, results_batch
from redflag.engines.parquet import writer_options
from redflag.formats.rulefile import load_ruleset
phases = []
def lap(name, since):
    now = clock()
    phases.append((name, now[0] - since[0], now[1] - since[1]))
    return now
at = lap("start-up: imports (typer, duckdb, pyarrow)", start)
ruleset = load_ruleset(None)
con = connect()
file = open_parquet(con, sys.argv[1], "corpus", ruleset)
at = lap("rules loaded, Parquet schema checked", at)
sql = engine._file_output(con, file, ruleset)
table = con.sql(sql).to_arrow_table()
at = lap(f"DuckDB: scan, filter, implied, {len(ruleset.rules)} rules -> Arrow", at)
schema = output_schema(ruleset, with_file=False)
again = con.cursor()
batches = [
    results_batch(refused(again, file, ruleset, b), ruleset, schema, None)[0]
    for b in table.to_batches(65536)
]
at = lap("Arrow/numpy: level, worst case, the two lists", at)
with pq.ParquetWriter(sys.argv[2], schema, **writer_options(schema)) as w:
    for batch in batches:
        w.write_batch(batch)
at = lap("pyarrow: write Parquet", at)
for name, wall, cpu in phases:
    print(f"{name}\t{wall}\t{cpu}")
"""

SPARK_JOB = r"""
import sys, time
from pyspark.sql import SparkSession
from redflag.spark import check_dataframe
master, path = sys.argv[1], sys.argv[2]
spark = (SparkSession.builder.master(master).config("spark.ui.enabled", "false")
         .config("spark.sql.shuffle.partitions", "2")
         .config("spark.sql.files.maxPartitionBytes", "2m")  # split the file by row group
         .getOrCreate())
spark.sparkContext.setLogLevel("ERROR")
df = spark.read.parquet(path)
small = df.limit(10).cache(); small.count()
check_dataframe(small).write.format("noop").mode("overwrite").save()  # warm up
start = time.perf_counter()
check_dataframe(small).write.format("noop").mode("overwrite").save()
overhead = time.perf_counter() - start
start = time.perf_counter()
check_dataframe(df).write.format("noop").mode("overwrite").save()
elapsed = time.perf_counter() - start
print(f"{df.count()} {elapsed} {overhead}")
"""


def write_inputs(folder: Path, n: int) -> tuple[Path, Path]:
    """The seeded corpus as NDJSON, and the same records as Parquet (DuckDB converts it)."""
    from redflag.formats.rulefile import load_ruleset
    from redflag.sql import DIALECTS, compile_schema

    ruleset = load_ruleset(None)
    ndjson = folder / "corpus.ndjson"
    with ndjson.open("w", encoding="utf-8") as out:
        for rec in records(n):  # agrees with the implied flags: no record is refused
            out.write(json.dumps(rec) + "\n")
    import duckdb

    con = duckdb.connect()
    con.execute(compile_schema(ruleset, DIALECTS["duckdb"], "records"))
    # the corpus is clean (the Python engine refuses none of it): DuckDB's reader may load it
    con.execute(
        "INSERT INTO records BY NAME SELECT * FROM read_json("
        f"'{ndjson}', format='newline_delimited', columns={_columns(ruleset)})"
    )
    parquet = folder / "corpus.parquet"
    con.execute(f"COPY records TO '{parquet}' (FORMAT parquet)")
    return ndjson, parquet


def _columns(ruleset) -> str:
    from corpus import VOCABULARY

    types = {"bool": "BOOLEAN", "int": "BIGINT", "number": "DOUBLE"}
    fields = {"id": "VARCHAR", **{f: types[ruleset.flags[f].type] for f in VOCABULARY}}
    return "{" + ", ".join(f"'{k}': '{v}'" for k, v in fields.items()) + "}"


def rate(n: int, seconds: float) -> str:
    return f"{n / seconds:>12,.0f} records/s  ({seconds:6.2f} s)"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--keep", type=Path, help="keep the corpus and outputs in DIR")
    parser.add_argument("--no-spark", action="store_true")
    parser.add_argument("--spark-only", action="store_true", help="only the Spark runs")
    parser.add_argument(
        "--repeat", type=int, default=5, help="DuckDB Parquet -> Parquet runs after the others"
    )
    args = parser.parse_args()
    folder = args.keep or Path(tempfile.mkdtemp(prefix="redflag-bench-"))
    folder.mkdir(parents=True, exist_ok=True)
    n = args.records
    try:
        start = time.perf_counter()
        ndjson, parquet = folder / "corpus.ndjson", folder / "corpus.parquet"
        if not (args.keep and ndjson.exists() and parquet.exists()):  # --keep: reuse them
            ndjson, parquet = write_inputs(folder, n)
        print(
            f"corpus: {n:,} records, NDJSON {ndjson.stat().st_size / 1e6:,.0f} MB, "
            f"Parquet {parquet.stat().st_size / 1e6:,.0f} MB "
            f"({time.perf_counter() - start:.0f} s to write)"
        )
        runs = (
            {}
            if args.spark_only
            else {
                "python   NDJSON -> NDJSON   ": [
                    *REDFLAG,
                    "batch",
                    str(ndjson),
                    "-o",
                    str(folder / "py.ndjson"),
                ],
                "duckdb   Parquet -> Parquet ": [
                    *REDFLAG,
                    "batch",
                    "--engine",
                    "duckdb",
                    str(parquet),
                    "-o",
                    str(folder / "duck.parquet"),
                ],
                "duckdb   NDJSON -> NDJSON   ": [
                    *REDFLAG,
                    "batch",
                    "--engine",
                    "duckdb",
                    str(ndjson),
                    "-o",
                    str(folder / "duck.ndjson"),
                ],
            }
        )
        seconds = {}
        for name, cmd in runs.items():
            elapsed, _, _ = timed(cmd, memory=False)
            _, (pss, _), _ = timed(cmd, memory=True)
            seconds[name] = elapsed
            print(f"{name}{rate(n, elapsed)}  peak {pss:,.0f} MB")
        if args.spark_only:
            _spark(parquet)
            return
        same = (folder / "py.ndjson").read_bytes() == (folder / "duck.ndjson").read_bytes()
        print(f"duckdb NDJSON output byte-identical to python: {same}")
        py, duck = seconds["python   NDJSON -> NDJSON   "], seconds["duckdb   Parquet -> Parquet "]
        print(
            f"duckdb Parquet vs python NDJSON: {py / duck:.2f}x "
            f"(target >= 3x; >= 1,000,000 records/s: {n / duck >= 1e6})"
        )
        strict = seconds["duckdb   NDJSON -> NDJSON   "]
        read = timed(
            [*REDFLAG, "batch", "--engine", "duckdb", str(ndjson), "-o", str(folder / "d.parquet")],
            memory=False,
        )[0]
        print(
            f"  where DuckDB-on-NDJSON time goes: the Python engine's strict reader and "
            f"validator (same as python's, one process), DuckDB per 65,536-record batch; "
            f"NDJSON -> Parquet {read:.2f} s vs NDJSON -> NDJSON {strict:.2f} s"
        )
        _phases(parquet, folder / "phases.parquet", n)
        _repeated(runs["duckdb   Parquet -> Parquet "], n, args.repeat)
        if not args.no_spark:
            _spark(parquet)
    finally:
        if args.keep is None:
            shutil.rmtree(folder, ignore_errors=True)


def _phases(parquet: Path, target: Path, n: int) -> None:
    """Where DuckDB Parquet -> Parquet spends its time: the same steps as the engine, one at a
    time, in one process (wall and CPU seconds, CPU summed over DuckDB's threads). The
    engine itself overlaps the last step with the others (engines/parquet.py WriteBehind),
    so its wall time is less than the sum of these."""
    out = subprocess.run(
        [sys.executable, "-c", PHASES, str(parquet), str(target)],
        capture_output=True,
        text=True,
        check=True,
    )
    print("  where DuckDB Parquet -> Parquet time goes (wall s, CPU s over all threads):")
    for line in out.stdout.splitlines():
        name, wall, cpu = line.split("\t")
        print(f"    {name:<48} {float(wall):6.2f} {float(cpu):6.2f}")


def _repeated(cmd: list[str], n: int, times: int) -> None:
    """The DuckDB Parquet -> Parquet run `times` more times (the machine is shared, so one
    wall figure says little): best and median of the whole process's wall time, its CPU
    seconds (user + system, from getrusage of the finished child), the load average before
    each run, and the time batch's own summary gives (after interpreter start-up, imports
    and loading the rules: the steady state, labelled as such)."""
    if times <= 0:
        return
    walls, cpus, inner, loads = [], [], [], []
    for _ in range(times):
        loads.append(os.getloadavg()[0])
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        elapsed, _, err = timed(cmd, memory=False)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        walls.append(elapsed)
        cpus.append(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime)
        inside = summary_rate(err)
        inner.append(n / inside if inside else float("nan"))
    print(
        f"  duckdb Parquet -> Parquet, {times} more runs (load average {min(loads):.2f} to "
        f"{max(loads):.2f}):"
    )
    for name, values in (("whole process, wall", walls), ("after start-up (summary)", inner)):
        middle = statistics.median(values)
        print(f"    {name:<28} best {rate(n, min(values))}  median {rate(n, middle)}")
    print(
        f"    whole process, CPU s (user + system): best {min(cpus):.2f}, "
        f"median {statistics.median(cpus):.2f}"
    )


def _spark(parquet: Path) -> None:
    if not shutil.which("java"):
        print("spark: skipped, no java on PATH")
        return
    for master in ("local[1]", "local[2]"):
        out = subprocess.run(
            [sys.executable, "-c", SPARK_JOB, master, str(parquet)],
            capture_output=True,
            text=True,
            check=True,
        )
        count, elapsed, overhead = out.stdout.split()
        print(
            f"spark    {master:<9} Parquet     {rate(int(count), float(elapsed))}  "
            f"per-job overhead {float(overhead):.2f} s"
        )


if __name__ == "__main__":
    main()
