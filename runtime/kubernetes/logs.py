"""Copy a step pod's log into the step's log file while it runs, so the log outlives the pod.

One thread per pod follows ``pods/log`` (``follow=true``) and appends every
line to the same file the local executor writes (``runs/<id>/logs/<step>.log``),
so ``pipecanvas logs -f``, the studio and the coordinator's error line all work
the same on a cluster. Lines are asked for with timestamps: when the stream
drops while the container still runs, the follower reconnects a little before
the last line it has and skips what it already wrote.

The follower is ``done`` once the stream has ended after the executor said the
container terminated (``container_ended``), or when it is stopped; the
executor holds a step's final event until then, so the coordinator never reads
a log that is still missing its last lines.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from datetime import datetime, timezone
from typing import Any

import urllib3
from kubernetes.client import CoreV1Api
from kubernetes.client.exceptions import ApiException

from .outage import RetryNotes

__all__ = ["LogFollower", "split_timestamp"]

_log = logging.getLogger(__name__)

_OVERLAP_SECONDS = 30  # ask for this much before the last line on reconnect; duplicates are skipped by timestamp
_NOT_FOUND = 404


def split_timestamp(line: str) -> tuple[tuple[int, int] | None, str]:
    """``"2024-05-01T10:00:00.123456789Z text"`` → ((unix seconds, nanoseconds), "text"); no timestamp → (None, line)."""
    stamp, _, text = line.partition(" ")
    if not stamp.endswith("Z") or "T" not in stamp:
        return None, line
    whole, _, fraction = stamp[:-1].partition(".")
    try:
        seconds = int(datetime.strptime(whole, "%Y-%m-%dT%H:%M:%S").replace(tzinfo=timezone.utc).timestamp())
    except ValueError:
        return None, line
    digits = "".join(c for c in fraction if c.isdigit())[:9]
    return (seconds, int(digits.ljust(9, "0")) if digits else 0), text


class LogFollower:
    """Appends pod ``pod``'s ``container`` log to ``log_path`` until it has all of it, or is stopped."""

    def __init__(self, core: CoreV1Api, namespace: str, pod: str, container: str, log_path: str, *,
                 retry_delay: float = 0.5) -> None:
        self.pod, self.log_path = pod, log_path
        self._core, self._namespace, self._container = core, namespace, container
        self._retry_delay = retry_delay
        self._ended = threading.Event()
        self._stopped = threading.Event()
        self.done = threading.Event()
        self._last: tuple[int, int] | None = None
        self._response: Any = None
        self._notes = RetryNotes(_log, f"log stream of pod {pod}")
        self._thread = threading.Thread(target=self._run, name=f"pipecanvas-log-{pod}", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def container_ended(self) -> None:
        """The container terminated (or the pod is gone): once the stream ends, nothing more will come."""
        self._ended.set()

    def stop(self) -> None:
        """Stop copying now (the step was cancelled or the run ended)."""
        self._stopped.set()
        response = self._response
        if response is not None:
            _shutdown(response)

    def _run(self) -> None:
        try:
            while not self._stopped.is_set():
                ended_before = self._ended.is_set()
                if not self._copy_once() or ended_before:
                    return
                self._stopped.wait(self._retry_delay)
        finally:
            self.done.set()

    def _copy_once(self) -> bool:
        """Copy one stream to its end; False when following further is pointless (the pod is gone)."""
        try:
            self._response = self._core.read_namespaced_pod_log(
                self.pod, self._namespace, container=self._container, follow=True, timestamps=True,
                since_seconds=self._since_seconds(), _preload_content=False)
            self._notes.recovered()
            with open(self.log_path, "ab") as log:
                for line in _lines(self._response):
                    self._write(log, line)
        except ApiException as exc:  # 400: not started yet, or already gone with its node
            if exc.status == _NOT_FOUND or self._ended.is_set():
                return False
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            if not self._stopped.is_set():
                self._notes.failed(f"{type(exc).__name__}: {exc}", logging.INFO)
        finally:
            response, self._response = self._response, None
            if response is not None:
                response.release_conn()
        return True

    def _since_seconds(self) -> int | None:
        if self._last is None:
            return None
        return max(1, math.ceil(time.time() - self._last[0]) + _OVERLAP_SECONDS)

    def _write(self, log: Any, line: str) -> None:
        stamp, text = split_timestamp(line)
        if stamp is not None:
            if self._last is not None and stamp <= self._last:
                return  # already written before the stream dropped
            self._last = stamp
        log.write(text.encode("utf-8") + b"\n")
        log.flush()


def _lines(response: Any) -> Any:
    """The response's lines as text, the last one too when it has no newline."""
    buffer = b""
    for chunk in response.stream(amt=None, decode_content=False):
        buffer += chunk if isinstance(chunk, bytes) else chunk.encode("utf-8")
        *complete, buffer = buffer.split(b"\n")
        for line in complete:
            yield line.decode("utf-8", errors="replace")
    if buffer:
        yield buffer.decode("utf-8", errors="replace")


def _shutdown(response: Any) -> None:
    """Unblock a thread reading ``response`` (closing alone may not wake a blocked read)."""
    import socket

    connection = getattr(response, "connection", None)
    sock = getattr(connection, "sock", None) if connection is not None else None
    try:
        if sock is not None:
            sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
