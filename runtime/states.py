"""Run and step states, shared by every executor, the store, the CLI and the studio."""

from __future__ import annotations

from enum import Enum

__all__ = ["RunState", "StepState", "FINISHED_RUN_STATES", "DONE_STEP_STATES", "OK_STEP_STATES"]


class RunState(str, Enum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"
    LOST = "lost"

    def __str__(self) -> str:
        return self.value


class StepState(str, Enum):
    PENDING = "pending"
    QUEUED = "queued"
    RUNNING = "running"
    RETRYING = "retrying"
    SUCCEEDED = "succeeded"
    CACHED = "cached"
    FAILED = "failed"
    SKIPPED = "skipped"
    CANCELLED = "cancelled"

    def __str__(self) -> str:
        return self.value


FINISHED_RUN_STATES = frozenset({RunState.SUCCEEDED, RunState.FAILED, RunState.CANCELLED, RunState.LOST})
OK_STEP_STATES = frozenset({StepState.SUCCEEDED, StepState.CACHED})
DONE_STEP_STATES = OK_STEP_STATES | {StepState.FAILED, StepState.SKIPPED, StepState.CANCELLED}
