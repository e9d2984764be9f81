"""The Pipelines page: drafts and saved pipelines (``studio/pipeline_list.py``), to open, rename or delete.

Opening one goes through the Build page's question (``Studio.offer``): a canvas
with unsaved changes is not replaced until the analyst says so there. The draft
on the canvas of this session cannot be deleted from here (it would be saved
again at the next edit); rename it here or in the Build page's name field.
"""

from __future__ import annotations

import time

import streamlit as st

from compiler import SpecError, dump_pipeline

from .drafts import open_draft
from .pipeline_list import PipelineRow, RenameError, pipeline_rows, rename_draft
from .run_link import open_run
from .run_status import store
from .session import Studio, studio

__all__ = ["pipelines_page"]

_DELETING = "_pipecanvas_deleting_draft"


def _when(at: float) -> str:
    return time.strftime("%d %b %Y %H:%M", time.localtime(at))


def pipelines_page() -> None:
    s = studio()
    st.title("Pipelines")
    st.caption("Drafts are saved at every edit on the Build page; a pipeline is saved when it runs (the run store "
               "keeps the YAML of each run). Open one to carry on editing it.")
    if s.notice:
        st.error(s.notice)
        s.notice = None
    rows = pipeline_rows(store())
    if not rows:
        st.info("No pipelines yet: build one on the Build page, or open an example there.")
        return
    drafts = [row for row in rows if row.kind == "draft"]
    saved = [row for row in rows if row.kind == "saved"]
    st.subheader(f"Drafts ({len(drafts)})")
    if not drafts:
        st.caption("No drafts: every edit on the Build page makes one.")
    for row in drafts:
        _row(s, row)
    st.subheader(f"Saved pipelines ({len(saved)})")
    if not saved:
        st.caption("None yet: run a pipeline to save it.")
    for row in saved:
        _row(s, row)


def _row(s: Studio, row: PipelineRow) -> None:
    current = row.kind == "draft" and row.id == s.draft_id
    with st.container(border=True, key=f"pipeline-{row.kind}-{row.id}"):
        info, actions = st.columns([3, 2])
        with info:
            here = " · on the canvas" if current else ""
            st.markdown(f"**{row.name}** :gray[({row.kind}{here})]")
            nodes = "unreadable" if row.nodes is None else f"{row.nodes} node{'' if row.nodes == 1 else 's'}"
            edited = "edited" if row.kind == "draft" else "run"
            last = (f"last run **{row.last_run.state.value}** ({_when(row.last_run.created_at)})"
                    if row.last_run else "never run")
            st.caption(f"{edited} {_when(row.edited_at)} · {nodes} · {last}")
        with actions:
            buttons = st.columns(3)
            if buttons[0].button("Open", key=f"open-{row.kind}-{row.id}", width="stretch", disabled=current,
                                 help="It is on the Build page's canvas already" if current else
                                 "Open it on the Build page (asks first if the canvas has unsaved changes)"):
                _open(s, row)
            if row.kind == "draft":
                with buttons[1].popover("Rename", width="stretch"):
                    _rename(s, row)
                if buttons[2].button("Delete", key=f"delete-{row.id}", width="stretch", disabled=current,
                                     help="It is on the canvas: open something else first" if current else
                                     "Delete this draft (asks first)"):
                    st.session_state[_DELETING] = row.id
        if st.session_state.get(_DELETING) == row.id:
            _confirm_delete(row)


def _open(s: Studio, row: PipelineRow) -> None:
    current = dump_pipeline(s.pipeline)
    if row.kind == "draft":
        draft = store().get_draft(row.id)
        problem = open_draft(s, draft, current) if draft else f"There is no draft {row.id!r} any more."
    else:  # with the statuses of the run it comes from
        problem = open_run(s, row.id, current_yaml=current)
    if problem:
        st.error(problem)
        return
    st.switch_page(st.session_state["pages"]["build"])


def _rename(s: Studio, row: PipelineRow) -> None:
    name = st.text_input("New name", value=row.name, key=f"rename-to-{row.id}",
                         help="Lowercase letters, digits and '-', e.g. iris-classifier.")
    if st.button("Save name", key=f"rename-{row.id}", type="primary"):
        try:
            renamed = rename_draft(store(), row.id, name)
        except (RenameError, SpecError) as exc:
            st.error(str(exc))
            return
        if row.id == s.draft_id:  # the canvas holds it: the Build page shows (and saves) the new name
            s.replace(s.pipeline.model_copy(update={"metadata": renamed.metadata}))
            s.saved_yaml = dump_pipeline(s.pipeline)
            s.named = True
        st.rerun()


def _confirm_delete(row: PipelineRow) -> None:
    st.warning(f"Delete the draft **{row.name}** for good? Its runs stay in the run history.",
               icon=":material/delete:")
    yes, no, _ = st.columns([1, 1, 3])
    if yes.button("Delete draft", key=f"delete-yes-{row.id}", type="primary", width="stretch"):
        store().delete_draft(row.id)
        st.session_state.pop(_DELETING, None)
        st.rerun()
    if no.button("Keep it", key=f"delete-no-{row.id}", width="stretch"):
        st.session_state.pop(_DELETING, None)
        st.rerun()
