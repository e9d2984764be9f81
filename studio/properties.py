"""The properties panel: a form generated from the selected node's params JSON schema, plus its
resources, retries and timeout. Every change applies to the pipeline at once.
"""

from __future__ import annotations

from typing import Any

import streamlit as st
import yaml

from compiler import NodeSpec, Pipeline
from nodes import NodeType, Resources
from nodes.algorithms import ALGORITHMS_KEY as _ALGORITHMS_KEY, LABELS_KEY as _LABELS_KEY

from .column_picker import NOT_HANDLED, special_param_widget

__all__ = ["properties_panel", "param_widget_kind", "shown_params"]


def _field_schema(prop: dict[str, Any], defs: dict[str, Any]) -> tuple[dict[str, Any], bool]:
    """The non-null branch of a property's schema, and whether null (empty) is allowed."""
    if "$ref" in prop:
        prop = {**defs.get(prop["$ref"].split("/")[-1], {}), **{k: v for k, v in prop.items() if k != "$ref"}}
    options = prop.get("anyOf")
    if not options:
        return prop, False
    concrete = [o for o in options if o.get("type") != "null"]
    merged = {**prop, **(concrete[0] if concrete else {})}
    merged.pop("anyOf", None)
    return merged, len(concrete) < len(options)


def param_widget_kind(prop: dict[str, Any]) -> str:
    """``select``, ``toggle``, ``integer``, ``number`` or ``text`` for one (non-null) property schema."""
    if "enum" in prop or "const" in prop:
        return "select"
    return {"boolean": "toggle", "integer": "integer", "number": "number"}.get(prop.get("type", ""), "text")


def _bounds(prop: dict[str, Any], integer: bool) -> tuple[Any, Any]:
    step = 1 if integer else 1e-9
    low = prop.get("minimum", prop["exclusiveMinimum"] + step if "exclusiveMinimum" in prop else None)
    high = prop.get("maximum", prop["exclusiveMaximum"] - step if "exclusiveMaximum" in prop else None)
    return low, high


def _fits(kind: str, prop: dict[str, Any], nullable: bool, value: Any) -> bool:
    """Whether the typed widget can show ``value`` as it is (a file may hold any value, valid or not)."""
    if value is None:
        return nullable or kind in ("integer", "number")
    if kind == "select":
        return value in (prop.get("enum") or [prop.get("const")])
    if kind == "toggle":
        return isinstance(value, bool)
    if kind in ("integer", "number"):  # out of range is still shown as a number, with its error below
        numeric = int if kind == "integer" else (int, float)
        return not isinstance(value, bool) and isinstance(value, numeric)
    return isinstance(value, str)


def _range_error(value: Any, low: Any, high: Any) -> str | None:
    if value is None:
        return None
    if low is not None and value < low:
        return f"must be ≥ {low:g}"
    if high is not None and value > high:
        return f"must be ≤ {high:g}"
    return None


def _raw_widget(label: str, value: Any, help_text: str | None, key: str) -> Any:
    """Edit a value the typed widget cannot show as text, and keep it untouched until the user types."""
    shown = "" if value is None else yaml.safe_dump(value, default_flow_style=True).strip().removesuffix("...").strip()
    text = st.text_input(label, value=shown, help=help_text, key=f"{key}-raw")
    st.caption(":red[This value is not valid here; see the problems list.]")
    if text == shown:
        return value
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError:
        return text


def shown_params(schema: dict[str, Any], params: dict[str, Any]) -> list[str]:
    """The params the form shows: those a field marks for certain algorithms appear only while one is chosen."""
    properties = schema.get("properties", {})
    choice = properties.get("algorithm", {})
    algorithm = params.get("algorithm", choice.get("default"))
    if algorithm not in (choice.get("enum") or []):  # an unknown algorithm (a typo in the file): show every field
        return list(properties)
    return [
        name for name, prop in properties.items()
        if _ALGORITHMS_KEY not in prop or algorithm in prop[_ALGORITHMS_KEY]
    ]


def _with_range(help_text: str | None, low: Any, high: Any) -> str | None:
    if low is None and high is None:
        return help_text
    bounds = " to ".join(f"{b:g}" for b in (low, high) if b is not None)
    allowed = f"from {bounds}" if low is not None and high is not None else (f"≥ {low:g}" if low is not None else f"≤ {high:g}")
    return f"{help_text or ''} Allowed: {allowed}.".strip()


