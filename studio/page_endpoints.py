"""The Endpoints page: deployed models, a "try it" form for each (``try_it``), undeploy."""

from __future__ import annotations

import streamlit as st

from nodes.errors import PipecanvasError
from runtime.endpoint_registry import refresh_endpoints, undeploy
from runtime.run_store import EndpointRecord

from .run_status import store
from .try_it import try_it_form

__all__ = ["endpoints_page"]


def _endpoint_card(endpoint: EndpointRecord) -> None:
    with st.container(border=True):
        top = st.columns([3, 1])
        top[0].markdown(f"### {endpoint.name}\n`{endpoint.url}` · {endpoint.state} · from run `{endpoint.run_id}`")
        label = "Remove" if endpoint.state == "crashed" else "Undeploy"
        if top[1].button(label, key=f"undeploy-{endpoint.name}", width="stretch"):
            try:
                undeploy(store(), endpoint.name)
            except PipecanvasError as exc:
                st.error(str(exc))
            st.rerun()
        if endpoint.state == "crashed":
            st.error(f"The server stopped by itself. Its last log line: {endpoint.detail or '(nothing)'}",
                     icon=":material/error:")
            if endpoint.log_path:
                st.caption(f"Full log: `{endpoint.log_path}`. Run the pipeline again to redeploy it.")
            return
        if endpoint.state == "starting":
            st.info(f"Starting: step '{endpoint.step_id}' of run {endpoint.run_id} is loading the model.",
                    icon=":material/hourglass_top:")
            return
        if not endpoint.input_schema:
            st.caption("This model did not record its input columns.")
            return
        try_it_form(endpoint)


def endpoints_page() -> None:
    st.header("Endpoints")
    endpoints = refresh_endpoints(store())
    if not endpoints:
        st.info("No endpoints are running. A pipeline with a 'Deploy endpoint' node starts one when it runs.")
        return
    for endpoint in endpoints:
        _endpoint_card(endpoint)
