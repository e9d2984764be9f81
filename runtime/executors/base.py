"""The launcher protocol every backend implements, and the events it reports.

Like Airflow's executors: the coordinator owns the plan, scheduling, retries,
timeouts and caching; an executor only starts a step's process (or Job),
reports what happened to it, stops it on request, and re-attaches after a
restart. Every backend launches the same entrypoint argv from the plan.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import ClassVar, Protocol

from compiler.plan import PlannedStep

from ..states import StepState

__all__ = ["StepKey", "StepEvent", "Executor", "EventBuffer"]


@dataclass(frozen=True)
class StepKey:
    run_id: str
    step_id: str
    attempt: int


@dataclass(frozen=True)
class StepEvent:
    """Something that happened to one attempt of one step: running, succeeded or failed.

    ``detail`` is human-readable (``exit code 1``, ``killed by SIGKILL``,
    ``Pending: 0/3 nodes have nvidia.com/gpu``); ``exit_code``/``signal`` are set
    when the process ended.
    """

    key: StepKey
    state: StepState
    detail: str | None = None
    exit_code: int | None = None
    signal: str | None = None
    pid: int | None = None
    #: with ``pid``, which process it is (``processes.process_start_time``), where the backend can tell
    process_start: int | None = None
    at: float = field(default_factory=time.time)


class Executor(Protocol):
    """Launch steps, report their events, stop them, re-attach to them."""

    name: ClassVar[str]
    #: steps the backend runs at once by itself (the coordinator still applies --max-parallel)
    supports_adoption: ClassVar[bool]

    def submit(self, step: PlannedStep, key: StepKey, log_path: str) -> None: ...

    def poll(self) -> list[StepEvent]:
        """Events since the last call, oldest first (each reported once)."""
        ...

    def cancel(self, key: StepKey, reason: str = "cancelled") -> None: ...

    def adopt(self, run_id: str, keys: list[StepKey]) -> list[StepKey]:
        """Re-attach to steps a previous coordinator started; return those it could not."""
        ...

    def close(self, wait: bool = True) -> None: ...


class EventBuffer:
    """Collects events from launch and sync code; the coordinator drains it with ``poll``."""

    def __init__(self) -> None:
        self._events: list[StepEvent] = []

    def put(self, event: StepEvent) -> None:
        self._events.append(event)

    def drain(self) -> list[StepEvent]:
        events, self._events = self._events, []
        return events
