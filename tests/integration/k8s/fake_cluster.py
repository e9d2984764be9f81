"""A Kubernetes API server for the executor's tests: kmock's emulator, plus what a real one does that it lacks.

kmock's ``KubernetesEmulator`` stores objects and serves create/read/patch/
delete/list/watch over real HTTP, so the official client talks to it exactly
as to a cluster. A real API server also:

- stamps every change with a growing ``resourceVersion`` and lets a watch
  resume after a given version; versions older than the last compaction get
  ``410 Gone`` (``compact``);
- filters lists and watches by label selector;
- answers SelfSubjectAccessReviews, server-side dry runs and ``pods/log``
  (following a log streams its lines as the container writes them);
- reads namespaces (``GET /api/v1/namespaces/NAME``) and tells its version (``GET /version``);
- authorizes: every request the code under test sends (any client but the
  test's own) is recorded as the (verb, group, resource) RBAC would check
  (``called``), and with ``role`` set, refused with a real server's 403 when
  that Role does not grant it;
- answers a Service delete with a ``Status`` object, as real servers do.

Tests can also drop every open watch (``drop_watches``) and hold new ones
(``hold_watches``/``release_watches``), to open a gap in which the cluster
changes while nobody watches. Nothing plays kubelet or Job controller by
itself: ``FakeCluster`` (the test side, on the test's thread) does that step
by step, through the same HTTP API, so each test scripts exactly what happens.
"""

from __future__ import annotations

import asyncio
import collections
import copy
import json
import threading
import time
from collections.abc import AsyncIterator, Callable
from datetime import datetime, timezone
from typing import Any

import aiohttp.web
import kmock
from kmock._internal import aiobus
from kubernetes import client
from rbac_rules import Rules, needed

__all__ = ["ClusterEmulator", "FakeCluster", "start_cluster", "DRIVER_AGENT"]

#: the User-Agent of the test's own client (playing kubelet and controllers): never authorized, never recorded
DRIVER_AGENT = "pipecanvas-tests/fake-cluster"

_DROP = {"type": "__DROP__"}
#: what every authenticated user may do, whatever their Roles (the built-in system:basic-user ClusterRole)
_EVERYONE = {("create", "authorization.k8s.io", "selfsubjectaccessreviews")}


class _Clock:
    """The cluster-wide resourceVersion counter (like etcd's revision)."""

    def __init__(self) -> None:
        self.version = 0

    def tick(self) -> int:
        self.version += 1
        return self.version


class _VersionedBus(aiobus.Bus):
    """The emulator's per-resource event bus, stamping each change with the next version and keeping its history."""

    def __init__(self, clock: _Clock) -> None:
        super().__init__()
        self.clock = clock
        self.history: list[tuple[int, dict[str, Any]]] = []

    async def put(self, *items: Any) -> None:
        for item in items:
            if item is not _DROP:
                version = self.clock.tick()
                item["object"].setdefault("metadata", {})["resourceVersion"] = str(version)
                self.history.append((version, copy.deepcopy(item)))
        await super().put(*items)


def _matches(labels: dict[str, str], selector: str | None) -> bool:
    for term in filter(None, (selector or "").split(",")):
        if "!=" in term:
            key, value = term.split("!=", 1)
            if labels.get(key) == value:
                return False
        elif "=" in term:
            key, value = term.replace("==", "=").split("=", 1)
            if labels.get(key) != value:
                return False
        elif term not in labels:
            return False
    return True


def _status(code: int, reason: str, message: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Status", "status": "Failure", "code": code, "reason": reason,
            "message": message}


class _PodLog:
    def __init__(self) -> None:
        self.lines: list[tuple[float, str, str]] = []  # (unix time, RFC 3339 stamp, text)
        self.last_micros = 0
        self.closed = False
        self.changed = asyncio.Condition()


