"""The canvas element: our Streamlit components v2 component, and what it returns.

Python sends ``{catalog, graph, graph_revision, status, selected,
selection_revision, height}`` on every run (``height`` is the least height:
the canvas grows to the bottom of the browser window; ``graph`` carries the
sticky notes too, see ``graph.py``). The canvas re-seeds its nodes and edges only when ``graph_revision``
changes, so bump it when Python itself changes the structure (a file opened,
an example loaded, an edit refused) and keep it when applying the canvas's own
edit. Status and validation problems can change on every run: they only
repaint badges and never move, re-lay out or re-fit anything.

The canvas answers with the graph after each user edit (a state value stamped
with the revision it was made on), the selection whenever it changes (a state
value: the highlighted node ids and the one selected last, whose form Python
shows) and other events (trigger values, present only on the run right after
they happen).

Selection belongs to the canvas: ``selected`` is applied only on mount and when
``selection_revision`` changes, so bump it when Python itself selects (the
problems list, a file opened) and never to echo the canvas's own selection. A
page run that drew the canvas before it saw the latest click used to push the
previous click back as the highlight while the form showed the new one.

The bundle is ``assets/canvas/index.js`` and ``index.css`` (``make canvas``),
passed inline: components v2 loads files by path only for installed packages
that declare an ``asset_dir`` in their pyproject manifest.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import streamlit as st

__all__ = [
    "BUNDLE_DIR", "COMPONENT_NAME", "CanvasResult", "Selection", "canvas", "pending_graph", "pending_selection",
    "read_result", "read_selection", "slim_catalog",
]

COMPONENT_NAME = "pipecanvas.canvas"
BUNDLE_DIR = Path(__file__).resolve().parents[2] / "assets" / "canvas"
#: The least height of the canvas; it grows to the bottom of the browser window.
DEFAULT_HEIGHT = 420

#: Catalog fields the canvas draws; the params schema stays in Python.
_CATALOG_FIELDS = ("type", "title", "description", "category", "icon", "keywords", "inputs", "outputs", "resources")


@dataclass(frozen=True)
class Selection:
    """The canvas's highlighted nodes, in canvas order, and the one selected last (its form is shown)."""

    nodes: tuple[str, ...] = ()
    primary: str | None = None


@dataclass(frozen=True)
class CanvasResult:
    """What the user did on the canvas since the last run.

    ``graph`` is the graph after the user's latest edit, or None when there is
    none Python has not seen (or it was made on an older ``graph_revision``);
    ``selection`` the canvas's selection when it changed since Python last saw
    it (else None); ``event`` anything else, e.g.
    ``{"type": "connection_refused", "message": ...}``.
    """

    graph: dict[str, Any] | None = None
    selection: Selection | None = None
    event: dict[str, Any] | None = None


def canvas(
    catalog: list[dict[str, Any]],
    graph: dict[str, Any],
    graph_revision: int,
    status: dict[str, Any] | None,
    selected: str | None,
    key: str,
    *,
    selection_revision: int = 0,
    height: int = DEFAULT_HEIGHT,
) -> CanvasResult:
    """Draw the pipeline canvas and return the user's edits, clicks and events.

    ``catalog`` is ``Catalog.describe()``; ``graph`` comes from
    ``pipeline_to_graph``; ``status`` maps node ids to
    ``{"state", "elapsed", "attempt"}``; ``selected`` is the node Python
    wants selected, applied on mount and when ``selection_revision`` changes.
    """
    mount = _component(*_bundle_stamp())
    data = {
        "catalog": slim_catalog(catalog),
        "graph": graph,
        "graph_revision": graph_revision,
        "status": status or {},
        "selected": selected,
        "selection_revision": selection_revision,
        "height": height,
    }
    raw = mount(
        key=key,
        data=data,
        on_graph_change=_ignore,
        on_selection_change=_ignore,
        on_event_change=_ignore,
    )
    result, stamp = read_result(raw, graph_revision, st.session_state.get(_seen_key(key)))
    if stamp is not None:
        st.session_state[_seen_key(key)] = stamp
    picked = _new_selection(raw, key)
    return CanvasResult(graph=result.graph, selection=picked, event=result.event)


def pending_selection(key: str) -> Selection | None:
    """The canvas's selection when it changed since Python last saw it, read before the canvas is drawn.

    AppTest can inject one as the browser sends it:
    ``at.session_state[key] = {"selection": {"nodes": ["train"], "primary": "train", "stamp": "any-new-string"}}``.
    """
    raw = st.session_state.get(key)
    return _new_selection(raw, key) if isinstance(raw, Mapping) else None


