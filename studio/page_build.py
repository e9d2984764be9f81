"""The Build page: the canvas, the properties of the selected node, problems, files, and runs."""

from __future__ import annotations

import time

import streamlit as st

from compiler import Diagnostic, SpecError, dump_pipeline, parse_pipeline
from runtime.run_store import RunRecord, StepRecord
from runtime.runs import cancel_run, resume_run

from .backend_choice import backend_panel
from .canvas import canvas, pending_graph, pending_selection
from .canvas.graph import apply_graph, pipeline_to_graph
from .drafts import autosave, follow_draft_link, keep_draft_link, name_if_unnamed, open_draft, recent_drafts
from .outdated import Freshness, freshness
from .outputs import log_tail, show_outputs
from .problems import START_HINT, Problems, problems_of
from .properties import properties_panel
from .run_actions import guarded, node_run_panel, start_canvas_run
from .run_banner import show_run_banner
from .run_status import canvas_status, run_record, run_warnings, store
from .run_link import follow_run_link, keep_run_link
from .session import EXAMPLES, Studio, blank_pipeline, catalog, catalog_description, studio

__all__ = ["build_page"]

_CANVAS_KEY = "canvas"
_SEEN_KEY = "_pipecanvas_run_shown"
_FRESHNESS_KEY = "_pipecanvas_freshness"
_WARNINGS_KEY = "_pipecanvas_run_warnings"
_UPLOAD_ROUNDS = "_pipecanvas_upload_rounds"
_POLL_SECONDS = 0.5
_PANEL_KEY = "side-panel"
_PANEL_WIDTH_KEY = "panel-width"
_PANEL_WIDTH_DEFAULT = 32  # percent of the page's width
_PANEL_WIDTH_LEAST = 25
_PANEL_WIDTH_MOST = 60
#: An editor's page: less padding around the main area (the canvas measures the height it can fill), and the
#: panel beside the canvas scrolls by itself, so the canvas stays in view.
_PAGE_STYLE = f"""<style>
[data-testid="stMainBlockContainer"] {{ padding: 4.25rem 1.5rem 0 1.5rem; }}
.st-key-{_PANEL_KEY} {{ max-height: calc(100vh - 10.5rem); overflow-y: auto; overflow-x: hidden; padding-right: 0.4rem; }}
[class*="st-key-problem-"] button, [class*="st-key-problem-"] button * {{ justify-content: flex-start; text-align: left; }}
.st-key-run button, .st-key-cancel button, .st-key-resume button {{ padding-left: 0.4rem; padding-right: 0.4rem; }}
[data-testid="stColumn"]:has(.st-key-run), [data-testid="stColumn"]:has(.st-key-cancel),
[data-testid="stColumn"]:has(.st-key-resume) {{ min-width: max-content; }}
</style>"""
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
            problem = open_draft(s, next(d for d in drafts if d.id == picked), dump_pipeline(s.pipeline))
            if problem:
                st.sidebar.error(problem)
                return
            st.rerun()


def _confirm_replace(s: Studio) -> None:
    """Ask before a file, an example or a run replaces a canvas with unsaved changes."""
    pending = s.pending
    if pending is None:
        return
    where = f" (kept as draft `{s.draft_id}`, listed on the Pipelines page)" if s.draft_id else ""
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


def _name_input(s: Studio) -> None:
    key = f"name-{s.revision}"
    shown = {} if key in st.session_state else {"value": s.pipeline.metadata.name}  # a derived name is preset there
    name = st.text_input("Pipeline name", key=key, help="Lowercase letters, digits and '-', e.g. iris-classifier.",
                         **shown)
    if name != s.pipeline.metadata.name:
        s.named = True
        metadata = s.pipeline.metadata.model_copy(update={"name": name})
        s.replace(s.pipeline.model_copy(update={"metadata": metadata}), structural=False)


