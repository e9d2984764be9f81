"""The studio's per-browser-session state: the pipeline being edited and what is shown.

The pipeline (a ``compiler.Pipeline``) is the single source of truth; the
canvas, the forms and the YAML view are views of it. ``revision`` counts the
changes Python makes to its structure (opening a file, a form edit), which is
what tells the canvas to re-seed itself; the canvas's own edits don't bump it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import streamlit as st

from compiler import Diagnostic, Metadata, Pipeline, dump_pipeline, validate_pipeline
from nodes import Catalog, default_catalog
from runtime.machine import check_machine

__all__ = ["BLANK_NAME", "EXAMPLES", "PendingOpen", "Studio", "studio", "catalog", "catalog_description", "blank_pipeline"]

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
#: the blank canvas's name until one is derived (studio/drafts.py) or typed
BLANK_NAME = "my-pipeline"


@st.cache_resource
def catalog() -> Catalog:
    return default_catalog()


@st.cache_resource
def catalog_description() -> list[dict[str, Any]]:
    """``catalog().describe()``, built once: the catalog never changes while the studio runs (read-only)."""
    return catalog().describe()


def blank_pipeline() -> Pipeline:
    return Pipeline(metadata=Metadata(name=BLANK_NAME, description="Built in pipecanvas studio"))


@dataclass(frozen=True)
class PendingOpen:
    """A pipeline waiting to replace the canvas until the user confirms (the canvas has unsaved changes)."""

    pipeline: Pipeline
    source: str
    run_id: str | None = None
    draft_id: str | None = None


@dataclass
class Studio:
    pipeline: Pipeline = field(default_factory=blank_pipeline)
    revision: int = 0
    source: str = "new pipeline"
    #: the node whose form is shown: the canvas's node selected last
    selected: str | None = None
    #: every node highlighted on the canvas (``selected`` among them)
    selection: tuple[str, ...] = ()
    #: bumped when Python itself selects (``select``): only then does the canvas take ``selected``
    selection_revision: int = 0
    run_id: str | None = None
    notice: str | None = None
    backend: str = "local"
    cluster: dict = field(default_factory=dict)
    #: the last Kubernetes pre-flight's findings, shown on their nodes until the next run starts
    preflight: list[Diagnostic] = field(default_factory=list)
    #: the draft this session saves to (studio/drafts.py), and the YAML it holds
    draft_id: str | None = None
    saved_yaml: str | None = None
    #: the YAML as it was opened (None: a blank canvas); the canvas has unsaved changes when it differs
    opened_yaml: str | None = None
    #: whether the pipeline has a name of its own (typed, opened or derived), not the placeholder
    named: bool = False
    pending: PendingOpen | None = None

    def replace(self, pipeline: Pipeline, source: str | None = None, structural: bool = True) -> None:
        """Make ``pipeline`` current; ``structural`` re-seeds the canvas (use False for the canvas's own edits)."""
        self.pipeline = pipeline
        if source is not None:
            self.source = source
        if structural:
            self.revision += 1
        if self.selected and self.pipeline.node(self.selected) is None:
            self.selected = None
        self.selection = tuple(n for n in self.selection if self.pipeline.node(n) is not None)

    def select(self, node_id: str | None) -> None:
        """Select ``node_id`` alone (None: nothing), on the canvas too."""
        self.selected = node_id
        self.selection = (node_id,) if node_id else ()
        self.selection_revision += 1

    def follow_canvas(self, nodes: tuple[str, ...], primary: str | None) -> None:
        """Take the canvas's own selection: its form is shown; the canvas is not told (it knows)."""
        self.selection = tuple(n for n in nodes if self.pipeline.node(n) is not None)
        self.selected = primary if primary in self.selection else None

    def open(self, pipeline: Pipeline, source: str, run_id: str | None = None, draft_id: str | None = None) -> None:
        """Replace the canvas with a file, an example, a run's pipeline or a draft.

        A file or an example is saved as a new draft from the next page run on. A draft and a run's
        pipeline are in the store already (the address names them): only an edit makes a draft of a run's
        pipeline, so looking through runs adds nothing to the Pipelines list.
        """
        self.replace(pipeline, source=source)
        self.select(None)
        self.run_id = run_id
        self.opened_yaml = dump_pipeline(pipeline)
        stored = draft_id is not None or run_id is not None
        self.draft_id, self.saved_yaml = draft_id, (self.opened_yaml if stored else None)
        self.named, self.pending = pipeline.metadata.name != BLANK_NAME, None

    def offer(self, pipeline: Pipeline, source: str, run_id: str | None = None, *, current_yaml: str,
              draft_id: str | None = None) -> bool:
        """Open ``pipeline`` at once, or keep it pending when the canvas has unsaved changes; True when opened."""
        if self.unsaved(current_yaml):
            self.pending = PendingOpen(pipeline, source, run_id, draft_id)
            return False
        self.open(pipeline, source, run_id, draft_id)
        return True

    def unsaved(self, current_yaml: str) -> bool:
        """Whether the canvas holds edits made since it was opened (a blank canvas: any node)."""
        if self.opened_yaml is None:
            return bool(self.pipeline.spec.nodes)
        return current_yaml != self.opened_yaml

    def diagnostics(self) -> list[Diagnostic]:
        """The compiler's checks, then (local backend) what this machine lacks, then the data's own checks."""
        found = validate_pipeline(self.pipeline, catalog())
        if self.backend == "local":  # on a cluster the node type's image and the scheduler decide
            found += check_machine(self.pipeline, catalog())
        if any(d.severity == "error" for d in found):
            return found
        from compiler.data_checks import check_data  # reads each data node's file once, then from a cache

        return found + check_data(self.pipeline, catalog())


def studio() -> Studio:
    if "studio" not in st.session_state:
        st.session_state.studio = Studio()
    return st.session_state.studio
