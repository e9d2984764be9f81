"""The Runs page: history, open a past run on the canvas, compare runs side by side (``run_comparison``)."""

from __future__ import annotations

import time

import pandas as pd
import streamlit as st

from compiler import dump_pipeline
from runtime.runs import reap_lost

from .run_comparison import DIFFERS_COLUMN, NOT_USED, compare_runs, comparison_table
from .run_link import open_run
from .run_status import store
from .session import catalog, studio

__all__ = ["runs_page", "runs_frame"]

_ROW_PX, _MAX_TABLE_PX = 35, 720


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


def _compare(run_ids: list[str]) -> None:
    """The chosen runs side by side, the rows that differ first and highlighted; optionally only those."""
    rows = compare_runs(store(), run_ids, catalog())
    changed = sum(row.differs for row in rows)
    only = st.toggle("Only what differs", key="compare-only-differences",
                     help="Hide the params and metrics that are the same in every chosen run")
    st.caption(f"{changed} of {len(rows)} params and metrics differ between these runs; they come first, "
               f"marked ◀. Params the chosen algorithm does not read are left out (\"{NOT_USED}\" where "
               "another run's algorithm reads them).")
    frame = comparison_table(rows, run_ids, only_differences=only)
    if frame.empty:
        st.info("These runs have the same params and metrics.")
        return
    height = min(_ROW_PX * (len(frame) + 1) + 3, _MAX_TABLE_PX)  # every row in view, up to a screenful
    st.dataframe(frame.style.apply(_highlight, axis=1), width="stretch", height=height, key="compare-table")


def _highlight(row: pd.Series) -> list[str]:
    style = "background-color: rgba(255, 189, 69, 0.25)" if row[DIFFERS_COLUMN] else ""
    return [style] * len(row)


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
            _compare(picked)
        else:
            st.caption("Pick two or more runs to see their params and metrics side by side.")
