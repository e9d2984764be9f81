"""Column pickers in the properties form, listing the columns of the table that reaches the node.

A param whose schema carries ``"x-pipecanvas-widget": "column"`` (one column) or
``"columns"`` (a list) is drawn as a selectbox or a multiselect of column names.
The names come from the profile of the data node upstream (computed without
running anything, see ``data_profile_panel``), carried through nodes that keep
columns (split, rows) or change them in a known way (columns, formula, join).
Where the columns cannot be known (a cleaned table, an unreadable file) the
param falls back to a text box, so nothing is ever blocked.

Params that are lists or mappings without a picker (``missing_values``,
``rename``, ``conditions``) are edited as YAML in one line.
"""

from __future__ import annotations

from typing import Any

import streamlit as st
import yaml

from compiler import Pipeline
from compiler.graph import parse_port_ref

__all__ = ["NOT_HANDLED", "special_param_widget", "columns_reaching", "node_columns"]

NOT_HANDLED = object()
_PASS_THROUGH = {"prepare.split", "prepare.rows"}


def special_param_widget(pipeline: Pipeline, node_id: str, name: str, raw: dict[str, Any], prop: dict[str, Any],
                         nullable: bool, value: Any, key: str) -> Any:
    """The widget for a column param or a structured param, or ``NOT_HANDLED`` for the form's own widgets."""
    picker = raw.get("x-pipecanvas-widget") or prop.get("x-pipecanvas-widget")
    label, help_text = name.replace("_", " "), prop.get("description")
    if picker in ("column", "columns"):
        node = pipeline.node(node_id)
        own = node is not None and node.type == "data.file"
        columns = node_columns(pipeline, node_id) if own else columns_reaching(pipeline, node_id)
        if columns is not None:
            if picker == "column" and (value is None or isinstance(value, str)):
                choices = ([None] if nullable else []) + list(dict.fromkeys([*columns, *([value] if value else [])]))
                return st.selectbox(label, choices, index=choices.index(value) if value in choices else 0,
                                    format_func=lambda c: "(none)" if c is None else str(c), help=help_text, key=key)
            if picker == "columns" and isinstance(value, list) and all(isinstance(v, str) for v in value):
                options = list(dict.fromkeys([*columns, *value]))
                return st.multiselect(label, options, default=value, help=help_text, key=key)
    if prop.get("type") in ("array", "object") or (prop.get("type") is None and "items" in prop):
        return _yaml_line(label, value, _default(pipeline, node_id, name) if value is None else value, help_text, key)
    return NOT_HANDLED


def _default(pipeline: Pipeline, node_id: str, name: str) -> Any:
    """A field's default, including those made by a factory (the schema does not carry those)."""
    from .session import catalog

    node = pipeline.node(node_id)
    node_type = catalog().get(node.type) if node is not None else None
    field = node_type.Params.model_fields.get(name) if node_type is not None else None
    return field.get_default(call_default_factory=True) if field is not None else None


def _yaml_line(label: str, value: Any, shown_value: Any, help_text: str | None, key: str) -> Any:
    """One line of YAML; left as it was (``value``, maybe unset) until the user changes the text."""
    shown = yaml.safe_dump(shown_value, default_flow_style=True, allow_unicode=True).strip().removesuffix("...").strip()
    text = st.text_input(label, value=shown, help=(help_text or "") + " (YAML, e.g. [a, b] or {a: b})", key=key)
    if text == shown:
        return value
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError:
        return text  # the problems list says what is wrong with it


def columns_reaching(pipeline: Pipeline, node_id: str, depth: int = 0) -> list[str] | None:
    """The columns of the table on ``node_id``'s first table input (left for a join), or None when unknown."""
    sources = _table_inputs(pipeline, node_id)
    if not sources or depth > 50:
        return None
    port = "left" if "left" in sources else ("table" if "table" in sources else ("train" if "train" in sources else None))
    if port is None:
        port = sorted(sources)[0]
    source_node, _ = sources[port]
    return node_columns(pipeline, source_node, depth + 1)


def node_columns(pipeline: Pipeline, node_id: str, depth: int = 0) -> list[str] | None:
    """The columns a node outputs, where they can be known without running it."""
    node = pipeline.node(node_id)
    if node is None:
        return None
    if node.type == "data.file":
        from .data_profile_panel import cached_profile

        profile = cached_profile(pipeline, node_id)
        return None if profile is None else profile.column_names
    if node.type == "data.sample":
        return _sample_columns(str(node.params.get("dataset", "iris")))
    upstream = columns_reaching(pipeline, node_id, depth)
    if node.type in _PASS_THROUGH or upstream is None:
        return upstream
    params = node.params
    if node.type == "prepare.columns":
        keep = params.get("keep") or []
        kept = [c for c in upstream if not keep or c in keep]
        kept = [c for c in kept if c not in (params.get("drop") or [])]
        rename = params.get("rename") or {}
        return [rename.get(c, c) for c in kept] if isinstance(rename, dict) else kept
    if node.type == "prepare.formula":
        new = params.get("column")
        return upstream + ([new] if isinstance(new, str) and new not in upstream else [])
    if node.type == "prepare.join":
        sources = _table_inputs(pipeline, node_id)
        right = node_columns(pipeline, sources["right"][0], depth + 1) if "right" in sources else None
        return upstream + [c for c in (right or []) if c not in upstream]
    return None


def _table_inputs(pipeline: Pipeline, node_id: str) -> dict[str, tuple[str, str]]:
    found = {}
    for edge in pipeline.spec.edges:
        source, target = parse_port_ref(edge.from_), parse_port_ref(edge.to)
        if source and target and target.node == node_id:
            found[target.port] = (source.node, source.port)
    return found


@st.cache_data(show_spinner=False)
def _sample_columns(dataset: str) -> list[str] | None:
    from nodes.data import SampleDataset, SampleParams
    from nodes.context import RunContext

    try:
        return [str(c) for c in SampleDataset().run({}, SampleParams(dataset=dataset), RunContext()).get("table").frame.columns]
    except Exception:
        return None
