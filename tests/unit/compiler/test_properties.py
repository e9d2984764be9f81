"""Property-based tests: random valid pipelines round-trip and compile; random breakage never crashes.

Pipelines are drawn as documents (dicts shaped like the YAML): a random DAG of
built-in node types wired through ports of the same kind, random ids and canvas
positions, params drawn from each node type's own Params model (bounds, enums,
patterns), optional resources, retries and timeouts. Mutations then break them
the way a user or a bad editor would.
"""

from __future__ import annotations

import copy
import re
import types
from pathlib import Path
from typing import Any, Literal, Union, get_args, get_origin

import annotated_types as at
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from compiler import (
    Metadata,
    Pipeline,
    SpecError,
    compile_plan,
    dump_pipeline,
    dump_yaml,
    errors_only,
    format_duration,
    parse_duration,
    parse_pipeline,
    validate_pipeline,
)
from nodes import default_catalog
from studio.cli import main

CATALOG = default_catalog(include_plugins=False)
NODE_TYPES = list(CATALOG)
TYPE_IDS = [t.type_id for t in NODE_TYPES]
PORT_NAMES = sorted({p.name for t in NODE_TYPES for p in t.inputs + t.outputs})

YAML_SPECIAL = [
    "yes", "no", "on", "off", "null", "~", "true", "False", "1e3", "0x1F", "0o17", "012", ".inf", "-.nan",
    "2024-01-01", "12:30:00", ": x", "- a", "? q", "#c", "&a", "*a", "!tag", "!!python/object:os.system",
    "'", '"', "[", "]", "{", "}", "|", ">", "%YAML", "---", "...", "@", "`", " lead", "trail ", "a\nb", "\t",
    "[/red]", ":rocket:", "a.b.c", ".", "", "\u2028", "\x85", "\ufeff", "日本", "🚀",
]

NODE_ID = st.from_regex(r"[a-z]([-a-z0-9]{0,10}[a-z0-9])?", fullmatch=True)
PIPELINE_NAME = st.from_regex(r"[a-z0-9]([-a-z0-9]{0,20}[a-z0-9])?", fullmatch=True)
TEXT = st.one_of(st.text(max_size=60), st.sampled_from(YAML_SPECIAL))
POSITION = st.one_of(st.integers(-5000, 5000), st.floats(allow_nan=False, allow_infinity=False))
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**6), 10**6),
    st.integers(),
    st.floats(),
    st.text(max_size=20),
    st.sampled_from(YAML_SPECIAL),
)
VALUES = st.recursive(
    SCALARS, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3), max_leaves=5
)
KEYS = st.one_of(st.text(max_size=12), st.sampled_from(["parms", "nodez", "form", "id", "type", "to"]), st.integers(), st.booleans())


# ---- valid pipelines ----------------------------------------------------------------------------


def _field_strategy(field: Any) -> st.SearchStrategy[Any]:
    """Values a Params field accepts, from its annotation and constraints."""
    annotation, optional = field.annotation, False
    if get_origin(annotation) in (Union, types.UnionType):
        args = get_args(annotation)
        optional = type(None) in args
        annotation = next(a for a in args if a is not type(None))
    limits = {type(m).__name__: m for m in field.metadata}
    pattern = next((m.pattern for m in field.metadata if getattr(m, "pattern", None)), None)
    if get_origin(annotation) is Literal:
        base = st.sampled_from(get_args(annotation))
    elif annotation is bool:
        base = st.booleans()
    elif annotation is int:
        low = limits["Ge"].ge if "Ge" in limits else None
        high = limits["Le"].le if "Le" in limits else None
        base = st.integers(low, high)
    elif annotation is float:
        low = limits["Gt"].gt if "Gt" in limits else (limits["Ge"].ge if "Ge" in limits else None)
        high = limits["Lt"].lt if "Lt" in limits else (limits["Le"].le if "Le" in limits else None)
        base = st.floats(low, high, exclude_min="Gt" in limits, exclude_max="Lt" in limits, allow_nan=False, allow_infinity=False)
    elif annotation is str and pattern:
        base = st.from_regex(pattern, fullmatch=True)
    elif annotation is str:
        low = limits["MinLen"].min_length if "MinLen" in limits else 0
        high = limits["MaxLen"].max_length if "MaxLen" in limits else 40
        base = st.text(min_size=low, max_size=high)
    elif get_origin(annotation) is list and get_args(annotation) == (str,):
        base = st.lists(st.text(min_size=1, max_size=10), min_size=1, max_size=3)
    else:  # a new kind of field: fall back to its default
        base = st.just(field.get_default(call_default_factory=True))
    return st.none() | base if optional else base


