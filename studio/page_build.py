"""The Build page: the canvas, the properties of the selected node, problems, files, and runs."""

from __future__ import annotations

import time
from collections.abc import Callable

import streamlit as st

from compiler import SpecError, dump_pipeline, parse_pipeline
from nodes.errors import PipecanvasError
from runtime.kubernetes.preflight import PreflightError
from runtime.run_store import RunRecord
from runtime.runs import cancel_run, resume_run, start_run

from .backend_choice import backend_panel
from .canvas import canvas, pending_graph, pending_selection
from .canvas.graph import apply_graph, pipeline_to_graph
from .drafts import autosave, follow_draft_link, keep_draft_link, name_if_unnamed, recent_drafts
from .outdated import Freshness, freshness
from .outputs import log_tail, show_outputs
from .properties import properties_panel
from .run_status import canvas_status, run_record, store
from .run_link import follow_run_link, keep_run_link
from .session import EXAMPLES, Studio, blank_pipeline, catalog, catalog_description, studio

__all__ = ["build_page"]

_CANVAS_KEY = "canvas"
_SEEN_KEY = "_pipecanvas_run_shown"
_FRESHNESS_KEY = "_pipecanvas_freshness"
_UPLOAD_ROUNDS = "_pipecanvas_upload_rounds"
_POLL_SECONDS = 0.5
#: The canvas polls the run store faster, so a step's new state shows within a second (benchmarks/canvas.py).
_CANVAS_POLL_SECONDS = 0.25


def _files_sidebar(s: Studio, yaml_text: str) -> None:
    st.sidebar.header("Pipeline")
    examples = sorted(p.name for p in EXAMPLES.glob("*.yaml"))
    choice = st.sidebar.selectbox("New from the gallery", ["blank canvas", *examples], key="gallery-choice")
    if st.sidebar.button("Create", key="gallery-open", width="stretch", help="Replace the canvas with this example"):
        if choice == "blank canvas":
            s.offer(blank_pipeline(), "new pipeline", current_yaml=yaml_text)
        else:
            s.offer(parse_pipeline((EXAMPLES / choice).read_bytes(), source=choice).pipeline, choice,
                    current_yaml=yaml_text)
        st.rerun()
    rounds = st.session_state.setdefault(_UPLOAD_ROUNDS, 0)
    upload = st.sidebar.file_uploader("Open a YAML file", type=["yaml", "yml"], key=f"upload-{s.revision}-{rounds}")
    if upload is not None:
        try:
            loaded = parse_pipeline(upload.getvalue(), source=upload.name).pipeline
        except SpecError as exc:
            st.sidebar.error(f"{upload.name} could not be opened; your current pipeline is unchanged.")
            for d in exc.diagnostics:
                st.sidebar.caption(f"line {d.line}: {d.message}" if d.line else d.message)
        else:
            st.session_state[_UPLOAD_ROUNDS] = rounds + 1  # taken: the uploader starts empty again
            s.offer(loaded, upload.name, current_yaml=yaml_text)
            st.rerun()
    if st.sidebar.download_button("Save YAML", yaml_text, file_name=f"{s.pipeline.metadata.name}.yaml",
                                  mime="application/x-yaml", width="stretch", key="save-yaml"):
        s.opened_yaml = yaml_text  # in a file now: replacing the canvas need not ask
    # Drawn only while open: highlighting a 250-node pipeline's YAML costs the browser ~0.3 s on every page load.
    with st.sidebar.expander("YAML (read-only)", key="yaml-view", on_change="rerun") as view:
        if view.open:
            st.code(yaml_text, language="yaml")
    _drafts_list(s)


