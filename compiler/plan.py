"""The ExecutionPlan: every step fully resolved, in topological order.

The plan is what both executors run: the same argv (the shared step entrypoint),
the same artifact URIs, the same cache keys. A step's cache key hashes its node
type and version, its resolved params, its image, and the keys of the steps that
feed it, so changing anything upstream changes every key downstream.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from nodes.artifacts import ArtifactKind
from nodes.base import DEFAULT_IMAGE, NodeType, Resources
from nodes.catalog import Catalog

from .diagnostics import errors_only
from .durations import parse_duration
from .errors import SpecError
from .graph import PipelineGraph, parse_port_ref
from .spec import Defaults, KubernetesOptions, NodeSpec, Pipeline
from .validate import check_pipeline
from .plain_yaml import dump_plain_yaml
from .yaml_io import SourceMap

__all__ = [
    "ArtifactRef",
    "cache_key",
    "load_plan_yaml",
    "PlannedStep",
    "ExecutionPlan",
    "compile_plan",
    "dump_plan_yaml",
    "default_artifact_root",
    "step_resources",
    "ENTRYPOINT_MODULE",
    "PLAN_FILE",
]

ENTRYPOINT_MODULE = "runtime.entrypoint"
PLAN_FILE = "plan.yaml"
_EXTENSIONS = {ArtifactKind.TABLE: "parquet", ArtifactKind.MODEL: "skops", ArtifactKind.METRICS: "json", ArtifactKind.ENDPOINT: "json"}


class _Model(BaseModel):
    """Empty lists and dicts are plain defaults, as in ``compiler.spec._Spec`` (which says why)."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class ArtifactRef(_Model):
    """Where one artifact lives, what it is, and which step's output port makes it."""

    uri: str
    kind: ArtifactKind
    step: str
    port: str


class PlannedStep(_Model):
    id: str
    type: str
    version: str
    params: dict[str, Any]
    resources: Resources
    image: str
    argv: list[str]
    inputs: dict[str, ArtifactRef] = {}
    #: inputs that take many edges: each port's artifacts, ordered by feeder (step id, port)
    input_lists: dict[str, list[ArtifactRef]] = {}
    outputs: dict[str, ArtifactRef] = {}
    depends_on: list[str] = []
    cache_key: str
    retries: int = 0
    timeout_seconds: int | None = None
    kubernetes: KubernetesOptions | None = None


class ExecutionPlan(_Model):
    api_version: Literal["pipecanvas/v1"] = Field("pipecanvas/v1", alias="apiVersion")
    kind: Literal["ExecutionPlan"] = "ExecutionPlan"
    pipeline: str
    pipeline_digest: str
    artifact_root: str
    plan_uri: str
    steps: list[PlannedStep]
    warnings: list[str] = []

    def step(self, step_id: str) -> PlannedStep:
        for step in self.steps:
            if step.id == step_id:
                return step
        raise KeyError(step_id)


def default_artifact_root(pipeline_name: str) -> str:
    """``$PIPECANVAS_HOME/artifacts/<pipeline>`` (home defaults to ``~/.pipecanvas``)."""
    home = Path(os.environ.get("PIPECANVAS_HOME") or Path.home() / ".pipecanvas")
    return str(home / "artifacts" / pipeline_name)


def compile_plan(
    pipeline: Pipeline,
    catalog: Catalog,
    artifact_root: str | None = None,
    source_map: SourceMap | None = None,
    fingerprint_sources: bool = False,
) -> ExecutionPlan:
    """Validate ``pipeline`` and resolve it into a plan. Raises ``SpecError`` with every error found.

    With ``fingerprint_sources`` (the runtime sets it), nodes that read outside
    data (``data.file``) add that data's size and modification time to their
    cache key, so a changed file is never served from the cache (an uploaded
    dataset's content digest), and the data's own checks (``data_checks``) run
    too, so a run that cannot be right (a classifier on a continuous target)
    stops before it starts.
    """
    diagnostics, graph, params = check_pipeline(pipeline, catalog, source_map)
    if fingerprint_sources and not errors_only(diagnostics):
        from .data_checks import check_data

        diagnostics += check_data(pipeline, catalog, source_map)
    if errors_only(diagnostics):
        raise SpecError(diagnostics)
    root = (artifact_root or default_artifact_root(pipeline.metadata.name)).rstrip("/")
    plan_uri = f"{root}/{PLAN_FILE}"
    order = graph.topological_order()
    steps: dict[str, PlannedStep] = {}
    for node_id in order:
        steps[node_id] = _plan_step(pipeline, catalog, graph, node_id, params[node_id], steps, root, plan_uri,
                                    fingerprint_sources)
    return ExecutionPlan(
        pipeline=pipeline.metadata.name,
        pipeline_digest=_digest(pipeline),
        artifact_root=root,
        plan_uri=plan_uri,
        steps=list(steps.values()),
        warnings=[d.message for d in diagnostics if d.severity == "warning"],
    )


