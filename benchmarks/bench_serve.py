"""How fast `redflag serve` answers on loopback: start-up to first answer, and the latency of
POST /check and of a patient-view hook at 16 concurrent clients (issue 16 targets: median
<= 5 ms, p99 <= 20 ms; start-up to first answer <= 1 s).

Run: python benchmarks/bench_serve.py [--workers N] [--requests N] [--rate R]
(prints; asserts nothing)

Load models, both printed with their figures:
- closed loop (always run): 16 keep-alive connections, each sending its next request as soon
  as the last answer is in, no think time. By Little's law the median is then about
  16 / throughput: 5 ms needs about 3,200 requests/s, on 2 cores shared with the clients.
- paced (`--rate R`, default 400 requests/s in all): the same 16 connections, each sending on
  a fixed schedule of R / 16 requests/s; the latency of a request is counted from when it
  was due, not from when it was sent, so a server falling behind is not hidden
  (coordinated omission).
The clients are one event loop in this process (uvloop's where installed, as the server's),
each an asyncio Protocol on a raw socket speaking HTTP/1.1: the request's bytes built once
and written whole, the answer read by its Content-Length in the transport's callback. They
share the two cores with the server, so the cheaper they are the more of the machine the
server gets: a threaded http.client pool cost as much CPU as the server, asyncio streams
about 120 us a request, this about 45-60 us (each run prints it). Latency is still what a
client sees, end to end: from sending the request (or from when it was due) to the last
byte of the answer. The figures are an upper bound of the server's own time. `uptime`'s
load average is printed beside them: other work on the machine slows both.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Coroutine
from typing import Any, BinaryIO, TypeVar

T = TypeVar("T")

MSCC = [
    {"linkId": f, "answer": [{"valueBoolean": True}]}
    for f in ("cancer_history", "back_pain", "limb_weakness")
]
PATIENT_VIEW = {
    "hook": "patient-view",
    "hookInstance": "d1577c69-dfbe-44ad-ba6d-3e05e953b2ea",
    "context": {"userId": "Practitioner/example", "patientId": "p1"},
    "prefetch": {
        "questionnaireResponse": {
            "resourceType": "Bundle",
            "type": "searchset",
            "entry": [
                {
                    "resource": {
                        "resourceType": "QuestionnaireResponse",
                        "status": "completed",
                        "subject": {"reference": "Patient/p1"},
                        "item": MSCC,
                    }
                }
            ],
        }
    },
}
CHECK = {"back_pain": True, "age": 70, "cancer_history": False}


def client_loop() -> str:
    """The clients' event loop: uvloop's where installed (the `serve` extra), as the server's."""
    try:
        import uvloop  # noqa: F401
    except ImportError:
        return "asyncio"
    return "uvloop"


def run(coro: Coroutine[Any, Any, T]) -> T:
    """Run the clients on client_loop()'s loop."""
    if client_loop() == "uvloop":
        import uvloop

        with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
            return runner.run(coro)
    return asyncio.run(coro)


def load_average() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f}, {five:.2f}, {fifteen:.2f}"


def start(workers: int, log: BinaryIO) -> tuple[subprocess.Popen[bytes], int, float]:
    """Start the server, its log (stderr) going to the file `log`, as it would in service;
    the time from the process starting to the first hook answer. (A pipe read by a thread of
    this process cost the clients' process a wake-up and the GIL for every log line.)"""
    began = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "redflag", "serve", "--port", "0", "--workers", str(workers)],
        stdout=subprocess.DEVNULL,
        stderr=log,
    )
    with open(log.name, "rb") as reader:
        first = b""
        while not first.endswith(b"\n"):
            if proc.poll() is not None:
                raise RuntimeError(f"the server exited: {first.decode() + reader.read().decode()}")
            first += reader.readline()
            if not first.endswith(b"\n"):
                time.sleep(0.001)
    ready = json.loads(first)
    port = int(ready["url"].rsplit(":", 1)[1])
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/cds-services/redflag-patient-view",
        data=json.dumps(PATIENT_VIEW).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request) as reply:
        reply.read()
        assert reply.status == 200
    return proc, port, time.perf_counter() - began


def http_request(path: str, body: dict[str, object]) -> bytes:
    data = json.dumps(body).encode()
    head = (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(data)}\r\n\r\n"
    )
    return head.encode() + data


