"""The connection limit of the HTTP transport, in-process (one slot, two clients)."""

import asyncio
import http.client
import json
import socket
import threading
import time
from typing import Any

from redflag.service.app import Service
from redflag.service.server import Listener, listening_socket


def test_a_connection_beyond_the_limit_gets_503_at_once(ruleset):
    logged: list[dict[str, Any]] = []
    listener = Listener(Service(ruleset), logged.append, max_connections=1)
    sock = listening_socket("127.0.0.1", 0)
    host, port = sock.getsockname()[:2]
    loop = asyncio.new_event_loop()
    stop = asyncio.Event()
    thread = threading.Thread(
        target=lambda: loop.run_until_complete(listener.serve(sock, stop)), daemon=True
    )
    thread.start()
    holder = http.client.HTTPConnection(host, port, timeout=30)
    try:
        holder.request("GET", "/cds-services")  # keep-alive: the one slot stays taken
        assert holder.getresponse().read()
        with socket.create_connection((host, port), timeout=30) as client:
            client.sendall(b"GET /cds-services HTTP/1.1\r\nHost: x\r\n\r\n")
            reply = b""
            while chunk := client.recv(65536):
                reply += chunk
        head, _, body = reply.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 503 ")
        assert json.loads(body)["error"]["code"] == "busy"
        # the server logs after the reply is out: on a busy machine the client can read the
        # reply first, so wait (bounded) for the log line
        deadline = time.monotonic() + 10
        while {"event": "busy", "status": 503} not in logged and time.monotonic() < deadline:
            time.sleep(0.01)
        assert {"event": "busy", "status": 503} in logged
    finally:
        holder.close()
        loop.call_soon_threadsafe(stop.set)
        thread.join(30)
        loop.close()
        sock.close()


def test_only_loopback_addresses_count_as_loopback():
    from redflag.service.server import _is_loopback

    assert _is_loopback("127.0.0.1") and _is_loopback("::1") and _is_loopback("localhost")
    assert not _is_loopback("0.0.0.0") and not _is_loopback("192.168.1.10")


def test_serve_without_its_extra_is_a_missing_extra_error_with_the_install_hint(monkeypatch):
    import importlib.util

    from typer.testing import CliRunner

    from redflag.cli import app

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util,
        "find_spec",
        lambda name, *a: None if name == "httptools" else real(name, *a),
    )
    result = CliRunner().invoke(app, ["serve", "--port", "0"])
    assert result.exit_code == 2
    assert "error[missing-extra]" in result.stderr
    assert "pip install 'redflag[serve]'" in result.stderr
