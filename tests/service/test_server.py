"""`redflag serve` as a real process on a free loopback port, with a real HTTP client."""

import http.client
import json
import signal
import socket
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.service.hooks import MSCC_ITEMS, patient_view, response, search_bundle
from tests.service.running import RunningServer


@pytest.fixture(scope="module")
def server():
    with RunningServer() as running:
        yield running
        assert running.stop() == 0
        assert json.loads(running.log[-1])["event"] == "stopped"


def test_it_listens_on_loopback_by_default(server):
    assert server.host == "127.0.0.1"


def test_it_runs_on_uvloop_where_installed(server):
    import importlib.util

    expected = "uvloop" if importlib.util.find_spec("uvloop") else "asyncio"
    assert json.loads(server.log[0])["loop"] == expected


def test_without_uvloop_it_serves_on_asyncio_s_own_loop():
    # uvloop is not built for every platform (the serve extra skips Windows): with its import
    # failing, the server runs on asyncio's loop and answers as ever
    with RunningServer(prelude="import sys; sys.modules['uvloop'] = None") as running:
        assert json.loads(running.log[0])["loop"] == "asyncio"
        body = patient_view(search_bundle(response(MSCC_ITEMS)))
        status, _, reply = running.request("POST", "/cds-services/redflag-patient-view", body)
        assert status == 200
        assert reply["cards"][0]["indicator"] == "critical"
        assert running.stop() == 0


def test_discovery_over_http(server):
    status, headers, body = server.request("GET", "/cds-services")
    assert status == 200
    assert headers["Content-Type"] == "application/json; charset=utf-8"
    assert {s["hook"] for s in body["services"]} == {"patient-view", "questionnaire-inprogress"}


def test_patient_view_over_http_gives_a_critical_card_for_mscc(server):
    body = patient_view(search_bundle(response(MSCC_ITEMS)))
    status, _, reply = server.request("POST", "/cds-services/redflag-patient-view", body)
    assert status == 200
    assert reply["cards"][0]["indicator"] == "critical"


def test_questionnaire_inprogress_and_feedback_over_http(server):
    body = {"hook": "questionnaire-inprogress", "hookInstance": "x",
            "context": {"questionnaireResponse": response(MSCC_ITEMS)}}  # fmt: skip
    status, _, reply = server.request("POST", "/cds-services/redflag-questionnaire", body)
    assert status == 200
    card = reply["cards"][0]["uuid"]
    feedback = {"feedback": [{"card": card, "outcome": "overridden",
                              "outcomeTimestamp": "2026-12-02T01:00:00Z"}]}  # fmt: skip
    path = "/cds-services/redflag-questionnaire/feedback"
    assert server.request("POST", path, feedback)[0] == 200


def test_check_over_http_and_its_errors(server):
    status, _, reply = server.request("POST", "/check", {"back_pain": True, "age": 70})
    assert (status, reply["level"], reply["worst_case"]) == (200, "soon", "emergency")
    status, _, reply = server.request("POST", "/check", b'{"back_pain": true,')
    assert status == 400 and reply["error"]["code"] == "bad-json"
    status, headers, reply = server.request("POST", "/fhir/Questionnaire/$next-question", b"[]")
    assert status == 400 and reply["resourceType"] == "OperationOutcome"
    assert headers["Content-Type"] == "application/fhir+json; charset=utf-8"


def raw_exchange(server, head: bytes) -> bytes:
    with socket.create_connection((server.host, server.port), timeout=30) as sock:
        sock.sendall(head)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def test_a_body_over_the_limit_is_refused_before_it_is_read(server):
    reply = raw_exchange(server, b"POST /check HTTP/1.1\r\nHost: x\r\n"
                         b"Content-Length: 2000000\r\n\r\n")  # fmt: skip
    head, _, body = reply.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 413 ")
    assert json.loads(body)["error"]["code"] == "too-large"


def test_a_post_without_length_or_chunked_is_411(server):
    chunked = b"POST /check HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
    for head in (b"POST /check HTTP/1.1\r\nHost: x\r\n\r\n", chunked):
        assert raw_exchange(server, head).startswith(b"HTTP/1.1 411 ")


def test_garbage_is_an_http_error_not_a_crash(server):
    head, _, body = raw_exchange(server, b"\x16\x03 / HTTP/1.1\r\n\r\n").partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 501 ")
    assert json.loads(body)["error"]["code"] == "bad-request"
    assert raw_exchange(server, b"\x16\x03\x01 hello\r\n\r\n") == b""  # HTTP/0.9: closed
    assert server.request("GET", "/cds-services")[0] == 200


