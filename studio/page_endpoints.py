"""The Endpoints page: deployed models, a "try it" form built from each model's input columns, undeploy."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

import streamlit as st

from nodes.errors import PipecanvasError
from runtime.endpoint_registry import refresh_endpoints, undeploy
from runtime.run_store import EndpointRecord

from .run_status import store

__all__ = ["endpoints_page", "predict"]


def predict(url: str, row: dict[str, Any], timeout: float = 10.0) -> tuple[bool, Any]:
    """POST one row to ``url``/predict; (ok, answer or error message). Loopback only, so no proxy."""
    request = urllib.request.Request(f"{url}/predict", data=json.dumps({"rows": [row]}).encode(),
                                     headers={"Content-Type": "application/json"}, method="POST")
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(request, timeout=timeout) as response:
            return True, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return False, _detail(exc.read(), exc.headers.get("content-type", ""), f"HTTP {exc.code}")
    except (OSError, ValueError) as exc:  # refused, timed out, or not JSON
        return False, f"the endpoint did not answer: {getattr(exc, 'reason', exc)}"


def _detail(body: bytes, content_type: str, fallback: str) -> str:
    """The server's own explanation of a refusal (FastAPI puts it in ``detail``)."""
    if content_type.startswith("application/json"):
        try:
            parsed = json.loads(body)
        except ValueError:
            parsed = None
        if isinstance(parsed, dict) and parsed.get("detail"):
            return str(parsed["detail"])
    return body.decode("utf-8", errors="replace")[:500] or fallback


def _input(column: str, kind: str, key: str) -> Any:
    if kind == "integer":
        return st.number_input(column, value=0, step=1, key=key)
    if kind == "number":
        return st.number_input(column, value=0.0, format="%g", key=key)
    if kind == "boolean":
        return st.toggle(column, key=key)
    return st.text_input(column, key=key)


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
        with st.form(f"try-{endpoint.name}"):
            st.markdown("**Try it**: fill in one row and ask the model")
            columns = st.columns(min(3, len(endpoint.input_schema)))
            row = {}
            for i, (column, kind) in enumerate(endpoint.input_schema.items()):
                with columns[i % len(columns)]:
                    row[column] = _input(column, kind, key=f"try-{endpoint.name}-{column}")
            if st.form_submit_button("Predict"):
                ok, answer = predict(endpoint.url, row)
                if ok:
                    st.success(f"Prediction: **{answer['predictions'][0]}**")
                    if answer.get("probabilities"):
                        st.bar_chart(answer["probabilities"][0])
                else:
                    st.error(str(answer))


def endpoints_page() -> None:
    st.header("Endpoints")
    endpoints = refresh_endpoints(store())
    if not endpoints:
        st.info("No endpoints are running. A pipeline with a 'Deploy endpoint' node starts one when it runs.")
        return
    for endpoint in endpoints:
        _endpoint_card(endpoint)
