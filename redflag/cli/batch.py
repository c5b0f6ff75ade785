"""`redflag batch`: many records (NDJSON, CSV, JSON array, gzip) -> one result per record."""

from __future__ import annotations

import os
import sys
from contextlib import ExitStack
from enum import StrEnum
from pathlib import Path
from typing import IO, TYPE_CHECKING, Annotated, cast

import typer

from redflag.cli.common import (
    FailOnOption,
    FailOnWorstOption,
    FhirVersionChoice,
    FhirVersionOption,
    RulesOption,
    fail_on_rank,
    load,
)
from redflag.cli.handler import writing
from redflag.errors import ExitCode, UsageError

if TYPE_CHECKING:
    from redflag.batch import BatchOptions, BatchSummary
    from redflag.core.compile import CompiledRuleSet


MAX_JOBS = 64  # each worker is a forked process holding a block or two: bounded


class InputFormat(StrEnum):
    """Input formats."""

    ndjson = "ndjson"
    csv = "csv"
    json = "json"
    fhir = "fhir"
    parquet = "parquet"


class OutputFormat(StrEnum):
    """Output formats."""

    ndjson = "ndjson"
    csv = "csv"
    fhir = "fhir"
    parquet = "parquet"


class Engine(StrEnum):
    """Evaluation engines."""

    python = "python"
    duckdb = "duckdb"


