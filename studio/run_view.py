"""Rich tables for the terminal: steps with live state, metrics, runs, endpoints."""

from __future__ import annotations

import time

from rich.table import Table as RichTable
from rich.text import Text

from runtime.run_store import EndpointRecord, RunRecord, RunStore

__all__ = ["steps_table", "metrics_table", "runs_table", "endpoints_table", "STATE_STYLES"]

STATE_STYLES = {
    "pending": "dim", "queued": "cyan", "running": "bold blue", "retrying": "yellow", "succeeded": "green",
    "cached": "green dim", "failed": "bold red", "skipped": "dim", "cancelled": "magenta", "lost": "bold red",
}


def _elapsed(seconds: float | None) -> str:
    if seconds is None:
        return ""
    if seconds < 60:
        return f"{seconds:.1f}s"
    minutes, secs = divmod(int(seconds), 60)
    return f"{minutes}m{secs:02d}s"


def _state(value: str) -> Text:
    return Text(value, style=STATE_STYLES.get(value, ""))


def steps_table(store: RunStore, run_id: str, reasons: bool = False) -> RichTable:
    run = store.get_run(run_id)
    title = f"run {run_id} · {run.pipeline} · {run.state.value} · {_elapsed(run.duration)}"
    table = RichTable("step", "type", "state", "attempt", "elapsed", "note", title=title, title_justify="left")
    latest: dict[str, str] = {}
    for event in store.events(run_id):  # e.g. "Pending: 0/3 nodes ... Insufficient nvidia.com/gpu"
        if event.step_id and event.detail:
            latest[event.step_id] = event.detail
    for step in store.steps(run_id):
        note = step.error or ""
        if not note and step.state.value in ("queued", "running") and step.step_id in latest:
            note = latest[step.step_id]
        if step.state.value == "cached":
            note = f"from run {step.cached_from}"
        elif reasons and step.reason and not note:
            note = step.reason
        table.add_row(step.step_id, step.type, _state(step.state.value), str(step.attempt or ""),
                      _elapsed(step.elapsed), Text(note, style="red" if step.error else "dim"))
    return table


def metrics_table(metrics: dict[str, dict[str, float]]) -> RichTable:
    table = RichTable("step", "metric", "value", title="metrics", title_justify="left")
    for step_id, values in metrics.items():
        for name, value in values.items():
            table.add_row(step_id, name, f"{value:.4g}")
    return table


def _headline(store: RunStore, run_id: str) -> str:
    for values in store.metrics(run_id).values():
        for name in ("accuracy", "r2", "f1", "rmse"):
            if name in values:
                return f"{name} {values[name]:.3f}"
    return ""


def runs_table(store: RunStore, runs: list[RunRecord]) -> RichTable:
    table = RichTable("run", "pipeline", "state", "started", "duration", "headline", "backend")
    for run in runs:
        started = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(run.started_at or run.created_at))
        table.add_row(run.id, run.pipeline, _state(run.state.value), started, _elapsed(run.duration),
                      _headline(store, run.id), run.backend)
    return table


def endpoints_table(endpoints: list[EndpointRecord]) -> RichTable:
    """One row per endpoint; a crashed or failed one says why (its server's last log line)."""
    table = RichTable("name", "url", "state", "pid", "run", "note")
    for endpoint in endpoints:
        note = endpoint.detail if endpoint.state in ("crashed", "failed", "stopped") else ""
        table.add_row(endpoint.name, endpoint.url, _state(endpoint.state), str(endpoint.pid or ""), endpoint.run_id or "",
                      note or "")
    if not endpoints:
        table.caption = "no endpoints; a pipeline with a 'Deploy endpoint' node creates one"
    return table
