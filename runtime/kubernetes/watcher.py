"""The watcher: list, then watch, one kind of a run's objects (Jobs or Pods) by label selector, on a thread.

As Airflow's KubernetesJobWatcher: it only reads the API and hands what it saw
to a sink (the executor's queue); the executor alone turns that into step
events. The promise is that no change is lost:

- a list first, then a watch from the list's ``resourceVersion``;
- a watch that ends or drops (timeout, network, API server restart) is opened
  again from the last ``resourceVersion`` seen, so nothing in between is lost;
- ``410 Gone`` (that version is too old to resume from) means a fresh list,
  which shows every object's current state; the sink gets each object again
  plus a ``ListSnapshot`` of what exists, so deletions missed meanwhile show
  too. Seeing an object twice is harmless: the executor reports each step
  state once.

Watch events that are not about a step (no run label) pass through; the
executor ignores what it does not track.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

import urllib3
from kubernetes.client.exceptions import ApiException
from kubernetes.watch import Watch

from .outage import RetryNotes
from .status import resource_version
from .types import ListSnapshot, ObjectKind, WatchUpdate

__all__ = ["ResourceWatcher", "Sink"]

_log = logging.getLogger(__name__)

Sink = Callable[[WatchUpdate | ListSnapshot], None]
_GONE = 410
_NETWORK_ERRORS = (urllib3.exceptions.HTTPError, OSError, ValueError)


class ResourceWatcher:
    """Keeps ``sink`` told about every object ``list_function`` selects in ``namespace``, until ``stop``."""

    def __init__(
        self, kind: ObjectKind, list_function: Callable[..., Any], namespace: str, selector: str, sink: Sink, *,
        watch_timeout: int = 300, retry_delay: float = 1.0,
    ) -> None:
        self.kind, self.namespace, self.selector = kind, namespace, selector
        self._list, self._sink = list_function, sink
        self._watch_timeout, self._retry_delay = watch_timeout, retry_delay
        self._stopped = threading.Event()
        self._watch: Watch | None = None
        self._thread = threading.Thread(target=self._run, name=f"pipecanvas-watch-{kind}s", daemon=True)
        #: how often the watcher had to list (1 at start; one more per 410) — for tests and logs
        self.lists = 0
        self._notes = RetryNotes(_log, f"watch of {kind}s")

    def start(self) -> None:
        self._thread.start()

    def stop(self, wait: float = 2.0) -> None:
        """Close the open watch (unblocking its read) and end the thread, waiting up to ``wait`` seconds.

        ``Watch.stream`` forgets a ``stop`` that came before it opened its request, so a watch opened
        in that instant is stopped again until the thread is gone.
        """
        self._stopped.set()
        deadline = time.monotonic() + wait
        while True:
            watch = self._watch
            if watch is not None:
                watch.stop()
            if (not self._thread.is_alive() or threading.current_thread() is self._thread
                    or time.monotonic() >= deadline):
                return
            self._thread.join(0.05)

    def _run(self) -> None:
        version: str | None = None
        while not self._stopped.is_set():
            try:
                if version is None:
                    version = self._relist()
                opened = time.monotonic()
                version = self._follow(version)
                if time.monotonic() - opened < self._retry_delay:  # ended at once: do not hammer the server
                    self._stopped.wait(self._retry_delay)
            except ApiException as exc:
                if exc.status == _GONE:
                    _log.info("watch of %ss: resourceVersion %s is gone (410); listing again", self.kind, version)
                    version = None
                    continue
                self._notes.failed(f"{exc.status} {exc.reason}")
                self._stopped.wait(self._retry_delay)
            except _NETWORK_ERRORS as exc:
                if not self._stopped.is_set():
                    self._notes.failed(f"{type(exc).__name__}: {exc}; resuming from {version}", logging.INFO)
                    self._stopped.wait(self._retry_delay)

    def _relist(self) -> str | None:
        """Every selected object as it is now; returns the version to watch from."""
        response = self._list(self.namespace, label_selector=self.selector, _preload_content=False)
        body = json.loads(response.data)
        self._notes.recovered()
        self.lists += 1
        items = body.get("items") or []
        version = str((body.get("metadata") or {}).get("resourceVersion") or "") or None
        for item in items:
            self._sink(WatchUpdate(self.kind, "LISTED", item))
        names = frozenset(str((item.get("metadata") or {}).get("name", "")) for item in items)
        self._sink(ListSnapshot(self.kind, names, int(version) if version and version.isdigit() else None))
        return version

    def _follow(self, version: str | None) -> str | None:
        """Stream changes after ``version`` until the watch ends; returns the last version seen."""
        watch = Watch(return_type="object")  # "object": events as plain dicts, no model classes
        self._watch = watch
        if self._stopped.is_set():
            return version
        arguments: dict[str, Any] = {"label_selector": self.selector, "timeout_seconds": self._watch_timeout,
                                     "allow_watch_bookmarks": True}
        if version is not None:
            arguments["resource_version"] = version
        for event in watch.stream(self._list, self.namespace, **arguments):
            self._notes.recovered()
            kind, obj = event.get("type"), event.get("raw_object") or {}
            seen = resource_version(obj)
            if kind != "BOOKMARK" and isinstance(obj, dict):
                self._sink(WatchUpdate(self.kind, str(kind), obj))
            if seen is not None:
                version = str(seen)
        return version
