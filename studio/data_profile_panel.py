"""The data node's panel: bring a file from the browser, see its profile, choose the target and column roles.

Everything here runs before the pipeline does. The profile (``nodes.data_profile``)
is computed in a worker thread, never in the Streamlit script thread, and kept
by the node's params and the file's fingerprint (an uploaded dataset's content
digest, or a file's size and modification time), so selecting the node again
costs nothing. While it is being computed the panel says so and looks again
every half second.

Every choice (upload, target, roles, types, the one-click fix for missing
targets) lands in the node's params, so the CLI and the studio behave the same.
"""

from __future__ import annotations

import json
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import streamlit as st

from compiler import EdgeSpec, NodeSpec, Pipeline

__all__ = ["data_node_panel", "cached_profile", "add_rows_fix", "UPLOAD_TYPES"]

UPLOAD_TYPES = ["csv", "tsv", "txt", "parquet", "pq", "xlsx"]
_ROLES = ["auto", "feature", "id", "ignore"]
_TYPES = ["auto", "number", "category", "text", "date", "boolean"]
_MAX_KEPT = 32
_lock = threading.Lock()


@st.cache_resource
def _profiles() -> dict[str, Future]:
    return {}


@st.cache_resource
def _pool() -> ThreadPoolExecutor:
    return ThreadPoolExecutor(max_workers=2, thread_name_prefix="pipecanvas-profile")


def _profile_future(params: Any) -> Future:
    from nodes.data import FileTable
    from nodes.data_profile import profile_source

    key = json.dumps([params.model_dump(mode="json"), FileTable.source_fingerprint(params)], sort_keys=True)
    futures = _profiles()
    with _lock:
        if key not in futures:
            futures[key] = _pool().submit(profile_source, FileTable, params)
            while len(futures) > _MAX_KEPT:
                futures.pop(next(iter(futures)))
        return futures[key]


def _params_of(pipeline: Pipeline, node_id: str) -> Any:
    from pydantic import ValidationError

    from nodes.data import FileParams

    node = pipeline.node(node_id)
    if node is None:
        return None
    try:
        return FileParams.model_validate(node.params)
    except ValidationError:
        return None


def cached_profile(pipeline: Pipeline, node_id: str, wait: float = 3.0) -> Any:
    """The data node's profile if it is ready within ``wait`` seconds, else None (unknown or unreadable)."""
    params = _params_of(pipeline, node_id)
    if params is None:
        return None
    future = _profile_future(params)
    try:
        return future.result(timeout=wait)
    except Exception:
        return None


def data_node_panel(pipeline: Pipeline, node_id: str, revision: int) -> dict[str, Any] | None:
    """Draw the panel under the data node's form; return the params to change, or None."""
    node = pipeline.node(node_id)
    if node is None:
        return None
    changed = _upload(node, revision)
    if changed:
        return changed
    params = _params_of(pipeline, node_id)
    if params is None:
        return None
    future = _profile_future(params)
    try:  # a small file is ready at once; a large one is polled while the page stays usable
        future.result(timeout=2.0)
    except TimeoutError:
        _wait_for(future)
        return None
    except Exception:
        pass
    try:
        profile = future.result()
    except Exception as exc:  # NodeInputError and anything an untrusted file can raise
        st.warning(f"No profile: {exc}")
        return None
    return _profile_view(pipeline, node, profile, revision)


def _upload(node: NodeSpec, revision: int) -> dict[str, Any] | None:
    limit = st.get_option("server.maxUploadSize")
    upload = st.file_uploader(
        f"Upload a file (CSV, TSV, Parquet or Excel; up to {limit} MB)", type=UPLOAD_TYPES,
        key=f"dataset-upload-{revision}-{node.id}",
        help="Stored once by content in the dataset store; the pipeline names it by file name and sha256 digest.",
    )
    if upload is None:
        return None
    from runtime.datasets import add_dataset
    from nodes.errors import PipecanvasError

    try:
        stored = add_dataset(upload, upload.name)  # streamed to disk in chunks while it is hashed
    except PipecanvasError as exc:
        st.error(f"{upload.name} could not be added: {exc}")
        return None
    params = stored.params()
    if node.params.get("path") == params["path"] and node.params.get("digest") == params["digest"]:
        return None
    for name in params:  # the form's text boxes were drawn with the old values: let them show the new ones
        st.session_state.pop(f"param-{revision}-{node.id}-{name}", None)
    return params


def _wait_for(future: Future) -> None:
    @st.fragment(run_every=0.5)
    def poll() -> None:
        if future.done():
            st.rerun()
        st.caption("Profiling the data…")

    poll()


