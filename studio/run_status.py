"""Read a run's progress from the run store for the canvas badges and the run bar."""

from __future__ import annotations

from typing import Any

from runtime.run_store import RunRecord, RunStore, open_store
from runtime.runs import reap_lost

__all__ = ["store", "run_record", "canvas_status"]


def store() -> RunStore:
    return open_store()


def run_record(run_id: str | None) -> RunRecord | None:
    if not run_id:
        return None
    current = store()
    reap_lost(current)
    return current.get_run(run_id)


def canvas_status(run_id: str | None) -> dict[str, dict[str, Any]]:
    """``{step: {state, elapsed, attempt, error}}`` for every step of the run (empty when none)."""
    if not run_id:
        return {}
    return {
        step.step_id: {
            "state": "idle" if step.state.value == "pending" else step.state.value,
            "elapsed": round(step.elapsed, 1) if step.elapsed is not None else None,
            "attempt": step.attempt,
        }
        for step in store().steps(run_id)
    }
