"""A run's own address: ``/?run=<id>`` opens that run on the canvas with its statuses.

A browser reload starts a new Streamlit session, and a new session starts with a
blank canvas. The run being watched would be gone from the page (never from the
run store), so the Build page keeps the run's id in its address: a reload, a
bookmark or a second tab opens the same run again, read from the store's
pipeline snapshot. It also lets a page load draw a stored pipeline straight
away, without going through the uploader.
"""

from __future__ import annotations

import streamlit as st

from compiler import SpecError, parse_pipeline

from .run_status import store
from .session import Studio

__all__ = ["RUN_PARAM", "open_run", "follow_run_link", "keep_run_link"]

RUN_PARAM = "run"


def open_run(s: Studio, run_id: str, current_yaml: str | None = None) -> str | None:
    """Put stored run ``run_id`` on the canvas: its pipeline snapshot and its statuses; returns why not, or None.

    With ``current_yaml`` (the canvas now) and unsaved changes on the canvas, the run waits in
    ``s.pending`` for the Build page to ask first.
    """
    run = store().get_run(run_id)
    if run is None:
        return f"There is no run {run_id!r} in the run store."
    try:
        loaded = parse_pipeline(run.pipeline_yaml, source=f"run {run.id}")
    except SpecError as exc:  # the stored snapshot was valid when it ran; a newer catalog may disagree
        return f"Run {run.id}'s pipeline could not be opened: {exc}"
    if current_yaml is None:
        s.open(loaded.pipeline, source=f"run {run.id}", run_id=run.id)
    else:
        s.offer(loaded.pipeline, f"run {run.id}", run.id, current_yaml=current_yaml)
    return None


def follow_run_link(s: Studio, draft_opened: bool = False) -> None:
    """On a session's first Build page, open the run the address names (a reload, a bookmark).

    When the address also named a draft (``draft_opened``), the canvas keeps the draft, which may hold
    edits made after the run, and shows the run's statuses over it.
    """
    run_id = st.query_params.get(RUN_PARAM)
    if not run_id or s.run_id or (s.revision and not draft_opened):
        return
    if draft_opened:
        if store().get_run(run_id) is not None:
            s.run_id = run_id
        return
    problem = open_run(s, run_id)
    if problem:
        s.notice = f"{problem} The canvas starts blank."
        del st.query_params[RUN_PARAM]


def keep_run_link(s: Studio) -> None:
    """Make the address name the run on the canvas, or no run once the canvas holds something else."""
    if s.run_id:
        if st.query_params.get(RUN_PARAM) != s.run_id:
            st.query_params[RUN_PARAM] = s.run_id
    elif RUN_PARAM in st.query_params:
        del st.query_params[RUN_PARAM]
