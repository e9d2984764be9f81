"""Run each step attempt as a Kubernetes Job; watch the run's Jobs and Pods; keep their logs.

The Airflow shape: ``submit`` creates a Job (``jobs.step_job``), two
watcher threads (``watcher``) list and watch the run's Jobs and Pods by
label, and ``poll`` — on the coordinator's thread, the only place this
executor's state changes — turns what they saw into step events, each state
of each attempt reported once however often the watchers see it (a re-list
after ``410 Gone`` shows everything again):

    pod waiting (unschedulable, image pull error)  → QUEUED with the reason in words
    pod's container started                        → RUNNING
    Job Complete / pod Succeeded                   → SUCCEEDED
    Job Failed / container ended non-zero          → FAILED with exit code, reason, container
    Job deleted by someone else                    → FAILED

A step's final event waits until its pods' logs are fully copied into its log
file (``logs``), at most ``log_wait`` seconds, because the coordinator reads
the step's last ``error:`` line from that file as soon as it hears.

The plan reaches the pods in a ConfigMap or as a file on the bucket, shipped
before the first Job. The server's version is read once: before 1.26 the Jobs
are made without ``podFailurePolicy`` (``version``). A retry first deletes the
earlier attempt's Job if it has not finished itself (a pod deleted by hand is
replaced by its Job's controller; left alone, the step would run twice). ``cancel`` deletes the attempt's Job with background
propagation (its pods go too) and reports the attempt failed at once.
``adopt`` finds a restarted run's Jobs by label and watches them instead of
submitting them again.
"""

from __future__ import annotations

import json
import logging
import queue
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import fsspec
import urllib3
from kubernetes.client import ApiClient, BatchV1Api, CoreV1Api
from kubernetes.client.exceptions import ApiException

from compiler.emitters.kubernetes import KubernetesEmitOptions, run_selector
from compiler.plan import ExecutionPlan, PlannedStep, dump_plan_yaml

from ..home import step_log_path
from .config import api_client, api_message
from .jobs import plan_configmap, step_job
from .logs import LogFollower
from .status import job_verdict, pod_view, resource_version, step_key
from .types import STEP_CONTAINER, KubernetesSettings, ListSnapshot, PodFailure, WatchUpdate
from .version import fit_options, server_version
from .watcher import ResourceWatcher
from ..states import StepState
from ..executors.base import EventBuffer, StepEvent, StepKey
from ..executors.local import signal_name

__all__ = ["KubernetesExecutor"]

_log = logging.getLogger(__name__)

_CONFLICT, _NOT_FOUND = 409, 404
_NO_POD_GRACE = 1.0  # a finished Job whose pod we have not seen yet: wait this long for it, to copy its log
_CLIENT_ERRORS = (ApiException, urllib3.exceptions.HTTPError, OSError)


class _SubmitError(Exception):
    pass


@dataclass
class _Attempt:
    """One attempt of one step: its Job, what has been reported, and its log followers."""

    key: StepKey
    job: str
    log_path: str
    created_version: int | None
    followers: dict[str, LogFollower] = field(default_factory=dict)
    running: bool = False
    waiting: str | None = None
    failure: PodFailure | None = None
    ended: StepEvent | None = None
    ended_by_job: str | None = None
    ended_at: float = 0.0
    emitted: bool = False
    job_over: bool = False  # the Job itself finished (or is gone): its controller makes no more pods


