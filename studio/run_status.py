"""Read a run's progress from the run store for the canvas badges and the run bar.

The Build page reads a run and its steps once per page run and hands them to these
functions, so a keystroke does not read the store (or a step's log) again.

A step's warnings (a result that needs a second look: too few test rows, a split
that could not be stratified) are read from the end of its log, where the step
entrypoint repeats them; a cache hit shows the warnings of the step it reused.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

from compiler import Diagnostic
from runtime.artifacts import step_warnings
from runtime.home import pipecanvas_home
from runtime.run_store import RunRecord, RunStore, StepRecord, open_store
from runtime.runs import reap_lost

__all__ = ["store", "run_record", "canvas_status", "warnings_of", "run_warnings"]


def store() -> RunStore:
    """The store under ``$PIPECANVAS_HOME``, one per home: a ``RunStore`` keeps a connection per thread,
    so Streamlit's script threads can share it."""
    return _store_at(pipecanvas_home())


@functools.cache
def _store_at(home: Path) -> RunStore:
    return open_store(home)


def run_record(run_id: str | None) -> RunRecord | None:
    if not run_id:
        return None
    current = store()
    reap_lost(current)
    return current.get_run(run_id)


def canvas_status(run: RunRecord | None, steps: list[StepRecord]) -> dict[str, dict[str, Any]]:
    """``{step: {state, elapsed, attempt}}`` for every step of ``run`` (empty when none).

    A step still pending in a run that has not ended is shown as queued: it will run, and the nodes
    say so from the moment Run is pressed, before the run process has even started.
    """
    if run is None:
        return {}
    waiting = "queued" if not run.finished else "idle"
    return {
        step.step_id: {
            "state": waiting if step.state.value == "pending" else step.state.value,
            "elapsed": round(step.elapsed, 1) if step.elapsed is not None else None,
            "attempt": step.attempt,
        }
        for step in steps
    }


def warnings_of(step: StepRecord) -> list[str]:
    """What a finished step warned about (nothing while it runs or after it failed)."""
    if step.state.value not in ("succeeded", "cached"):
        return []
    source = step
    if step.cached_from:
        source = next((s for s in store().steps(step.cached_from) if s.cache_key == step.cache_key), step)
    return step_warnings(source.log_path, source.step_id)


def run_warnings(steps: list[StepRecord]) -> list[Diagnostic]:
    """Every step's warnings as diagnostics on its node, for the canvas's warning badges."""
    return [Diagnostic("warning", f"node '{step.step_id}': {message}", node=step.step_id)
            for step in steps for message in warnings_of(step)]