def batch(
    files: Annotated[
        list[Path] | None,
        typer.Argument(
            help="Files to read, in turn ('-' or none: stdin). A .gz file is unzipped.",
            metavar="FILE",
            show_default=False,
        ),
    ] = None,
    rules: RulesOption = None,
    input_format: Annotated[
        InputFormat | None,
        typer.Option(
            "--format",
            help="ndjson: one JSON object per line. csv: a header row of flag ids (and id); "
            "empty cell = unknown. json: one array of records, read whole into memory. "
            "fhir: one QuestionnaireResponse, Observation or Bundle per line. "
            "parquet (--engine duckdb): one column per flag, null = unknown. "
            "Default: parquet for .parquet files, else ndjson.",
            show_default=False,
        ),
    ] = None,
    output_format: Annotated[
        OutputFormat | None,
        typer.Option(
            "--format-out",
            help="ndjson, csv for spreadsheets, fhir (one Bundle per line, as check --fhir), "
            "or parquet (--engine duckdb, with --output). "
            "Default: parquet when --output ends in .parquet, else ndjson.",
            show_default=False,
        ),
    ] = None,
    engine: Annotated[
        Engine,
        typer.Option(
            "--engine",
            help="python: this process (and its workers). duckdb: the compiled SQL in "
            "embedded DuckDB (pip install 'redflag[sql]'); same results, same errors.",
        ),
    ] = Engine.python,
    full: Annotated[
        bool,
        typer.Option(
            "--full",
            help="Add everything 'check --json' gives (rationale, sources, missing flags). "
            "One process, about a tenth of the speed: each record is read by check's own "
            "validator.",
        ),
    ] = False,
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="Write results to FILE instead of stdout."),
    ] = None,
    fail_fast: Annotated[
        bool, typer.Option("--fail-fast", help="Stop after the first bad record.")
    ] = False,
    fail_on: FailOnOption = None,
    fail_on_worst: FailOnWorstOption = None,
    line_buffered: Annotated[
        bool,
        typer.Option(
            "--line-buffered",
            help="Evaluate and flush each record as it arrives (for interactive pipes).",
        ),
    ] = False,
    jobs: Annotated[
        int,
        typer.Option(
            "--jobs",
            "-j",
            min=0,
            max=MAX_JOBS,
            help="Worker processes for NDJSON in and out (0: one per CPU; 1: no workers; "
            f"{MAX_JOBS} at most).",
        ),
    ] = 0,
    fhir_version: FhirVersionOption = FhirVersionChoice.R4B,
) -> None:
    """Check many records: one result line per input record, in order, bad ones included.

    A bad record gives {"line": N, "id": ..., "error": {...}} in its place and the run goes
    on. Blank lines count as bad records, so no line is skipped silently. Exit code 2 when
    any record was bad, else 1 when --fail-on LEVEL was reached by a level (or --fail-on-worst
    LEVEL by a worst case), else 0. A summary goes to
    stderr.

    Example:

        redflag batch intake.ndjson.gz --fail-on emergency > results.ndjson

        redflag batch --format csv answers.csv --format-out csv -o results.csv

        redflag batch --format fhir responses.ndjson --format-out fhir > bundles.ndjson
        redflag batch --engine duckdb corpus.parquet -o results.parquet
    """
    import time

    from redflag.batch import BatchOptions, run_batch
    from redflag.batch.sink import terminate_as_interrupt

    ruleset = load(rules)
    threshold = fail_on_rank(ruleset, fail_on)
    worst_threshold = fail_on_rank(ruleset, fail_on_worst, "--fail-on-worst")
    paths = files or [Path("-")]
    if len(paths) > 1 and Path("-") in paths:
        raise UsageError("'-' (stdin) cannot be combined with files", hint="give files only")
    input_format = input_format or _format_of(paths)
    output_format = output_format or _format_out_of(output)
    fhir = input_format is InputFormat.fhir or output_format is OutputFormat.fhir
    if fhir and output_format is OutputFormat.csv:
        raise UsageError("FHIR input gives NDJSON or FHIR output, not CSV", hint="drop one")
    if fhir and input_format not in (InputFormat.fhir, InputFormat.ndjson):
        raise UsageError(
            "--format-out fhir reads NDJSON records or FHIR resources, one per line",
            hint="use --format ndjson or --format fhir",
        )
    if fhir and engine is Engine.duckdb:
        raise UsageError("FHIR is read and written by the Python engine", hint="drop --engine")
    if full and output_format not in (OutputFormat.ndjson, OutputFormat.fhir):
        raise UsageError("--full gives nested detail: it needs NDJSON output", hint="drop one")
    if (
        engine is Engine.duckdb
        or OutputFormat.parquet in (output_format,)
        or (input_format is InputFormat.parquet)
    ):
        _check_duckdb_options(engine, input_format, output_format, output, paths, full)
    options = BatchOptions(
        format=input_format.value,
        format_out=output_format.value,
        full=full,
        fail_fast=fail_fast,
        line_buffered=line_buffered,
        jobs=jobs or (os.cpu_count() or 1),
        fhir_version=fhir_version.value,
    )
    if engine is Engine.duckdb:
        summary, elapsed = _run_duckdb(paths, ruleset, options, output)
        _finish(summary, elapsed, threshold, worst_threshold)
        return
    with ExitStack() as stack:
        stack.callback(terminate_as_interrupt())  # stopped by `timeout`: whole lines too
        inputs = _open_inputs(stack, paths)
        out = _open_output(stack, output)
        start = time.perf_counter()
        sizes = _file_sizes(paths)
        if sizes is not None and not fhir and sys.stderr.isatty():
            summary = _with_progress(inputs, sum(sizes), ruleset, out, options)
        else:
            summary = run_batch(inputs, ruleset, out, options)
    _finish(summary, time.perf_counter() - start, threshold, worst_threshold)


def _finish(
    summary: BatchSummary, elapsed: float, threshold: int | None, worst_threshold: int | None
) -> None:
    print(_summary_text(summary, elapsed), file=sys.stderr)
    if summary.errors:
        raise typer.Exit(ExitCode.BAD_INPUT)
    rank, worst = summary.most_urgent_rank, summary.worst_rank
    if threshold is not None and rank is not None and rank <= threshold:
        raise typer.Exit(ExitCode.NO)
    if worst_threshold is not None and worst is not None and worst <= worst_threshold:
        raise typer.Exit(ExitCode.NO)


def _format_of(paths: list[Path]) -> InputFormat:
    if paths and all(p.suffix.lower() == ".parquet" for p in paths):
        return InputFormat.parquet
    return InputFormat.ndjson


def _format_out_of(output: Path | None) -> OutputFormat:
    if output is not None and output.suffix.lower() == ".parquet":
        return OutputFormat.parquet
    return OutputFormat.ndjson