def _new_selection(raw: Any, key: str) -> Selection | None:
    sent = raw.get("selection") if isinstance(raw, Mapping) else None
    picked, stamp = read_selection(sent, st.session_state.get(_seen_selection_key(key)))
    if stamp is not None:
        st.session_state[_seen_selection_key(key)] = stamp
    return picked


def read_selection(sent: Any, seen_stamp: str | None) -> tuple[Selection | None, str | None]:
    """A selection the canvas sent, when its stamp is new: returns it and the stamp to mark as seen."""
    if not isinstance(sent, Mapping) or not isinstance(sent.get("stamp"), str) or sent["stamp"] == seen_stamp:
        return None, None
    nodes = tuple(n for n in sent.get("nodes") or [] if isinstance(n, str) and n)
    primary = sent.get("primary")
    return Selection(nodes, primary if isinstance(primary, str) and primary in nodes else None), sent["stamp"]


def pending_graph(key: str, graph_revision: int) -> dict[str, Any] | None:
    """The canvas edit waiting for this run, read before the canvas is drawn.

    Apply it first and the canvas is drawn from the updated pipeline in the
    same run (its badges then match the edit without another rerun);
    ``canvas()`` will not report the same edit again. AppTest can inject an
    edit the same way the browser sends one:
    ``at.session_state[key] = {"graph": {"nodes": [...], "edges": [...],
    "base_revision": revision, "stamp": "any-new-string"}}``.
    """
    raw = st.session_state.get(key)
    if not isinstance(raw, Mapping):
        return None
    result, stamp = read_result(raw, graph_revision, st.session_state.get(_seen_key(key)))
    if stamp is not None:
        st.session_state[_seen_key(key)] = stamp
    return result.graph


def read_result(raw: Mapping[str, Any], graph_revision: int, seen_stamp: str | None) -> tuple[CanvasResult, str | None]:
    """Interpret the component's raw state: returns the result and the graph stamp to mark as seen.

    A graph is new when its stamp differs from the last one seen; it is
    returned only when it was made on the current ``graph_revision`` (an edit
    made on a view Python has since replaced is dropped).
    """
    sent = raw.get("graph")
    graph = None
    stamp = None
    if isinstance(sent, Mapping) and isinstance(sent.get("stamp"), str) and sent["stamp"] != seen_stamp:
        stamp = sent["stamp"]
        if sent.get("base_revision") == graph_revision:
            graph = {"nodes": list(sent.get("nodes") or []), "edges": list(sent.get("edges") or [])}
            if "notes" in sent:
                graph["notes"] = list(sent.get("notes") or [])
    event = raw.get("event")
    return CanvasResult(graph=graph, event=dict(event) if isinstance(event, Mapping) else None), stamp


def slim_catalog(catalog: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The catalog entries without what the canvas does not draw (params schemas, images)."""
    return [{field: entry[field] for field in _CATALOG_FIELDS if field in entry} for entry in catalog]


def _seen_key(key: str) -> str:
    return f"_pipecanvas_seen_{key}"


def _seen_selection_key(key: str) -> str:
    return f"_pipecanvas_seen_selection_{key}"


def _ignore() -> None:
    """Registering a callback is what makes Streamlit return a state or trigger key."""


def _bundle_stamp() -> tuple[int, int]:
    try:
        return (BUNDLE_DIR / "index.js").stat().st_mtime_ns, (BUNDLE_DIR / "index.css").stat().st_mtime_ns
    except FileNotFoundError:
        raise FileNotFoundError(
            f"the canvas bundle is missing from {BUNDLE_DIR}; build it with `make canvas` (needs Node.js)"
        ) from None


@lru_cache(maxsize=1)
def _component(js_mtime: int, css_mtime: int) -> Callable[..., Any]:
    """Register the component once per bundle build (a rebuild is picked up without a restart)."""
    del js_mtime, css_mtime  # cache keys only
    js = (BUNDLE_DIR / "index.js").read_text(encoding="utf-8")
    css = (BUNDLE_DIR / "index.css").read_text(encoding="utf-8")
    # A leading comment line makes Streamlit treat the strings as inline code:
    # a one-line string with a "/" in it would be taken for an asset path.
    return st.components.v2.component(
        COMPONENT_NAME,
        js="// pipecanvas canvas\n" + js,
        css="/* pipecanvas canvas */\n" + css,
    )
