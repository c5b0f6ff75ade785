"""`batch` on several processes: blocks of NDJSON out, finished result text back, in order.

The parent reads whole-line blocks, counts their lines and writes results; each worker
(forked, so the compiled rule set is inherited, not sent) decodes, evaluates and serialises
a block exactly as the single-process path does, with the same decoder, vector rule set and
writer. A block that is a stretch of a regular file is sent as (file descriptor, offset,
length) and the worker reads it itself: piping a megabyte to a worker costs the parent more
than reading it. Other blocks (pipes, gzip) are sent whole. At most two blocks per worker
are in flight, so memory stays constant. Workers ignore Ctrl-C: the parent alone stops,
after the write under way.
"""

from __future__ import annotations

import gc
import io
import multiprocessing
import os
import signal
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import IO

from redflag.core.compile import CompiledRuleSet
from redflag.core.vector import VectorRuleSet
from redflag.errors import InputError, Location, WorkerLostError
from redflag.formats.batch import BatchSummary, Tally, rule_ranks, tally
from redflag.formats.batch_read import (
    Block,
    FastDecoder,
    Stretch,
    file_stretches,
    in_pieces,
    is_regular_file,
    iter_blocks,
)
from redflag.formats.batch_write import NdjsonWriter

_FileRange = tuple[int, int, int]  # file descriptor, offset, length: a Stretch to read
_Worker = tuple[CompiledRuleSet, VectorRuleSet, FastDecoder, NdjsonWriter]
_WORKER: _Worker | None = None


def run_parallel(
    inputs: Sequence[tuple[str, IO[bytes]]],
    ruleset: CompiledRuleSet,
    out: IO[bytes],
    jobs: int,
    on_block: Callable[[BatchSummary], None] | None = None,
) -> BatchSummary:
    """NDJSON in, NDJSON out (no --full, --fail-fast or --line-buffered), on `jobs` workers."""
    summary = BatchSummary(levels={level.id: 0 for level in ruleset.levels})
    context = multiprocessing.get_context("fork")
    gc.freeze()  # the workers' collector leaves the inherited objects (and their pages) alone
    with_file = len(inputs) > 1
    with ProcessPoolExecutor(
        jobs, mp_context=context, initializer=_start, initargs=(ruleset, with_file)
    ) as pool:
        pending: deque[Future[tuple[bytes, Tally]]] = deque()
        parts = _parts(inputs)
        failure: InputError | None = None
        try:
            while True:
                try:
                    source, where, first = next(parts)
                except StopIteration:
                    break
                except InputError as err:  # an input that cannot be read on (damaged gzip):
                    failure = err  # what was read before it still gets its results
                    break
                pending.append(pool.submit(_work, where, first, source))
                if len(pending) >= 2 * jobs:
                    _finish(pending.popleft(), out, summary, on_block)
            while pending:
                _finish(pending.popleft(), out, summary, on_block)
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


def _parts(
    inputs: Sequence[tuple[str, IO[bytes]]],
) -> Iterator[tuple[str, bytes | _FileRange, int]]:
    """Each input's lines in pieces for the workers: (source, what to read, first line)."""
    for source, stream in inputs:
        parts: Iterator[Block | Stretch] = (
            file_stretches(stream) if is_regular_file(stream) else in_pieces(iter_blocks(stream))
        )
        for part in parts:
            if isinstance(part, Stretch):
                yield source, (stream.fileno(), part.offset, part.size), part.first
            else:
                yield source, part.data, part.first


def _finish(
    future: Future[tuple[bytes, Tally]],
    out: IO[bytes],
    summary: BatchSummary,
    on_block: Callable[[BatchSummary], None] | None,
) -> None:
    text, part = future.result()
    out.write(text)
    out.flush()
    summary.add(part)
    if on_block is not None:
        on_block(summary)


def _start(ruleset: CompiledRuleSet, with_file: bool) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent handles Ctrl-C
    signal.signal(signal.SIGTERM, signal.SIG_DFL)  # the pool may end a worker so
    threading.Thread(target=_exit_with, args=(os.getppid(),), daemon=True).start()
    global _WORKER
    vector = VectorRuleSet(ruleset)
    writer = NdjsonWriter(io.BytesIO(), ruleset, flush_lines=False, with_file=with_file)
    _WORKER = (ruleset, vector, FastDecoder(ruleset, vector), writer)


def _exit_with(parent: int) -> None:
    """End this worker once its parent is gone (killed, say). A waiting worker would not
    notice: every worker holds the task pipe open, so it never reads an end of file."""
    while os.getppid() == parent:
        time.sleep(0.5)
    os._exit(0)


def _work(where: bytes | _FileRange, first: int, source: str) -> tuple[bytes, Tally]:
    assert _WORKER is not None, "the pool initializer sets up each worker"
    ruleset, vector, decoder, writer = _WORKER
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
    writer.out = buffer = io.BytesIO()
    done = BatchSummary(levels={level.id: 0 for level in ruleset.levels})
    ranks = rule_ranks(ruleset)
    for chunk in decoder.block_chunks(block, source, first):
        result = vector.evaluate(chunk.columns)
        writer.write(chunk, result)
        done.add(tally(chunk, result, ranks, len(done.levels)))
    counts = list(done.levels.values())
    return buffer.getvalue(), Tally(
        counts, done.records, done.errors, done.most_urgent_rank, done.worst_rank
    )
