"""`batch` on several processes: blocks of NDJSON out, finished result text back, in order.

The parent runs the source (whole-line blocks, their lines counted) and the sink; each
worker (forked, so the compiled rule set is inherited, not sent) wraps decode, evaluate and
encode, and nothing else: it turns a block into its output text exactly as the
single-process path does, with the same decoder, evaluator and encoder. A block that is
a stretch of a regular file is sent as (file descriptor, offset, length) and the worker
reads it itself: piping a megabyte to a worker costs the parent more than reading it.
Other blocks (pipes, gzip) are sent whole. At most two blocks per worker are in flight, so
memory stays constant. Workers ignore Ctrl-C: the parent alone stops,
after the write under way.
"""

from __future__ import annotations

import gc
import multiprocessing
import os
import signal
import threading
import time
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import IO

from redflag.batch.decode import FastDecoder
from redflag.batch.encode import NdjsonEncoder
from redflag.batch.evaluate import Evaluator
from redflag.batch.sink import Sink
from redflag.batch.source import Source, Stretch
from redflag.batch.summary import BatchSummary, Tally, new_summary, rule_ranks, tally
from redflag.core.compile import CompiledRuleSet
from redflag.core.vector import VectorRuleSet
from redflag.errors import InputError, Location, WorkerLostError

_FileRange = tuple[int, int, int]  # file descriptor, offset, length: a Stretch to read
_Worker = tuple[CompiledRuleSet, FastDecoder, Evaluator, NdjsonEncoder]
_WORKER: _Worker | None = None


def run_parallel(
    source: Source, ruleset: CompiledRuleSet, out: IO[bytes], jobs: int
) -> BatchSummary:
    """NDJSON in, NDJSON out (no --full, --fail-fast or --line-buffered), on `jobs` workers."""
    summary = new_summary(ruleset)
    sink = Sink(out, flush_lines=False)
    context = multiprocessing.get_context("fork")
    gc.freeze()  # the workers' collector leaves the inherited objects (and their pages) alone
    with_file = len(source.inputs) > 1
    with ProcessPoolExecutor(
        jobs, mp_context=context, initializer=_start, initargs=(ruleset, with_file)
    ) as pool:
        pending: deque[Future[tuple[bytes, Tally]]] = deque()
        parts = _parts(source)
        failure: InputError | None = None
        try:
            while True:
                try:
                    name, where, first = next(parts)
                except StopIteration:
                    break
                except InputError as err:  # an input that cannot be read on (damaged gzip):
                    failure = err  # what was read before it still gets its results
                    break
                pending.append(pool.submit(_work, where, first, name))
                if len(pending) >= 2 * jobs:
                    _finish(pending.popleft(), sink, summary)
            while pending:
                _finish(pending.popleft(), sink, summary)
        except BrokenProcessPool:  # on submitting, or on waiting for a result
            raise WorkerLostError(
                f"a worker process ended without answering (killed: out of memory, or a "
                f"signal); the results of the first {summary.records:,} records were "
                "written, in order, and nothing after them",
                hint="run again from there, or with --jobs 1 (one process, less memory)",
            ) from None
        finally:
            for future in pending:
                future.cancel()
    if failure is not None:
        raise failure
    return summary


def _parts(source: Source) -> Iterator[tuple[str, bytes | _FileRange, int]]:
    """Each input's lines in pieces for the workers: (source, what to read, first line)."""
    for name, stream, part in source.pieces():
        if isinstance(part, Stretch):
            yield name, (stream.fileno(), part.offset, part.size), part.first
        else:
            yield name, part.data, part.first


def _finish(future: Future[tuple[bytes, Tally]], sink: Sink, summary: BatchSummary) -> None:
    text, part = future.result()
    sink.write([text])
    summary.add(part)


def _start(ruleset: CompiledRuleSet, with_file: bool) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent handles Ctrl-C
    signal.signal(signal.SIGTERM, signal.SIG_DFL)  # the pool may end a worker so
    threading.Thread(target=_exit_with, args=(os.getppid(),), daemon=True).start()
    global _WORKER
    vector = VectorRuleSet(ruleset)
    encoder = NdjsonEncoder(ruleset, with_file=with_file)
    _WORKER = (ruleset, FastDecoder(ruleset, vector), Evaluator(ruleset, vector), encoder)


def _exit_with(parent: int) -> None:
    """End this worker once its parent is gone (killed, say). A waiting worker would not
    notice: every worker holds the task pipe open, so it never reads an end of file."""
    while os.getppid() == parent:
        time.sleep(0.5)
    os._exit(0)


def _work(where: bytes | _FileRange, first: int, source: str) -> tuple[bytes, Tally]:
    assert _WORKER is not None, "the pool initializer sets up each worker"
    ruleset, decoder, evaluate, encoder = _WORKER
    if isinstance(where, bytes):
        block = where
    else:  # the parent opened the file before forking us: the descriptor is ours too
        fd, offset, length = where
        block = os.pread(fd, length, offset)
        if len(block) != length:
            raise InputError(
                f"{source} changed while it was being read",
                location=Location(source),
                hint="check a file that nothing else is writing",
            )
    parts: list[bytes] = []
    done = new_summary(ruleset)
    ranks = rule_ranks(ruleset)
    for chunk in decoder.block_chunks(block, source, first):
        result = evaluate(chunk)
        parts += encoder.encode(chunk, result)
        done.add(tally(chunk, result, ranks, len(done.levels)))
    counts = list(done.levels.values())
    return b"".join(parts), Tally(
        counts, done.records, done.errors, done.most_urgent_rank, done.worst_rank
    )