def _profile_view(pipeline: Pipeline, node: NodeSpec, profile: Any, revision: int) -> dict[str, Any] | None:
    changed: dict[str, Any] = {}
    st.markdown(f"**Data:** {profile.rows} rows, {len(profile.columns)} columns")
    if profile.task is not None:
        st.caption(f"Target `{profile.target}` → **{profile.task.describe()}**")
    for column, reason in profile.left_out.items():
        st.caption(f":orange[Not a feature:] `{column}` — {reason.split(';')[0]}")
    fix = _missing_target_fix(pipeline, node, profile, revision)
    if fix is not None:
        return {"__pipeline__": fix}
    with st.expander("First rows", expanded=False):
        st.dataframe(profile.head, hide_index=True)
    summary = [{
        "column": c.name, "type": c.kind, "role": c.role, "missing": c.missing, "distinct": c.distinct,
        "min": "" if c.minimum is None else str(c.minimum), "max": "" if c.maximum is None else str(c.maximum),
        "top values": ", ".join(f"{v} ({n})" for v, n in c.top[:3]),
        "read as missing": ", ".join(f"{s!r}×{n}" for s, n in c.missing_strings.items()),
    } for c in profile.columns]
    st.dataframe(summary, hide_index=True)
    _histogram(profile, revision, node.id)
    roles = _roles_editor(node, profile, revision)
    if roles is not None:
        changed["columns"] = roles
        st.session_state.pop(f"param-{revision}-{node.id}-columns", None)  # the form's YAML line shows the new roles
    return changed or None


def _histogram(profile: Any, revision: int, node_id: str) -> None:
    import altair as alt
    import pandas as pd

    from .metric_charts import labelled_bars

    names = [c.name for c in profile.columns if c.histogram or c.top]
    if not names:
        return
    name = st.selectbox("Distribution of", names, key=f"profile-hist-{revision}-{node_id}")
    column = profile.column(name)
    if column.histogram:
        data = pd.DataFrame(column.histogram, columns=["from", "to", "rows"])
        chart = alt.Chart(data).mark_bar().encode(x=alt.X("from:Q", bin="binned", title=name), x2="to:Q",
                                                  y=alt.Y("rows:Q", title="rows")).properties(height=160)
    else:
        chart = labelled_bars(dict(column.top), name, "rows")  # the values named in full, down the side
    st.altair_chart(chart, width="stretch")


def _roles_editor(node: NodeSpec, profile: Any, revision: int) -> dict[str, Any] | None:
    """Role and type per column; only choices other than auto are written to the params."""
    current = node.params.get("columns") if isinstance(node.params.get("columns"), dict) else {}
    rows = [{"column": c.name, "role": (current.get(c.name) or {}).get("role", "auto"),
             "type": (current.get(c.name) or {}).get("type", "auto")} for c in profile.columns if c.role != "target"]
    dropped = [name for name, setting in current.items() if (setting or {}).get("role") == "ignore"]
    rows += [{"column": name, "role": "ignore", "type": (current[name] or {}).get("type", "auto")} for name in dropped
             if name not in {r["column"] for r in rows}]
    with st.expander("Column roles and types", expanded=False):
        edited = st.data_editor(
            rows, hide_index=True, disabled=["column"], key=f"profile-roles-{revision}-{node.id}",
            column_config={"role": st.column_config.SelectboxColumn("role", options=_ROLES, required=True),
                           "type": st.column_config.SelectboxColumn("type", options=_TYPES, required=True)},
        )
    settings = {}
    for row in edited:
        entry = {k: row[k] for k in ("role", "type") if row.get(k) not in (None, "auto")}
        if entry:
            settings[row["column"]] = entry
    return settings if settings != current else None


def _missing_target_fix(pipeline: Pipeline, node: NodeSpec, profile: Any, revision: int) -> Pipeline | None:
    target = profile.column(profile.target) if profile.target else None
    if target is None or not target.missing:
        return None
    st.warning(f"Target `{profile.target}` has {target.missing} missing value(s).")
    if st.button(f"Add a 'Filter rows' node that drops them", key=f"fix-target-{revision}-{node.id}"):
        return add_rows_fix(pipeline, node.id, profile.target)
    return None


def add_rows_fix(pipeline: Pipeline, node_id: str, target: str) -> Pipeline:
    """``pipeline`` with a prepare.rows node (drop_missing: [target]) between ``node_id`` and what it fed."""
    taken = {n.id for n in pipeline.spec.nodes}
    new_id = next(f"{node_id}-rows{'' if i == 0 else f'-{i}'}"[:40] for i in range(100)
                  if f"{node_id}-rows{'' if i == 0 else f'-{i}'}"[:40] not in taken)
    source = pipeline.node(node_id)
    ui = source.ui.model_copy(update={"y": source.ui.y + 120}) if source is not None and source.ui else None
    rows = NodeSpec.model_validate({"id": new_id, "type": "prepare.rows", "params": {"drop_missing": [target]},
                                    **({"ui": ui.model_dump()} if ui else {})})
    edges = []
    for edge in pipeline.spec.edges:
        if edge.from_ == f"{node_id}.table":
            edge = edge.model_copy(update={"from_": f"{new_id}.table"})
        edges.append(edge)
    edges.append(EdgeSpec.model_validate({"from": f"{node_id}.table", "to": f"{new_id}.table"}))
    spec = pipeline.spec.model_copy(update={"nodes": [*pipeline.spec.nodes, rows], "edges": edges})
    return pipeline.model_copy(update={"spec": spec})
