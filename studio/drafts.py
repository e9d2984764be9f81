"""Drafts: every edit saved in the run store, and the page address naming the draft (``?draft=ID``).

A browser reload, a second tab or a studio restart starts a new Streamlit
session with a blank canvas; the pipeline being edited lives on in the run
store's ``drafts`` table, and the address names it as ``?run=`` names a run.
The Build page saves after each page run whose pipeline differs from what the
draft holds, so an edit is stored before the next one can be made (well within
a second). A pipeline still called by the blank canvas's placeholder name gets
a name derived from its data and what it trains, valid RFC 1123, the first time
it is saved.
"""

from __future__ import annotations

import re
import secrets
import time

import streamlit as st

from compiler import Pipeline, SpecError, parse_pipeline
from runtime.run_store import DraftRecord

from .run_status import store
from .session import BLANK_NAME, Studio, catalog

__all__ = ["DRAFT_PARAM", "autosave", "derive_name", "follow_draft_link", "keep_draft_link", "name_if_unnamed", "open_draft",
           "recent_drafts"]

DRAFT_PARAM = "draft"
_KINDS = {"train.classifier": "classifier", "train.regressor": "regression", "train.mlp": "neural-net"}


def _new_draft_id() -> str:
    return time.strftime("%Y%m%d-%H%M%S-") + secrets.token_hex(3)


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def derive_name(pipeline: Pipeline, taken: set[str] = frozenset()) -> str:
    """``iris-classifier``, ``churn-regression``...: the data it reads and what it trains, unused in ``taken``."""
    source = ""
    kind = ""
    for node in pipeline.spec.nodes:
        if not source and node.type == "data.sample":
            source = _slug(str(node.params.get("dataset") or _default(node.type, "dataset") or "sample"))
        elif not source and node.type == "data.file":
            path = str(node.params.get("path") or "")
            source = _slug(path.rsplit("/", 1)[-1].rsplit(".", 1)[0]) if path else ""
        kind = kind or _KINDS.get(node.type, "")
    base = "-".join(part for part in (source, kind or "pipeline") if part)[:50].strip("-") if source or kind else ""
    if not base or not base[0].isalnum():
        base = f"pipeline-{time.strftime('%Y%m%d')}"
    name, number = base, 2
    while name in taken:
        name, number = f"{base}-{number}", number + 1
    return name


def _default(node_type: str, param: str) -> object:
    known = catalog().get(node_type)
    field = known.Params.model_fields.get(param) if known else None
    return field.default if field is not None else None


def follow_draft_link(s: Studio) -> bool:
    """On a session's first Build page, open the draft the address names; True when it did."""
    draft_id = st.query_params.get(DRAFT_PARAM)
    if not draft_id or s.revision or s.draft_id:
        return False
    draft = store().get_draft(draft_id)
    problem = None
    if draft is None:
        problem = f"There is no draft {draft_id!r} in the run store."
    else:
        try:
            pipeline = parse_pipeline(draft.pipeline_yaml, source=f"draft {draft.id}").pipeline
        except SpecError as exc:
            problem = f"Draft {draft.id} could not be opened: {exc}"
    if problem:
        s.notice = f"{problem} The canvas starts blank."
        del st.query_params[DRAFT_PARAM]
        return False
    s.open(pipeline, source=f"draft {draft.id}", draft_id=draft.id)
    return True


def open_draft(s: Studio, draft: DraftRecord, current_yaml: str) -> str | None:
    """Offer ``draft`` for the canvas (asked first when the canvas has unsaved changes); returns why not, or None."""
    try:
        loaded = parse_pipeline(draft.pipeline_yaml, source=f"draft {draft.id}").pipeline
    except SpecError as exc:
        return f"Draft {draft.id} could not be opened: {exc}"
    s.offer(loaded, f"draft {draft.name}", current_yaml=current_yaml, draft_id=draft.id)
    return None


def autosave(s: Studio, yaml_text: str) -> None:
    """Save the pipeline as the session's draft when it changed (a blank canvas is not saved)."""
    if not s.pipeline.spec.nodes or yaml_text == s.saved_yaml:
        return
    if s.draft_id is None:
        s.draft_id = _new_draft_id()
    store().save_draft(s.draft_id, s.pipeline.metadata.name, yaml_text)
    s.saved_yaml = yaml_text


def name_if_unnamed(s: Studio, widget_key: str) -> None:
    """Give a pipeline still called by the placeholder name a derived one, before the name field is drawn."""
    if s.named or not s.pipeline.spec.nodes or s.pipeline.metadata.name != BLANK_NAME:
        return
    taken = {d.name for d in store().list_drafts(limit=200) if d.id != s.draft_id}
    name = derive_name(s.pipeline, taken)
    s.replace(s.pipeline.model_copy(update={"metadata": s.pipeline.metadata.model_copy(update={"name": name})}),
              structural=False)
    s.named = True
    st.session_state[widget_key] = name  # the name field is drawn from it (page_build._name_bar)


def keep_draft_link(s: Studio) -> None:
    """Make the address name the session's draft."""
    if s.draft_id and st.query_params.get(DRAFT_PARAM) != s.draft_id:
        st.query_params[DRAFT_PARAM] = s.draft_id
    elif not s.draft_id and DRAFT_PARAM in st.query_params:
        del st.query_params[DRAFT_PARAM]


def recent_drafts(limit: int = 20) -> list[DraftRecord]:
    return store().list_drafts(limit=limit)
