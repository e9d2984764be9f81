"""Starting runs from the Build page: Run, Resume over changes, and a node's "Run to here".

Every start goes through ``start_canvas_run``, so the backend chosen and the cluster
settings apply to each alike; a pre-flight's findings are kept on the studio state
to show on their nodes. ``node_run_panel`` is the top of a node's Properties tab:
where a GPU node will run, and the button that runs the node and what feeds it.
"""

from __future__ import annotations

from collections.abc import Callable

import streamlit as st

from compiler.graph import build_graph
from nodes import NodeType
from nodes.errors import PipecanvasError
from runtime.kubernetes.preflight import PreflightError
from runtime.machine import where_it_runs
from runtime.runs import start_run

from .problems import Problems
from .session import Studio, catalog

__all__ = ["guarded", "node_run_panel", "start_canvas_run"]


def start_canvas_run(s: Studio, to: str | None = None) -> None:
    """Run the pipeline on the canvas (``to``: only that node and its ancestors); the run is shown at once."""
    s.preflight = []
    part = {"to": to} if to else {}
    try:
        if s.backend == "kubernetes":
            s.run_id = start_run(s.pipeline, backend="kubernetes", **part,
                                 kubernetes={k: v for k, v in s.cluster.items() if v is not None})
        else:
            s.run_id = start_run(s.pipeline, **part)
    except PreflightError as exc:
        s.preflight = exc.diagnostics
        raise


def guarded(s: Studio, failure: str, action: Callable[[], object]) -> None:
    """Run a button's action; keep its failure in ``s.notice`` so it survives the rerun that follows."""
    try:
        action()
    except PipecanvasError as exc:
        s.notice = f"{failure}: {exc}"
    else:
        s.notice = None


def node_run_panel(s: Studio, node_id: str, problems: Problems, active: bool) -> None:
    """Where a GPU node runs, and "Run to here": the node and its ancestors, unchanged steps from the cache.

    ``active``: a run is going on, so "Run to here" waits for it.
    """
    node = s.pipeline.node(node_id)
    if node is None:
        return
    _install_commands(node_id, catalog().get(node.type), problems)
    where = where_it_runs(node, s.pipeline, catalog(), s.backend)
    if where:
        st.caption(f":material/memory: {where}")
    upstream = build_graph(s.pipeline).ancestors(node_id) | {node_id}
    in_the_way = [d for d in problems.blocking if d.node is None or d.node in upstream]
    if in_the_way:
        why = f"Fix the {len(in_the_way)} error(s) in this node or upstream of it first"
    elif active:
        why = "A run is going on; wait for it or cancel it"
    else:
        why = (f"Run `{node_id}` and the {len(upstream) - 1} node(s) it depends on, as they are now; "
               "steps that did not change come from the cache")
    if st.button("Run to here", icon=":material/play_arrow:", key=f"run-to-{node_id}", help=why,
                 disabled=bool(in_the_way) or active):
        guarded(s, "The run could not start", lambda: start_canvas_run(s, to=node_id))
        st.rerun()


def _install_commands(node_id: str, node_type: type[NodeType] | None, problems: Problems) -> None:
    """The install command of each package the machine check found missing for this node, to copy.

    The finding itself is listed with the problems below; this only makes its command copyable.
    """
    if node_type is None:
        return
    found = [d.message for d in problems.all if d.node == node_id]
    for need in node_type.needs:
        if any(f"`{need.install}`" in message for message in found):
            st.caption(f":material/download: To run it here, install {need.title}, then reload the page:")
            st.code(need.install, language="bash")