def test_200_concurrent_requests_all_succeed(server):
    bodies = [
        ("/check", {"back_pain": True, "age": i % 100}) if i % 2 else
        ("/cds-services/redflag-patient-view", patient_view(search_bundle(response(MSCC_ITEMS))))
        for i in range(200)
    ]  # fmt: skip
    with ThreadPoolExecutor(max_workers=200) as pool:
        results = list(pool.map(lambda pb: server.request("POST", *pb)[0], bodies))
    assert results == [200] * 200


def test_the_log_has_one_json_line_per_request_and_no_symptom_data(server):
    body = json.dumps({"saddle_anaesthesia": True, "id": "log-test-record"}).encode()
    server.request("POST", "/check", body)
    for _ in range(1000):  # earlier tests' lines may come first
        entry = json.loads(server.next_line())
        if entry.get("in") == len(body):
            break
    assert (entry["method"], entry["path"], entry["status"]) == ("POST", "/check", 200)
    assert set(entry) == {"time", "method", "path", "status", "ms", "in", "out"}
    assert not [line for line in server.log if "saddle" in line or "log-test" in line]


def test_sigterm_lets_a_request_in_flight_finish():
    with RunningServer() as running:
        conn = http.client.HTTPConnection(running.host, running.port, timeout=30)
        conn.request("GET", "/cds-services")  # the connection is now being served
        assert conn.getresponse().read()
        body = json.dumps({"fever": True}).encode()
        conn.putrequest("POST", "/check")
        conn.putheader("Content-Length", str(len(body)))
        conn.putheader("Connection", "close")
        conn.endheaders()
        conn.send(body[:5])
        running.process.send_signal(signal.SIGTERM)
        conn.send(body[5:])
        reply = conn.getresponse()
        assert reply.status == 200
        assert json.loads(reply.read())["answered"] == {"fever": True}
        conn.close()
        assert running.stop() == 0


def test_sigterm_closes_an_idle_keep_alive_connection_instead_of_waiting_for_it():
    with RunningServer() as running:
        conn = http.client.HTTPConnection(running.host, running.port, timeout=30)
        conn.request("GET", "/cds-services")
        assert conn.getresponse().read()  # the connection stays open, idle
        # the server must not wait out its 10 s silence limit on the idle client
        assert running.stop(timeout=8) == 0
        assert conn.sock.recv(1) == b""  # closed by the server
        conn.close()


def test_workers_serve_and_stop_together():
    with RunningServer("--workers", "2") as running:
        with ThreadPoolExecutor(max_workers=8) as pool:
            codes = list(pool.map(lambda _: running.request("GET", "/cds-services")[0], range(40)))
        assert codes == [200] * 40
        assert running.stop() == 0


def test_a_port_in_use_is_a_usage_error():
    with RunningServer() as first:
        import subprocess
        import sys

        taken = subprocess.run(
            [sys.executable, "-m", "redflag", "serve", "--port", str(first.port)],
            capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        assert taken.returncode == 2
        assert f"error[usage]: cannot listen on 127.0.0.1:{first.port}" in taken.stderr
        assert first.stop() == 0


def test_a_port_held_by_workers_on_their_own_sockets_is_still_in_use():
    # --workers 2 listens on a socket per worker (SO_REUSEPORT on Linux): a second server on
    # that port, with workers or without, must not join them
    import subprocess
    import sys

    with RunningServer("--workers", "2") as first:
        for workers in ("1", "2"):
            taken = subprocess.run(
                [sys.executable, "-m", "redflag", "serve", "--port", str(first.port),
                 "--workers", workers],
                capture_output=True, text=True, timeout=60,
            )  # fmt: skip
            assert taken.returncode == 2, taken.stderr
            assert f"error[usage]: cannot listen on 127.0.0.1:{first.port}" in taken.stderr
        assert first.request("GET", "/cds-services")[0] == 200
        assert first.stop() == 0


def test_the_readme_curl_example_gives_a_critical_card(server):
    root = Path(__file__).resolve().parent.parent.parent
    readme = (root / "README.md").read_text()
    example = root / "docs" / "examples" / "patient-view-mscc.json"
    assert "--data @docs/examples/patient-view-mscc.json" in readme
    status, _, reply = server.request(
        "POST", "/cds-services/redflag-patient-view", example.read_bytes()
    )
    assert status == 200
    (card,) = reply["cards"]
    assert card["indicator"] == "critical"
    shown = readme.split("--data @docs/examples/patient-view-mscc.json", 1)[1]
    assert f'"summary": "{card["summary"]}"' in shown
    assert json.dumps(card["detail"]) in shown