class _Client(asyncio.Protocol):
    """One keep-alive connection sending `n` requests, one at a time: the request's bytes
    are built once, the answer is read from the transport's callbacks (no stream reader),
    and the latency runs from sending (closed loop) or from when it was due (paced) until
    the last byte of the answer is in."""

    def __init__(
        self, request: bytes, n: int, interval: float, start: float, done: asyncio.Future[None]
    ) -> None:
        self.request, self.n, self.interval, self.start, self.done = (
            request, n, interval, start, done
        )  # fmt: skip
        self.times: list[float] = []
        self.buffer = b""
        self.need = -1  # the whole answer's length in bytes, once its head is in
        self.since = 0.0
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        self._next()

    def _next(self) -> None:
        assert self.transport is not None
        i = len(self.times)
        if i == self.n:
            self.transport.close()
            self.done.set_result(None)
            return
        due = self.start + i * self.interval
        if self.interval:
            delay = due - time.perf_counter()
            if delay > 0:
                asyncio.get_running_loop().call_later(delay, self._send, due)
                return
        self._send(due if self.interval else time.perf_counter())

    def _send(self, since: float) -> None:
        assert self.transport is not None
        self.since = since
        self.transport.write(self.request)

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        if self.need < 0:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            head = self.buffer[:end]
            assert head[9:12] == b"200", head
            length = int(head.lower().split(b"content-length:", 1)[1].split(b"\r\n", 1)[0])
            self.need = end + 4 + length
        if len(self.buffer) < self.need:
            return
        self.times.append((time.perf_counter() - self.since) * 1000)
        assert len(self.buffer) == self.need, "an answer nobody asked for"
        self.buffer, self.need = b"", -1
        self._next()

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.done.done():
            self.done.set_exception(exc or ConnectionError("the server closed the connection"))


async def client(port: int, request: bytes, n: int, interval: float, start: float) -> list[float]:
    """n requests on one keep-alive connection: latencies in ms. interval 0: closed loop."""
    loop = asyncio.get_running_loop()
    done: asyncio.Future[None] = loop.create_future()
    protocol = _Client(request, n, interval, start, done)
    await loop.create_connection(lambda: protocol, "127.0.0.1", port)
    await done
    return protocol.times


async def run_clients(
    port: int, request: bytes, clients: int, n: int, rate: float
) -> tuple[float, float, float, float, float]:
    """Median, p99 and max latency in ms, the throughput in requests/s, and the clients' own
    CPU seconds per request."""
    interval = clients / rate if rate else 0.0
    start = time.perf_counter() + 0.05
    # the clients' schedules are spread over one interval, not all due at once
    runs = [
        client(port, request, n, interval, start + (i * interval / clients)) for i in range(clients)
    ]
    began, cpu = time.perf_counter(), time.process_time()
    results = await asyncio.gather(*runs)
    wall, cpu = time.perf_counter() - began, time.process_time() - cpu
    times = sorted(t for run in results for t in run)
    p99 = times[int(len(times) * 0.99) - 1]
    return statistics.median(times), p99, times[-1], len(times) / wall, cpu / len(times)


def server_cpu(pid: int) -> float:
    """Seconds of CPU the server process has used (Linux: /proc), or NaN elsewhere."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def measure(
    proc: subprocess.Popen[bytes],
    port: int,
    path: str,
    body: dict[str, object],
    args: argparse.Namespace,
) -> None:
    request = http_request(path, body)
    run(run_clients(port, request, 1, 50, 0))  # warm up
    if args.workers == 1:
        # one client, one request at a time: the server's own CPU per request, which
        # other work on the machine disturbs less than it does latency
        n = 2000
        used = server_cpu(proc.pid)
        median, *_ = run(run_clients(port, request, 1, n, 0))
        used = server_cpu(proc.pid) - used
        print(
            f"{path:35} 1 client x {n}: median {median:.2f} ms, server CPU "
            f"{used / n * 1e6:.0f} us/request ({load_average()})"
        )
    models = [("closed loop, no think time", 0.0, args.requests)]
    if args.rate:
        models.append((f"paced, {args.rate:.0f} requests/s in all", args.rate, args.paced_requests))
    for model, rate, n in models:
        median, p99, most, throughput, client_cpu = asyncio.run(
            run_clients(port, request, args.clients, n, rate)
        )
        print(
            f"{path:35} {args.clients} clients x {n}, {model}: median {median:.2f} ms, "
            f"p99 {p99:.2f} ms, max {most:.2f} ms, {throughput:.0f} requests/s, client CPU "
            f"{client_cpu * 1e6:.0f} us/request ({load_average()})"
        )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--requests", type=int, default=300, help="per client, closed loop")
    parser.add_argument(
        "--rate", type=float, default=400, help="requests/s in all, paced (0: none)"
    )
    parser.add_argument("--paced-requests", type=int, default=100, help="per client, paced")
    args = parser.parse_args()
    print(f"before start-up: {load_average()}; clients: asyncio Protocols on {client_loop()}")
    with tempfile.NamedTemporaryFile(prefix="bench_serve-", suffix=".log") as log:
        proc, port, startup = start(args.workers, log)
        try:
            ms = startup * 1000
            print(f"start-up to first hook answer: {ms:.0f} ms (workers {args.workers})")
            measure(proc, port, "/check", CHECK, args)
            measure(proc, port, "/cds-services/redflag-patient-view", PATIENT_VIEW, args)
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(30)


if __name__ == "__main__":
    main()
