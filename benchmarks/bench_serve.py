"""How fast `redflag serve` answers on loopback: start-up to first answer, and the latency of
POST /check and of a patient-view hook at 16 concurrent clients (issue 16 targets: median
<= 5 ms, p99 <= 20 ms; start-up to first answer <= 1 s).

Run: python benchmarks/bench_serve.py [--workers N] [--requests N]   (prints; asserts nothing)
The clients run in this process, on the same machine as the server: on a 2-core machine they
compete with it for the CPU, so the figures are an upper bound of the server's own time.
"""

from __future__ import annotations

import argparse
import http.client
import json
import signal
import statistics
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

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


def start(workers: int) -> tuple[subprocess.Popen[bytes], int, float]:
    began = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "redflag", "serve", "--port", "0", "--workers", str(workers)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    assert proc.stderr is not None
    ready = json.loads(proc.stderr.readline())
    port = int(ready["url"].rsplit(":", 1)[1])
    threading.Thread(
        target=lambda: proc.stderr.read() if proc.stderr else None, daemon=True
    ).start()
    conn = http.client.HTTPConnection("127.0.0.1", port)
    conn.request("POST", "/cds-services/redflag-patient-view", json.dumps(PATIENT_VIEW))
    reply = conn.getresponse()
    reply.read()
    assert reply.status == 200
    conn.close()
    return proc, port, time.perf_counter() - began


def client(port: int, path: str, body: bytes, n: int) -> list[float]:
    conn = http.client.HTTPConnection("127.0.0.1", port)  # keep-alive, as an EHR would
    times = []
    for _ in range(n):
        t = time.perf_counter()
        conn.request("POST", path, body, {"Content-Type": "application/json"})
        reply = conn.getresponse()
        reply.read()
        times.append((time.perf_counter() - t) * 1000)
        assert reply.status == 200, reply.status
    conn.close()
    return times


def measure(port: int, path: str, body: dict[str, object], clients: int, n: int) -> None:
    data = json.dumps(body).encode()
    client(port, path, data, 20)  # warm up
    with ThreadPoolExecutor(clients) as pool:
        began = time.perf_counter()
        runs = list(pool.map(lambda _: client(port, path, data, n), range(clients)))
        wall = time.perf_counter() - began
    times = sorted(t for run in runs for t in run)
    p99 = times[int(len(times) * 0.99) - 1]
    print(
        f"{path:38} {clients} clients x {n}: median {statistics.median(times):.2f} ms, "
        f"p99 {p99:.2f} ms, max {times[-1]:.2f} ms, {len(times) / wall:.0f} requests/s"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--requests", type=int, default=200, help="per client")
    args = parser.parse_args()
    proc, port, startup = start(args.workers)
    try:
        print(f"start-up to first hook answer: {startup * 1000:.0f} ms (workers {args.workers})")
        measure(port, "/check", CHECK, args.clients, args.requests)
        measure(port, "/cds-services/redflag-patient-view", PATIENT_VIEW, args.clients,
                args.requests)  # fmt: skip
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(30)


if __name__ == "__main__":
    main()
