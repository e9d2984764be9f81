"""The studio as a background server on a free loopback port, stopped with everything in its process group.

``make studio`` runs Streamlit in the foreground for a person; the browser
tests and ``benchmarks/canvas.py`` need the same studio started and stopped
from Python, with their own ``PIPECANVAS_HOME``, and an answer on its health
endpoint before they point a browser at it.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from studio.launch import streamlit_argv

__all__ = ["StudioDidNotStart", "serve_studio"]

_REPO_ROOT = Path(__file__).resolve().parents[1]


class StudioDidNotStart(RuntimeError):
    """The studio exited or did not answer in time; the message ends with its log's tail."""


@contextmanager
def serve_studio(home: Path, log: Path, timeout: float = 60.0, python: str | None = None,
                 app: Path | None = None) -> Iterator[str]:
    """Start the studio (:mod:`studio.launch`'s argv) on 127.0.0.1 and a free port; yield its URL once it answers.

    ``python`` is the interpreter to run it with (default: this one), e.g. a venv holding only the base install;
    ``app`` another Streamlit script to serve the same way instead of the studio.
    """
    port = _free_port()
    argv = streamlit_argv("127.0.0.1", port, python=python, **({"app": app} if app is not None else {}))
    env = {**os.environ, "PIPECANVAS_HOME": str(home), "PYTHONUNBUFFERED": "1"}
    with open(log, "wb") as out:
        server = subprocess.Popen(argv, cwd=_REPO_ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
                                  stdin=subprocess.DEVNULL, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_healthy(url, server, log, timeout)
        yield url
    finally:
        _stop(server)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_healthy(url: str, server: subprocess.Popen, log: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise StudioDidNotStart(f"the studio exited with {server.returncode}:\n{_tail(log)}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.2)
    raise StudioDidNotStart(f"the studio did not answer on {url} in {timeout:.0f}s:\n{_tail(log)}")


def _tail(log: Path) -> str:
    return log.read_text(errors="replace")[-3000:]


def _stop(server: subprocess.Popen) -> None:
    if server.poll() is not None:
        return
    os.killpg(server.pid, signal.SIGTERM)
    try:
        server.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(server.pid, signal.SIGKILL)
        server.wait(timeout=5)
