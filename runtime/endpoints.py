"""Local model servers: start ``python -m nodes.model_server`` for a deploy node, and stop it later.

A deploy step only lives for a moment, but its endpoint must keep answering, so
the server is started in its own session (it survives the step and a Ctrl-C in
the step's terminal) with its output in ``<log_dir>/<name>.log``. Nothing may
run that the run store does not know of, so a launch goes:

1. claim the endpoint's row (state ``starting``: name, port, log, run, step,
   and this step process as its owner), stopping the endpoint's previous server;
2. start the server held (``--wait-for-go``: it reads a line from stdin before
   it loads or listens) and record its pid and start time in the row;
3. release it, and wait until it answers ``/health``.

If the step dies before 3, the held server reads end-of-input and exits by
itself; after 3, the row names the server, and the coordinator (when the step
fails, is cancelled or times out) or any reader of the store
(``endpoint_registry.refresh_endpoints``: ``pipecanvas endpoints``, the
studio, ``undeploy``) stops it. The row becomes ``running`` only when the
coordinator records the step's success.

A redeploy takes the port its endpoint had when that port is free, so its URL
stays the same. The readiness wait is the deploy node's ``ready_timeout``, else
``$PIPECANVAS_ENDPOINT_READY_TIMEOUT``, else 120 seconds.
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

from .processes import process_start_time, same_process
from .run_store import EndpointRecord, RunStore

__all__ = ["LocalEndpointLauncher", "EndpointStartError", "stop_endpoint", "server_log_tail", "resolve_ready_timeout",
           "READY_TIMEOUT_ENV", "DEFAULT_READY_TIMEOUT"]

READY_TIMEOUT_ENV = "PIPECANVAS_ENDPOINT_READY_TIMEOUT"
DEFAULT_READY_TIMEOUT = 120.0
_HOST = "127.0.0.1"
_SERVER_MODULE = "nodes.model_server"
_LOG_HEADER = "--- "
_LOG_TAIL_LINES = 20
_POLL_SECONDS = 0.1


class EndpointStartError(PipecanvasError):
    """A model server could not be started, or died before it answered."""


def resolve_ready_timeout(param: float | None = None) -> float:
    """Seconds to wait for a server: the deploy node's param, else ``$PIPECANVAS_ENDPOINT_READY_TIMEOUT``, else 120."""
    if param is not None:
        return float(param)
    raw = os.environ.get(READY_TIMEOUT_ENV, "").strip()
    if not raw:
        return DEFAULT_READY_TIMEOUT
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not 0 < value < float("inf"):
        raise EndpointStartError(f"{READY_TIMEOUT_ENV} must be a number of seconds greater than 0, got {raw!r}")
    return value