def _plan_step(
    pipeline: Pipeline,
    catalog: Catalog,
    graph: PipelineGraph,
    node_id: str,
    validated_params: BaseModel,
    planned: dict[str, PlannedStep],
    root: str,
    plan_uri: str,
    fingerprint_sources: bool,
) -> PlannedStep:
    node = graph.spec(node_id)
    node_type = catalog[node.type]
    params = validated_params.model_dump(mode="json")
    defaults = pipeline.spec.defaults
    resources = step_resources(node, node_type, defaults)
    image = _image(node_type.image, defaults.image if defaults else None)
    fed: dict[str, list[ArtifactRef]] = {}
    for upstream in graph.predecessors(node_id):
        for out_port, in_port in graph.ports(upstream, node_id):
            fed.setdefault(in_port, []).append(planned[upstream].outputs[out_port])
    inputs = {port.name: fed[port.name][0] for port in node_type.inputs if port.name in fed and not port.many}
    input_lists = {
        port.name: sorted(fed[port.name], key=lambda ref: (ref.step, ref.port))
        for port in node_type.inputs if port.name in fed and port.many
    }
    outputs = {
        port.name: ArtifactRef(uri=f"{root}/{node_id}/{port.name}.{_EXTENSIONS[port.kind]}", kind=port.kind, step=node_id, port=port.name)
        for port in node_type.outputs
    }
    upstream_keys: dict[str, Any] = {port: f"{planned[ref.step].cache_key}/{ref.port}" for port, ref in inputs.items()}
    upstream_keys.update({
        port: [f"{planned[ref.step].cache_key}/{ref.port}" for ref in refs] for port, refs in input_lists.items()
    })
    if fingerprint_sources:
        source = node_type.source_fingerprint(validated_params)
        if source is not None:
            upstream_keys["<source>"] = source
    return PlannedStep(
        id=node_id,
        type=node_type.type_id,
        version=node_type.version,
        params=params,
        resources=resources,
        image=image,
        argv=["python", "-m", ENTRYPOINT_MODULE, "--plan", plan_uri, "--step", node_id],
        inputs=inputs,
        input_lists=input_lists,
        outputs=outputs,
        depends_on=sorted({ref.step for ref in inputs.values()} | {r.step for refs in input_lists.values() for r in refs}),
        cache_key=cache_key(node_type.type_id, node_type.version, params, image, upstream_keys),
        retries=node.retries or 0,
        timeout_seconds=parse_duration(node.timeout) if node.timeout else None,
        kubernetes=_kubernetes(node.kubernetes, defaults.kubernetes if defaults else None),
    )


def step_resources(node: NodeSpec, node_type: type[NodeType], defaults: Defaults | None) -> Resources:
    """What a step asks for: the node's own resources, else the pipeline's defaults, else its type's (field by field)."""
    layers = (node.resources, defaults.resources if defaults else None, node_type.resources)

    def first(name: str) -> Any:
        for layer in layers:
            if layer is not None and getattr(layer, name) is not None:
                return getattr(layer, name)
        return None

    return Resources(cpu=first("cpu"), memory=first("memory"), gpu=first("gpu"))


def _kubernetes(own: KubernetesOptions | None, default: KubernetesOptions | None) -> KubernetesOptions | None:
    """The node's scheduling options, each field falling back to the pipeline's defaults."""
    if own is None or default is None:
        return own or default
    return KubernetesOptions.model_validate({
        name: getattr(own, name) if getattr(own, name) is not None else getattr(default, name)
        for name in KubernetesOptions.model_fields
    })


def _image(node_type_image: str, default_image: str | None) -> str:
    """A pipeline-wide image replaces the standard runtime image; a node type's own image (e.g. CUDA) is kept."""
    if default_image and node_type_image == DEFAULT_IMAGE:
        return default_image
    return node_type_image


#: canonical JSON (sorted keys, no spaces) for hashing; one encoder, not one made by every ``json.dumps`` call
_canonical_json = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode


def cache_key(type_id: str, version: str, params: dict[str, Any], image: str, upstream: dict[str, Any]) -> str:
    """sha256 over everything that decides a step's output."""
    material = _canonical_json({"type": type_id, "version": version, "params": params, "image": image, "inputs": upstream})
    return hashlib.sha256(material.encode()).hexdigest()


def _digest(pipeline: Pipeline) -> str:
    """sha256 of the pipeline's canonical content (JSON with sorted keys: fast even at 1000s of nodes)."""
    return hashlib.sha256(_canonical_json(pipeline.to_document()).encode()).hexdigest()


def dump_plan_yaml(plan: ExecutionPlan) -> str:
    return dump_plain_yaml(plan.model_dump(mode="json", by_alias=True, exclude_none=True))


def load_plan_yaml(text: str | bytes) -> ExecutionPlan:
    from .yaml_io import PLAN_LIMITS, load_yaml_document

    document, _ = load_yaml_document(text, PLAN_LIMITS)
    return ExecutionPlan.model_validate(document)

