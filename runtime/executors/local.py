"""Run each step as its own local process (crash isolation: a step that dies cannot take the run down).

Each process gets its own session (process group), so cancelling a step
terminates everything it started, and killing the run process leaves the step
processes to finish or be found by ``resume``. Steps that run the standard
entrypoint are forked from this process (see ``warm_fork``); anything else, or
``PIPECANVAS_LOCAL_LAUNCH=spawn``, starts a fresh interpreter.

The first steps are forked at once, before this process has imported pandas,
pyarrow and the node types' libraries: each of them imports what it needs
itself, while this process warms up (``Warmup``) a piece per wait, so a run's
first step starts without waiting half a second for imports it may run
alongside, a step that ends is followed at once, and later steps are forked
warm. Once warm, while steps run and some of the plan's steps have not been
started, one more step process waits forked and warmed ahead of need (a
standby), and the next step starts in it.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from compiler.plan import ExecutionPlan, PlannedStep
from nodes.catalog import Catalog

from ..forked_process import Standby, fork_available
from ..processes import process_start_time
from ..states import StepState
from .base import EventBuffer, StepEvent, StepKey
from .warm_fork import ForkedStep, Warmup, fork_entrypoint, fork_standby_entrypoint, wait_for_exit

_ENTRYPOINT_PREFIX = ["python", "-m", "runtime.entrypoint"]

__all__ = ["LocalExecutor", "signal_name"]

_GRACE_SECONDS = 5.0


def signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"


@dataclass
class _Running:
    process: subprocess.Popen | ForkedStep
    log: object | None
    stop_deadline: float | None = None
    stop_reason: str | None = None


class LocalExecutor:
    """Starts the plan's entrypoint argv with this interpreter; reports exits by polling."""

    name: ClassVar[str] = "local"
    supports_adoption: ClassVar[bool] = False

    def __init__(
        self, env: dict[str, str] | None = None, python: str = sys.executable, fork: bool | None = None,
        warm_imports: tuple[str, ...] = (), plan: ExecutionPlan | None = None, catalog: Catalog | None = None,
    ) -> None:
        """``plan`` and ``catalog`` (the default one) are handed to forked steps, which need not load them."""
        self._env = {**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})}
        self._python = python
        self._running: dict[StepKey, _Running] = {}
        self._events = EventBuffer()
        if fork is None:
            fork = os.environ.get("PIPECANVAS_LOCAL_LAUNCH", "fork") != "spawn"
        self._fork = fork and fork_available()
        self._warmup = Warmup(warm_imports) if self._fork else None  # see the module docstring
        self._standby: Standby | None = None
        #: the plan's steps not submitted yet: a standby is kept only while one of them may still come
        self._not_started = {step.id for step in plan.steps} if plan is not None and self._fork else set()
        if self._fork:  # forked steps find the run's plan and the catalog loaded already
            from ..entrypoint import remember_catalog, remember_plan

            if plan is not None:
                remember_plan(plan.plan_uri, plan)
            if catalog is not None:
                remember_catalog(catalog)

    def submit(self, step: PlannedStep, key: StepKey, log_path: str) -> None:
        try:
            Path(log_path).parent.mkdir(parents=True, exist_ok=True)
            with open(log_path, "ab") as header:
                header.write(f"--- attempt {key.attempt} of step '{key.step_id}' ---\n".encode())
        except OSError as exc:  # a full disk or read-only home: this step fails, the run goes on to say so
            from ..home import home_problem

            self._events.put(StepEvent(key, StepState.FAILED, detail=f"could not write its log: "
                                                                      f"{home_problem(Path(log_path), exc)}"))
            return
        env = {**self._env, "PIPECANVAS_RUN_ID": key.run_id, "PIPECANVAS_STEP_ATTEMPT": str(key.attempt)}
        try:
            if self._fork and step.argv[:3] == _ENTRYPOINT_PREFIX:
                process, log = self._fork_step(step.argv[3:], env, log_path), None
            else:
                process, log = self._spawn(step.argv, env, log_path)
        except OSError as exc:
            self._events.put(StepEvent(key, StepState.FAILED, detail=f"could not start: {exc}"))
            return
        self._not_started.discard(step.id)
        self._running[key] = _Running(process, log)
        self._events.put(StepEvent(key, StepState.RUNNING, pid=process.pid, process_start=process_start_time(process.pid)))

    def _fork_step(self, entrypoint_args: list[str], env: dict[str, str], log_path: str) -> ForkedStep:
        """The step in the standby when there is one (and it is still there), else in a fresh fork."""
        standby, self._standby = self._standby, None
        if standby is not None and standby.start(entrypoint_args, log_path, env):
            return ForkedStep(standby.pid)
        return fork_entrypoint(entrypoint_args, env, log_path)

    def _keep_a_standby(self) -> None:
        """Fork the standby while the next step is still to come: while this process is warm, a step runs (so
        the run goes on) and some of the plan's steps have not started. Its fork and its warming happen while
        that step runs, instead of after it."""
        if self._standby is not None or not self._running or not self._not_started:
            return
        if self._warmup is None or not self._warmup.done:
            return
        try:
            self._standby = fork_standby_entrypoint()
        except OSError:  # no memory or process slot to spare: steps are forked when they start, as before
            pass

    def _spawn(self, argv: list[str], env: dict[str, str], log_path: str) -> tuple[subprocess.Popen, object]:
        argv = [self._python if argv[0] == "python" else argv[0], *argv[1:]]
        log = open(log_path, "ab", buffering=0)
        try:
            process = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                       env=env, start_new_session=True)
        except OSError:
            log.close()
            raise
        return process, log

    def poll(self) -> list[StepEvent]:
        now = time.monotonic()
        for key, running in list(self._running.items()):
            code = running.process.poll()
            if code is None:
                if running.stop_deadline is not None and now > running.stop_deadline:
                    _signal_group(running.process.pid, signal.SIGKILL)
                continue
            if running.log is not None:
                running.log.close()
            del self._running[key]
            self._events.put(_exit_event(key, code, running.stop_reason))
        return self._events.drain()

    def wait(self, timeout: float) -> None:
        """Sleep up to ``timeout`` seconds, waking as soon as a running step exits.

        While steps run and this process is not warm yet, a wait does the next piece of the warm-up
        instead (shorter or longer than ``timeout``: those steps import what they need meanwhile)."""
        if self._warmup is not None and not self._warmup.done and self._running:
            self._warmup.advance()
            return
        self._keep_a_standby()
        wait_for_exit([r.process.pid for r in self._running.values()], timeout)

    def cancel(self, key: StepKey, reason: str = "cancelled") -> None:
        running = self._running.get(key)
        if running is None or running.stop_deadline is not None:
            return
        running.stop_reason = reason
        running.stop_deadline = time.monotonic() + _GRACE_SECONDS
        _signal_group(running.process.pid, signal.SIGTERM)

    def adopt(self, run_id: str, keys: list[StepKey]) -> list[StepKey]:
        return list(keys)  # a local process cannot be re-attached to; resume re-runs it

    def running(self) -> list[StepKey]:
        return list(self._running)

    def close(self, wait: bool = True) -> None:
        if self._standby is not None:
            self._standby.discard()
            self._standby = None
        for key in list(self._running):
            self.cancel(key, "run ended")
        deadline = time.monotonic() + (_GRACE_SECONDS + 2 if wait else 0)
        while self._running and time.monotonic() < deadline:
            self.poll()
            time.sleep(0.05)
        for running in self._running.values():
            _signal_group(running.process.pid, signal.SIGKILL)


def _signal_group(pid: int, sig: signal.Signals) -> None:
    try:
        os.killpg(pid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def _exit_event(key: StepKey, code: int, stop_reason: str | None) -> StepEvent:
    if code == 0:
        return StepEvent(key, StepState.SUCCEEDED, exit_code=0)
    if code < 0:
        name = signal_name(-code)
        detail = stop_reason or f"killed by {name}"
        return StepEvent(key, StepState.FAILED, detail=detail, exit_code=code, signal=name)
    return StepEvent(key, StepState.FAILED, detail=stop_reason or f"exit code {code}", exit_code=code)
