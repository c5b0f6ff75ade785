"""batch under stress: hostile lines mid-stream, closed pipes, Ctrl-C, any mix of lines."""

import contextlib
import io
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import IO, Any, cast

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from redflag.batch import BatchOptions, run_batch
from redflag.batch.sink import WholeWrites
from redflag.core.evaluate import evaluate
from redflag.errors import InputError
from redflag.formats.records import record_from_json
from redflag.formats.rulefile import load_ruleset
from tests.cli.test_hostile_records import CATALOGUE, entry_bytes
from tests.fuzzing import examples

RULESET = load_ruleset(None)
GOOD = b'{"id": "good", "cancer_history": true, "limb_weakness": true}'


def run_text(text: bytes) -> list[dict[str, Any]]:
    out = io.BytesIO()
    run_batch([("<stdin>", io.BytesIO(text))], RULESET, out, BatchOptions())
    return [json.loads(line) for line in out.getvalue().splitlines()]


def run_lines(lines: list[bytes]) -> list[dict[str, Any]]:
    return run_text(b"\n".join(lines) + b"\n")


def test_every_hostile_record_is_an_error_on_its_own_line_between_good_ones():
    single_line = [c for c in CATALOGUE["case"] if b"\n" not in entry_bytes(c)]
    assert len(single_line) >= 25
    lines = []
    for case in single_line:
        lines += [GOOD, entry_bytes(case)]
    results = run_lines(lines)
    assert len(results) == len(lines)
    for i, case in enumerate(single_line):
        good, bad = results[2 * i], results[2 * i + 1]
        assert (good["line"], good["level"]) == (2 * i + 1, "emergency")
        assert bad["line"] == 2 * i + 2, case["name"]
        assert bad["error"]["code"] == case["code"], case["name"]
        assert bad["error"]["message"].startswith(case["message"]), case["name"]


LINES = st.one_of(
    st.builds(
        lambda d: json.dumps(d).encode(),
        st.dictionaries(
            st.sampled_from(["back_pain", "cancer_history", "limb_weakness", "fever", "age", "id"]),
            st.one_of(st.booleans(), st.none(), st.integers(-5, 130), st.text(max_size=3)),
        ),
    ),
    st.sampled_from(
        [
            b"",
            b"   ",
            b"{",
            b"[]",
            b'"x"',
            b"null",
            b'{"nope": true}',
            b"\xff\xfe",
            b'{"fever": true, "fever": false}',
            b'{"age": NaN}',
        ]
    ),
)


@settings(max_examples=examples(150), deadline=None)
@given(st.lists(LINES, min_size=1, max_size=30))
def test_any_mix_of_lines_gives_one_result_per_line_in_order(lines):
    results = run_lines(lines)
    assert [r["line"] for r in results] == list(range(1, len(lines) + 1))
    for line, result in zip(lines, results, strict=True):
        try:
            record, record_id = record_from_json(line.decode("utf-8"), RULESET)
        except (InputError, UnicodeDecodeError):
            assert "error" in result and result["error"]["code"]
            continue
        expected = evaluate(RULESET, record, record_id)
        assert result["level"] == expected.level.id
        assert result["matched"] == [o.rule.id for o in expected.matched]
        assert result["could_escalate"] == [o.rule.id for o in expected.could_escalate]


FRAGMENTS = st.sampled_from(  # pieces that make records span lines, or share one
    [
        b'{"fever": true}',
        b'{"age": 70, "back_pain": true}',
        b"{}",
        b'{"fever":',
        b" true}",
        b'{"id": "}"}',
        b'{"id": "a\\n{"}',
        b" ",
        b"\n",
        b"\r\n",
        b"\r",
        b"}",
    ]
)


@settings(max_examples=examples(300), deadline=None)
@given(st.lists(FRAGMENTS, min_size=1, max_size=16))
def test_any_text_is_read_line_by_line_as_check_reads_each_line(fragments):
    text = b"".join(fragments)
    results = run_text(text)
    lines = text.split(b"\n")
    if not lines[-1]:
        lines.pop()
    assert [r["line"] for r in results] == list(range(1, len(lines) + 1))
    for line, result in zip(lines, results, strict=True):
        try:
            record, record_id = record_from_json(line.removesuffix(b"\r").decode(), RULESET)
        except InputError:
            assert "error" in result, line
            continue
        assert result["level"] == evaluate(RULESET, record, record_id).level.id, line