class ClusterEmulator(kmock.KubernetesEmulator):
    """kmock's emulator with resource versions, selectors, 410s, access reviews, dry runs and pod logs."""

    def __init__(self) -> None:
        clock = _Clock()
        super().__init__(buses=collections.defaultdict(lambda: _VersionedBus(clock)))
        self.clock = clock
        self.compacted = 0
        self.namespaces: set[str] = set()
        self.denied: set[tuple[str, str]] = set()  # (verb, resource[/subresource])
        self.rejected_jobs: dict[str, str] = {}  # job name fragment → the dry run's refusal
        self.forbidden_lists: set[str] = set()  # plurals whose list is forbidden (e.g. "nodes")
        self.logs: dict[tuple[str, str], _PodLog] = {}
        self.gate = asyncio.Event()
        self.gate.set()
        self.log_delay = 0.0
        self.watches_opened = 0
        self.server_version = {"major": "1", "minor": "32", "gitVersion": "v1.32.0", "platform": "linux/amd64"}
        self.role: Rules | None = None  # when set, the code's requests are authorized against it
        self.called: list[tuple[str, str, str]] = []  # (verb, group, resource) of every request the code sent

    # -- requests a real API server answers that kmock does not -----------------------

    async def _handle(self, request: kmock.Request) -> aiohttp.web.StreamResponse:
        path = request.url.path.rstrip("/")
        parts = path.split("/")
        if path == "/version":
            return aiohttp.web.json_response(self.server_version)
        refused = self._authorize(request)
        if refused is not None:
            return refused
        if request.method == "GET" and len(parts) == 5 and parts[1:4] == ["api", "v1", "namespaces"]:
            if parts[4] in self.namespaces:
                return aiohttp.web.json_response({"apiVersion": "v1", "kind": "Namespace",
                                                  "metadata": {"name": parts[4]}})
            return aiohttp.web.json_response(_status(404, "NotFound", f'namespaces "{parts[4]}" not found'),
                                             status=404)
        plural = request.resource.plural if request.resource is not None else None
        if plural == "selfsubjectaccessreviews":
            attributes = (request.data.get("spec") or {}).get("resourceAttributes") or {}
            resource = attributes.get("resource", "") + (f"/{attributes['subresource']}"
                                                         if attributes.get("subresource") else "")
            allowed = (attributes.get("verb"), resource) not in self.denied
            return aiohttp.web.json_response({**request.data, "status": {"allowed": allowed}}, status=201)
        if request.action == kmock.action.CREATE and request.params.get("dryRun") == "All":
            name = (request.data.get("metadata") or {}).get("name", "")
            for fragment, message in self.rejected_jobs.items():
                if plural == "jobs" and fragment in name:
                    return aiohttp.web.json_response(_status(422, "Invalid", message), status=422)
            return aiohttp.web.json_response(request.data, status=201)
        if request.action == kmock.action.LIST and plural in self.forbidden_lists:
            return aiohttp.web.json_response(_status(403, "Forbidden", f"{plural} is forbidden: User cannot list "
                                                     f"resource \"{plural}\" at the cluster scope"), status=403)
        response = await super()._handle(request)
        if request.method == "DELETE" and plural == "services" and request.name and response.status == 200:
            details = {"name": request.name, "kind": "services", "uid": "0"}
            return aiohttp.web.json_response({"apiVersion": "v1", "kind": "Status", "metadata": {},
                                              "status": "Success", "details": details})
        return response

    def _authorize(self, request: kmock.Request) -> aiohttp.web.StreamResponse | None:
        """Record the permission the request needs; a 403 when ``role`` is set and does not grant it."""
        if request.headers.get("User-Agent") == DRIVER_AGENT or request.resource is None:
            return None
        parts = request.url.path.rstrip("/").split("/")
        if len(parts) == 5 and parts[1:4] == ["api", "v1", "namespaces"]:  # kmock sees no resource in it
            plural, name = "namespaces", parts[4]
        else:
            plural, name = request.resource.plural or "", request.name
        verb, group, resource = needed(request.method.value if hasattr(request.method, "value") else
                                       str(request.method), request.resource.group or "", plural,
                                       request.subresource, name, dict(request.params))
        self.called.append((verb, group, resource))
        if self.role is None or self.role.allows(verb, group, resource) or (verb, group, resource) in _EVERYONE:
            return None
        plural, _, sub = resource.partition("/")
        what = f'{plural}.{group} "{request.name}"' if group and request.name else (
            f'{plural} "{request.name}"' if request.name else f"{plural}{'.' + group if group else ''}")
        message = (f"{what} is forbidden: User \"system:serviceaccount:{request.namespace}:pipecanvas-runner\" "
                   f"cannot {verb} resource \"{resource}\" in API group \"{group}\" in the namespace "
                   f"\"{request.namespace}\"")
        return aiohttp.web.json_response(_status(403, "Forbidden", message), status=403)

    async def _serve_list(self, request: kmock.Request) -> dict[str, Any]:
        async with self._lock:
            items = [obj.raw for (resource, namespace, _), obj in self.objects.items()
                     if resource == request.resource and not obj.deleted
                     and (request.namespace is None or namespace == request.namespace)
                     and _matches((obj.raw.get("metadata") or {}).get("labels") or {},
                                  request.params.get("labelSelector"))]
            return {"metadata": {"resourceVersion": str(self.clock.version)}, "items": items}

    async def _serve_watch(self, request: kmock.Request) -> AsyncIterator[Any]:
        yield b""
        await self.gate.wait()
        self.watches_opened += 1
        bus: _VersionedBus = self._buses[request.resource]
        since = request.params.get("resourceVersion")
        selector = request.params.get("labelSelector")
        async with self._lock:
            marker = await bus.mark()
            if since and int(since) < self.compacted:
                backlog = [{"type": "ERROR", "object": _status(
                    410, "Expired", f"too old resource version: {since} ({self.compacted})")}]
            elif since:
                backlog = [event for version, event in bus.history if version > int(since)]
            else:
                backlog = [{"type": "ADDED", "object": obj.raw} for (resource, _, _), obj in self.objects.items()
                           if resource == request.resource and not obj.deleted]
        try:
            for event in backlog:
                if event["type"] == "ERROR" or self._selected(request, event, selector):
                    yield event
                if event["type"] == "ERROR":
                    return
            async for event in bus.stream(since=marker):
                if event is _DROP:
                    return
                if self._selected(request, event, selector):
                    yield event
        finally:
            await bus.unmark(marker)

    @staticmethod
    def _selected(request: kmock.Request, event: dict[str, Any], selector: str | None) -> bool:
        metadata = event["object"].get("metadata") or {}
        return (request.namespace is None or metadata.get("namespace") == request.namespace) and _matches(
            metadata.get("labels") or {}, selector)

    async def _serve_fetch(self, request: kmock.Request) -> Any:
        if request.subresource != "log":
            return await super()._serve_fetch(request)
        log = self.logs.get((request.namespace, request.name))
        if log is None:
            raise kmock.KubernetesError(status=400, reason="BadRequest",
                                        message=f'container "step" in pod "{request.name}" is waiting to start')
        return self._log_stream(log, request.params)

    async def _log_stream(self, log: _PodLog, params: dict[str, str]) -> AsyncIterator[bytes]:
        yield b""
        since = time.time() - int(params["sinceSeconds"]) if params.get("sinceSeconds") else 0.0
        stamps = params.get("timestamps") == "true"
        sent = 0
        while True:
            async with log.changed:
                lines, closed = log.lines[sent:], log.closed
                if not lines and not closed and params.get("follow") == "true":
                    await log.changed.wait()
                    continue
            for at, stamp, text in lines:
                await asyncio.sleep(self.log_delay)  # a slow network: lines may arrive after the pod's status
                if at >= since:
                    yield (f"{stamp} {text}\n" if stamps else f"{text}\n").encode()
            sent += len(lines)
            if closed or params.get("follow") != "true":
                return

    # -- test controls (run on the server's loop) ---------------------------------------

    async def add_log(self, namespace: str, pod: str, text: str, close: bool = False) -> None:
        log = self.logs.setdefault((namespace, pod), _PodLog())
        async with log.changed:
            for line in text.splitlines():
                micros = max(int(time.time() * 1e6), log.last_micros + 1)  # distinct, as a kubelet's nanoseconds are
                log.last_micros = micros
                stamp = datetime.fromtimestamp(micros // 10**6, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")
                log.lines.append((micros / 1e6, f"{stamp}.{micros % 10**6:06d}Z", line))
            log.closed = log.closed or close
            log.changed.notify_all()

    async def drop_watches(self) -> None:
        for bus in list(self._buses.values()):
            await bus.put(_DROP)

    async def compact(self) -> None:
        """Forget the history: a watch may resume from the current version only (older ones get 410 Gone)."""
        self.compacted = self.clock.version


class FakeCluster:
    """The test's side: plays kubelet and Job controller through the API, and inspects what the executor did."""

    def __init__(self, emulator: ClusterEmulator, loop: asyncio.AbstractEventLoop, url: str,
                 namespace: str = "ml") -> None:
        self.emulator, self.loop, self.url, self.namespace = emulator, loop, url.rstrip("/"), namespace
        self.emulator.namespaces.add(namespace)
        self.api = self.api_client()
        self.api.user_agent = DRIVER_AGENT
        self.batch, self.core = client.BatchV1Api(self.api), client.CoreV1Api(self.api)

    def api_client(self) -> client.ApiClient:
        configuration = client.Configuration()
        configuration.host = self.url
        return client.ApiClient(configuration)

    def call(self, coroutine: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(10)

    # -- looking -----------------------------------------------------------------------

    def jobs(self) -> list[dict[str, Any]]:
        return json.loads(self.batch.list_namespaced_job(self.namespace, _preload_content=False).data)["items"]

    def job_names(self) -> list[str]:
        return [job["metadata"]["name"] for job in self.jobs()]

    def job(self, step_id: str, attempt: int = 1) -> dict[str, Any] | None:
        for job in self.jobs():
            metadata = job["metadata"]
            if (metadata["annotations"]["pipecanvas.io/step-id"] == step_id
                    and metadata["labels"]["pipecanvas.io/attempt"] == str(attempt)):
                return job
        return None

    def wait_for_job(self, step_id: str, attempt: int = 1, timeout: float = 20) -> dict[str, Any]:
        return wait_until(lambda: self.job(step_id, attempt), timeout, f"the Job of {step_id} attempt {attempt}")

    def requests(self, method: str, fragment: str = "") -> list[kmock.Request]:
        return [r for r in list(self.emulator) if r.method == method and fragment in str(r.url)]

    # -- playing kubelet and Job controller ----------------------------------------------

    def create_pod(self, job: dict[str, Any], suffix: str = "x1") -> str:
        """The Job controller's pod for ``job`` (Pending, not scheduled yet)."""
        template = job["spec"]["template"]
        name = f"{job['metadata']['name']}-{suffix}"
        labels = {**template["metadata"]["labels"], "batch.kubernetes.io/job-name": job["metadata"]["name"]}
        pod = {"apiVersion": "v1", "kind": "Pod",
               "metadata": {"name": name, "namespace": self.namespace, "labels": labels,
                            "annotations": dict(template["metadata"].get("annotations") or {})},
               "spec": template["spec"], "status": {"phase": "Pending"}}
        self.core.create_namespaced_pod(self.namespace, pod, _preload_content=False)
        return name

    def pod_status(self, pod: str, status: dict[str, Any]) -> None:
        self.core.patch_namespaced_pod_status(pod, self.namespace, {"status": status}, _preload_content=False)

    def unschedulable(self, pod: str, message: str) -> None:
        self.pod_status(pod, {"phase": "Pending", "conditions": [
            {"type": "PodScheduled", "status": "False", "reason": "Unschedulable", "message": message}]})

    def run_pod(self, pod: str, log: str = "") -> None:
        """The container starts (and prints ``log``)."""
        self.call(self.emulator.add_log(self.namespace, pod, log))
        self.pod_status(pod, {"phase": "Running", "conditions": [{"type": "PodScheduled", "status": "True"}],
                              "containerStatuses": [_container({"running": {"startedAt": _now()}})]})

    def end_pod(self, pod: str, exit_code: int = 0, log: str = "", reason: str | None = None) -> None:
        """The container prints ``log`` and exits with ``exit_code``; its log stream ends."""
        self.call(self.emulator.add_log(self.namespace, pod, log, close=True))
        terminated = {"exitCode": exit_code, "reason": reason or ("Completed" if exit_code == 0 else "Error"),
                      "startedAt": _now(), "finishedAt": _now()}
        self.pod_status(pod, {"phase": "Succeeded" if exit_code == 0 else "Failed",
                              "containerStatuses": [_container({"terminated": terminated})]})

    def job_status(self, job: dict[str, Any], condition: str, reason: str = "", message: str = "") -> None:
        entry = {"type": condition, "status": "True", "reason": reason, "message": message}
        counts = {"succeeded": 1} if condition == "Complete" else {"failed": 1}
        self.batch.patch_namespaced_job_status(job["metadata"]["name"], self.namespace,
                                               {"status": {"conditions": [entry], **counts}}, _preload_content=False)

    def run_job(self, job: dict[str, Any], *, exit_code: int = 0, log: str = "", write_outputs: Callable | None = None,
                reason: str | None = None) -> str:
        """A whole attempt: pod created, started, outputs written (on success), container ended, Job finished."""
        pod = self.create_pod(job)
        self.run_pod(pod, log="starting")
        if exit_code == 0 and write_outputs is not None:
            write_outputs(job)
        self.end_pod(pod, exit_code, log=log, reason=reason)
        if exit_code == 0:
            self.job_status(job, "Complete")
        else:
            self.job_status(job, "Failed", "BackoffLimitExceeded", "Job has reached the specified backoff limit")
        return pod

    # -- watch trouble -------------------------------------------------------------------

    def hold_watches(self) -> None:
        self.loop.call_soon_threadsafe(self.emulator.gate.clear)

    def release_watches(self) -> None:
        self.loop.call_soon_threadsafe(self.emulator.gate.set)

    def drop_watches(self) -> None:
        self.call(self.emulator.drop_watches())

    def compact(self) -> None:
        self.call(self.emulator.compact())


def _now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _container(state: dict[str, Any]) -> dict[str, Any]:
    return {"name": "step", "image": "pipecanvas/runtime:0.1.0", "imageID": "", "ready": "running" in state,
            "restartCount": 0, "state": state}


def wait_until(predicate: Callable[[], Any], timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.02)


def start_cluster() -> tuple[FakeCluster, Callable[[], None]]:
    """Serve a ``ClusterEmulator`` on a free local port from a background thread; returns it and a stopper."""
    loop = asyncio.new_event_loop()
    ready: dict[str, Any] = {}
    started = threading.Event()

    async def serve() -> None:
        stop = asyncio.Event()
        async with ClusterEmulator() as emulator, kmock.Server(emulator) as server:
            ready.update(emulator=emulator, url=str(server.url), stop=stop)
            started.set()
            await stop.wait()

    thread = threading.Thread(target=lambda: loop.run_until_complete(serve()), name="fake-cluster", daemon=True)
    thread.start()
    if not started.wait(10):
        raise RuntimeError("the fake cluster did not start")

    def stop() -> None:
        loop.call_soon_threadsafe(ready["stop"].set)
        thread.join(10)

    return FakeCluster(ready["emulator"], loop, ready["url"]), stop