def _widget(name: str, prop: dict[str, Any], nullable: bool, value: Any, key: str) -> Any:
    kind = param_widget_kind(prop)
    label = name.replace("_", " ")
    help_text = prop.get("description")
    if not _fits(kind, prop, nullable, value):
        return _raw_widget(label, value, help_text, key)
    if kind == "select":
        choices = prop.get("enum") or [prop.get("const")]
        labels = prop.get(_LABELS_KEY) or {}
        return st.selectbox(label, choices, index=choices.index(value) if value in choices else 0, help=help_text, key=key,
                            format_func=lambda choice: labels.get(choice, choice))
    if kind == "toggle":
        return st.toggle(label, value=bool(value), help=help_text, key=key)
    if kind in ("integer", "number"):
        integer = kind == "integer"
        low, high = _bounds(prop, integer)
        cast = int if integer else float
        # No min/max on the widget: it would refuse -5 in a ≥ 1 field and keep the old value without a word.
        # The value typed goes into the pipeline as typed; validation puts the error on the node and disables Run.
        typed = st.number_input(
            label, value=cast(value) if value is not None else None, step=1 if integer else None,
            format=None if integer else "%g", help=_with_range(help_text, low, high), key=key,
            placeholder="empty = no limit" if nullable else None,
        )
        problem = _range_error(typed, low, high)
        if problem:
            st.caption(f":red[{label} {problem}; Run stays disabled until it is fixed.]")
        return typed
    text = st.text_input(label, value="" if value is None else str(value), help=help_text, key=key)
    return None if (nullable and text == "") else text


def properties_panel(pipeline: Pipeline, node_id: str, node_type: type[NodeType] | None, revision: int) -> Pipeline | None:
    """Draw the form for ``node_id``; return the changed pipeline, or None when nothing changed."""
    node = pipeline.node(node_id)
    if node is None:
        return None
    if node_type is None:
        st.error(f"'{node.type}' is not a node type this studio knows; fix it in the YAML.")
        return None
    st.markdown(f"**{node_type.title}** · `{node.id}`")
    st.caption(node_type.description)
    schema = node_type.Params.model_json_schema()
    defaults = node_type.Params().model_dump() if not _required(schema) else {}
    params = dict(node.params)
    changed: dict[str, Any] = {}
    for name in shown_params(schema, params):
        raw = schema["properties"][name]
        prop, nullable = _field_schema(raw, schema.get("$defs", {}))
        current = params.get(name, prop.get("default", defaults.get(name)))
        key = f"param-{revision}-{node.id}-{name}"
        value = special_param_widget(pipeline, node.id, name, raw, prop, nullable, current, key)  # column pickers
        if value is NOT_HANDLED:
            value = _widget(name, prop, nullable, current, key=key)
        if value != current:
            changed[name] = value
    if node_type.type_id == "data.file":  # upload, profile, target task, column roles (studio/data_profile_panel.py)
        from .data_profile_panel import data_node_panel

        extra = data_node_panel(pipeline, node.id, revision) or {}
        if "__pipeline__" in extra:
            return extra["__pipeline__"]
        changed.update(extra)
    resources, retries, timeout = _run_settings(node, node_type, revision)
    if not changed and resources == node.resources and retries == node.retries and timeout == node.timeout:
        return None
    params.update(changed)
    updated = node.model_copy(update={"params": params, "resources": resources, "retries": retries, "timeout": timeout})
    nodes = [updated if n.id == node.id else n for n in pipeline.spec.nodes]
    return pipeline.model_copy(update={"spec": pipeline.spec.model_copy(update={"nodes": nodes})})


def _required(schema: dict[str, Any]) -> list[str]:
    return list(schema.get("required", []))


def _run_settings(node: NodeSpec, node_type: type[NodeType], revision: int) -> tuple[Resources | None, int | None, str | None]:
    with st.expander("Resources, retries and timeout", expanded=False):
        own = node.resources or Resources()
        base = node_type.resources
        key = f"res-{revision}-{node.id}"
        left, middle, right = st.columns(3)
        cpu = left.text_input("CPU", value=own.cpu or "", placeholder=base.cpu or "", key=f"{key}-cpu",
                              help='CPU cores, e.g. "2" or "500m". Empty = the node type\'s default.')
        memory = middle.text_input("Memory", value=own.memory or "", placeholder=base.memory or "", key=f"{key}-mem",
                                   help='e.g. "4Gi" or "512Mi". Empty = the node type\'s default.')
        gpu = _count(right, "GPUs", own.gpu, 64, placeholder=str(base.gpu or 0), key=f"{key}-gpu",
                     help="NVIDIA GPUs requested on Kubernetes. Empty = the node type's default.")
        left, right = st.columns(2)
        retries = _count(left, "Retries", node.retries, 20, placeholder="0", key=f"{key}-retries",
                         help="Run again this many times if it fails.")
        timeout = right.text_input("Timeout", value=node.timeout or "", placeholder="none", key=f"{key}-timeout",
                                   help="Stop an attempt after this long, e.g. 90s, 30m, 2h.")
    resources = Resources(cpu=cpu.strip() or None, memory=memory.strip() or None, gpu=int(gpu) if gpu is not None else None)
    if resources == Resources():
        resources = None
    return resources, int(retries) if retries is not None else None, timeout.strip() or None


def _count(where: Any, label: str, value: int | None, high: int, **options: Any) -> int | None:
    """A whole-number input from 0 to ``high``; a value from a file outside that range is shown unbounded, not refused."""
    inside = value is None or 0 <= value <= high
    return where.number_input(label, min_value=0 if inside else None, max_value=high if inside else None,
                              value=value, step=1, **options)
