"""The Runs page: history, open a past run on the canvas, compare runs side by side."""

from __future__ import annotations

import time

import pandas as pd
import streamlit as st

from compiler import dump_pipeline
from runtime.runs import reap_lost

from .run_link import open_run
from .run_status import store
from .session import studio

__all__ = ["runs_page", "runs_frame", "compare_frame"]


def _headline(metrics: dict[str, dict[str, float]]) -> str:
    for values in metrics.values():
        for name in ("accuracy", "r2", "f1", "rmse"):
            if name in values:
                return f"{name} {values[name]:.3f}"
    return ""


def runs_frame(limit: int = 100) -> pd.DataFrame:
    current = store()
    reap_lost(current)
    rows = []
    for run in current.list_runs(limit=limit):
        rows.append({
            "run": run.id,
            "pipeline": run.pipeline,
            "state": run.state.value,
            "started": time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(run.started_at or run.created_at)),
            "duration (s)": round(run.duration, 1) if run.duration is not None else None,
            "headline": _headline(current.metrics(run.id)),
            "backend": run.backend,
        })
    return pd.DataFrame(rows)


def compare_frame(run_ids: list[str]) -> pd.DataFrame:
    """Rows ``param step.name`` and ``metric step.name``; one column per run."""
    current = store()
    table: dict[str, dict[str, object]] = {}
    for run_id in run_ids:
        for step in current.steps(run_id):
            for name, value in step.params.items():
                table.setdefault(f"param {step.step_id}.{name}", {})[run_id] = str(value)
        for step_id, values in current.metrics(run_id).items():
            for name, value in values.items():
                table.setdefault(f"metric {step_id}.{name}", {})[run_id] = round(value, 4)
    frame = pd.DataFrame.from_dict(table, orient="index", columns=run_ids).sort_index()
    differs = frame.astype(str).nunique(axis=1) > 1
    return frame.assign(differs=differs.map({True: "◀", False: ""}))


def runs_page() -> None:
    st.header("Runs")
    frame = runs_frame()
    if frame.empty:
        st.info("No runs yet. Build a pipeline and press Run.")
        return
    st.dataframe(frame, hide_index=True, width="stretch")
    left, right = st.columns(2)
    with left:
        st.subheader("Open a run on the canvas")
        chosen = st.selectbox("Run", frame["run"].tolist(), key="open-run")
        if st.button("Open on canvas", key="open-run-button"):
            s = studio()
            problem = open_run(s, chosen, current_yaml=dump_pipeline(s.pipeline))  # asks first on the Build page
            if problem:
                st.error(problem)
                return
            st.switch_page(st.session_state["pages"]["build"])
    with right:
        st.subheader("Compare runs")
        picked = st.multiselect("Runs to compare", frame["run"].tolist(), max_selections=6, key="compare-runs")
        if len(picked) >= 2:
            st.dataframe(compare_frame(picked), width="stretch")
        else:
            st.caption("Pick two or more runs to see their params and metrics side by side.")
