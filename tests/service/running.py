"""A real `redflag serve` process on a free loopback port, for tests and the benchmark."""

from __future__ import annotations

import http.client
import json
import queue
import signal
import subprocess
import sys
import threading
import time
from typing import Any


class RunningServer:
    """`python -m redflag serve --port 0 ...`, its log lines collected from stderr."""

    def __init__(self, *args: str, timeout: float = 20.0, prelude: str | None = None) -> None:
        """`prelude`: Python run in the server process before redflag is (to break an import)."""
        self.started = time.perf_counter()
        python = ["-m", "redflag"]
        if prelude is not None:
            run = "import runpy; runpy.run_module('redflag', run_name='__main__', alter_sys=True)"
            python = ["-c", f"{prelude}\n{run}"]
        self.process = subprocess.Popen(
            [sys.executable, *python, "serve", "--port", "0", *args],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        self.lines: queue.Queue[str] = queue.Queue()
        self.log: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        first = self.next_line(timeout)
        ready = json.loads(first)
        assert ready["event"] == "listening", first
        self.url = ready["url"]
        self.host, port = self.url.removeprefix("http://").rsplit(":", 1)
        self.port = int(port)

    def _read(self) -> None:
        assert self.process.stderr is not None
        for raw in self.process.stderr:
            line = raw.decode("utf-8", "replace").rstrip("\n")
            self.log.append(line)
            self.lines.put(line)

    def next_line(self, timeout: float = 20.0) -> str:
        try:
            return self.lines.get(timeout=timeout)
        except queue.Empty:
            self.process.kill()
            raise AssertionError(f"no line from the server in {timeout}s: {self.log}") from None

    def request(
        self, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None
    ) -> tuple[int, dict[str, str], Any]:
        """One request on a fresh connection: (status, headers, parsed JSON body)."""
        conn = http.client.HTTPConnection(self.host, self.port, timeout=30)
        try:
            data = body if isinstance(body, bytes) or body is None else json.dumps(body).encode()
            conn.request(method, path, body=data, headers=headers or {})
            reply = conn.getresponse()
            raw = reply.read()
            return reply.status, dict(reply.getheaders()), json.loads(raw) if raw else None
        finally:
            conn.close()

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 30.0) -> int:
        """Send `sig`, wait for the exit, return the exit code."""
        if self.process.poll() is None:
            self.process.send_signal(sig)
        try:
            code = self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            raise
        self._close()
        return code

    def _close(self) -> None:
        self._reader.join(30)
        if self.process.stderr is not None:
            self.process.stderr.close()

    def __enter__(self) -> RunningServer:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=120)
        self._close()