class LocalEndpointLauncher:
    """Starts model servers as local processes listening on the loopback interface only, each recorded in
    ``store`` before it listens."""

    def __init__(
        self, store: RunStore, log_dir: Path, *, run_id: str = "adhoc", step_id: str = "step",
        attempt: int | None = None, python: str = sys.executable, ready_timeout: float | None = None,
    ) -> None:
        self.store, self.log_dir = store, Path(log_dir)
        self.run_id, self.step_id, self.attempt = run_id, step_id, attempt
        self.python = python
        self.ready_timeout = ready_timeout

    def launch(self, name: str, model_uri: str, preprocessor_uri: str | None, port: int,
               ready_timeout: float | None = None) -> Endpoint:
        """Start a server for the saved model on ``port`` (0: the endpoint's last port if free, else any
        free one) and wait until it answers."""
        timeout = resolve_ready_timeout(ready_timeout if ready_timeout is not None else self.ready_timeout)
        previous = self._take_over(name)
        port = self._choose_port(name, port, previous)
        self.log_dir.mkdir(parents=True, exist_ok=True)
        log_path = self.log_dir / f"{name}.log"
        url = f"http://{_HOST}:{port}"
        claim = self._claim(name, url, port, log_path, previous)
        process = None
        try:
            argv = self._argv(name, model_uri, preprocessor_uri, port)
            process = self._start(argv, log_path)
            if not self.store.set_endpoint_process(name, claim.started_at, process.pid, process.pid,
                                                   process_start_time(process.pid)):
                raise EndpointStartError(f"endpoint {name!r} was undeployed or redeployed while it started")
            self._release(process)
            _wait_until_ready(process, url, name, timeout, log_path)
            input_schema = _get_json(f"{url}/schema").get("input_schema", {})
            self.store.set_endpoint_schema(name, claim.started_at, input_schema)
        except BaseException as exc:
            if process is not None:
                _stop_process(process)
            detail = str(exc).splitlines()[0] if isinstance(exc, PipecanvasError) else f"{type(exc).__name__}: {exc}"
            self.store.end_endpoint(name, "failed", detail, started_at=claim.started_at, from_states=("starting",))
            raise
        return Endpoint(name=name, url=url, backend="local", pid=process.pid, input_schema=input_schema)

    def _take_over(self, name: str) -> EndpointRecord | None:
        """The endpoint's current row, after stopping the server it names (a redeploy replaces it).

        A row another live deploy step is still starting is left alone: that is an error.
        """
        previous = self.store.endpoint(name)
        if previous is None or previous.backend != "local":
            return previous
        if previous.state == "starting" and previous.owner_pid != os.getpid() and \
                same_process(previous.owner_pid, previous.owner_start):
            raise EndpointStartError(
                f"endpoint {name!r} is being started by run {previous.run_id} (step '{previous.step_id}'); "
                "wait for it to finish, or give this deploy node another endpoint name")
        if previous.state in ("starting", "running", "crashed") and previous.pid:
            stop_endpoint(previous.pid, process_start=previous.process_start)
        if previous.state in ("starting", "running", "crashed"):
            self.store.end_endpoint(name, "stopped", f"replaced by run {self.run_id}", started_at=previous.started_at)
        return self.store.endpoint(name)

    def _choose_port(self, name: str, port: int, previous: EndpointRecord | None) -> int:
        if port:
            if not _port_is_free(port):
                raise EndpointStartError(
                    f"cannot start endpoint {name!r}: port {port} on {_HOST} is already in use by another program; "
                    "choose another port, or 0 for any free one")
            return port
        if previous is not None and previous.port and _port_is_free(previous.port):
            return previous.port
        return _free_port()

    def _claim(self, name: str, url: str, port: int, log_path: Path, previous: EndpointRecord | None) -> EndpointRecord:
        claim = EndpointRecord(
            name=name, url=url, backend="local", pid=None, run_id=self.run_id, step_id=self.step_id,
            state="starting", started_at=time.time(), stopped_at=None, input_schema={}, port=port,
            owner_pid=os.getpid(), owner_start=process_start_time(os.getpid()), attempt=self.attempt,
            log_path=str(log_path),
        )
        if not self.store.claim_endpoint(claim, previous.started_at if previous else None):
            raise EndpointStartError(f"endpoint {name!r} was deployed by another run at the same moment; run again")
        return claim

    def _argv(self, name: str, model_uri: str, preprocessor_uri: str | None, port: int) -> list[str]:
        argv = [self.python, "-m", _SERVER_MODULE, "--model", _absolute(model_uri), "--name", name]
        if preprocessor_uri:
            argv += ["--preprocessor", _absolute(preprocessor_uri)]
        return argv + ["--host", _HOST, "--port", str(port), "--wait-for-go"]

    def _start(self, argv: list[str], log_path: Path) -> subprocess.Popen[bytes]:
        """Popen in a new session, so the server outlives the step and gets none of its terminal's signals;
        it waits for ``_release`` (its stdin is a pipe only this process holds)."""
        with open(log_path, "ab") as log:
            log.write(f"{_LOG_HEADER}{time.strftime('%Y-%m-%d %H:%M:%S')} run {self.run_id} step {self.step_id}: "
                      f"starting {' '.join(argv)}\n".encode())
            log.flush()
            return subprocess.Popen(
                argv,
                stdin=subprocess.PIPE,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=self.log_dir,
                env=_server_environment(),
                start_new_session=True,
            )

    def _release(self, process: subprocess.Popen[bytes]) -> None:
        """Let the held server load and listen, now that the store names it."""
        assert process.stdin is not None
        try:
            process.stdin.write(b"go\n")
            process.stdin.close()
        except OSError:  # it already died; the readiness wait reports why
            pass


def stop_endpoint(pid: int, grace: float = 5.0, process_start: int | None = None) -> bool:
    """Stop the local endpoint whose server has ``pid``: SIGTERM its process group, SIGKILL after ``grace`` seconds.

    ``process_start`` (as recorded in the store) makes sure ``pid`` is still that server. Returns False
    when no such server is running (already stopped, or the pid now belongs to some other program, which
    is left alone).
    """
    if not (_is_model_server(pid) and same_process(pid, process_start)):
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


def server_log_tail(log_path: str | Path | None, lines: int = _LOG_TAIL_LINES) -> list[str]:
    """The last non-empty lines the server printed since its latest start (not earlier deploys')."""
    if not log_path:
        return []
    try:
        with open(log_path, "rb") as handle:
            handle.seek(max(0, os.path.getsize(log_path) - 65536))
            text = handle.read().decode("utf-8", errors="replace")
    except OSError:
        return []
    found = [line.rstrip() for line in text.splitlines()]
    for index in range(len(found) - 1, -1, -1):
        if found[index].startswith(_LOG_HEADER):
            found = found[index + 1:]
            break
    return [line for line in found if line.strip()][-lines:]


def _wait_until_ready(process: subprocess.Popen[bytes], url: str, name: str, timeout: float, log_path: Path) -> None:
    """Poll ``/health`` until this very server (it reports ``name``) answers, it exits, or time runs out."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise EndpointStartError(
                f"endpoint {name!r} stopped while starting (exit code {process.returncode}); "
                f"{_what_it_said(log_path)}")
        try:
            if _get_json(f"{url}/health").get("name") == name:
                return
        except (OSError, ValueError):
            pass  # not listening yet
        time.sleep(_POLL_SECONDS)
    raise EndpointStartError(
        f"endpoint {name!r} did not answer at {url} within {timeout:g}s (a busy machine may need longer: raise "
        f"the deploy node's 'ready_timeout' param or ${READY_TIMEOUT_ENV}); {_what_it_said(log_path)}")


def _what_it_said(log_path: Path) -> str:
    """The server's last line on the error's first line (what the studio and CLI show), then the tail."""
    tail = server_log_tail(log_path)
    if not tail:
        return f"the server printed nothing (its log: {log_path})"
    lines = "\n".join(f"  | {line}" for line in tail)
    return f"the server's last words: {tail[-1].strip()[:300]} (its log: {log_path})\n{lines}"


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
    """Whether a server could listen on ``port`` now, as uvicorn does (SO_REUSEADDR: the closed connections
    of an endpoint's previous server, waiting out TIME_WAIT, do not hold its port)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
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