def _check_duckdb_options(
    engine: Engine,
    input_format: InputFormat,
    output_format: OutputFormat,
    output: Path | None,
    paths: list[Path],
    full: bool,
) -> None:
    parquet = InputFormat.parquet in (input_format,) or output_format is OutputFormat.parquet
    if parquet and engine is not Engine.duckdb:
        raise UsageError(
            "Parquet is read and written by the DuckDB engine", hint="add --engine duckdb"
        )
    if full:
        raise UsageError("--full needs the Python engine", hint="drop --engine duckdb or --full")
    if output_format is OutputFormat.parquet and output is None:
        raise UsageError("Parquet output needs a file", hint="add --output results.parquet")
    if input_format is InputFormat.parquet and Path("-") in paths:
        raise UsageError("Parquet cannot be read from stdin", hint="give the file's path")


def _run_duckdb(
    paths: list[Path], ruleset: CompiledRuleSet, options: BatchOptions, output: Path | None
) -> tuple[BatchSummary, float]:
    import time

    from redflag.batch import open_path
    from redflag.batch.sink import terminate_as_interrupt
    from redflag.engines.batch import Inputs, run_duckdb_batch

    parquet_out = output if options.format_out == "parquet" else None
    with ExitStack() as stack:
        stack.callback(terminate_as_interrupt())
        if options.format == "parquet":
            for path in paths:
                stack.enter_context(open_path(path))  # a missing file: check's message
            inputs = Inputs(parquet=[(str(p), p) for p in paths])
        else:
            inputs = Inputs(streams=_open_inputs(stack, paths))
        out = _open_output(stack, output) if parquet_out is None else None
        start = time.perf_counter()
        summary = run_duckdb_batch(inputs, ruleset, out, options, parquet_out)
    return summary, time.perf_counter() - start


def _open_inputs(stack: ExitStack, paths: list[Path]) -> list[tuple[str, IO[bytes]]]:
    """The streams of `paths` ('-' is stdin), each named and decompressed."""
    from redflag.batch import decompressed, open_path

    raws = [
        sys.stdin.buffer if p == Path("-") else stack.enter_context(open_path(p)) for p in paths
    ]
    sources = ["<stdin>" if p == Path("-") else str(p) for p in paths]
    return [(s, decompressed(r, s)) for s, r in zip(sources, raws, strict=True)]


def _open_output(stack: ExitStack, output: Path | None) -> IO[bytes]:
    """stdout or `output`, writing whole lines only (Ctrl-C waits for the write under way)."""
    from redflag.batch.sink import WholeWrites

    target: IO[bytes] = sys.stdout.buffer
    if output is not None:
        with writing(output):
            target = stack.enter_context(open(output, "wb"))  # noqa: SIM115 (the stack owns it)
    return cast(IO[bytes], WholeWrites(target))


def _file_sizes(paths: list[Path]) -> list[int] | None:
    if any(p == Path("-") or not p.is_file() for p in paths):
        return None
    return [p.stat().st_size for p in paths]


def _with_progress(
    inputs: list[tuple[str, IO[bytes]]],
    total: int,
    ruleset: CompiledRuleSet,
    out: IO[bytes],
    options: BatchOptions,
) -> BatchSummary:
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

    from redflag.batch import run_batch

    columns = (TextColumn("{task.description}"), BarColumn(), TimeRemainingColumn())
    # no refresh thread (auto_refresh=False): batch may fork workers, and forking a process
    # that runs other threads can deadlock the children; each progress event refreshes it
    with Progress(
        *columns, console=Console(stderr=True), transient=True, auto_refresh=False
    ) as progress:
        task = progress.add_task("checking records", total=total)

        def advance(done: int) -> None:  # the source's progress event: bytes read so far
            progress.update(task, completed=min(done, total), refresh=True)

        return run_batch(inputs, ruleset, out, options, on_progress=advance)


def _summary_text(summary: BatchSummary, elapsed: float) -> str:
    rate = summary.records / elapsed if elapsed > 0 else 0.0
    levels = ", ".join(f"{level} {count:,}" for level, count in summary.levels.items())
    text = (
        f"redflag batch: {summary.records:,} records in {elapsed:.2f} s "
        f"({rate:,.0f} records/s): {levels}; errors {summary.errors:,}"
    )
    if summary.stopped_early:
        text += " (stopped at the first bad record: --fail-fast)"
    return text
