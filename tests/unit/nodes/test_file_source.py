"""data.file's guard rails: only regular files, a size limit, network failures named as such."""

from __future__ import annotations

import gzip
import os
import socket
import threading
from pathlib import Path

import pytest

from nodes.context import RunContext
from nodes.data import FileParams, FileTable
from nodes.errors import NodeInputError
from nodes.file_source import DEFAULT_MAX_SIZE_MB, open_source


@pytest.fixture
def context(tmp_path: Path) -> RunContext:
    return RunContext(work_dir=tmp_path)


def _run(context: RunContext, **params):
    return FileTable().run({}, FileParams(**params), context)["table"].frame


def _rows(count: int) -> bytes:
    return b"a,b\n" + b"".join(b"%d,%d\n" % (i, i * 2) for i in range(count))


def test_the_size_limit_is_a_param_with_a_stated_default():
    field = FileParams.model_fields["max_size_mb"]

    assert field.default == DEFAULT_MAX_SIZE_MB
    assert str(DEFAULT_MAX_SIZE_MB) in field.description and "MB" in field.description
    assert FileParams(path="x.csv").max_size_mb == DEFAULT_MAX_SIZE_MB


@pytest.mark.parametrize("path", ["/dev/zero", "/dev/null", "/dev/urandom"])
def test_a_device_is_refused_before_reading(context, path):
    with pytest.raises(NodeInputError, match=f"'{path}' is a character device, not a regular file"):
        _run(context, path=path, format="csv")


def test_a_fifo_is_refused_instead_of_hanging(context, tmp_path):
    fifo = tmp_path / "rows.csv"
    os.mkfifo(fifo)
    result: dict[str, BaseException] = {}

    def read() -> None:
        try:
            _run(context, path=str(fifo))
        except BaseException as exc:  # noqa: BLE001 - handed to the test thread
            result["error"] = exc

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    reader.join(30)
    if reader.is_alive():  # unblock the reader so the test process can end, then fail
        with open(fifo, "wb"):
            pass
        pytest.fail("reading a FIFO blocked")
    assert isinstance(result.get("error"), NodeInputError)
    assert "is a named pipe (FIFO), not a regular file" in str(result["error"])


def test_a_socket_is_refused(context, tmp_path):
    path = tmp_path / "s.csv"
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(str(path))
    try:
        with pytest.raises(NodeInputError, match="is a socket, not a regular file"):
            _run(context, path=str(path))
    finally:
        server.close()


def test_a_folder_is_refused(context, tmp_path):
    folder = tmp_path / "data.csv"
    folder.mkdir()

    with pytest.raises(NodeInputError, match="is a folder, not a file"):
        _run(context, path=str(folder))


def test_a_symlink_to_a_regular_file_is_read(context, tmp_path):
    target = tmp_path / "real.csv"
    target.write_bytes(_rows(3))
    link = tmp_path / "link.csv"
    link.symlink_to(target)

    assert len(_run(context, path=str(link))) == 3


def test_a_symlink_to_a_device_is_refused(context, tmp_path):
    link = tmp_path / "zero.csv"
    link.symlink_to("/dev/zero")

    with pytest.raises(NodeInputError, match="character device"):
        _run(context, path=str(link))


def test_a_file_over_the_limit_is_refused_up_front_naming_the_limit(context, tmp_path):
    big = tmp_path / "big.csv"
    with open(big, "wb") as handle:
        handle.truncate(3 * 1024 * 1024)  # sparse: 3 MB on paper, nothing on disk

    with pytest.raises(NodeInputError) as caught:
        _run(context, path=str(big), max_size_mb=2)
    assert "larger than the limit of 2 MB (it is 3.0 MB)" in str(caught.value)
    assert "max_size_mb" in str(caught.value)


def test_a_compressed_file_that_inflates_past_the_limit_is_stopped_while_streaming(context, tmp_path):
    bomb = tmp_path / "rows.csv.gz"
    bomb.write_bytes(gzip.compress(b"a,b\n" + b"1,2\n" * (1024 * 1024)))  # 4 MB of rows in a few KB
    assert bomb.stat().st_size < 1024 * 1024

    with pytest.raises(NodeInputError, match="larger than the limit of 1 MB .*kept going past that"):
        _run(context, path=str(bomb), max_size_mb=1)