#: Fields whose valid values a generic strategy cannot guess (a checked expression language).
_FIELD_VALUES = {("prepare.formula", "expression"): st.sampled_from(["a + 1", "log(`b c`) * 2", "'x' if a > 1 else 'y'"])}


@st.composite
def _params(draw: st.DrawFn, node_type: Any) -> dict[str, Any]:
    params = {}
    for name, field in node_type.Params.model_fields.items():
        if field.is_required() or draw(st.booleans()):
            special = _FIELD_VALUES.get((node_type.type_id, name))
            params[name] = draw(special if special is not None else _field_strategy(field))
    try:  # fields that check each other or parse text (train.tune's ranges) may refuse an independent draw
        node_type.Params.model_validate(params)
    except ValueError:
        return {name: params[name] for name, field in node_type.Params.model_fields.items() if field.is_required()}
    return params


def _optional(draw: st.DrawFn, strategy: st.SearchStrategy[Any]) -> Any:
    return draw(strategy) if draw(st.booleans()) else None


QUANTITY_CPU = st.one_of(st.integers(1, 64).map(str), st.integers(1, 64000).map(lambda n: f"{n}m"), st.just("0.5"), st.integers(1, 8))
# at least 1 MiB: less is refused as a slip (512m is 0.512 bytes), see test_validate
QUANTITY_MEMORY = st.one_of(
    st.builds(lambda n, unit: f"{n}{unit}", st.integers(1, 4096), st.sampled_from(["Mi", "Gi", "G"])),
    st.builds(lambda n, unit: f"{n}{unit}", st.integers(2, 4096), st.just("M")),
    st.builds(lambda n, unit: f"{n}{unit}", st.integers(1024, 4096), st.just("Ki")),
    st.integers(1024 * 1024, 4 * 1024 ** 3).map(str),
)


@st.composite
def _resources(draw: st.DrawFn) -> dict[str, Any]:
    found = {"cpu": _optional(draw, QUANTITY_CPU), "memory": _optional(draw, QUANTITY_MEMORY), "gpu": _optional(draw, st.integers(0, 8))}
    return {k: v for k, v in found.items() if v is not None}


@st.composite
def _node(draw: st.DrawFn, node_id: str, node_type: Any) -> dict[str, Any]:
    node: dict[str, Any] = {"id": node_id, "type": node_type.type_id}
    params = draw(_params(node_type))
    if params:
        node["params"] = params
    extras = {
        "resources": _optional(draw, _resources()),
        "retries": _optional(draw, st.integers(0, 20)),
        "timeout": _optional(draw, st.one_of(st.integers(1, 10**6).map(format_duration), st.integers(1, 10**5))),
        "ui": _optional(draw, st.fixed_dictionaries({"x": POSITION, "y": POSITION})),
    }
    node.update({k: v for k, v in extras.items() if v is not None})
    return node


