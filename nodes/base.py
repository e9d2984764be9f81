"""What a node type declares: ports, a params model, resources, an image, and ``run()``.

A node type is a class. Declaring it wrongly (a port name used twice, an unknown
category, a params model that accepts unknown keys) fails when the class is
created, with a message naming the class, so a broken node never reaches a user.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field, field_validator

from .artifacts import ArtifactKind
from .context import RunContext
from .errors import NodeDefinitionError

__all__ = [
    "Category",
    "Port",
    "PackageNeed",
    "Resources",
    "NodeParams",
    "NodeType",
    "DEFAULT_IMAGE",
    "DEFAULT_GPU_IMAGE",
]

DEFAULT_IMAGE = "pipecanvas/runtime:0.1.0"
DEFAULT_GPU_IMAGE = "pipecanvas/runtime-cuda:0.1.0"

_TYPE_ID = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+\Z")
_PORT_NAME = re.compile(r"^[a-z][a-z0-9_]*\Z")


class Category(str, Enum):
    """The palette groups, in the order an analyst builds a pipeline."""

    DATA = "data"
    PREPARE = "prepare"
    TRAIN = "train"
    EVALUATE = "evaluate"
    DEPLOY = "deploy"

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True)
class Port:
    """A named, typed connection point. Inputs may be optional; outputs always exist.

    An input with ``many`` takes any number of edges (a required one at least one);
    ``run()`` then gets a list of artifacts for it, ordered by feeder (node id, port).
    """

    name: str
    kind: ArtifactKind
    required: bool = True
    description: str = ""
    many: bool = False

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "kind": self.kind.value, "required": self.required, "description": self.description,
                "many": self.many}


@dataclass(frozen=True)
class PackageNeed:
    """A Python package ``run()`` imports that a plain install lacks (an optional extra).

    Declared so a local run can be checked before it starts (``runtime.machine``) instead of
    failing in the step; ``install`` is the command that adds it, shown to the analyst as is.
    """

    module: str
    title: str
    install: str


class Resources(BaseModel):
    """Compute a step asks for. CPU and memory are Kubernetes quantity strings; gpu counts ``nvidia.com/gpu``.

    Values are kept as written (checked by the compiler) so that an invalid one
    can be reported on its node instead of failing the whole file.
    """

    model_config = ConfigDict(extra="forbid")

    cpu: str | None = Field(None, description="CPU cores, e.g. \"2\" or \"500m\".")
    memory: str | None = Field(None, description="Memory, e.g. \"4Gi\" or \"512Mi\".")
    gpu: int | None = Field(None, description="Number of NVIDIA GPUs (nvidia.com/gpu).")

    @field_validator("cpu", "memory", mode="before")
    @classmethod
    def _numbers_as_quantities(cls, value: Any) -> Any:
        """YAML reads ``cpu: 2`` as a number; Kubernetes quantities are strings."""
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return format(value, "g") if isinstance(value, float) else str(value)
        return value

    def cpu_cores(self) -> int:
        """Whole cores to use: the CPU quantity rounded down, at least 1 (``"500m"`` → 1, ``"2"`` → 2)."""
        if not self.cpu:
            return 1
        text = self.cpu.strip()
        try:
            amount = float(text[:-1]) / 1000 if text.endswith("m") else float(text)
        except ValueError:
            return 1
        return max(1, int(amount)) if amount == amount and amount != float("inf") else 1

    def merged_over(self, base: "Resources | None") -> "Resources":
        """These resources with any unset field taken from ``base``."""
        if base is None:
            return self
        return Resources(
            cpu=self.cpu if self.cpu is not None else base.cpu,
            memory=self.memory if self.memory is not None else base.memory,
            gpu=self.gpu if self.gpu is not None else base.gpu,
        )


class NodeParams(BaseModel):
    """Base for every node's params model: unknown keys are errors, values are checked on assignment."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True, defer_build=True)


