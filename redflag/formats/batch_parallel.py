"""`batch` on several processes: blocks of NDJSON out, finished result text back, in order.

The parent reads whole-line blocks and writes results; each worker (forked, so the compiled
rule set is inherited, not sent) decodes, evaluates and serialises a block exactly as the
single-process path does, with the same decoder, vector rule set and writer. At most two
blocks per worker are in flight, so memory stays constant. Workers ignore Ctrl-C: the
parent alone stops, after the write under way.
"""

from __future__ import annotations

import gc
import io
import multiprocessing
import signal
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from typing import IO

from redflag.core.compile import CompiledRuleSet
from redflag.core.vector import VectorRuleSet
from redflag.formats.batch import CHUNK_SIZE, BatchSummary, Tally, tally
from redflag.formats.batch_read import FastDecoder, block_lines, iter_blocks
from redflag.formats.batch_write import NdjsonWriter

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
        try:
            for source, stream in inputs:
                for block, first in iter_blocks(stream):
                    pending.append(pool.submit(_work, block, first, source))
                    if len(pending) >= 2 * jobs:
                        _finish(pending.popleft(), out, summary, on_block)
            while pending:
                _finish(pending.popleft(), out, summary, on_block)
        finally:
            for future in pending:
                future.cancel()
    return summary


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
    global _WORKER
    vector = VectorRuleSet(ruleset)
    writer = NdjsonWriter(io.BytesIO(), ruleset, flush_lines=False, with_file=with_file)
    _WORKER = (ruleset, vector, FastDecoder(ruleset, vector), writer)


def _work(block: bytes, first: int, source: str) -> tuple[bytes, Tally]:
    assert _WORKER is not None, "the pool initializer sets up each worker"
    ruleset, vector, decoder, writer = _WORKER
    writer.out = buffer = io.BytesIO()
    lines = block_lines(block)
    done = BatchSummary(levels={level.id: 0 for level in ruleset.levels})
    for start in range(0, len(lines), CHUNK_SIZE):
        chunk = decoder.chunk(lines[start : start + CHUNK_SIZE], source, first + start)
        result = vector.evaluate(chunk.columns)
        writer.write(chunk, result)
        done.add(tally(chunk, result, len(done.levels)))
    counts = list(done.levels.values())
    return buffer.getvalue(), Tally(counts, done.records, done.errors, done.most_urgent_rank)
