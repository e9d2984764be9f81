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

from compiler import Diagnostic, Metadata, Pipeline, validate_pipeline
from nodes import Catalog, default_catalog

__all__ = ["EXAMPLES", "Studio", "studio", "catalog", "catalog_description", "blank_pipeline"]

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


@st.cache_resource
def catalog() -> Catalog:
    return default_catalog()


@st.cache_resource
def catalog_description() -> list[dict[str, Any]]:
    """``catalog().describe()``, built once: the catalog never changes while the studio runs (read-only)."""
    return catalog().describe()


def blank_pipeline() -> Pipeline:
    return Pipeline(metadata=Metadata(name="my-pipeline", description="Built in pipecanvas studio"))


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

    def diagnostics(self) -> list[Diagnostic]:
        return validate_pipeline(self.pipeline, catalog())


def studio() -> Studio:
    if "studio" not in st.session_state:
        st.session_state.studio = Studio()
    return st.session_state.studio
