"""The coordinator: schedules one run's steps on an executor and is the only writer of that run's rows.

It owns everything the backends share: dependency order, ``--max-parallel``,
the cache, retries, timeouts, skipping downstream steps after a failure,
cancelling, and recording outputs and metrics. Executors only launch and report.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import defaultdict
from dataclasses import dataclass

from compiler.durations import format_duration
from compiler.plan import ExecutionPlan, PlannedStep
from nodes.catalog import Catalog

from .artifacts import copy_outputs, last_error_line, record_outputs
from .entrypoint import EXIT_INPUT_ERROR
from .executors.base import Executor, StepEvent, StepKey
from .home import DISK_FULL_PREFIX, HomeError, step_log_path
from .rerun_reasons import rerun_reason
from .run_store import RunStore, StepRecord
from .states import OK_STEP_STATES, RunState, StepState

__all__ = ["Coordinator"]

_log = logging.getLogger(__name__)


@dataclass
class _Attempt:
    key: StepKey
    started: float
    stop_reason: str | None = None


class Coordinator:
    """Run (or resume) ``run_id`` to the end. ``request_cancel`` may be called from a signal handler."""

    def __init__(
        self, store: RunStore, run_id: str, plan: ExecutionPlan, executor: Executor, catalog: Catalog, *,
        max_parallel: int, use_cache: bool = True, poll_interval: float = 0.02, heartbeat_interval: float = 1.0,
    ) -> None:
        self.store, self.run_id, self.plan, self.executor, self.catalog = store, run_id, plan, executor, catalog
        self.max_parallel = max(1, max_parallel)
        self.use_cache = use_cache
        self.poll_interval, self.heartbeat_interval = poll_interval, heartbeat_interval
        self.steps = {step.id: step for step in plan.steps}
        self.children: dict[str, list[str]] = defaultdict(list)
        for step in plan.steps:
            for parent in step.depends_on:
                self.children[parent].append(step.id)
        self.state: dict[str, StepState] = {}
        self.attempts: dict[str, int] = {}
        self.active: dict[str, _Attempt] = {}
        self.retrying: set[str] = set()
        self.first_attempt: dict[str, int] = {}
        self.errors: dict[str, str] = {}  # the last failure message of each step that failed
        self._cancel = threading.Event()
        self._last_beat = 0.0

    def request_cancel(self) -> None:
        self._cancel.set()

    # -- the loop ---------------------------------------------------------------------

    def run(self) -> RunState:
        self._load_states()
        self._stop_unfinished_servers()  # on resume: servers the stopped run process left starting
        self._adopt()
        self.store.set_run_state(self.run_id, RunState.RUNNING, pid=_pid())
        try:
            while True:
                if self._cancel.is_set():
                    return self._finish_cancelled()
                for event in self.executor.poll():
                    self._apply(event)
                self._enforce_timeouts()
                self._launch_ready()
                self._heartbeat()
                if not self.active and not self._ready():
                    break
                self._wait()
        except BaseException as exc:
            self.executor.close(wait=True)
            self._stop_unfinished_servers()
            try:
                self.store.set_run_state(self.run_id, RunState.FAILED, error=f"the run process failed: {exc}")
            except HomeError:  # the store itself is what failed: the run process's log says why
                pass
            raise
        self.executor.close(wait=False)
        self._stop_unfinished_servers()
        failed = [s for s, st in self.state.items() if st not in OK_STEP_STATES]
        final = RunState.FAILED if failed else RunState.SUCCEEDED
        error = f"{len(failed)} step(s) did not succeed: {', '.join(failed)}" if failed else None
        if failed:
            error += f"; fix the problem, then `pipecanvas resume {self.run_id}` re-runs only those"
            full = next((m for m in self.errors.values() if DISK_FULL_PREFIX in m), None)
            if full:  # the one cause the user must fix outside the pipeline: say it first
                error = f"{DISK_FULL_PREFIX}{full.split(DISK_FULL_PREFIX, 1)[1]}; {error}"
        self.store.set_run_state(self.run_id, final, error=error)
        return final

    def _load_states(self) -> None:
        """Fresh steps start pending; on resume, finished successes stay and everything else runs again."""
        for record in self.store.steps(self.run_id):
            self.attempts[record.step_id] = record.attempt
            self.first_attempt[record.step_id] = record.attempt + 1  # a resume gets a fresh retry budget
            if record.state in OK_STEP_STATES:
                self.state[record.step_id] = record.state
                continue
            if record.pid:  # a step of a lost run may still be running
                _kill_orphan(record, self.run_id)
            self.state[record.step_id] = StepState.PENDING
            if record.state != StepState.PENDING:
                self.store.set_step(self.run_id, record.step_id, StepState.PENDING, detail="resumed",
                                    exit_code=None, signal=None, error=None, pid=None, pid_start=None)

    def _adopt(self) -> None:
        """On resume, re-attach to attempts the stopped run process left running (backends that can: Kubernetes)."""
        if not getattr(self.executor, "supports_adoption", False):
            return
        keys = [StepKey(self.run_id, step_id, self.attempts[step_id]) for step_id, state in self.state.items()
                if state == StepState.PENDING and self.attempts.get(step_id)]
        missing = set(self.executor.adopt(self.run_id, keys)) if keys else set()
        for key in keys:
            if key not in missing:
                self.first_attempt[key.step_id] = key.attempt  # the re-attached attempt opens this resume's budget
                self.state[key.step_id] = StepState.QUEUED
                self.active[key.step_id] = _Attempt(key, time.monotonic())
                self.store.set_step(self.run_id, key.step_id, StepState.QUEUED, detail="re-attached to its attempt",
                                    error=None, finished_at=None)

    def _ready(self) -> list[PlannedStep]:
        return [
            step for step in self.plan.steps
            if self.state[step.id] == StepState.PENDING and all(self.state[d] in OK_STEP_STATES for d in step.depends_on)
        ]

    def _launch_ready(self) -> None:
        for step in self._ready():
            if len(self.active) >= self.max_parallel:
                return
            if self._try_cache(step):
                continue
            attempt = self.attempts.get(step.id, 0) + 1
            self.attempts[step.id] = attempt
            key = StepKey(self.run_id, step.id, attempt)
            reason = None if step.id in self.retrying else rerun_reason(
                self.store, self.plan.pipeline, step, self.run_id, self.use_cache, self.catalog.get(step.type),
                [d for d in step.depends_on if self.state[d] == StepState.SUCCEEDED])
            self.retrying.discard(step.id)
            self.store.set_step(self.run_id, step.id, StepState.QUEUED, detail=reason, attempt=attempt,
                                exit_code=None, signal=None, error=None, pid=None, pid_start=None, finished_at=None,
                                **({"reason": reason} if reason else {}))
            self.state[step.id] = StepState.QUEUED
            self.active[step.id] = _Attempt(key, time.monotonic())
            self.executor.submit(step, key, str(step_log_path(self.run_id, step.id)))
            for event in self.executor.poll():  # record the launch (its pid) now, before the next one
                self._apply(event)

    def _try_cache(self, step: PlannedStep) -> bool:
        node_type = self.catalog.get(step.type)
        if not self.use_cache or node_type is None or not node_type.cacheable:
            return False
        hit = self.store.find_cached(step.cache_key, exclude_run=self.run_id)
        if hit is None or not copy_outputs(self.store, hit, step):
            return False
        record_outputs(self.store, self.run_id, step)
        self.store.set_step(self.run_id, step.id, StepState.CACHED, detail=f"reused from run {hit.run_id}",
                            cached_from=hit.run_id, reason=f"unchanged since run {hit.run_id}",
                            started_at=time.time(), finished_at=time.time())
        self.state[step.id] = StepState.CACHED
        return True

    # -- events -----------------------------------------------------------------------

    def _apply(self, event: StepEvent) -> None:
        attempt = self.active.get(event.key.step_id)
        if attempt is None or attempt.key != event.key:
            return  # a late event from an attempt we already gave up on
        step = self.steps[event.key.step_id]
        if event.state == StepState.RUNNING:
            self.state[step.id] = StepState.RUNNING
            self.store.set_step(self.run_id, step.id, StepState.RUNNING, pid=event.pid, pid_start=event.process_start,
                                started_at=event.at)
        elif event.state == StepState.SUCCEEDED:
            del self.active[step.id]
            self._succeeded(step, event)
        elif event.state == StepState.FAILED:
            del self.active[step.id]
            self._failed(step, event, attempt.stop_reason)
        elif event.detail:  # why a launched step still waits (e.g. no node has its GPUs): shown, state kept
            self.store.set_step(self.run_id, step.id, self.state[step.id], detail=event.detail)

    def _succeeded(self, step: PlannedStep, event: StepEvent) -> None:
        try:
            record_outputs(self.store, self.run_id, step)
        except HomeError:  # the store (locked past its bound, full, read-only), not the outputs: the step did finish
            raise
        except Exception as exc:  # outputs unreadable: a failure of this step, not of the run
            self._failed(step, StepEvent(event.key, StepState.FAILED, detail=f"its outputs could not be read: {exc}",
                                         exit_code=event.exit_code), None)
            return
        self.state[step.id] = StepState.SUCCEEDED
        self.store.set_step(self.run_id, step.id, StepState.SUCCEEDED, exit_code=0, finished_at=event.at)

    def _failed(self, step: PlannedStep, event: StepEvent, stop_reason: str | None) -> None:
        self._stop_unfinished_servers(step.id)  # before a retry, which may need the same port
        message = last_error_line(step_log_path(self.run_id, step.id)) or stop_reason or event.detail or "failed"
        if stop_reason and stop_reason not in message:
            message = f"{stop_reason}; {message}"
        self.errors[step.id] = message
        attempt = event.key.attempt
        retryable = event.exit_code != EXIT_INPUT_ERROR and not self._cancel.is_set()
        if retryable and attempt - self.first_attempt.get(step.id, 1) < step.retries:
            self.state[step.id] = StepState.PENDING
            self.retrying.add(step.id)
            self.store.set_step(self.run_id, step.id, StepState.RETRYING,
                                detail=f"attempt {attempt - self.first_attempt.get(step.id, 1) + 1} of "
                                       f"{step.retries + 1} failed: {message}",
                                exit_code=event.exit_code, signal=event.signal, error=message, finished_at=event.at)
            return
        self.state[step.id] = StepState.FAILED
        self.store.set_step(self.run_id, step.id, StepState.FAILED, detail=event.detail, exit_code=event.exit_code,
                            signal=event.signal, error=message, finished_at=event.at)
        self._skip_downstream(step.id)

    def _skip_downstream(self, failed: str) -> None:
        queue = list(self.children[failed])
        while queue:
            child = queue.pop(0)
            if self.state[child] == StepState.PENDING:
                self.state[child] = StepState.SKIPPED
                self.store.set_step(self.run_id, child, StepState.SKIPPED, detail=f"'{failed}' failed")
                queue.extend(self.children[child])

    def _enforce_timeouts(self) -> None:
        now = time.monotonic()
        for step_id, attempt in self.active.items():
            limit = self.steps[step_id].timeout_seconds
            if limit and attempt.stop_reason is None and now - attempt.started > limit:
                attempt.stop_reason = f"timed out after {format_duration(limit)}"
                self.executor.cancel(attempt.key, attempt.stop_reason)

    def _finish_cancelled(self) -> RunState:
        for attempt in self.active.values():
            attempt.stop_reason = "cancelled"
            self.executor.cancel(attempt.key, "cancelled")
        self.executor.close(wait=True)
        self._stop_unfinished_servers()
        for event in self.executor.poll():
            if event.state != StepState.RUNNING:
                self.active.pop(event.key.step_id, None)
        for step_id, state in self.state.items():
            if state not in OK_STEP_STATES and state not in (StepState.FAILED, StepState.SKIPPED):
                self.state[step_id] = StepState.CANCELLED
                self.store.set_step(self.run_id, step_id, StepState.CANCELLED, detail="run cancelled",
                                    finished_at=time.time())
        self.store.set_run_state(self.run_id, RunState.CANCELLED, error="cancelled by the user")
        return RunState.CANCELLED

    def _wait(self) -> None:
        """Until the next loop: the executor's own wait (it may wake early when a step ends), else a sleep."""
        wait = getattr(self.executor, "wait", None)
        if wait is None:
            time.sleep(self.poll_interval)
        else:
            wait(self.poll_interval)

    def _stop_unfinished_servers(self, step_id: str | None = None) -> None:
        """Model servers a deploy step of this run started but did not finish (see ``endpoint_registry``)."""
        from .endpoint_registry import stop_unfinished_servers

        try:
            stop_unfinished_servers(self.store, self.run_id, step_id)
        except Exception:  # never let cleaning up hide the step's own outcome
            _log.exception("could not stop the model servers run %s left starting", self.run_id)

    def _heartbeat(self) -> None:
        now = time.monotonic()
        if now - self._last_beat >= self.heartbeat_interval:
            self._last_beat = now
            self.store.heartbeat(self.run_id)


def _pid() -> int:
    import os

    return os.getpid()


def _kill_orphan(record: StepRecord, run_id: str) -> None:
    """A step process left running by a run process that died: stop it before re-running its step.

    Only a process that is still that step is killed; a reused pid is left alone. The pid and the
    process's start time, recorded when it started, say so exactly. A store from before start times
    were recorded falls back to the command line: this step's entrypoint, or a step forked from the dead
    run process (it shows that process's argv, which names the run).
    """
    import os
    import signal
    from pathlib import Path

    from .processes import same_process

    pid = record.pid
    if record.pid_start is not None:
        if not same_process(pid, record.pid_start):
            return
    else:
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            return
        argv = cmdline.split(b"\0")
        spawned = b"runtime.entrypoint" in argv and record.step_id.encode() in argv
        forked = b"runtime.run_process" in argv and pid != os.getpid()
        if not (spawned or forked) or run_id.encode() not in cmdline:
            return
    try:
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