def _drafts_list(s: Studio) -> None:
    """The pipelines saved as drafts, newest edit first; opening one goes through the same question."""
    drafts = [d for d in recent_drafts() if d.id != s.draft_id]
    if not drafts:
        return
    with st.sidebar.expander(f"Drafts ({len(drafts)})", key="drafts-list"):
        labels = {d.id: f"{d.name} · {time.strftime('%d %b %H:%M', time.localtime(d.updated_at))}" for d in drafts}
        picked = st.selectbox("Draft", list(labels), format_func=labels.get, key="draft-choice")
        if st.button("Open draft", key="draft-open", width="stretch"):
            draft = next(d for d in drafts if d.id == picked)
            try:
                loaded = parse_pipeline(draft.pipeline_yaml, source=f"draft {draft.id}").pipeline
            except SpecError as exc:
                st.sidebar.error(f"Draft {draft.id} could not be opened: {exc}")
                return
            s.offer(loaded, f"draft {draft.name}", current_yaml=dump_pipeline(s.pipeline), draft_id=draft.id)
            st.rerun()


def _confirm_replace(s: Studio) -> None:
    """Ask before a file, an example or a run replaces a canvas with unsaved changes."""
    pending = s.pending
    if pending is None:
        return
    where = f" (kept as draft `{s.draft_id}`, listed under Drafts in the sidebar)" if s.draft_id else ""
    with st.container(border=True, key="confirm-replace"):
        st.warning(f"Replace the canvas with **{pending.source}**? Your changes to "
                   f"**{s.pipeline.metadata.name}** are not in a file{where}.", icon=":material/warning:")
        left, right, _ = st.columns([1, 1, 3])
        if left.button("Replace", key="confirm-replace-yes", type="primary", width="stretch"):
            s.open(pending.pipeline, pending.source, pending.run_id, draft_id=pending.draft_id)
            st.rerun()
        if right.button("Keep editing", key="confirm-replace-no", width="stretch"):
            s.pending = None
            st.rerun()


def _name_bar(s: Studio) -> None:
    left, right = st.columns([3, 2])
    key = f"name-{s.revision}"
    shown = {} if key in st.session_state else {"value": s.pipeline.metadata.name}  # a derived name is preset there
    name = left.text_input("Pipeline name", key=key, help="Lowercase letters, digits and '-', e.g. iris-classifier.",
                           **shown)
    if name != s.pipeline.metadata.name:
        s.named = True
        metadata = s.pipeline.metadata.model_copy(update={"name": name})
        s.replace(s.pipeline.model_copy(update={"metadata": metadata}), structural=False)
    with right:
        backend_panel(s)


def _run_bar(s: Studio, errors: list, run: RunRecord | None, fresh: Freshness | None) -> None:
    active = run is not None and not run.finished
    cols = st.columns([1, 1, 1, 4])
    reason = f"Fix {len(errors)} problem(s) first" if errors else None
    if cols[0].button("▶ Run", type="primary", disabled=bool(errors) or active, help=reason, key="run", width="stretch"):
        _guarded(s, "The run could not start", lambda: _start(s))
        st.rerun()
    if cols[1].button("Cancel", disabled=not active, key="cancel", width="stretch"):
        _guarded(s, "The run could not be cancelled", lambda: cancel_run(s.run_id))
        st.rerun()
    can_resume = run is not None and run.finished and run.state.value != "succeeded"
    changed = fresh is not None and fresh.changed
    if changed:  # the stored run is not what the canvas shows: run the canvas, the unchanged steps come from the cache
        resume_help = (reason or f"Run the pipeline as it is now; the steps that did not change since run {s.run_id} "
                       "are taken from its results")
    else:
        resume_help = "Re-run the failed and skipped steps, reusing the ones that succeeded"
    if cols[2].button("Resume", disabled=not can_resume or (changed and bool(errors)), key="resume", width="stretch",
                      help=resume_help):
        if changed:
            _guarded(s, "The run could not be resumed", lambda: _start(s))
        else:
            _guarded(s, "The run could not be resumed", lambda: resume_run(s.run_id))
        st.rerun()
    with cols[3]:
        _run_line(errors, run)
    if s.notice:
        st.error(s.notice)


def _run_line(errors: list, run: RunRecord | None) -> None:
    """Why Run is disabled, or the run's state (``_watch_run`` reruns the page when it changes)."""
    if errors:
        first = f": {errors[0].message}" if len(errors) == 1 else " (see the list below)"
        st.warning(f"Run is disabled: {len(errors)} problem(s) to fix{first}.")
    elif run is not None:
        st.info(f"Run `{run.id}`: **{run.state.value}**" + (f" — {run.error}" if run.error else ""))


