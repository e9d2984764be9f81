"""The Endpoints page: a crashed server is shown as crashed with its last log line; "try it" needs no httpx."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

from streamlit.testing.v1 import AppTest

from runtime.run_store import EndpointRecord, open_store

TIMEOUT = 30


def _endpoints() -> None:
    from studio.page_endpoints import endpoints_page

    endpoints_page()


def _dead_pid() -> int:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def test_a_server_that_died_is_shown_as_crashed_with_its_last_log_line(home: Path) -> None:
    log = home / "endpoints" / "iris.log"
    log.parent.mkdir(parents=True)
    log.write_text("--- old start\nINFO: an earlier deploy\n--- 2026-12-01 run r1 step serve: starting ...\n"
                   "INFO:     Started server process\nMemoryError: the model did not fit in memory\n\n")
    store = open_store(home)
    assert store.claim_endpoint(EndpointRecord(
        "iris", "http://127.0.0.1:1", "local", _dead_pid(), "r1", "serve", "running", time.time(), None,
        {"x": "number"}, port=1, log_path=str(log)), replacing=None)
    at = AppTest.from_function(_endpoints, default_timeout=TIMEOUT)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    errors = [e.value for e in at.error]
    assert any("MemoryError: the model did not fit in memory" in e for e in errors), errors
    assert store.endpoint("iris").state == "crashed"
    assert [b.label for b in at.button] == ["Remove"]
    at.button[0].click()
    at.run()
    assert store.endpoint("iris").state == "stopped"
    assert any("No endpoints are running" in i.value for i in at.info)


class _Refusing(BaseHTTPRequestHandler):
    def do_POST(self) -> None:  # noqa: N802 (http.server's name)
        self.rfile.read(int(self.headers["Content-Length"]))
        body = json.dumps({"detail": "row 0: column 'x' must be a number, got 'a'"}).encode()
        self.send_response(422)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args) -> None:
        pass


def test_try_it_shows_the_servers_own_refusal_and_a_refused_connection() -> None:
    from studio.try_it import predict

    server = HTTPServer(("127.0.0.1", 0), _Refusing)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        ok, answer = predict(f"http://127.0.0.1:{server.server_port}", {"x": "a"})
        assert (ok, answer) == (False, "row 0: column 'x' must be a number, got 'a'")
    finally:
        server.shutdown()
        server.server_close()
    ok, answer = predict(f"http://127.0.0.1:{server.server_port}", {"x": 1})
    assert not ok and answer.startswith("the endpoint did not answer")


def test_the_page_imports_only_base_dependencies() -> None:
    """A fresh `pip install .` has no httpx: the page must not need it."""
    code = ("import sys; sys.modules['httpx'] = None\n"
            "import studio.page_endpoints")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            cwd=Path(__file__).resolve().parents[3])
    assert result.returncode == 0, result.stderr