@st.composite
def pipelines(draw: st.DrawFn, max_nodes: int = 8) -> dict[str, Any]:
    """A valid pipeline document: each node's inputs are fed by earlier nodes' outputs of the same kind."""
    count = draw(st.integers(1, max_nodes))
    ids = draw(st.lists(NODE_ID, min_size=count, max_size=count, unique=True))
    nodes, edges, outputs = [], [], []  # outputs: (node id, port, kind) made so far
    for node_id in ids:
        kinds = {kind for _, _, kind in outputs}
        fits = [t for t in NODE_TYPES if all(p.kind in kinds for p in t.inputs if p.required)]
        node_type = draw(st.sampled_from(fits))
        for port in node_type.inputs:
            sources = [(n, p) for n, p, kind in outputs if kind == port.kind]
            if sources and (port.required or draw(st.booleans())):
                source, out_port = draw(st.sampled_from(sources))
                edges.append({"from": f"{source}.{out_port}", "to": f"{node_id}.{port.name}"})
        outputs += [(node_id, p.name, p.kind) for p in node_type.outputs]
        nodes.append(draw(_node(node_id, node_type)))
    metadata = {"name": draw(PIPELINE_NAME)}
    description = _optional(draw, TEXT)
    if description is not None:
        metadata["description"] = description
    spec: dict[str, Any] = {}
    defaults = _optional(draw, st.fixed_dictionaries({}, optional={"image": st.sampled_from(["registry.example.com/pc:2", "pc:latest"]), "resources": _resources()}))
    if defaults is not None:
        spec["defaults"] = defaults
    spec["nodes"] = draw(st.permutations(nodes)) if draw(st.booleans()) else nodes
    spec["edges"] = draw(st.permutations(edges))
    return {"apiVersion": "pipecanvas/v1", "kind": "Pipeline", "metadata": metadata, "spec": spec}


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(document=pipelines())
def test_random_pipelines_round_trip_through_yaml(document: dict[str, Any]) -> None:
    expected = Pipeline.model_validate(document)
    pipeline = parse_pipeline(dump_yaml(document)).pipeline
    assert pipeline == expected
    text = dump_pipeline(pipeline)
    again = parse_pipeline(text).pipeline
    assert again == expected
    assert dump_pipeline(again) == text


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(document=pipelines())
def test_random_valid_pipelines_validate_and_compile_in_edge_order(document: dict[str, Any]) -> None:
    loaded = parse_pipeline(dump_yaml(document))
    assert errors_only(validate_pipeline(loaded.pipeline, CATALOG, loaded.source_map)) == []
    plan = compile_plan(loaded.pipeline, CATALOG, "/runs/x", loaded.source_map)
    position = {step.id: index for index, step in enumerate(plan.steps)}
    assert sorted(position) == sorted(n["id"] for n in document["spec"]["nodes"])
    for edge in document["spec"]["edges"]:
        source, target = edge["from"].split(".")[0], edge["to"].split(".")[0]
        assert position[source] < position[target]
        port = edge["to"].split(".")[1]
        made = plan.step(source).outputs[edge["from"].split(".")[1]]
        if port in plan.step(target).input_lists:  # an input that takes many edges
            assert made in plan.step(target).input_lists[port]
        else:
            assert plan.step(target).inputs[port] == made


@settings(max_examples=200, deadline=None)
@given(description=TEXT)
def test_any_description_comes_back_as_the_same_text(description: str) -> None:
    text = dump_pipeline(Pipeline(metadata=Metadata(name="x", description=description)))
    pipeline = parse_pipeline(text).pipeline
    assert pipeline.metadata.description == description
    assert dump_pipeline(pipeline) == text


@settings(max_examples=200, deadline=None)
@given(seconds=st.integers(0, 10**9))
def test_durations_round_trip(seconds: int) -> None:
    assert parse_duration(format_duration(seconds)) == seconds


# ---- random breakage ----------------------------------------------------------------------------


def _nodes(document: dict[str, Any]) -> list[Any]:
    spec = document.get("spec")
    return spec["nodes"] if isinstance(spec, dict) and isinstance(spec.get("nodes"), list) else []


def _edges(document: dict[str, Any]) -> list[Any]:
    spec = document.get("spec")
    return spec["edges"] if isinstance(spec, dict) and isinstance(spec.get("edges"), list) else []


def _mappings(value: Any) -> list[dict[Any, Any]]:
    """Every mapping inside ``value``, itself included."""
    found = [value] if isinstance(value, dict) else []
    children = value.values() if isinstance(value, dict) else value if isinstance(value, list) else ()
    for child in children:
        found += _mappings(child)
    return found


def _slots(value: Any) -> list[tuple[Any, Any]]:
    """Every (container, key or index) below ``value``."""
    found = []
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for key, child in list(items):
        found.append((value, key))
        found += _slots(child)
    return found


def _pick(draw: st.DrawFn, items: list[Any]) -> Any:
    return draw(st.sampled_from(items)) if items else None


def rename_node(document, draw) -> None:
    node = _pick(draw, [n for n in _nodes(document) if isinstance(n, dict)])
    if node is not None:
        node["id"] = draw(st.one_of(NODE_ID, TEXT))


def delete_node(document, draw) -> None:
    nodes = _nodes(document)
    if nodes:
        nodes.pop(draw(st.integers(0, len(nodes) - 1)))


def delete_edge(document, draw) -> None:
    edges = _edges(document)
    if edges:
        edges.pop(draw(st.integers(0, len(edges) - 1)))


def _port_ref(document, draw) -> str:
    ids = [n["id"] for n in _nodes(document) if isinstance(n, dict) and isinstance(n.get("id"), str)]
    node_id = draw(st.sampled_from(ids)) if ids and draw(st.booleans()) else draw(TEXT)
    port = draw(st.sampled_from(PORT_NAMES)) if draw(st.booleans()) else draw(TEXT)
    return draw(st.sampled_from([f"{node_id}.{port}", node_id, port]))


