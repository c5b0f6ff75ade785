"""The batch pipeline equals `check`'s path (record_from_json + evaluate) line by line."""

from __future__ import annotations

import io
import json
import os
import random

import pytest

from redflag.batch import BatchOptions, run_batch
from redflag.core.compile import CompiledRuleSet
from redflag.core.evaluate import evaluate
from redflag.core.flags import BoolFlag
from redflag.errors import InputError
from redflag.formats.records import record_from_json


def random_line(
    ruleset: CompiledRuleSet,
    rng: random.Random,
    n: int,
    *,
    fixed_ids: bool = False,
    mutate: bool = True,
) -> str:
    record: dict[str, object] = {}
    if fixed_ids:  # every record the same msgpack length: the 2-D fast path
        record["id"] = f"r{n:06d}"
    elif rng.random() < 0.8:
        record["id"] = rng.choice([f"r{n}", n, f"a:{n}"])
    elif rng.random() < 0.1:
        record["id"] = None  # refused by check, so by batch too
    for flag in ruleset.flags.values():
        roll = rng.random()
        if roll < 0.1:
            continue
        if roll < 0.13:
            record[flag.id] = None
        elif isinstance(flag, BoolFlag):
            record[flag.id] = rng.random() < 0.15
        else:
            whole = flag.type == "int" or rng.random() < 0.5
            value = rng.uniform(flag.min, flag.max)
            record[flag.id] = (
                float(int(value))
                if whole and rng.random() < 0.2
                else (int(value) if whole else round(value, 2))
            )
    if not mutate or rng.random() < 0.9:  # a clean record never contradicts an implication
        for flag_id, targets in ruleset.implications.implied.items():
            if record.get(flag_id) is True:
                record.update({t: True for t in targets if record.get(t) is False})
    text = json.dumps(record)
    mutation = rng.random() if mutate else 1.0
    if mutation < 0.02:
        return text.replace('"back_pain"', '"back_pian"')
    if mutation < 0.04:
        return text[:-1] + ', "fever": true}'  # maybe a duplicate key
    if mutation < 0.05:
        return text.replace('"age": ', '"age": 1')  # maybe out of bounds
    if mutation < 0.06:
        return text[: len(text) // 2]
    if mutation < 0.07:
        return text.replace('"fever"', '"fev\\u0065r"')
    if mutation < 0.08:
        return text.replace("true", "1", 1)
    if mutation < 0.085:
        return ""
    return text


def expected(line: str, n: int, ruleset: CompiledRuleSet) -> dict[str, object]:
    try:
        record, record_id = record_from_json(line, ruleset, "<stdin>", n)
    except InputError as err:
        return {"line": n, "error": {"code": err.code, "message": err.message, "hint": err.hint}}
    ref = evaluate(ruleset, record, record_id)
    return {
        "line": n,
        "id": record_id,
        "level": ref.level.id,
        "worst_case": ruleset.levels[ref.worst_rank].id,
        "matched": [o.rule.id for o in ref.matched],
        "could_escalate": [o.rule.id for o in ref.could_escalate],
    }


@pytest.mark.slow
@pytest.mark.parametrize("fixed_ids", [False, True])
def test_batch_equals_check_on_a_generated_corpus_with_bad_lines(ruleset, fixed_ids):
    rng = random.Random(3)
    lines = [random_line(ruleset, rng, n, fixed_ids=fixed_ids) for n in range(1, 5001)]
    out = io.BytesIO()
    data = io.BytesIO(("\n".join(lines) + "\n").encode())
    summary = run_batch([("<stdin>", data)], ruleset, out, BatchOptions())
    results = [json.loads(x) for x in out.getvalue().splitlines()]
    assert len(results) == len(lines)
    errors = 0
    for n, (line, got) in enumerate(zip(lines, results, strict=True), start=1):
        want = expected(line, n, ruleset)
        if "error" in want:
            errors += 1
            got.pop("id")
        assert got == want, line
    assert summary.errors == errors
    assert 100 < errors < 1000
    assert summary.records == 5000


@pytest.mark.slow
@pytest.mark.parametrize("fixed_ids", [False, True])
def test_clean_corpus_takes_the_fast_path_and_equals_check(ruleset, fixed_ids):
    rng = random.Random(11)
    lines = [
        random_line(ruleset, rng, n, fixed_ids=fixed_ids, mutate=False) for n in range(1, 3001)
    ]
    out = io.BytesIO()
    data = io.BytesIO(("\n".join(lines) + "\n").encode())
    run_batch([("<stdin>", data)], ruleset, out, BatchOptions())
    results = [json.loads(x) for x in out.getvalue().splitlines()]
    for result in results:
        if "error" in result:  # only `"id": null`, refused as check refuses it
            assert result.pop("id") is None
    want = [expected(line, n, ruleset) for n, line in enumerate(lines, start=1)]
    assert results == want


def test_chunk_boundaries_do_not_change_results(ruleset, monkeypatch):
    from redflag.batch import source

    rng = random.Random(5)
    text = ("\n".join(random_line(ruleset, rng, n) for n in range(1, 301)) + "\n").encode()

    def run() -> bytes:
        out = io.BytesIO()
        run_batch([("x", io.BytesIO(text))], ruleset, out, BatchOptions())
        return out.getvalue()

    whole = run()
    monkeypatch.setattr(source, "CHUNK_SIZE", 7)
    assert run() == whole


def test_one_process_reads_a_regular_file_in_larger_blocks_with_the_same_output(
    ruleset, tmp_path, monkeypatch
):
    # issue 14: --jobs 1 reads a regular file _FILE_BLOCKS times _BLOCK at a time (fewer,
    # larger chunks for numpy), cut at CHUNK_SIZE lines; a pipe keeps _BLOCK
    from redflag.batch import source

    rng = random.Random(7)
    text = ("\n".join(random_line(ruleset, rng, n) for n in range(1, 401)) + "\n").encode()
    path = tmp_path / "in.ndjson"
    path.write_bytes(text)
    monkeypatch.setattr(source, "_BLOCK", 4096)
    monkeypatch.setattr(source, "CHUNK_SIZE", 5)
    with path.open("rb") as stream:
        parts = [part for _, part in source.Source([("x", stream)]).ndjson()]
    blocks = [b for b in parts if isinstance(b, source.Block)]
    assert len(blocks) == len(parts)  # blocks, not lists of lines
    assert b"".join(b.data for b in blocks) == text
    assert max(len(b.data) for b in blocks) > 4096  # larger than a pipe's
    assert max(len(source.block_lines(b.data)) for b in blocks) == 5

    def run(stream) -> bytes:
        out = io.BytesIO()
        run_batch([("x", stream)], ruleset, out, BatchOptions(jobs=1))
        return out.getvalue()

    with path.open("rb") as stream:
        from_file = run(stream)
    assert from_file == run(io.BytesIO(text))


def _stretches(path, monkeypatch, block_size: int, skip_first_line: bool = False):
    from redflag.batch import source

    monkeypatch.setattr(source, "_BLOCK", block_size)
    with path.open("rb") as stream:
        if skip_first_line:  # a stream need not start at the beginning of its file
            stream.readline()
        start = stream.tell()
        assert source.is_regular_file(stream)
        parts = []
        for part, end in source.file_stretches(stream):
            parts.append(part)
            if isinstance(part, source.Stretch):  # each says where it ends
                assert end == part.offset + part.size
        assert stream.tell() == start  # the caller's stream is not moved
    return parts


def test_a_regular_file_is_cut_into_stretches_of_whole_lines(tmp_path, monkeypatch):
    lines = [b'{"id": "%d", "fever": true}\n' % i for i in range(500)]
    path = tmp_path / "in.ndjson"
    data = b"".join(lines) + b'{"id": "last"}'  # no final newline
    path.write_bytes(data)
    parts = _stretches(path, monkeypatch, 1000, skip_first_line=True)
    assert len(parts) > 10
    position, first = len(lines[0]), 1
    for part in parts:
        assert (part.offset, part.first) == (position, first)
        text = data[part.offset : part.offset + part.size]
        assert text.endswith(b"\n") or part is parts[-1]
        position, first = position + part.size, first + text.count(b"\n")
    assert position == len(data)


def test_a_line_longer_than_a_stretch_comes_cut_short_as_from_a_pipe(tmp_path, monkeypatch):
    from redflag.batch import source

    monkeypatch.setattr(source, "MAX_RECORD_BYTES", 2500)
    long_line = b'{"id": "' + b"x" * 5000 + b'"}\n'
    path = tmp_path / "in.ndjson"
    data = b'{"fever": true}\n' + long_line + b'{"fever": false}\n' * 100
    path.write_bytes(data)
    parts = _stretches(path, monkeypatch, 1000)
    blocks = [p for p in parts if isinstance(p, source.Block)]
    assert [(b.data, b.first) for b in blocks] == [(long_line[:2501] + b"\n", 2)]
    after = parts[parts.index(blocks[0]) + 1]
    assert (after.offset, after.first) == (16 + len(long_line), 3)
    piped = list(source.iter_blocks(io.BytesIO(data)))  # the same lines, as long
    lines = [line for b in piped for line in source.block_lines(b.data)]
    assert lines[:1] + lines[2:] == [b'{"fever": true}', *[b'{"fever": false}'] * 100]
    assert 2500 < len(lines[1]) < len(long_line)  # too large either way: the same error


def test_pipes_and_decompressed_streams_are_not_regular_files(tmp_path):
    import gzip

    from redflag.batch.source import decompressed, is_regular_file

    path = tmp_path / "in.ndjson.gz"
    path.write_bytes(gzip.compress(b'{"fever": true}\n'))
    with path.open("rb") as raw:
        assert not is_regular_file(decompressed(raw, str(path)))
    assert not is_regular_file(io.BytesIO(b"{}\n"))
    read_end, write_end = os.pipe()
    with os.fdopen(read_end, "rb") as pipe:
        os.close(write_end)
        assert not is_regular_file(pipe)


ALIGNMENT_TRAPS = [  # blocks one decode_lines call would read with records off their lines
    '{"fever": true} {"back_pain": true}\n\n{"age": 70}\n',  # two on a line, then a blank
    '{"fever":\ntrue}\n{"age": 70}{"back_pain": true}\n',  # one over two lines, two on one
    '{"fever": true}{"age": 70}\n\n',
    '{"fever": true}\n{"age": 70} \n{"back_pain": true}',  # a trailing blank, no final newline
    '{"fever": true}\r\n{"age": 70}\r\n',  # CRLF: fine, and one call
    '{"id": "}\\n{"}\n{"id": "a}"}\n',  # braces and an escaped newline inside strings
    '{"fever": true}\n{"age": 70}',
]


@pytest.mark.parametrize("text", ALIGNMENT_TRAPS)
def test_block_decoding_keeps_every_record_on_its_line(ruleset, text):
    out = io.BytesIO()
    run_batch([("<stdin>", io.BytesIO(text.encode()))], ruleset, out, BatchOptions())
    lines = text.split("\n")
    if not lines[-1]:
        lines.pop()
    want = [expected(line.removesuffix("\r"), n, ruleset) for n, line in enumerate(lines, 1)]
    got = [json.loads(x) for x in out.getvalue().splitlines()]
    for result in got:
        if "error" in result:
            result.pop("id")
    assert got == want


def test_a_clean_block_is_decoded_in_one_call_and_traps_are_not(ruleset):
    from redflag.batch.decode import FastDecoder
    from redflag.core.vector import VectorRuleSet

    decoder = FastDecoder(ruleset, VectorRuleSet(ruleset))
    rng = random.Random(2)
    clean = "\n".join(random_line(ruleset, rng, n, mutate=False) for n in range(1, 200))
    clean = clean.replace('"id": null, ', "")
    assert len(decoder._decode_block((clean + "\n").encode()) or []) == 199
    assert len(decoder._decode_block(ALIGNMENT_TRAPS[4].encode()) or []) == 2
    assert len(decoder._decode_block(ALIGNMENT_TRAPS[5].encode()) or []) == 2
    for trap in ALIGNMENT_TRAPS[:4]:
        assert decoder._decode_block(trap.encode()) is None, trap


def test_a_stretch_that_is_no_longer_in_the_file_is_an_error_not_lost_lines(tmp_path, ruleset):
    import signal

    from redflag.batch import parallel as batch_parallel

    previous = signal.getsignal(signal.SIGINT)
    try:
        batch_parallel._start(ruleset, False)  # what a worker does first (ignores Ctrl-C)
    finally:
        signal.signal(signal.SIGINT, previous)
    path = tmp_path / "in.ndjson"
    path.write_bytes(b'{"fever": true}\n' * 10)
    with path.open("rb") as stream:
        text, tally = batch_parallel._work((stream.fileno(), 0, 160), 1, "in.ndjson")
        assert text.count(b"\n") == 10 and tally.records == 10
        with pytest.raises(InputError, match=r"in\.ndjson changed while it was being read"):
            batch_parallel._work((stream.fileno(), 0, 1000), 1, "in.ndjson")  # truncated


@pytest.mark.slow
def test_full_gives_check_json_for_every_record_of_a_generated_corpus(ruleset):
    from redflag.formats.result_json import result_json

    rng = random.Random(13)
    lines = [random_line(ruleset, rng, n) for n in range(1, 1501)]
    out = io.BytesIO()
    data = io.BytesIO(("\n".join(lines) + "\n").encode())
    run_batch([("<stdin>", data)], ruleset, out, BatchOptions(full=True))
    results = [json.loads(x) for x in out.getvalue().splitlines()]
    assert len(results) == len(lines)
    escalations = 0
    for n, (line, got) in enumerate(zip(lines, results, strict=True), start=1):
        assert got.pop("line") == n
        try:
            record, record_id = record_from_json(line, ruleset, "<stdin>", n)
        except InputError as err:
            assert got["error"]["code"] == err.code
            continue
        want = json.loads(json.dumps(result_json(evaluate(ruleset, record, record_id), ruleset)))
        got_id = got.pop("id")
        assert got_id == record_id and got == {k: v for k, v in want.items() if k != "id"}
        escalations += sum(len(c["missing"]) for c in got["could_escalate"])
    assert escalations > 100  # unanswered flags were compared, not only empty lists


def test_workers_get_at_most_chunk_size_lines_however_small_the_records(tmp_path, monkeypatch):
    # a result line can be 200 times its record ({}): a megabyte of tiny records handed to
    # a worker at once would come back as hundreds of megabytes
    from redflag.batch import source

    monkeypatch.setattr(source, "CHUNK_SIZE", 7)
    data = b"".join(b'{"id": %d}\n' % i for i in range(100)) + b'{"id": "last"}'
    path = tmp_path / "tiny.ndjson"
    path.write_bytes(data)
    with path.open("rb") as stream:
        stretches = [part for part, _ in source.file_stretches(stream)]
    pieces = list(source.in_pieces(source.iter_blocks(io.BytesIO(data))))
    for parts, text_of in (
        (stretches, lambda s: data[s.offset : s.offset + s.size]),
        (pieces, lambda b: b.data),
    ):
        texts = [text_of(part) for part in parts]
        assert b"".join(texts) == data
        counts = [len(source.block_lines(t)) for t in texts]
        assert counts[:14] == [7] * 14 and max(counts) == 7 and sum(counts) == 101
        assert [part.first for part in parts] == [1 + sum(counts[:i]) for i in range(len(parts))]


@pytest.mark.parametrize("jobs", [1, 2])
@pytest.mark.parametrize("compressed", [False, True])
def test_progress_is_an_event_of_the_source_up_to_the_file_size(
    ruleset, tmp_path, monkeypatch, jobs, compressed
):
    # issue 14: progress was read by the caller's tell() on a stream the reader moved
    import gzip

    from redflag.batch import decompressed, source

    monkeypatch.setattr(source, "_BLOCK", 4096)
    rng = random.Random(3)
    text = "".join(random_line(ruleset, rng, n) + "\n" for n in range(1, 401)).encode()
    path = tmp_path / ("in.ndjson.gz" if compressed else "in.ndjson")
    path.write_bytes(gzip.compress(text) if compressed else text)
    seen: list[int] = []
    with path.open("rb") as raw:
        stream = decompressed(raw, str(path))
        options = BatchOptions(jobs=jobs)
        run_batch([(str(path), stream)], ruleset, io.BytesIO(), options, on_progress=seen.append)
    assert len(seen) > 2 and seen == sorted(seen)
    assert seen[-1] == path.stat().st_size
