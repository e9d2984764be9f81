"""The "try it" form of a deployed model: the values training saw, unseen ones flagged, and the same request as curl.

A form that starts every number at 0 and takes categories as free text gets
typos a confident prediction. So the form reads the model's details file (the
studio never opens a model file; ``nodes.model_meta``) of what the endpoint
checks requests against (its cleaning recipe when it has one, else the model):
numbers start at their training median, a text column is a dropdown of the
categories training saw (most frequent first). Only where training saw more
categories than were kept may a new value be typed; such a value is named as
unseen, and the model is asked only once the analyst ticks that they mean it.

Below the form, the request it sends is a curl command to copy: every piece
goes through ``shlex.quote`` (the body is JSON from ``json.dumps``), so values
with quotes, spaces or ``$`` reach the endpoint as typed.
"""

from __future__ import annotations

import json
import shlex
import urllib.error
import urllib.request
from typing import Any

import streamlit as st

from compiler import load_plan_yaml
from nodes.errors import ArtifactReadError
from nodes.model_meta import ColumnValues, read_model_meta
from runtime.run_store import EndpointRecord

from .run_status import store

__all__ = ["curl_command", "predict", "unseen_values", "training_values_of", "try_it_form"]


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


def curl_command(url: str, row: dict[str, Any]) -> str:
    """A shell command that sends ``row`` to ``url``/predict as the form does."""
    body = json.dumps({"rows": [row]})
    return shlex.join(["curl", "-sS", "-X", "POST", "-H", "Content-Type: application/json", "--data", body,
                       f"{url}/predict"])


def unseen_values(row: dict[str, Any], values: dict[str, ColumnValues]) -> dict[str, Any]:
    """The row's text values that training did not see in their column (columns without categories are not checked)."""
    return {
        column: value for column, value in row.items()
        if isinstance(value, str) and (seen := values.get(column)) and seen.categories and value not in seen.categories
    }


def training_values_of(endpoint: EndpointRecord) -> tuple[dict[str, ColumnValues], str | None]:
    """What the endpoint's input columns held at training, and a note when that cannot be known."""
    uri = _checked_model_uri(endpoint)
    if uri is None:
        return {}, None
    try:
        summary = read_model_meta(uri)
    except ArtifactReadError as exc:
        return {}, str(exc)
    except (ImportError, ValueError) as exc:  # a store this studio has no fsspec driver for (e.g. s3 without s3fs)
        return {}, f"its details at {uri} cannot be opened here: {exc}"
    return ({}, None) if summary is None else (summary.training_values, None)


def _checked_model_uri(endpoint: EndpointRecord) -> str | None:
    """The file the endpoint checks requests with: the deploy step's cleaning recipe if it has one, else its model."""
    run = store().get_run(endpoint.run_id) if endpoint.run_id else None
    if run is None or not endpoint.step_id:
        return None
    try:
        step = load_plan_yaml(run.plan_yaml).step(endpoint.step_id)
    except (KeyError, ValueError):  # a plan without that step (it was renamed since): no training values
        return None
    source = step.inputs.get("preprocessor") or step.inputs.get("model")
    return None if source is None else source.uri


def try_it_form(endpoint: EndpointRecord) -> None:
    values, problem = training_values_of(endpoint)
    if problem:
        st.caption(f"The form cannot offer the values seen in training: {problem}")
    key = f"try-{endpoint.name}-{endpoint.started_at:.0f}"
    with st.form(key):
        st.markdown("**Try it**: fill in one row and ask the model")
        columns = st.columns(min(3, len(endpoint.input_schema)))
        row = {}
        for i, (column, kind) in enumerate(endpoint.input_schema.items()):
            with columns[i % len(columns)]:
                row[column] = _input(column, kind, values.get(column), key=f"{key}-{column}")
        free = any(v.more for v in values.values() if v.categories)
        anyway = free and st.checkbox("Predict even with values not seen in training", key=f"{key}-anyway")
        asked = st.form_submit_button("Predict")
    if asked:
        _answer(endpoint, row, unseen_values(row, values), anyway)
    st.caption("The same request from a terminal:")
    st.code(curl_command(endpoint.url, row), language="bash", wrap_lines=True)


def _answer(endpoint: EndpointRecord, row: dict[str, Any], unseen: dict[str, Any], anyway: bool) -> None:
    if unseen:
        named = ", ".join(f"{column} = {value!r}" for column, value in unseen.items())
        if not anyway:
            st.warning(f"Not seen in training: {named}. Check the spelling, or tick \"Predict even with values "
                       "not seen in training\" to ask the model anyway.", icon=":material/warning:")
            return
        st.warning(f"Not seen in training: {named}; the model treats it as unknown.", icon=":material/warning:")
    ok, answer = predict(endpoint.url, row)
    if ok:
        st.success(f"Prediction: **{answer['predictions'][0]}**")
        if answer.get("probabilities"):
            from .metric_charts import labelled_bars  # altair only once there is a chart to draw

            st.altair_chart(labelled_bars(answer["probabilities"][0], "class", "probability", percent=True),
                            width="stretch")
    else:
        st.error(str(answer))


def _input(column: str, kind: str, seen: ColumnValues | None, key: str) -> Any:
    """One field: numbers start at the training median, text is a dropdown of the training categories."""
    median = seen.median if seen is not None else None
    if kind == "integer":
        return st.number_input(column, value=int(round(median)) if median is not None else 0, step=1, key=key)
    if kind == "number":
        return st.number_input(column, value=float(median) if median is not None else 0.0, format="%g", key=key)
    if kind == "boolean":
        return st.toggle(column, key=key)
    if seen is not None and seen.categories:
        options = sorted(seen.categories)
        help_text = ("Categories seen in training, of more; another value may be typed" if seen.more
                     else "The categories seen in training")
        return st.selectbox(column, options, index=options.index(seen.categories[0]), key=key, help=help_text,
                            accept_new_options=seen.more)
    return st.text_input(column, key=key)
