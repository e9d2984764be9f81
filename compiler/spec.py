"""The pipeline file's schema: pydantic models that mirror the YAML one to one.

Field names are snake_case aliased to the file's keys (``apiVersion``, ``from``),
unknown keys are refused, and nothing here checks meaning (ids, types, ports,
quantities): that is ``compiler.validate``'s job, so an unfinished pipeline in
the studio can still be held, saved and shown with all its problems at once.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_serializer, field_validator

from nodes.base import Resources

__all__ = [
    "API_VERSION", "Pipeline", "PipelineBody", "Metadata", "Defaults", "NodeSpec", "EdgeSpec", "UiPosition",
    "UiNote", "PipelineUi",
    "Resources", "KubernetesOptions", "Toleration",
]

API_VERSION = "pipecanvas/v1"


class _Spec(BaseModel):
    """Empty lists and dicts are plain defaults (``= []``), which pydantic copies for each instance: a
    ``default_factory=list`` makes pydantic read the builtin's signature, which compiles the tokenizer's
    patterns first, about 8 ms of every ``validate`` and ``compile``."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class Metadata(_Spec):
    name: str = Field(description="Lowercase RFC 1123 label, at most 63 characters.")
    description: str | None = None


class Toleration(_Spec):
    """A Kubernetes toleration, as in a Pod spec."""

    key: str | None = None
    operator: Literal["Equal", "Exists"] | None = None
    value: str | None = None
    effect: Literal["NoSchedule", "PreferNoSchedule", "NoExecute"] | None = None
    toleration_seconds: int | None = Field(None, alias="tolerationSeconds")


class KubernetesOptions(_Spec):
    """Where a step's pod may be scheduled on a cluster. Ignored by local runs; never part of the cache key."""

    node_selector: dict[str, str] | None = Field(None, alias="nodeSelector")
    tolerations: list[Toleration] | None = None
    queue: str | None = Field(None, description="Kueue LocalQueue name (label kueue.x-k8s.io/queue-name).")


class Defaults(_Spec):
    image: str | None = Field(None, description="Container image for Kubernetes runs, unless a node type needs its own.")
    resources: Resources | None = None
    kubernetes: KubernetesOptions | None = None


def _compact(value: float) -> float | int:
    """``120.0`` is written ``120``: canvas coordinates are whole numbers almost always."""
    return int(value) if float(value).is_integer() else value


class UiPosition(_Spec):
    """Where the node sits on the canvas. Never affects execution."""

    x: float = 0.0
    y: float = 0.0

    @field_serializer("x", "y")
    def _compact(self, value: float) -> float | int:
        return _compact(value)


class UiNote(_Spec):
    """A sticky note on the canvas: text an analyst leaves beside the nodes. Never affects execution."""

    id: str
    text: str = ""
    x: float = 0.0
    y: float = 0.0
    width: float = 240.0
    height: float = 140.0

    @field_serializer("x", "y", "width", "height")
    def _compact(self, value: float) -> float | int:
        return _compact(value)


class PipelineUi(_Spec):
    """What only the canvas reads (notes); compile, plans and cache keys never look here."""

    notes: list[UiNote] = []

    @field_validator("notes", mode="before")
    @classmethod
    def _null_notes(cls, value: Any) -> Any:
        return [] if value is None else value


class NodeSpec(_Spec):
    id: str
    type: str
    params: dict[str, Any] = {}
    resources: Resources | None = None
    retries: int | None = None
    timeout: str | None = Field(None, description="How long one attempt may run, e.g. 90s, 30m, 2h, 1h30m.")
    kubernetes: KubernetesOptions | None = None
    ui: UiPosition | None = None

    @field_validator("timeout", mode="before")
    @classmethod
    def _seconds_as_duration(cls, value: Any) -> Any:
        """``timeout: 90`` means 90 seconds."""
        if isinstance(value, int) and not isinstance(value, bool):
            return f"{value}s"
        return value

    @field_validator("params", mode="before")
    @classmethod
    def _null_params(cls, value: Any) -> Any:
        """``params:`` with nothing after it means no params."""
        return {} if value is None else value


class EdgeSpec(_Spec):
    from_: str = Field(alias="from", description="<node id>.<output port>")
    to: str = Field(description="<node id>.<input port>")

    @property
    def label(self) -> str:
        return f"{self.from_} -> {self.to}"


class PipelineBody(_Spec):
    defaults: Defaults | None = None
    nodes: list[NodeSpec] = []
    edges: list[EdgeSpec] = []

    @field_validator("nodes", "edges", mode="before")
    @classmethod
    def _null_list(cls, value: Any) -> Any:
        return [] if value is None else value


class Pipeline(_Spec):
    api_version: Literal["pipecanvas/v1"] = Field(API_VERSION, alias="apiVersion")
    kind: Literal["Pipeline"] = "Pipeline"
    metadata: Metadata
    spec: PipelineBody = Field(default_factory=PipelineBody)
    ui: PipelineUi | None = None

    def node(self, node_id: str) -> NodeSpec | None:
        return next((n for n in self.spec.nodes if n.id == node_id), None)

    def to_document(self) -> dict[str, Any]:
        """The YAML document as plain data: by alias, without unset optional fields or empty params."""
        doc = self.model_dump(mode="json", by_alias=True, exclude_none=True)
        for node in doc["spec"]["nodes"]:
            if not node.get("params"):
                node.pop("params", None)
        return doc