def _corpus(n: int) -> bytes:
    return b"".join(b'{"id": %d, "back_pain": true, "age": %d}\n' % (i, i % 120) for i in range(n))


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_head_1_closes_the_pipe_and_batch_exits_quietly(tmp_path, jobs):
    path = tmp_path / "big.ndjson"
    path.write_bytes(_corpus(100_000))
    proc = subprocess.Popen(
        [sys.executable, "-m", "redflag", "batch", "--jobs", jobs, str(path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert proc.stdout is not None
    first = proc.stdout.readline()
    proc.stdout.close()
    _, err = proc.communicate(timeout=60)
    assert json.loads(first)["line"] == 1
    assert proc.returncode == 0
    assert b"Traceback" not in err and b"BrokenPipe" not in err


@pytest.mark.parametrize(
    ("jobs", "stop", "code", "said"),
    [
        ("1", signal.SIGINT, 130, b"Interrupted."),
        ("2", signal.SIGINT, 130, b"Interrupted."),
        ("1", signal.SIGTERM, 143, b"Terminated."),  # `timeout`, a service manager
        ("2", signal.SIGTERM, 143, b"Terminated."),
    ],
    ids=["ctrl-c", "ctrl-c workers", "sigterm", "sigterm workers"],
)
def test_ctrl_c_or_sigterm_leaves_only_whole_lines(jobs, stop, code, said):
    with subprocess.Popen(
        [sys.executable, "-m", "redflag", "batch", "--jobs", jobs],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    ) as proc:
        assert proc.stdin is not None and proc.stdout is not None and proc.stderr is not None
        stdin = proc.stdin

        def feed():
            with contextlib.suppress(BrokenPipeError):  # batch may stop reading first
                stdin.write(_corpus(20_000))
                stdin.flush()

        # stdin stays open: batch answers what has arrived and waits for more
        feeder = threading.Thread(target=feed)
        feeder.start()
        first = proc.stdout.readline()  # results are flowing
        proc.send_signal(stop)
        rest, err = proc.stdout.read(), proc.stderr.read()
        proc.wait(timeout=60)
        feeder.join(timeout=60)
        with contextlib.suppress(BrokenPipeError):
            proc.stdin.close()
    assert proc.returncode == code
    assert said in err and b"Traceback" not in err and b"internal error" not in err
    lines = (first + rest).split(b"\n")
    assert lines[-1] == b""  # ends with a newline: no half line
    numbers = [json.loads(line)["line"] for line in lines[:-1]]
    assert numbers == list(range(1, len(numbers) + 1))


class _InterruptedMidWrite:
    def __init__(self, signum: int = signal.SIGINT):
        self.data = b""
        self.signum = signum

    def write(self, data):
        os.kill(os.getpid(), self.signum)  # the signal arrives while the write is under way
        self.data += data
        return len(data)

    def flush(self):
        pass


def test_whole_writes_finish_the_write_then_raise_keyboard_interrupt():
    raw = _InterruptedMidWrite()
    out = WholeWrites(cast("IO[bytes]", raw))  # a stand-in: WholeWrites only writes and flushes
    try:
        out.write(b'{"line":1}\n{"line":2}\n')
    except KeyboardInterrupt:
        pass
    else:
        raise AssertionError("the held Ctrl-C must be raised after the write")
    assert raw.data == b'{"line":1}\n{"line":2}\n'
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_whole_writes_hold_sigterm_too_where_batch_handles_it():
    from redflag.batch.sink import terminate_as_interrupt
    from redflag.errors import Terminated

    before = signal.getsignal(signal.SIGTERM)
    undo = terminate_as_interrupt()
    try:
        raw = _InterruptedMidWrite(signal.SIGTERM)
        with pytest.raises(Terminated):
            WholeWrites(cast("IO[bytes]", raw)).write(b'{"line":1}\n')  # as above
        assert raw.data == b'{"line":1}\n'  # the write finished first
    finally:
        undo()
    assert signal.getsignal(signal.SIGTERM) is before


def test_workers_give_exactly_the_single_process_output(tmp_path):
    good = [_corpus(3_000)]
    bad = [b"not json\n", b"\n", b'{"Back_Pain": true}\n', b'{"fever": true, "fever": false}\n']
    too_large = b'{"id": "' + b"x" * (3 << 20) + b'"}\n'  # longer than a block: cut short
    data = b"".join(good * 3 + bad * 50 + good * 2 + [too_large] + good * 2)
    paths = [tmp_path / "a.ndjson", tmp_path / "b.ndjson"]
    for path in paths:
        path.write_bytes(data)
    runs = [
        subprocess.run(
            [sys.executable, "-m", "redflag", "batch", "--jobs", jobs, *map(str, paths)],
            capture_output=True,
            timeout=120,
            check=False,
        )
        for jobs in ("1", "2", "3")
    ]
    single, *parallel = runs
    assert single.returncode == 2  # bad records
    assert single.stdout.count(b"\n") == 2 * data.count(b"\n")
    for run in parallel:
        assert run.returncode == single.returncode
        assert run.stdout == single.stdout
        assert run.stderr.split(b"records/s)")[1] == single.stderr.split(b"records/s)")[1]


def test_workers_read_stdin_from_a_pipe_or_a_file_as_from_a_named_file(tmp_path):
    data = b"".join([_corpus(2_000), b"not json\n", _corpus(20_000)])  # > CHUNK_SIZE lines
    path = tmp_path / "in.ndjson"
    path.write_bytes(data)
    cmd = [sys.executable, "-m", "redflag", "batch", "--jobs", "2"]
    named = subprocess.run([*cmd, str(path)], capture_output=True, timeout=120, check=False)
    piped = subprocess.run(cmd, input=data, capture_output=True, timeout=120, check=False)
    with path.open("rb", buffering=0) as stdin:  # unbuffered: reads exactly one line
        stdin.readline()  # stdin is a file already partly read: the rest is read, from there
        redirected = subprocess.run(cmd, stdin=stdin, capture_output=True, timeout=120, check=False)
    assert named.returncode == piped.returncode == redirected.returncode == 2
    assert named.stdout.count(b"\n") == data.count(b"\n")
    assert piped.stdout == named.stdout.replace(str(path).encode(), b"<stdin>")
    shifted = [json.loads(line) for line in redirected.stdout.splitlines()]
    expected = [json.loads(line) for line in named.stdout.splitlines()[1:]]
    assert [r["line"] for r in shifted] == list(range(1, len(expected) + 1))
    assert [{**r, "line": 0} for r in shifted] == [{**r, "line": 0} for r in expected]


@pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="reads /proc (Linux)")
def test_workers_end_when_batch_itself_is_killed():
    proc = subprocess.Popen(
        [sys.executable, "-m", "redflag", "batch", "--jobs", "2"],
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    assert proc.stdin is not None
    proc.stdin.write(_corpus(20_000))  # the workers start with the first block, then wait
    proc.stdin.flush()
    workers: list[int] = []
    deadline = time.monotonic() + 30
    while len(workers) < 2 and time.monotonic() < deadline:
        time.sleep(0.1)
        workers = [
            int(pid)
            for task in Path(f"/proc/{proc.pid}/task").glob("*/children")
            for pid in task.read_text().split()
        ]
    assert len(workers) >= 2
    proc.kill()  # SIGKILL: no handler runs, nothing is cleaned up by the parent
    proc.wait(timeout=120)
    proc.stdin.close()
    deadline = time.monotonic() + 10
    while any(Path(f"/proc/{pid}").exists() for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.1)
    alive = [pid for pid in workers if Path(f"/proc/{pid}").exists()]
    for pid in alive:  # do not leave them behind whatever the outcome
        os.kill(pid, signal.SIGKILL)
    assert alive == []


def _children(pid: int) -> list[int]:
    return [
        int(child)
        for task in Path(f"/proc/{pid}/task").glob("*/children")
        for child in task.read_text().split()
    ]


@pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="reads /proc (Linux)")
def test_a_worker_killed_mid_run_is_reported_after_the_results_before_it(tmp_path):
    out_path, err_path = tmp_path / "out.ndjson", tmp_path / "err.txt"
    with out_path.open("wb") as out, err_path.open("wb") as err:
        proc = subprocess.Popen(
            [sys.executable, "-m", "redflag", "batch", "--jobs", "2"],
            stdin=subprocess.PIPE,
            stdout=out,
            stderr=err,
        )
        assert proc.stdin is not None
        proc.stdin.write(_corpus(20_000))  # answered; then the workers wait for more
        proc.stdin.flush()
        deadline = time.monotonic() + 30
        while out_path.stat().st_size == 0 and time.monotonic() < deadline:
            time.sleep(0.1)
        os.kill(_children(proc.pid)[0], signal.SIGKILL)  # as the out-of-memory killer would
        with contextlib.suppress(BrokenPipeError):
            proc.stdin.write(_corpus(20_000))
        with contextlib.suppress(BrokenPipeError):
            proc.stdin.close()
        proc.wait(timeout=60)
    message = err_path.read_bytes()
    assert proc.returncode == 71, message
    assert b"error[worker-lost]: a worker process ended without answering" in message
    written = int(message.split(b"the first ")[1].split(b" records")[0].replace(b",", b""))
    lines = out_path.read_bytes().splitlines()
    assert len(lines) == written > 0
    assert [json.loads(line)["line"] for line in lines] == list(range(1, written + 1))


def _sigterm_batch_reading_dev_zero(options, started):
    """Run batch on /dev/zero, send SIGTERM once `started(proc)` returns, and give back the
    process with its stderr; a watchdog kills it after 120 s (the old code never ended)."""
    with (
        open("/dev/zero", "rb") as zero,
        subprocess.Popen(
            [sys.executable, "-m", "redflag", "batch", *options],
            stdin=zero,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        ) as proc,
    ):
        watchdog = threading.Timer(120, proc.kill)
        watchdog.start()
        try:
            started(proc)
            proc.send_signal(signal.SIGTERM)
            assert proc.stderr is not None
            err = proc.stderr.read()
            proc.wait(timeout=60)
        finally:
            watchdog.cancel()
    return proc, err


@pytest.mark.skipif(not os.path.exists("/dev/zero"), reason="needs /dev/zero")
@pytest.mark.parametrize("options", [["--line-buffered"], ["--line-buffered", "--jobs", "1"]])
def test_sigterm_ends_batch_reading_an_endless_line_from_a_file(options):
    # issue 13: with --line-buffered, batch < /dev/zero grew without end and ignored SIGTERM
    # (one C readline over an endless file); now it reads bounded pieces, answers the line
    # as too large, and SIGTERM ends it
    first = []
    proc, err = _sigterm_batch_reading_dev_zero(
        options, lambda p: first.append(p.stdout.readline())
    )
    assert b'"code":"too-large"' in first[0], first
    assert proc.returncode == 143, err
    assert b"Terminated." in err and b"Traceback" not in err


@pytest.mark.skipif(not os.path.exists("/dev/zero"), reason="needs /dev/zero")
@pytest.mark.parametrize(
    ("fmt", "said"),
    [("csv", b"this row cannot be read as CSV"), ("json", b"a JSON array over 16 MiB")],
)
def test_csv_and_json_from_an_endless_file_end_by_themselves(fmt, said):
    # issue 13: `batch --format json < /dev/zero` grew to 24 GB before the kernel killed it
    with open("/dev/zero", "rb") as zero:
        proc = subprocess.run(
            [sys.executable, "-m", "redflag", "batch", "--format", fmt],
            stdin=zero,
            capture_output=True,
            check=False,
            timeout=120,
        )
    assert proc.returncode == 2
    assert said in proc.stderr


def _bytes_read(pid: int) -> int:
    """How many bytes the process has read so far (Linux /proc/PID/io, rchar)."""
    with open(f"/proc/{pid}/io") as io_file:
        return next(int(line.split()[1]) for line in io_file if line.startswith("rchar:"))


@pytest.mark.skipif(not os.path.exists("/proc/self/io"), reason="needs Linux /proc/PID/io")
@pytest.mark.parametrize("options", [[], ["--jobs", "1"]])
def test_sigterm_ends_default_batch_while_it_reads_an_endless_line(options):
    # issue 13: SIGTERM was ignored while batch read an endless source. The default modes
    # print nothing until a line ends, so the test waits until batch has read 32 MB of the
    # endless line (polling how much it has read, no fixed sleep), then sends SIGTERM.
    def started(proc):
        while proc.poll() is None and _bytes_read(proc.pid) < 32 << 20:
            time.sleep(0.01)  # polling, not waiting for a guessed moment

    proc, err = _sigterm_batch_reading_dev_zero(options, started)
    assert proc.returncode == 143, err
    assert b"Terminated." in err and b"Traceback" not in err