class KubernetesExecutor:
    """Launches the plan's steps as Jobs in ``namespace`` and reports them from the API server's watch."""

    name: ClassVar[str] = "kubernetes"
    supports_adoption: ClassVar[bool] = True

    def __init__(
        self, api_client: ApiClient, namespace: str, emit_options: KubernetesEmitOptions, plan: ExecutionPlan, *,
        log_wait: float = 10.0, watch_timeout: int = 300, retry_delay: float = 1.0,
    ) -> None:
        if emit_options.run_id is None:
            raise ValueError("the Kubernetes executor needs emit options with the run id")
        self._options = emit_options.model_copy(update={"namespace": namespace})
        self.run_id, self.namespace, self._plan = emit_options.run_id, namespace, plan
        self._batch, self._core = BatchV1Api(api_client), CoreV1Api(api_client)
        self._log_wait, self._watch_timeout, self._retry_delay = log_wait, watch_timeout, retry_delay
        self._updates: queue.SimpleQueue[WatchUpdate | ListSnapshot] = queue.SimpleQueue()
        self._early: list[WatchUpdate | ListSnapshot] = []  # taken off the queue by ``wait``, applied by ``poll``
        self._attempts: dict[StepKey, _Attempt] = {}
        self._events = EventBuffer()
        self.watchers: list[ResourceWatcher] = []
        self._plan_shipped = False
        self._configmap: str | None = None
        self._server_known = False
        self._api_client = api_client

    @classmethod
    def from_run(cls, run_id: str, plan: ExecutionPlan, settings: dict[str, Any]) -> "KubernetesExecutor":
        """The executor for a stored run: its cluster settings are in ``run.options["kubernetes"]``."""
        parsed = KubernetesSettings.model_validate(settings)
        return cls(api_client(parsed.context), parsed.namespace, parsed.emit_options(run_id), plan)

    # -- the protocol -----------------------------------------------------------------

    def submit(self, step: PlannedStep, key: StepKey, log_path: str) -> None:
        _write_line(log_path, f"--- attempt {key.attempt} of step '{key.step_id}' ---")
        self._fit_server()
        job = step_job(step, self._plan, self._options, key.attempt)
        try:
            self._ship_plan()
            self._start_watching()
            self._retire_earlier(key)
            created = self._create(job)
        except _SubmitError as exc:
            self._events.put(StepEvent(key, StepState.FAILED, detail=str(exc)))
            return
        self._attempts[key] = _Attempt(key, job["metadata"]["name"], log_path, resource_version(created))

    def poll(self) -> list[StepEvent]:
        while self._early:
            self._apply(self._early.pop(0))
        while True:
            try:
                update = self._updates.get_nowait()
            except queue.Empty:
                break
            self._apply(update)
        self._release_ended()
        return self._events.drain()

    def wait(self, timeout: float) -> None:
        """Sleep up to ``timeout`` seconds, waking as soon as a watcher sees something (the coordinator's pause)."""
        if self._early:
            return
        try:
            self._early.append(self._updates.get(timeout=timeout))
        except queue.Empty:
            pass

    def cancel(self, key: StepKey, reason: str = "cancelled") -> None:
        attempt = self._attempts.get(key)
        if attempt is None or attempt.ended is not None:
            return  # unknown, or it already ended (its event may still be waiting for the log)
        detail = reason
        try:
            self._batch.delete_namespaced_job(attempt.job, self.namespace, propagation_policy="Background",
                                              _preload_content=False)
            attempt.job_over = True
        except _CLIENT_ERRORS as exc:
            if not (isinstance(exc, ApiException) and exc.status == _NOT_FOUND):
                detail = f"{reason} (its Job {attempt.job} could not be deleted: {api_message(exc)})"
        for follower in attempt.followers.values():
            follower.stop()
        self._end(attempt, StepEvent(key, StepState.FAILED, detail=detail), wait_for_logs=False)

    def adopt(self, run_id: str, keys: list[StepKey]) -> list[StepKey]:
        """Watch the Jobs a previous runner created for ``keys``; returns the keys with no live or finished-ok Job."""
        if not keys:
            return []
        try:
            response = self._batch.list_namespaced_job(self.namespace, label_selector=run_selector(run_id),
                                                       _preload_content=False)
            jobs = json.loads(response.data).get("items") or []
        except (*_CLIENT_ERRORS, ValueError) as exc:
            _log.warning("cannot list run %s's Jobs to re-attach to them: %s", run_id, api_message(exc))
            return list(keys)
        found = {step_key(job): job for job in jobs}
        missing = []
        for key in keys:
            job = found.get(key)
            verdict = job_verdict(job) if job is not None else None
            if job is None or (verdict is not None and verdict[0] == StepState.FAILED):
                missing.append(key)
                continue
            log_path = str(step_log_path(run_id, key.step_id))
            _write_line(log_path, f"--- re-attached to attempt {key.attempt} after a restart (lines may repeat) ---")
            self._attempts[key] = _Attempt(key, job["metadata"]["name"], log_path, resource_version(job))
        if len(missing) < len(keys):
            try:
                self._ship_plan()  # pods still pending need it
            except _SubmitError as exc:
                _log.warning("%s", exc)
            self._start_watching()
        return missing

    def close(self, wait: bool = True) -> None:
        for attempt in list(self._attempts.values()):
            if attempt.ended is None:
                self.cancel(attempt.key, "run ended")
        for watcher in self.watchers:
            watcher.stop(wait=2.0 if wait else 0.5)
        deadline = time.monotonic() + (self._log_wait if wait else 0.0)
        for attempt in self._attempts.values():
            for follower in attempt.followers.values():
                follower.done.wait(max(0.0, deadline - time.monotonic()))
                follower.stop()
        self._delete_configmap()

    # -- launching --------------------------------------------------------------------

    def _create(self, job: dict[str, Any]) -> dict[str, Any]:
        name = job["metadata"]["name"]
        try:
            response = self._batch.create_namespaced_job(self.namespace, job, _preload_content=False)
            return json.loads(response.data)
        except ApiException as exc:
            if exc.status != _CONFLICT:
                raise _SubmitError(f"could not create its Job {name}: {api_message(exc)}") from None
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            raise _SubmitError(f"could not reach the cluster to create its Job {name}: {exc}") from None
        try:  # it exists: this attempt was submitted by a runner that stopped right after; follow that one
            return json.loads(self._batch.read_namespaced_job(name, self.namespace, _preload_content=False).data)
        except _CLIENT_ERRORS as exc:
            raise _SubmitError(f"its Job {name} exists but cannot be read: {api_message(exc)}") from None

    def _fit_server(self) -> None:
        """Once: leave out what this API server does not know (podFailurePolicy before 1.26, see ``version``)."""
        if not self._server_known:
            self._server_known = True
            self._options = fit_options(self._options, server_version(self._api_client))

    def _retire_earlier(self, key: StepKey) -> None:
        """Before a retry, delete the earlier attempts' Jobs that have not finished themselves.

        An attempt ends when its pod fails; its Job may not have (a pod deleted by hand, or evicted, is
        replaced by the Job's controller). Left alone, that replacement would run the step a second time
        beside the retry. Background propagation: the Job goes at once, its pods after it.
        """
        for earlier in self._attempts.values():
            if earlier.key.step_id != key.step_id or earlier.key.attempt >= key.attempt or earlier.job_over:
                continue
            try:
                self._batch.delete_namespaced_job(earlier.job, self.namespace, propagation_policy="Background",
                                                  _preload_content=False)
            except _CLIENT_ERRORS as exc:
                if not (isinstance(exc, ApiException) and exc.status == _NOT_FOUND):
                    raise _SubmitError(f"its earlier attempt's Job {earlier.job} is still there and could not be "
                                       f"deleted ({api_message(exc)}); it may still be running the step") from None
            earlier.job_over = True
            for follower in earlier.followers.values():
                follower.stop()

    def _ship_plan(self) -> None:
        """Put the plan where the pods read it, once: a ConfigMap, or the plan file on the bucket."""
        if self._plan_shipped:
            return
        if self._options.plan_configmap:
            document = plan_configmap(self._plan, self._options)
            try:
                self._core.create_namespaced_config_map(self.namespace, document, _preload_content=False)
            except _CLIENT_ERRORS as exc:
                if not (isinstance(exc, ApiException) and exc.status == _CONFLICT):
                    raise _SubmitError(f"could not store the plan in a ConfigMap: {api_message(exc)}") from None
            self._configmap = document["metadata"]["name"]
        else:
            try:
                with fsspec.open(self._plan.plan_uri, "w", encoding="utf-8", auto_mkdir=True) as handle:
                    handle.write(dump_plan_yaml(self._plan))
            except (OSError, ValueError, ImportError) as exc:
                raise _SubmitError(f"could not write the plan to {self._plan.plan_uri}: {exc}") from None
        self._plan_shipped = True

    def _start_watching(self) -> None:
        if self.watchers:
            return
        selector = run_selector(self.run_id)
        for kind, list_function in (("job", self._batch.list_namespaced_job), ("pod", self._core.list_namespaced_pod)):
            watcher = ResourceWatcher(kind, list_function, self.namespace, selector, self._updates.put,
                                      watch_timeout=self._watch_timeout, retry_delay=self._retry_delay)
            watcher.start()
            self.watchers.append(watcher)

    def _delete_configmap(self) -> None:
        if self._configmap is None:
            return
        try:
            self._core.delete_namespaced_config_map(self._configmap, self.namespace, _preload_content=False)
        except _CLIENT_ERRORS as exc:
            _log.info("plan ConfigMap %s not deleted: %s", self._configmap, api_message(exc))
        self._configmap, self._plan_shipped = None, False

    # -- what the watchers saw --------------------------------------------------------

    def _apply(self, update: WatchUpdate | ListSnapshot) -> None:
        if isinstance(update, ListSnapshot):
            self._apply_snapshot(update)
            return
        key = step_key(update.obj)
        attempt = self._attempts.get(key) if key is not None else None
        if attempt is None:
            return  # not ours, or an attempt this runner does not follow
        if update.kind == "job":
            self._apply_job(attempt, update)
        else:
            self._apply_pod(attempt, update)

    def _apply_job(self, attempt: _Attempt, update: WatchUpdate) -> None:
        verdict = job_verdict(update.obj) if update.type != "DELETED" else None
        if update.type == "DELETED" or (verdict is not None and verdict[0] != StepState.QUEUED):
            attempt.job_over = True
        if attempt.ended is not None:
            return
        if update.type == "DELETED":
            self._end(attempt, StepEvent(attempt.key, StepState.FAILED, detail="its Job was deleted before it finished"))
            return
        if verdict is None:
            return
        state, detail = verdict
        if state == StepState.QUEUED:
            self._note(attempt, detail)
        elif state == StepState.SUCCEEDED:
            self._end(attempt, StepEvent(attempt.key, StepState.SUCCEEDED, exit_code=0))
        else:
            attempt.ended_by_job = detail
            self._end(attempt, self._failure_event(attempt))

    def _apply_pod(self, attempt: _Attempt, update: WatchUpdate) -> None:
        view = pod_view(update.obj)
        if view.failure is not None and not view.disrupted:
            attempt.failure = view.failure
        if attempt.ended is None and update.type != "DELETED":
            if view.waiting:
                self._note(attempt, view.waiting)
            if view.started:  # said before the log is followed, so no line is copied for a step still "queued"
                self._running(attempt, view.started_at)
        if update.type != "DELETED" and view.started and view.name not in attempt.followers and not attempt.emitted:
            self._follow_log(attempt, view.name)
        follower = attempt.followers.get(view.name)
        if follower is not None and (view.terminated or update.type == "DELETED"):
            follower.container_ended()
        if attempt.ended is not None or update.type == "DELETED":
            return
        if view.failure is not None and not view.disrupted:
            self._end(attempt, self._failure_event(attempt))
        elif view.succeeded:
            self._end(attempt, StepEvent(attempt.key, StepState.SUCCEEDED, exit_code=0))

    def _apply_snapshot(self, snapshot: ListSnapshot) -> None:
        """After a (re-)list: Jobs that vanished while unwatched ended the attempt; vanished pods end their logs."""
        if snapshot.kind == "pod":
            for attempt in self._attempts.values():
                for pod, follower in attempt.followers.items():
                    if pod not in snapshot.names:
                        follower.container_ended()
            return
        if snapshot.resource_version is None:
            return
        for attempt in self._attempts.values():
            existed = attempt.created_version is not None and attempt.created_version <= snapshot.resource_version
            if attempt.ended is None and existed and attempt.job not in snapshot.names:
                self._end(attempt, StepEvent(attempt.key, StepState.FAILED,
                                             detail="its Job disappeared from the cluster before it finished"))

    def _follow_log(self, attempt: _Attempt, pod: str) -> None:
        follower = LogFollower(self._core, self.namespace, pod, STEP_CONTAINER, attempt.log_path,
                               retry_delay=min(self._retry_delay, 0.5))
        attempt.followers[pod] = follower
        follower.start()

    # -- events -----------------------------------------------------------------------

    def _note(self, attempt: _Attempt, detail: str | None) -> None:
        """Why the step waits, in words, each new reason once (StepState.QUEUED: the step has not started)."""
        if detail and detail != attempt.waiting:
            attempt.waiting = detail
            self._events.put(StepEvent(attempt.key, StepState.QUEUED, detail=detail))

    def _running(self, attempt: _Attempt, at: float | None) -> None:
        if not attempt.running:
            attempt.running = True
            self._events.put(StepEvent(attempt.key, StepState.RUNNING, **({"at": at} if at else {})))

    def _failure_event(self, attempt: _Attempt) -> StepEvent:
        failure, job_detail = attempt.failure, attempt.ended_by_job
        if failure is None:
            return StepEvent(attempt.key, StepState.FAILED, detail=job_detail or "failed")
        detail = failure.describe() + (f"; {job_detail}" if job_detail else "")
        code = failure.exit_code
        signal = signal_name(code - 128) if code is not None and code > 128 else None
        return StepEvent(attempt.key, StepState.FAILED, detail=detail, exit_code=code, signal=signal)

    def _end(self, attempt: _Attempt, event: StepEvent, wait_for_logs: bool = True) -> None:
        """Decide the attempt's outcome (once); it is reported when its logs are in, see ``_release_ended``."""
        if attempt.ended is not None:
            return
        self._running(attempt, None)
        attempt.ended, attempt.ended_at = event, time.monotonic()
        if not wait_for_logs:
            attempt.emitted = True
            self._events.put(event)

    def _release_ended(self) -> None:
        now = time.monotonic()
        for attempt in self._attempts.values():
            if attempt.ended is None or attempt.emitted:
                continue
            followers = list(attempt.followers.values())
            logs_in = all(f.done.is_set() for f in followers) and (
                bool(followers) or now - attempt.ended_at >= _NO_POD_GRACE)
            if not logs_in and now - attempt.ended_at < self._log_wait:
                continue
            event = attempt.ended
            if event.state == StepState.FAILED and event.exit_code is None and attempt.failure is not None:
                event = self._failure_event(attempt)  # the pod's exit code arrived after the Job's verdict
            attempt.emitted = True
            self._events.put(event)


def _write_line(log_path: str, line: str) -> None:
    Path(log_path).parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "ab") as log:
        log.write(f"{line}\n".encode())