def _start(s: Studio) -> None:
    s.preflight = []
    try:
        if s.backend == "kubernetes":
            s.run_id = start_run(s.pipeline, backend="kubernetes",
                                 kubernetes={k: v for k, v in s.cluster.items() if v is not None})
        else:
            s.run_id = start_run(s.pipeline)
    except PreflightError as exc:
        s.preflight = exc.diagnostics
        raise


def _guarded(s: Studio, failure: str, action: Callable[[], object]) -> None:
    """Run a button's action; keep its failure in ``s.notice`` so it survives the rerun that follows."""
    try:
        action()
    except PipecanvasError as exc:
        s.notice = f"{failure}: {exc}"
    else:
        s.notice = None


def _freshness(s: Studio) -> Freshness | None:
    """What changed on the canvas since the run shown; computed once per edit (the run's keys never change)."""
    if not s.run_id:
        return None
    cached = st.session_state.get(_FRESHNESS_KEY)
    if cached and cached[0] == s.run_id and cached[1] is s.pipeline:
        return cached[2]
    steps = store().steps(s.run_id)
    result = freshness(s.pipeline, catalog(), steps) if steps else None
    st.session_state[_FRESHNESS_KEY] = (s.run_id, s.pipeline, result)
    return result


def _canvas_area(s: Studio, diagnostics: list, run: RunRecord | None, fresh: Freshness | None) -> None:
    """The canvas, drawn with the page (never in a fragment; ``_watch_run`` reruns the page for new states).

    Streamlit now and then drops and re-creates a component that sits in a fragment calling ``st.rerun()``
    (under load), and it re-creates it when it moves in or out of a fragment: either way the canvas would
    lose its viewport and any edit it has not sent yet. ``run`` is read before the steps: when it has
    ended, so have they.
    """
    status = canvas_status(s.run_id)
    st.session_state[_SEEN_KEY] = _progress(run, status)
    for node_id in fresh.outdated if fresh else ():
        if node_id in status and status[node_id]["state"] in ("succeeded", "cached", "failed"):
            status[node_id] = {**status[node_id], "outdated": True}
    result = canvas(catalog_description(), pipeline_to_graph(s.pipeline, diagnostics), s.revision, status, s.selected,
                    key=_CANVAS_KEY, selection_revision=s.selection_revision)
    if result.graph is not None:  # build_page applies an edit before drawing; this one came in meanwhile
        s.replace(apply_graph(s.pipeline, result.graph), structural=False)
        st.rerun()
    if result.selection is not None:  # the node panel is drawn after the canvas: it follows in this run
        s.follow_canvas(result.selection.nodes, result.selection.primary)


def _progress(run: RunRecord | None, status: dict) -> tuple | None:
    """What the page shows of a run: whether it ended, its state, and each step's state and attempt."""
    if run is None:
        return None
    steps = tuple(sorted((step, value["state"], value["attempt"]) for step, value in status.items()))
    return run.finished, run.state.value, steps


def _watch_run(s: Studio) -> None:
    """Until the page shows the run's end, poll the store and rerun the page as soon as anything changes state.

    It goes by what the canvas was drawn with, not by a fresh read: a run that ended while the page was
    being drawn still gets the rerun that shows its end.
    """
    shown = st.session_state.get(_SEEN_KEY)
    if shown is None or shown[0]:
        return

    @st.fragment(run_every=_CANVAS_POLL_SECONDS)
    def watch() -> None:
        run = run_record(s.run_id)
        if _progress(run, canvas_status(s.run_id)) != st.session_state.get(_SEEN_KEY):
            st.rerun()

    watch()