def _run_bar(s: Studio, problems: Problems, run: RunRecord | None, steps: list[StepRecord], fresh: Freshness | None,
             cols: list) -> None:
    """Run, Cancel, Resume and the run's state, in the columns of the bar the pipeline name starts."""
    active = run is not None and not run.finished
    blocked = problems.blocks_run
    reason = ("Add a node to the canvas first" if problems.empty else f"Fix the problems first: {problems.headline()}"
              ) if blocked else None
    if cols[0].button("▶ Run", type="primary", disabled=blocked or active, help=reason, key="run", width="stretch"):
        guarded(s, "The run could not start", lambda: start_canvas_run(s))
        st.rerun()
    if cols[1].button("Cancel", disabled=not active, key="cancel", width="stretch"):
        guarded(s, "The run could not be cancelled", lambda: cancel_run(s.run_id))
        st.rerun()
    can_resume = run is not None and run.finished and run.state.value != "succeeded"
    changed = fresh is not None and fresh.changed
    if changed:  # the stored run is not what the canvas shows: run the canvas, the unchanged steps come from the cache
        resume_help = (reason or f"Run the pipeline as it is now; the steps that did not change since run {s.run_id} "
                       "are taken from its results")
    else:
        resume_help = "Re-run the failed and skipped steps, reusing the ones that succeeded"
    if cols[2].button("Resume", disabled=not can_resume or (changed and blocked), key="resume", width="stretch",
                      help=resume_help):
        if changed:  # a "Run to here" run resumes to the same node
            guarded(s, "The run could not be resumed", lambda: start_canvas_run(s, to=run.options.get("to")))
        else:
            guarded(s, "The run could not be resumed", lambda: resume_run(s.run_id))
        st.rerun()
    with cols[3]:  # in the bar: an element appearing above the canvas would re-create it (losing its view)
        _run_line(problems, run, steps)
        if s.notice:
            st.error(s.notice)


def _run_line(problems: Problems, run: RunRecord | None, steps: list[StepRecord]) -> None:
    """Why Run is disabled, or the run's state (``_watch_run`` reruns the page when it changes)."""
    if problems.blocks_run and not problems.empty:
        if problems.count == 1:
            st.warning(f"Run is disabled: 1 error to fix: {problems.errors[0].message}.")
        else:
            st.warning(f"Run is disabled: fix the errors listed beside the canvas ({problems.headline()}).")
    elif run is not None:
        show_run_banner(run, steps)


def _freshness(s: Studio, steps: list[StepRecord]) -> Freshness | None:
    """What changed on the canvas since the run shown; computed once per edit (the run's keys never change)."""
    if not s.run_id:
        return None
    cached = st.session_state.get(_FRESHNESS_KEY)
    if cached and cached[0] == s.run_id and cached[1] is s.pipeline:
        return cached[2]
    result = freshness(s.pipeline, catalog(), steps) if steps else None
    st.session_state[_FRESHNESS_KEY] = (s.run_id, s.pipeline, result)
    return result


def _canvas_area(s: Studio, diagnostics: list, run: RunRecord | None, steps: list[StepRecord],
                 fresh: Freshness | None) -> list[Diagnostic]:
    """The canvas, drawn with the page (never in a fragment; ``_watch_run`` reruns the page for new states).

    Streamlit now and then drops and re-creates a component that sits in a fragment calling ``st.rerun()``
    (under load), and it re-creates it when it moves in or out of a fragment: either way the canvas would
    lose its viewport and any edit it has not sent yet. ``run`` is read before the steps: when it has
    ended, so have they. Returns the run's step warnings it drew as badges.
    """
    status = canvas_status(run, steps)
    progress = _progress(run, status)
    st.session_state[_SEEN_KEY] = progress
    for node_id in fresh.outdated if fresh else ():
        if node_id in status and status[node_id]["state"] in ("succeeded", "cached", "failed"):
            status[node_id] = {**status[node_id], "outdated": True}
    warnings = _run_warnings(s, steps, progress)
    drawn = pipeline_to_graph(s.pipeline, diagnostics + warnings)  # run warnings: badges only
    result = canvas(catalog_description(), drawn, s.revision, status, s.selected,
                    key=_CANVAS_KEY, selection_revision=s.selection_revision)
    if result.graph is not None:  # build_page applies an edit before drawing; this one came in meanwhile
        s.replace(apply_graph(s.pipeline, result.graph), structural=False)
        st.rerun()
    if result.selection is not None:  # the node panel is drawn after the canvas: it follows in this run
        s.follow_canvas(result.selection.nodes, result.selection.primary)
    return warnings


def _run_warnings(s: Studio, steps: list[StepRecord], progress: tuple | None) -> list[Diagnostic]:
    """The run's step warnings, read from the logs once per change of the run's progress (not per keystroke)."""
    if progress is None:
        return []
    cached = st.session_state.get(_WARNINGS_KEY)
    if cached and cached[0] == (s.run_id, progress):
        return cached[1]
    result = run_warnings(steps)
    st.session_state[_WARNINGS_KEY] = ((s.run_id, progress), result)
    return result


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
        steps = store().steps(s.run_id) if run is not None else []
        if _progress(run, canvas_status(run, steps)) != st.session_state.get(_SEEN_KEY):
            st.rerun()

    watch()


