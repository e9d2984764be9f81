"""Local model servers: start ``python -m nodes.model_server`` for a deploy node, and stop it later.

A deploy step only lives for a moment, but its endpoint must keep answering, so
the server is started in its own session (it survives the step and a Ctrl-C in
the step's terminal) with its output in ``<state_dir>/<name>.log``. ``launch``
returns only once the server answers ``/health``; if it dies or does not become
ready in time it is killed and the error quotes the end of its log.

Keeping track of running endpoints is the run store's job, not this module's.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import nodes
from nodes.artifacts import Endpoint
from nodes.errors import PipecanvasError

__all__ = ["LocalEndpointLauncher", "EndpointStartError", "stop_endpoint"]

_HOST = "127.0.0.1"
_SERVER_MODULE = "nodes.model_server"
_LOG_TAIL_LINES = 20
_POLL_SECONDS = 0.1


class EndpointStartError(PipecanvasError):
    """A model server could not be started, or died before it answered."""


class LocalEndpointLauncher:
    """Starts model servers as local processes listening on the loopback interface only."""

    def __init__(self, state_dir: Path, python: str = sys.executable, ready_timeout: float = 30) -> None:
        self.state_dir = Path(state_dir)
        self.python = python
        self.ready_timeout = ready_timeout

    def launch(self, name: str, model_uri: str, preprocessor_uri: str | None, port: int) -> Endpoint:
        """Start a server for the saved model on ``port`` (0: a free one) and wait until it answers."""
        if port == 0:
            port = _free_port()
        elif not _port_is_free(port):
            raise EndpointStartError(f"cannot start endpoint {name!r}: port {port} on {_HOST} is already in use")
        self.state_dir.mkdir(parents=True, exist_ok=True)
        log_path = self.state_dir / f"{name}.log"
        process = self._start(self._argv(name, model_uri, preprocessor_uri, port), log_path)
        url = f"http://{_HOST}:{port}"
        try:
            _wait_until_ready(process, url, name, self.ready_timeout, log_path)
            input_schema = _get_json(f"{url}/schema").get("input_schema", {})
        except BaseException:
            _stop_process(process)
            raise
        return Endpoint(name=name, url=url, backend="local", pid=process.pid, input_schema=input_schema)

    def _argv(self, name: str, model_uri: str, preprocessor_uri: str | None, port: int) -> list[str]:
        argv = [self.python, "-m", _SERVER_MODULE, "--model", _absolute(model_uri), "--name", name]
        if preprocessor_uri:
            argv += ["--preprocessor", _absolute(preprocessor_uri)]
        return argv + ["--host", _HOST, "--port", str(port)]

    def _start(self, argv: list[str], log_path: Path) -> subprocess.Popen[bytes]:
        """Popen in a new session, so the server outlives the step and gets none of its terminal's signals."""
        with open(log_path, "ab") as log:
            log.write(f"--- {time.strftime('%Y-%m-%d %H:%M:%S')} starting: {' '.join(argv)}\n".encode())
            log.flush()
            return subprocess.Popen(
                argv,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=self.state_dir,
                env=_server_environment(),
                start_new_session=True,
            )


def stop_endpoint(pid: int, grace: float = 5.0) -> bool:
    """Stop the local endpoint whose server has ``pid``: SIGTERM its process group, SIGKILL after ``grace`` seconds.

    Returns False when no such server is running (already stopped, or the pid now
    belongs to some other program, which is left alone).
    """
    if not _is_model_server(pid):
        return False
    try:
        os.killpg(pid, signal.SIGTERM)
    except ProcessLookupError:
        return False
    if not _wait_gone(pid, grace):
        try:
            os.killpg(pid, signal.SIGKILL)
        except ProcessLookupError:
            return True
        _wait_gone(pid, grace)
    return True


def _wait_until_ready(process: subprocess.Popen[bytes], url: str, name: str, timeout: float, log_path: Path) -> None:
    """Poll ``/health`` until this very server (it reports ``name``) answers, it exits, or time runs out."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise EndpointStartError(
                f"endpoint {name!r} stopped while starting (exit code {process.returncode}); "
                f"the end of {log_path}:\n{_log_tail(log_path)}"
            )
        try:
            if _get_json(f"{url}/health").get("name") == name:
                return
        except (OSError, ValueError):
            pass  # not listening yet
        time.sleep(_POLL_SECONDS)
    raise EndpointStartError(
        f"endpoint {name!r} did not answer at {url} within {timeout:g}s; the end of {log_path}:\n{_log_tail(log_path)}"
    )


def _get_json(url: str) -> dict[str, Any]:
    """GET ``url`` directly (no proxy: the server is on loopback) and decode its JSON object."""
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(url, timeout=2) as response:
        body = json.loads(response.read())
    if not isinstance(body, dict):
        raise ValueError(f"{url} did not answer with a JSON object")
    return body


def _stop_process(process: subprocess.Popen[bytes]) -> None:
    """Kill a server we just started and reap it."""
    if process.poll() is None:
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    process.wait()


def _is_model_server(pid: int) -> bool:
    """Whether ``pid`` is alive and (where /proc exists) is running the model server."""
    if pid <= 0:
        return False
    cmdline = Path(f"/proc/{pid}/cmdline")
    if Path("/proc/self").exists():
        try:
            return _SERVER_MODULE.encode() in cmdline.read_bytes()
        except OSError:
            return False
    try:
        os.kill(pid, 0)
    except (ProcessLookupError, PermissionError):
        return False
    return True


def _wait_gone(pid: int, timeout: float) -> bool:
    """Wait until ``pid`` has exited (reaping it if it is our child); True when it did."""
    deadline = time.monotonic() + timeout
    while True:
        if _has_exited(pid):
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(_POLL_SECONDS / 2)


def _has_exited(pid: int) -> bool:
    try:
        reaped, _ = os.waitpid(pid, os.WNOHANG)
        return reaped == pid
    except ChildProcessError:  # not our child: ask the kernel whether it still exists
        pass
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return _is_zombie(pid)


def _is_zombie(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[-1].split()[0] == "Z"


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((_HOST, 0))
        return int(sock.getsockname()[1])


def _port_is_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind((_HOST, port))
        except OSError:
            return False
    return True


def _absolute(uri: str) -> str:
    """Plain relative paths made absolute, since the server runs in another folder; URLs are left as they are."""
    return uri if "://" in uri else str(Path(uri).resolve())


def _server_environment() -> dict[str, str]:
    """This environment, with the folder holding ``nodes`` first on PYTHONPATH so the server runs this same code."""
    env = dict(os.environ)
    package_root = str(Path(nodes.__file__).resolve().parent.parent)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (package_root, env.get("PYTHONPATH")) if p)
    return env


def _log_tail(log_path: Path) -> str:
    try:
        lines = log_path.read_text(errors="replace").splitlines()
    except OSError:
        return "(no log was written)"
    return "\n".join(lines[-_LOG_TAIL_LINES:])
