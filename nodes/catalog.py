"""The node catalog: every node type the compiler and the studio know, by type id.

Built-in types are always present. Third-party packages add types through the
entry-point group ``pipecanvas.nodes``; an entry point names either a NodeType
subclass or an iterable of them. A broken plug-in is reported, never fatal, so
one bad package cannot take the studio down.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterable, Iterator
from importlib import import_module
from importlib.metadata import entry_points
from typing import Any

from .base import Category, NodeType
from .errors import NodeDefinitionError

__all__ = ["Catalog", "ENTRY_POINT_GROUP", "NODE_MODULES_ENV", "default_catalog"]

ENTRY_POINT_GROUP = "pipecanvas.nodes"
NODE_MODULES_ENV = "PIPECANVAS_NODE_MODULES"
_log = logging.getLogger(__name__)


class Catalog:
    """An immutable-after-load mapping of type id to node type class."""

    def __init__(self, node_types: Iterable[type[NodeType]] = ()) -> None:
        self._types: dict[str, type[NodeType]] = {}
        self.problems: list[str] = []
        for node_type in node_types:
            self.register(node_type)

    def register(self, node_type: type[NodeType]) -> None:
        if not (isinstance(node_type, type) and issubclass(node_type, NodeType)):
            raise NodeDefinitionError(f"{node_type!r} is not a NodeType subclass")
        existing = self._types.get(node_type.type_id)
        if existing is not None and existing is not node_type:
            raise NodeDefinitionError(
                f"node type {node_type.type_id!r} is defined twice ({existing.__module__} and {node_type.__module__})"
            )
        self._types[node_type.type_id] = node_type

    def get(self, type_id: str) -> type[NodeType] | None:
        return self._types.get(type_id)

    def __getitem__(self, type_id: str) -> type[NodeType]:
        return self._types[type_id]

    def __contains__(self, type_id: object) -> bool:
        return type_id in self._types

    def __iter__(self) -> Iterator[type[NodeType]]:
        order = {c: i for i, c in enumerate(Category)}
        registered = {type_id: i for i, type_id in enumerate(self._types)}
        return iter(sorted(self._types.values(), key=lambda t: (order[t.category], registered[t.type_id])))

    def __len__(self) -> int:
        return len(self._types)

    def type_ids(self) -> list[str]:
        return [t.type_id for t in self]

    def describe(self) -> list[dict[str, Any]]:
        """Every node type as JSON, in palette order."""
        return [t.describe() for t in self]


def _from_entry_point(obj: Any) -> list[type[NodeType]]:
    if isinstance(obj, type) and issubclass(obj, NodeType):
        return [obj]
    if isinstance(obj, Iterable):
        return list(obj)
    raise NodeDefinitionError(f"entry point object {obj!r} is neither a NodeType nor a list of them")


def _plugin_sources() -> list[tuple[str, Callable[[], Any]]]:
    """(label, loader) for each entry point and each module in ``$PIPECANVAS_NODE_MODULES``.

    The variable (comma-separated module names, each exporting ``NODE_TYPES``)
    lets a node author try node types without packaging them.
    """
    sources: list[tuple[str, Callable[[], Any]]] = [
        (f"plug-in '{ep.name}' ({ep.value})", ep.load)
        for ep in entry_points(group=ENTRY_POINT_GROUP)
        if ep.value != "nodes.builtin:NODE_TYPES"
    ]
    for module in filter(None, (m.strip() for m in os.environ.get(NODE_MODULES_ENV, "").split(","))):
        sources.append((f"module '{module}' (from ${NODE_MODULES_ENV})", lambda m=module: import_module(m).NODE_TYPES))
    return sources


def default_catalog(include_plugins: bool = True) -> Catalog:
    """The built-in node types plus, unless disabled, those registered by installed packages."""
    from .builtin import NODE_TYPES

    catalog = Catalog(NODE_TYPES)
    if not include_plugins:
        return catalog
    for label, load in _plugin_sources():
        try:
            for node_type in _from_entry_point(load()):
                catalog.register(node_type)
        except Exception as exc:  # a plug-in must not break the catalog
            message = f"{label} could not be loaded: {exc}"
            _log.warning(message)
            catalog.problems.append(message)
    return catalog
