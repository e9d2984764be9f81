"""pipecanvas studio (Streamlit). ``make studio`` opens it on http://127.0.0.1:8501.

The studio edits the pipeline spec and reads the run store; runs are separate
processes started through ``runtime.runs``, so a reload or a restart of the
studio loses nothing.
"""

from __future__ import annotations

import streamlit as st

from studio.host_guard import refuse_foreign_host
from studio.page_build import build_page
from studio.page_endpoints import endpoints_page
from studio.page_pipelines import pipelines_page
from studio.page_runs import runs_page

st.set_page_config(page_title="pipecanvas studio", page_icon="🧩", layout="wide")
refuse_foreign_host()

pages = {
    "build": st.Page(build_page, title="Build", icon=":material/account_tree:", url_path="build", default=True),
    "pipelines": st.Page(pipelines_page, title="Pipelines", icon=":material/folder_open:", url_path="pipelines"),
    "runs": st.Page(runs_page, title="Runs", icon=":material/history:", url_path="runs"),
    "endpoints": st.Page(endpoints_page, title="Endpoints", icon=":material/rocket_launch:", url_path="endpoints"),
}
st.session_state["pages"] = pages
st.navigation(list(pages.values()), position="top").run()
