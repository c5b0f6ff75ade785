"""The HTTP transport of `redflag serve`: ThreadingHTTPServer, limits, logs, shutdown.

- Binds where it is told (the CLI defaults to loopback) and says where on stderr when ready.
- A body over MAX_BODY_BYTES is refused (413) before it is read; a body must have a
  Content-Length (411: no chunked uploads); a client that sends nothing for
  SOCKET_TIMEOUT seconds, or takes over REQUEST_DEADLINE seconds to send its request,
  is cut off.
- One JSON log line per request on stderr: time, method, path, status, milliseconds, bytes;
  never a symptom unless `log_answers` (then the level and the answers).
- SIGTERM (and SIGINT) stop accepting, let requests in flight finish, and exit.
- `workers` > 1 forks that many processes sharing the listening socket (each with threads).
"""

from __future__ import annotations

import contextlib
import email.utils
import functools
import http
import json
import os
import signal
import socket
import sys
import threading
import time
from collections.abc import Callable, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, TextIO

import orjson

from redflag.service.app import MAX_BODY_BYTES, Reply, Service, error_reply

SOCKET_TIMEOUT = 10.0  # seconds of silence from a client before its connection is closed
REQUEST_DEADLINE = 30.0  # seconds a client may take to send one whole body
_READ_CHUNK = 64 * 1024
MAX_CONNECTIONS = 512  # one thread each: beyond this a connection gets 503 at once
_BUSY = (
    b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\n"
    b"Retry-After: 1\r\nConnection: close\r\nContent-Length: 87\r\n\r\n"
    b'{"error": {"code": "busy", "message": "too many connections", "hint": "retry shortly"}}'
)


class _Server(ThreadingHTTPServer):
    daemon_threads = False  # server_close() waits for requests in flight (graceful stop)
    block_on_close = True
    request_queue_size = 1024  # a burst of clients waits in the backlog, not refused
    service: Service
    log: Callable[[dict[str, Any]], None]
    max_connections = MAX_CONNECTIONS

    def server_activate(self) -> None:
        super().server_activate()
        self._slots = threading.BoundedSemaphore(self.max_connections)
        self.stopping = False
        self._open: set[_Handler] = set()
        self._open_lock = threading.Lock()

    def track(self, handler: _Handler, is_open: bool) -> None:
        """Note a connection being served (or no longer)."""
        with self._open_lock:
            if is_open:
                self._open.add(handler)
            else:
                self._open.discard(handler)

    def close_idle(self) -> None:
        """On stop: end every keep-alive connection waiting for its next request (a request
        in flight is left to finish), so an idle client cannot hold the exit for
        SOCKET_TIMEOUT."""
        self.stopping = True
        with self._open_lock:
            idle = [h for h in self._open if h.idle]
        for handler in idle:
            with contextlib.suppress(OSError):
                handler.connection.shutdown(socket.SHUT_RD)

    def process_request(self, request: Any, client_address: Any) -> None:
        """Serve the connection in a thread of its own, if one of the slots is free."""
        if not self._slots.acquire(blocking=False):
            with contextlib.suppress(OSError):
                request.sendall(_BUSY)
            self.shutdown_request(request)
            self.log({"event": "busy", "status": 503})
            return
        super().process_request(request, client_address)

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self._slots.release()


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"
    # headers and body are two writes: with Nagle's algorithm the body waits for the
    # client's delayed ACK of the headers, 40 ms on Linux per keep-alive request
    disable_nagle_algorithm = True
    timeout = SOCKET_TIMEOUT
    server_version = "redflag"
    sys_version = ""
    idle = True  # waiting for a request line: close_idle may end the connection

    def handle(self) -> None:
        self.server.track(self, True)
        try:
            super().handle()
        finally:
            self.server.track(self, False)

    def handle_one_request(self) -> None:
        self.idle = True
        super().handle_one_request()

    def parse_request(self) -> bool:
        self.idle = False  # the request line is in: this request is in flight
        return super().parse_request()

    def do_GET(self) -> None:
        self._serve("GET")

    def do_POST(self) -> None:
        self._serve("POST")

    def do_PUT(self) -> None:
        self._serve("PUT")

    def do_DELETE(self) -> None:
        self._serve("DELETE")

    def _serve(self, method: str) -> None:
        start = time.perf_counter()
        body, refused = self._body(method)
        if refused is not None:
            reply = refused
            self.close_connection = True
        else:
            reply = self.server.service.handle(method, self.path, body)
        sent = self._send(reply)
        self.server.log(
            {
                "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                "method": method,
                "path": self.path.split("?", 1)[0][:200],
                "status": reply.status,
                "ms": round((time.perf_counter() - start) * 1000, 2),
                "in": len(body or b""),
                "out": sent,
                **reply.log,
            }
        )

    def _body(self, method: str) -> tuple[bytes | None, Reply | None]:
        path = self.path
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            return None, error_reply(
                411, "length-required", "send the body with a Content-Length", path
            )
        length_text = self.headers.get("Content-Length")
        if length_text is None:
            if method == "POST":
                return None, error_reply(
                    411, "length-required", "send the body with a Content-Length", path
                )
            return None, None
        try:
            length = int(length_text)
        except ValueError:
            return None, error_reply(400, "bad-request", "Content-Length is not a number", path)
        if length < 0:
            return None, error_reply(400, "bad-request", "Content-Length is negative", path)
        if length > MAX_BODY_BYTES:
            return None, error_reply(
                413,
                "too-large",
                f"the body is over the limit of {MAX_BODY_BYTES:,} bytes",
                path,
            )
        deadline = time.monotonic() + REQUEST_DEADLINE
        chunks: list[bytes] = []
        left = length
        while left > 0:
            if time.monotonic() > deadline:
                return None, error_reply(408, "timeout", "the body took too long to send", path)
            chunk = self.rfile.read1(min(left, _READ_CHUNK))
            if not chunk:
                return None, error_reply(400, "bad-request", "the body ended early", path)
            chunks.append(chunk)
            left -= len(chunk)
        return b"".join(chunks), None

    def _send(self, reply: Reply) -> int:
        data = _encode(reply.body)
        if self.server.stopping:
            self.close_connection = True
        if self.request_version == "HTTP/0.9":  # no status line, no headers: the body alone
            self.wfile.write(data)
            return len(data)
        # the status line, headers and body in one write: one segment, one wake-up of the
        # client, instead of a write for the headers and another for the body (issue 16)
        head = [
            f"{self.protocol_version} {reply.status} {_phrase(reply.status)}",
            f"Server: {self.server_version}",
            f"Date: {_http_date()}",
            f"Content-Type: {reply.content_type}; charset=utf-8",
            f"Content-Length: {len(data)}",
            "Cache-Control: no-store",
            "X-Content-Type-Options: nosniff",
        ]
        if self.close_connection:
            head.append("Connection: close")
        self.wfile.write("\r\n".join(head).encode("latin-1") + b"\r\n\r\n" + data)
        return len(data)

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """The stdlib's reply to a malformed request line or header, as a JSON error body
        (its own template is HTML, and interpolates the request unescaped)."""
        self.close_connection = True
        reply = error_reply(code, "bad-request", message or "bad request", "/")
        if self.request_version == "HTTP/0.9":  # no status line to send: just close
            return
        self._send(reply)

    def log_message(self, format: str, *args: Any) -> None:
        pass  # one structured line per request instead, from _serve