def _problems(s: Studio, problems: Problems) -> None:
    if problems.empty:
        st.info(START_HINT)
        return
    if not problems.count:
        st.success("No problems: the pipeline is ready to run.")
        return
    st.markdown(f"**Problems: {problems.headline()}**")
    for i, d in enumerate(problems.all):
        # Streamlit's own icon font, not emoji: a browser without an emoji font would draw empty boxes.
        error = d.severity == "error"
        icon, label = (":material/error:", "Error") if error else (":material/warning:", "Warning")
        if d.node and st.button(f"{label}: {d.message}", icon=icon, key=f"problem-{i}", help="Select this node",
                                   width="stretch"):
            s.select(d.node)
            st.rerun()
        elif not d.node:
            st.markdown(f"{icon} {':red' if error else ':orange'}[{label}:] {d.message}")


def _workspace(s: Studio, problems: Problems, run: RunRecord | None, steps: list[StepRecord],
               fresh: Freshness | None) -> None:
    """The canvas, and beside it on the right the panel of the selected node and the problems.

    An editor's layout (Langflow, Azure ML designer, KNIME): the canvas fills the window below the run bar
    (it measures that itself) and a click on a card shows its form beside it, no scrolling. The panel
    scrolls on its own and its share of the width is the user's (the slider at its top).
    """
    share = st.session_state.setdefault(_PANEL_WIDTH_KEY, _PANEL_WIDTH_DEFAULT)
    canvas_column, panel_column = st.columns([100 - share, share], gap="small")
    with canvas_column:
        warnings = _canvas_area(s, list(problems.all), run, steps, fresh)
    with panel_column, st.container(key=_PANEL_KEY):
        st.slider("Panel width", _PANEL_WIDTH_LEAST, _PANEL_WIDTH_MOST, key=_PANEL_WIDTH_KEY, format="%d%%",
                  help="How much of the page's width this panel takes; the canvas gets the rest.")
        _node_panel(s, run, steps, fresh, problems, warnings)
        st.divider()
        _problems(s, problems)


def _node_panel(s: Studio, run: RunRecord | None, steps: list[StepRecord], fresh: Freshness | None,
                problems: Problems, warnings: list[Diagnostic]) -> None:
    if not s.selected or s.pipeline.node(s.selected) is None:
        st.caption("Select a node on the canvas to see its settings and outputs.")
        return
    node = s.pipeline.node(s.selected)
    if len(s.selection) > 1:
        st.caption(f"{len(s.selection)} nodes selected ({', '.join(s.selection)}); Delete removes them all. "
                   f"The form shows `{node.id}`, selected last.")
    tabs = st.tabs(["Properties", "Outputs", "Logs"])
    with tabs[0]:
        node_run_panel(s, node.id, problems, active=run is not None and not run.finished)
        updated = properties_panel(s.pipeline, node.id, catalog().get(node.type), s.revision)
        if updated is not None:
            s.replace(updated, structural=False)
            st.rerun()
    step = next((step for step in steps if step.step_id == node.id), None)
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
            show_outputs([(port, kind, uri) for sid, port, kind, uri in store().artifacts(s.run_id) if sid == node.id],
                         [d.message.removeprefix(f"node '{node.id}': ") for d in warnings if d.node == node.id])
    with tabs[2]:
        _logs(s, run, node.id)


def _logs(s: Studio, run: RunRecord | None, node_id: str) -> None:
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
    with st.sidebar:
        backend_panel(s)
    st.html(_PAGE_STYLE)
    with st.container():  # always there, so the question appearing does not shift (and re-create) the canvas
        _confirm_replace(s)
    # One bar above the canvas (name, Run, Cancel, Resume, state), so the canvas gets the window's height.
    # The buttons' share keeps "Resume" whole in a 1024-pixel window with the sidebar open; in a narrower one
    # their columns keep their labels' width (_PAGE_STYLE) and the run's line wraps below (tests/e2e: the bar).
    bar = st.columns([2.6, 1.25, 1.25, 1.25, 3.65], vertical_alignment="bottom")
    with bar[0]:
        _name_input(s)
    problems = problems_of(s.pipeline, s.diagnostics(), s.preflight)  # the checks, run and counted once per page run
    run = run_record(s.run_id)  # once, before the steps are read: the page shows one moment of the run
    steps = store().steps(run.id) if run is not None else []
    fresh = _freshness(s, steps)
    _run_bar(s, problems, run, steps, fresh, bar[1:])
    _workspace(s, problems, run, steps, fresh)
    yaml_text = dump_pipeline(s.pipeline)
    # The file controls come after the canvas in the page's messages, though they sit above it in the sidebar:
    # the browser fetches each kind of widget's script as the first one arrives, six files at a time, and the
    # gallery's select box alone needs twenty, so drawn first they kept a first visit's canvas waiting ~0.5 s.
    # Opening a file or an example reruns the page, so the canvas never shows the replaced pipeline for long.
    _files_sidebar(s, yaml_text)
    autosave(s, yaml_text)  # every edit reruns the page: it is saved before the next one
    keep_run_link(s)
    keep_draft_link(s)
    _watch_run(s)  # last: the canvas above has recorded what it shows