def retarget_edge(document, draw) -> None:
    edge = _pick(draw, [e for e in _edges(document) if isinstance(e, dict)])
    if edge is not None:
        edge[draw(st.sampled_from(["from", "to"]))] = _port_ref(document, draw)


def add_edge(document, draw) -> None:
    edges = _edges(document)
    if isinstance(document.get("spec"), dict) and isinstance(document["spec"].get("edges"), list):
        edges.append({"from": _port_ref(document, draw), "to": _port_ref(document, draw)})


def wrong_param(document, draw) -> None:
    node = _pick(draw, [n for n in _nodes(document) if isinstance(n, dict)])
    if node is None:
        return
    node_type = CATALOG.get(node.get("type")) if isinstance(node.get("type"), str) else None
    names = list(node_type.Params.model_fields) if node_type else []
    name = draw(st.sampled_from(names)) if names and draw(st.booleans()) else draw(st.text(max_size=10))
    if not isinstance(node.get("params"), dict):
        node["params"] = {}
    node["params"][name] = draw(VALUES)


def change_type(document, draw) -> None:
    node = _pick(draw, [n for n in _nodes(document) if isinstance(n, dict)])
    if node is not None:
        node["type"] = draw(st.one_of(st.sampled_from(TYPE_IDS), TEXT))


def duplicate_id(document, draw) -> None:
    nodes = _nodes(document)
    node = _pick(draw, [n for n in nodes if isinstance(n, dict)])
    if node is not None:
        twin = copy.deepcopy(node)
        twin["type"] = draw(st.sampled_from(TYPE_IDS))
        nodes.insert(draw(st.integers(0, len(nodes))), twin)


def set_setting(document, draw) -> None:
    node = _pick(draw, [n for n in _nodes(document) if isinstance(n, dict)])
    if node is None:
        return
    setting = draw(st.sampled_from(["resources", "retries", "timeout", "ui", "cpu", "memory", "gpu"]))
    if setting in ("cpu", "memory", "gpu"):
        node["resources"] = {setting: draw(VALUES)}
    else:
        node[setting] = draw(VALUES)


def junk_key(document, draw) -> None:
    mapping = draw(st.sampled_from(_mappings(document)))
    mapping[draw(KEYS)] = draw(VALUES)


def drop_field(document, draw) -> None:
    mapping = _pick(draw, [m for m in _mappings(document) if m])
    if mapping is not None:
        del mapping[draw(st.sampled_from(list(mapping)))]


def replace_value(document, draw) -> None:
    slots = _slots(document)
    if slots:
        container, key = draw(st.sampled_from(slots))
        container[key] = draw(VALUES)


MUTATIONS = [
    rename_node, delete_node, delete_edge, retarget_edge, add_edge, wrong_param, change_type,
    duplicate_id, set_setting, junk_key, drop_field, replace_value,
]
LOCATED = re.compile(r"(:\d+)?: error: (node '|node #|edge '|edge #|pipeline: )")


@settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(document=pipelines(max_nodes=5), data=st.data())
def test_random_mutations_are_valid_or_exit_2_with_located_errors(document, data, tmp_path: Path, capsys, monkeypatch) -> None:
    monkeypatch.setenv("PIPECANVAS_HOME", str(tmp_path / "home"))
    for _ in range(data.draw(st.integers(1, 3), label="how many")):
        mutation = data.draw(st.sampled_from(MUTATIONS), label="mutation")
        mutation(document, data.draw)
    path = tmp_path / "mutated.yaml"
    path.write_text(yaml.safe_dump(document, sort_keys=False, allow_unicode=True), encoding="utf-8")
    capsys.readouterr()
    code = main(["validate", str(path)])
    captured = capsys.readouterr()
    assert code in (0, 2), captured.err
    assert "Traceback" not in captured.err + captured.out
    assert "unexpected error" not in captured.err
    assert all(line.startswith(str(path)) for line in captured.err.splitlines()), captured.err  # one finding, one line
    lines = [line for line in captured.err.splitlines() if ": error: " in line]
    assert bool(lines) == (code == 2), captured.err
    for line in lines:
        assert LOCATED.match(line[len(str(path)):]), line


@settings(max_examples=300, deadline=None)
@given(data=st.one_of(st.text(max_size=300), st.binary(max_size=300), VALUES.map(lambda v: yaml.safe_dump(v, allow_unicode=True))))
def test_parsing_anything_either_works_or_raises_a_spec_error(data) -> None:
    try:
        parse_pipeline(data)
    except SpecError as exc:
        assert exc.diagnostics and all(d.severity == "error" and d.message for d in exc.diagnostics)