def _problems(s: Studio, diagnostics: list) -> None:
    if not s.pipeline.spec.nodes:
        st.info("Drag a node from the palette onto the canvas to start, or open an example from the sidebar.")
        return
    if not diagnostics:
        st.success("No problems: the pipeline is ready to run.")
        return
    st.markdown(f"**Problems ({len(diagnostics)})**")
    for i, d in enumerate(diagnostics):
        # Streamlit's own icon font, not emoji: a browser without an emoji font would draw empty boxes.
        error = d.severity == "error"
        icon, label = (":material/error:", "Error") if error else (":material/warning:", "Warning")
        if d.node and st.button(f"{label}: {d.message}", icon=icon, key=f"problem-{i}", help="Select this node"):
            s.select(d.node)
            st.rerun()
        elif not d.node:
            st.markdown(f"{icon} {':red' if error else ':orange'}[{label}:] {d.message}")


def _node_panel(s: Studio, fresh: Freshness | None) -> None:
    if not s.selected or s.pipeline.node(s.selected) is None:
        st.caption("Select a node on the canvas to see its settings and outputs.")
        return
    node = s.pipeline.node(s.selected)
    if len(s.selection) > 1:
        st.caption(f"{len(s.selection)} nodes selected ({', '.join(s.selection)}); Delete removes them all. "
                   f"The form shows `{node.id}`, selected last.")
    tabs = st.tabs(["Properties", "Outputs", "Logs"])
    with tabs[0]:
        updated = properties_panel(s.pipeline, node.id, catalog().get(node.type), s.revision)
        if updated is not None:
            s.replace(updated, structural=False)
            st.rerun()
    step = store().step(s.run_id, node.id) if s.run_id else None
    with tabs[1]:
        if step is None:
            st.caption("Run the pipeline to see this node's outputs.")
        else:
            if fresh is not None and node.id in fresh.outdated:
                st.warning(f"From the previous run ({s.run_id}): this node or a step upstream of it changed since, "
                           "so these results are out of date. Run (or Resume) to update them.",
                           icon=":material/history:")
            st.caption(f"{step.state.value} · attempt {step.attempt}" + (f" · {step.reason}" if step.reason else ""))
            if step.error:
                st.error(step.error)
            elif step.state.value in ("queued", "running"):
                details = [e.detail for e in store().events(s.run_id) if e.step_id == node.id and e.detail]
                if details and details[-1] != step.reason:
                    st.info(details[-1])  # e.g. why a pod is still Pending on the cluster
            show_outputs([(port, kind, uri) for sid, port, kind, uri in store().artifacts(s.run_id) if sid == node.id])
    with tabs[2]:
        _logs(s, node.id)


def _logs(s: Studio, node_id: str) -> None:
    run = run_record(s.run_id)
    if run is None:
        st.caption("No run yet.")
        return

    @st.fragment(run_every=_POLL_SECONDS if not run.finished else None)
    def follow() -> None:
        step = store().step(s.run_id, node_id)
        text = log_tail(step.log_path if step else None)
        st.code(text or "(no output yet)", language="log")

    follow()


def build_page() -> None:
    s = studio()
    follow_run_link(s, draft_opened=follow_draft_link(s))
    edit = pending_graph(_CANVAS_KEY, s.revision)
    if edit is not None:
        s.replace(apply_graph(s.pipeline, edit), structural=False)
    picked = pending_selection(_CANVAS_KEY)  # after the edit: a node just deleted is no longer selectable
    if picked is not None:
        s.follow_canvas(picked.nodes, picked.primary)
    name_if_unnamed(s, f"name-{s.revision}")
    _files_sidebar(s, dump_pipeline(s.pipeline))
    _confirm_replace(s)
    _name_bar(s)
    found = s.diagnostics()  # the compiler's checks, run once per page run
    diagnostics = found + s.preflight
    errors = [d for d in found if d.severity == "error"]
    run = run_record(s.run_id)  # once, before the steps are read: the page shows one moment of the run
    fresh = _freshness(s)
    _run_bar(s, errors, run, fresh)
    _canvas_area(s, diagnostics, run, fresh)
    left, right = st.columns([3, 2])
    with left:
        _node_panel(s, fresh)
    with right:
        _problems(s, diagnostics)
    autosave(s, dump_pipeline(s.pipeline))  # every edit reruns the page: it is saved before the next one
    keep_run_link(s)
    keep_draft_link(s)
    _watch_run(s)  # last: the canvas above has recorded what it shows