def serve(
    service: Service,
    host: str,
    port: int,
    *,
    workers: int = 1,
    out: TextIO = sys.stderr,
    warm: Callable[[], None] | None = None,
) -> int:
    """Serve until SIGTERM or SIGINT; returns the exit code (0, or 130 after SIGINT).

    `warm` runs in each process once it is serving (what start-up need not wait for).
    """
    lock = threading.Lock()

    def log(entry: dict[str, Any]) -> None:
        line = _encode(entry).decode("utf-8")
        with lock:
            out.write(line + "\n")
            out.flush()

    server = _Server((host, port), _Handler)
    # workers share the listening socket: all of them wake for one connection, and a
    # blocking accept() would then hang the losers (and their shutdown) until the next one
    server.socket.setblocking(False)
    server.service = service
    server.log = log
    bound_host, bound_port = server.server_address[:2]
    children: list[int] = []
    is_parent = True
    for _ in range(workers - 1):  # fork before any thread starts
        pid = os.fork()
        if pid == 0:
            is_parent, children = False, []
            break
        children.append(pid)
    stop = threading.Event()
    signals: list[int] = []

    def on_signal(signum: int, _frame: object) -> None:
        signals.append(signum)
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    thread = threading.Thread(target=server.serve_forever, name="redflag-serve", daemon=True)
    thread.start()
    if is_parent and not _is_loopback(str(bound_host)):
        log({"event": "warning", "message": "listening beyond loopback, with no "
             "authentication and no TLS: put a gateway in front of it"})  # fmt: skip
    if is_parent:
        log(
            {
                "event": "listening",
                "url": f"http://{_host_for_url(str(bound_host))}:{bound_port}",
                "workers": workers,
                "pid": os.getpid(),
            }
        )
    if warm is not None:
        warm()  # a signal meanwhile sets `stop`: the wait below then returns at once
    stop.wait()
    server.shutdown()
    server.close_idle()
    server.server_close()  # waits for requests in flight
    thread.join()
    if is_parent:
        for pid in children:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)
        for pid in children:
            os.waitpid(pid, 0)
        log({"event": "stopped", "pid": os.getpid()})
    else:
        os._exit(0)  # a worker ends here, without running the parent's exit handlers
    return 130 if signals and signals[0] == signal.SIGINT else 0


@functools.cache
def _phrase(status: int) -> str:
    return http.HTTPStatus(status).phrase


_date_cache: tuple[int, str] = (0, "")


def _http_date() -> str:
    """The Date header, formatted once a second (a race only formats it twice)."""
    global _date_cache
    now = int(time.time())
    second, text = _date_cache
    if second != now:
        text = email.utils.formatdate(now, usegmt=True)
        _date_cache = (now, text)
    return text


def _encode(body: Mapping[str, Any]) -> bytes:
    """JSON in UTF-8, by orjson: a tenth of the time of `json.dumps` (a /check reply is about
    17 kB; issue 16). What orjson cannot write (an integer over 64 bits, a lone surrogate)
    goes to `json` as before, which writes it or raises as it always did."""
    try:
        return orjson.dumps(body)
    except (TypeError, orjson.JSONEncodeError):
        return json.dumps(body, ensure_ascii=False).encode("utf-8")


def _is_loopback(host: str) -> bool:
    import ipaddress

    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


def _host_for_url(host: str) -> str:
    return f"[{host}]" if ":" in host else host
