"""A run as one JSON document: what ``pipecanvas run --json`` prints and tools consume."""

from __future__ import annotations

from typing import Any

from .run_store import RunStore

__all__ = ["run_summary"]


def run_summary(store: RunStore, run_id: str) -> dict[str, Any]:
    run = store.get_run(run_id)
    if run is None:
        raise KeyError(run_id)
    endpoints = [e for e in store.endpoints(include_stopped=True) if e.run_id == run_id]
    return {
        "run_id": run.id,
        "pipeline": run.pipeline,
        "backend": run.backend,
        "state": run.state.value,
        "created_at": run.created_at,
        "started_at": run.started_at,
        "finished_at": run.finished_at,
        "duration_seconds": round(run.duration, 3) if run.duration is not None else None,
        "error": run.error,
        "steps": [
            {
                "id": s.step_id, "type": s.type, "state": s.state.value, "attempt": s.attempt,
                "exit_code": s.exit_code, "signal": s.signal, "reason": s.reason, "cached_from": s.cached_from,
                "error": s.error, "elapsed_seconds": round(s.elapsed, 3) if s.elapsed is not None else None,
                "log": s.log_path,
            }
            for s in store.steps(run_id)
        ],
        "metrics": store.metrics(run_id),
        "endpoints": [{"name": e.name, "url": e.url, "state": e.state, "pid": e.pid} for e in endpoints],
    }
