"""The studio's canvas: a Streamlit components v2 element on React Flow.

``canvas(...)`` draws the pipeline and returns the user's edits;
``pipeline_to_graph`` and ``apply_graph`` convert between the pipeline spec
and the graph the canvas shows. The frontend source is in ``frontend/``; its
built bundle is committed under ``assets/canvas`` (``make canvas``).
"""

from .component import CanvasResult, Selection, canvas, pending_graph, pending_selection, slim_catalog
from .graph import apply_graph, fresh_node_id, pipeline_to_graph

__all__ = [
    "CanvasResult", "Selection", "apply_graph", "canvas", "fresh_node_id", "pending_graph", "pending_selection",
    "pipeline_to_graph", "slim_catalog",
]