class NodeType:
    """Subclass this to add a node type; set the class attributes and implement ``run``.

    ``run(inputs, params, context)`` gets a dict of in-memory artifacts keyed by
    input port (an unconnected optional input is absent), a validated ``Params``
    instance and a ``RunContext``; it returns a dict keyed by output port. It never
    reads or writes artifact files: the runtime does that around it.
    """

    type_id: ClassVar[str]
    version: ClassVar[str] = "1"
    title: ClassVar[str]
    description: ClassVar[str]
    category: ClassVar[Category]
    icon: ClassVar[str] = "box"
    #: more words the palette search finds the node by (what it does, algorithms it offers, other tools' names)
    keywords: ClassVar[tuple[str, ...]] = ()
    inputs: ClassVar[tuple[Port, ...]] = ()
    outputs: ClassVar[tuple[Port, ...]] = ()
    Params: ClassVar[type[NodeParams]] = NodeParams
    resources: ClassVar[Resources] = Resources(cpu="1", memory="1Gi")
    image: ClassVar[str] = DEFAULT_IMAGE
    #: False for nodes with effects outside their outputs (deploy): they run every time
    cacheable: ClassVar[bool] = True
    #: modules ``run()`` imports; a local run imports them once up front so each step starts warm
    #: (the model file format comes with any model port: see ``modules_to_warm``)
    warm_imports: ClassVar[tuple[str, ...]] = ()
    #: optional packages ``run()`` cannot do without; a local run checks them first (``runtime.machine``)
    needs: ClassVar[tuple[PackageNeed, ...]] = ()
    #: ``module.Name`` of every class and function the models this node writes hold, beyond the built-in
    #: ones (``nodes.model_types``); a model file naming anything else is refused when read
    model_types: ClassVar[frozenset[str]] = frozenset()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if cls.__dict__.get("abstract", False):
            return
        _check_definition(cls)

    def run(self, inputs: dict[str, Any], params: Any, context: RunContext) -> dict[str, Any]:
        raise NotImplementedError

    @classmethod
    def modules_to_warm(cls) -> tuple[str, ...]:
        """``warm_imports``, and the model file format (``nodes.skops_import``) for a node with a model port:
        every node that reads or writes a model needs it, so it follows from the ports, not from each list."""
        ports = (*cls.inputs, *cls.outputs)
        models = ("nodes.skops_import",) if any(port.kind == ArtifactKind.MODEL for port in ports) else ()
        return (*cls.warm_imports, *models)

    @classmethod
    def source_fingerprint(cls, params: Any) -> str | None:
        """For nodes that read outside data: a string that changes when that data changes.

        The runtime mixes it into the step's cache key, so editing a CSV re-runs
        the steps that read it even though no param changed.
        """
        return None

    @classmethod
    def input_port(cls, name: str) -> Port | None:
        return _ports_by_name(cls, "inputs").get(name)

    @classmethod
    def output_port(cls, name: str) -> Port | None:
        return _ports_by_name(cls, "outputs").get(name)

    @classmethod
    def describe(cls) -> dict[str, Any]:
        """The catalog entry as plain JSON: what ``pipecanvas nodes --json`` and the studio read."""
        return {
            "type": cls.type_id,
            "version": cls.version,
            "title": cls.title,
            "description": cls.description,
            "category": cls.category.value,
            "icon": cls.icon,
            "keywords": list(cls.keywords),
            "inputs": [p.to_json() for p in cls.inputs],
            "outputs": [p.to_json() for p in cls.outputs],
            "params_schema": cls.Params.model_json_schema(),
            "resources": cls.resources.model_dump(exclude_none=True),
            "image": cls.image,
        }


def _ports_by_name(cls: type[NodeType], side: str) -> dict[str, Port]:
    """``cls.inputs`` or ``cls.outputs`` by name, built once per tuple: the compiler looks a port up for each
    end of each edge, and a node with hundreds of inputs made a search through them quadratic."""
    ports = getattr(cls, side)
    kept = cls.__dict__.get(f"_{side}_by_name")
    if kept is None or kept[0] is not ports:  # a subclass, or ports reassigned since
        by_name: dict[str, Port] = {}
        for port in ports:
            by_name.setdefault(port.name, port)
        kept = (ports, by_name)
        setattr(cls, f"_{side}_by_name", kept)
    return kept[1]


def _check_definition(cls: type[NodeType]) -> None:
    name = cls.__qualname__
    for attr in ("type_id", "title", "description", "category"):
        if not hasattr(cls, attr):
            raise NodeDefinitionError(f"node class {name} must set '{attr}'")
    if not _TYPE_ID.fullmatch(cls.type_id):
        raise NodeDefinitionError(f"node class {name}: type id {cls.type_id!r} must look like 'family.name' (lowercase)")
    if not isinstance(cls.category, Category):
        raise NodeDefinitionError(f"node class {name}: category must be one of {[c.value for c in Category]}")
    if cls.type_id.split(".")[0] != cls.category.value and cls.type_id.split(".")[0] in {c.value for c in Category}:
        raise NodeDefinitionError(f"node class {name}: type id {cls.type_id!r} is in the wrong category {cls.category.value!r}")
    for direction, ports in (("input", cls.inputs), ("output", cls.outputs)):
        seen: set[str] = set()
        for port in ports:
            if not _PORT_NAME.fullmatch(port.name):
                raise NodeDefinitionError(f"node class {name}: {direction} port {port.name!r} must be lowercase letters, digits or '_'")
            if port.name in seen:
                raise NodeDefinitionError(f"node class {name}: {direction} port {port.name!r} is declared twice")
            if not isinstance(port.kind, ArtifactKind):
                raise NodeDefinitionError(f"node class {name}: port {port.name!r} has unknown kind {port.kind!r}")
            if port.many and direction == "output":
                raise NodeDefinitionError(f"node class {name}: output port {port.name!r} cannot be 'many'; only inputs take several edges")
            seen.add(port.name)
    if not (isinstance(cls.Params, type) and issubclass(cls.Params, BaseModel)):
        raise NodeDefinitionError(f"node class {name}: Params must be a pydantic model")
    if cls.Params.model_config.get("extra") != "forbid":
        raise NodeDefinitionError(f"node class {name}: Params must forbid unknown keys (subclass NodeParams)")