def test_the_limit_counts_what_is_read_not_only_the_size_first_seen(tmp_path):
    """A file that grows after it was opened (or a remote object without a size) is stopped at the limit."""
    growing = tmp_path / "log.csv"
    growing.write_bytes(b"a\n")
    with open_source(str(growing), "log.csv", max_mb=1) as handle:
        growing.write_bytes(b"a\n" + b"1\n" * (1024 * 1024))
        with pytest.raises(NodeInputError, match="kept going past that"):
            handle.read()


def test_a_file_within_the_limit_is_read_whole(context, tmp_path):
    path = tmp_path / "rows.csv.gz"
    path.write_bytes(gzip.compress(_rows(50_000)))

    frame = _run(context, path=str(path), max_size_mb=1)
    assert len(frame) == 50_000 and frame["b"].iloc[-1] == 99_998


def test_an_unreadable_file_says_permission_denied(context, tmp_path):
    if os.geteuid() == 0:
        pytest.skip("root reads any file whatever its mode")
    path = tmp_path / "secret.csv"
    path.write_bytes(_rows(1))
    path.chmod(0)

    with pytest.raises(NodeInputError, match="cannot be read: permission denied"):
        _run(context, path=str(path))


def test_a_missing_file_still_says_not_found(context, tmp_path):
    with pytest.raises(NodeInputError, match="was not found"):
        _run(context, path=str(tmp_path / "nope.csv"))


# --- network ----------------------------------------------------------------------


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_a_refused_http_connection_says_could_not_connect_not_not_found(context):
    pytest.importorskip("aiohttp")
    port = _closed_port()

    with pytest.raises(NodeInputError) as caught:
        _run(context, path=f"http://127.0.0.1:{port}/rows.csv")
    message = str(caught.value)
    assert f"could not connect to 127.0.0.1:{port}" in message
    assert "refused" in message
    assert "not found" not in message


def test_an_http_404_still_says_not_found(context, http_server):
    pytest.importorskip("aiohttp")

    with pytest.raises(NodeInputError, match="was not found"):
        _run(context, path=f"{http_server}/missing.csv")


def test_an_http_file_is_read_and_its_size_checked(context, http_server):
    pytest.importorskip("aiohttp")

    assert len(_run(context, path=f"{http_server}/rows.csv")) == 20_000
    with pytest.raises(NodeInputError, match="larger than the limit of 1 MB"):
        _run(context, path=f"{http_server}/big.csv", max_size_mb=1)


def test_an_http_file_without_a_size_is_stopped_while_streaming(context, http_server):
    pytest.importorskip("aiohttp")

    with pytest.raises(NodeInputError, match="larger than the limit of 1 MB"):
        _run(context, path=f"{http_server}/endless.csv", max_size_mb=1)


@pytest.fixture
def http_server():
    """A loopback HTTP server: rows.csv (sized), big.csv (2 MB, sized), endless.csv (chunked, no size)."""
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    files = {"/rows.csv": _rows(20_000), "/big.csv": b"a\n" + b"1\n" * (1024 * 1024)}

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args) -> None:
            pass

        def do_HEAD(self) -> None:
            self._answer(body=False)

        def do_GET(self) -> None:
            self._answer(body=True)

        def _answer(self, body: bool) -> None:
            path = self.path.split("?", 1)[0]
            if path == "/endless.csv":
                self.send_response(200)
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                if body:
                    chunk = b"1\n" * 32768
                    try:
                        for _ in range(64):  # 4 MB, far past a 1 MB limit
                            self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                        self.wfile.write(b"0\r\n\r\n")
                    except OSError:
                        pass
                return
            data = files.get(path)
            if data is None:
                self.send_response(404)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            self.send_response(200)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            if body:
                try:
                    self.wfile.write(data)
                except OSError:
                    pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()
