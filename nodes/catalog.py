"""The node catalog: every node type the compiler and the studio know, by type id.

Built-in types are always present. Third-party packages add types through the
entry-point group ``pipecanvas.nodes``; an entry point names either a NodeType
subclass or an iterable of them. A broken plug-in is reported, never fatal, so
one bad package cannot take the studio down.

Built-in types are known by id from ``builtin_index`` and their modules imported on first use (``get``,
iteration), so a command costs the node modules its pipeline uses. Plug-ins are looked up the first time the
catalog is asked for a type that is not built in, or for the whole list: finding them reads every installed
package's entry points (about 10 ms), which a pipeline of built-in types does not need.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from importlib import import_module
from importlib.metadata import entry_points
from typing import Any

from .base import Category, NodeType
from .errors import NodeDefinitionError

__all__ = ["Catalog", "ENTRY_POINT_GROUP", "NODE_MODULES_ENV", "default_catalog"]

ENTRY_POINT_GROUP = "pipecanvas.nodes"
NODE_MODULES_ENV = "PIPECANVAS_NODE_MODULES"

#: (label, loader) of one plug-in source: an entry point, or a module named in ``$PIPECANVAS_NODE_MODULES``
PluginSource = tuple[str, Callable[[], Any]]


class Catalog:
    """An immutable-after-load mapping of type id to node type class.

    ``deferred`` maps more type ids to ``module:Class``: each is imported the first time it is asked for
    (or the catalog is listed), and counts as registered in that place of the order from the start.
    ``plugins`` finds the plug-in sources; they are loaded, after every type given here, the first time the
    catalog is asked for an id it does not know, for its length or for the list.
    """

    def __init__(self, node_types: Iterable[type[NodeType]] = (), *, deferred: Mapping[str, str] | None = None,
                 plugins: Callable[[], list[PluginSource]] | None = None) -> None:
        self._types: dict[str, type[NodeType]] = {}
        self._deferred: dict[str, str] = dict(deferred or {})
        self._order: dict[str, int] = {type_id: i for i, type_id in enumerate(self._deferred)}
        self._problems: list[str] = []
        self._plugins_pending: Callable[[], list[PluginSource]] | None = None  # None once loaded, or when none
        self._plugins_loading = False
        self._plugins_lock = threading.RLock()  # re-entered: registering a plug-in's type looks its id up
        for node_type in node_types:
            self.register(node_type)
        self._plugins_pending = plugins

    @property
    def problems(self) -> list[str]:
        """Why a plug-in could not be loaded, one line each (loads the plug-ins first)."""
        self._load_plugins()
        return self._problems

    def _load_plugins(self) -> None:
        """Register every plug-in's types, once; a broken plug-in becomes a line in ``problems``, never an error.

        Another thread asking meanwhile waits for all of them (the studio's sessions share one catalog).
        """
        if self._plugins_pending is None:
            return
        with self._plugins_lock:
            find = self._plugins_pending
            if find is None or self._plugins_loading:  # loaded meanwhile, or this thread is registering one
                return
            self._plugins_loading = True
            try:
                for label, load in find():
                    try:
                        for node_type in _from_entry_point(load()):
                            self.register(node_type)
                    except Exception as exc:  # a plug-in must not break the catalog
                        message = f"{label} could not be loaded: {exc}"
                        import logging  # only for this rare message: no command pays for logging otherwise

                        logging.getLogger(__name__).warning(message)
                        self._problems.append(message)
            finally:
                self._plugins_pending, self._plugins_loading = None, False

    def register(self, node_type: type[NodeType]) -> None:
        if not (isinstance(node_type, type) and issubclass(node_type, NodeType)):
            raise NodeDefinitionError(f"{node_type!r} is not a NodeType subclass")
        existing = self.get(node_type.type_id)
        if existing is not None and existing is not node_type:
            raise NodeDefinitionError(
                f"node type {node_type.type_id!r} is defined twice ({existing.__module__} and {node_type.__module__})"
            )
        self._types[node_type.type_id] = node_type
        self._order.setdefault(node_type.type_id, len(self._order))

    def get(self, type_id: str) -> type[NodeType] | None:
        found = self._types.get(type_id)
        if found is None and type_id in self._deferred:
            found = self._load(type_id)
        if found is None and self._plugins_pending is not None:
            self._load_plugins()
            found = self._types.get(type_id)
        return found

    def _load(self, type_id: str) -> type[NodeType]:
        """Import a deferred type. Idempotent, so two threads (the studio's sessions) may race here."""
        where = self._deferred.get(type_id)
        if where is None:  # another thread loaded it meanwhile (it records the type before it drops the entry)
            return self._types[type_id]
        module, _, name = where.partition(":")
        node_type = getattr(import_module(module), name)
        if getattr(node_type, "type_id", None) != type_id:
            raise NodeDefinitionError(f"{where} does not define node type {type_id!r}")
        self._types[type_id] = node_type
        self._deferred.pop(type_id, None)
        return node_type

    def __getitem__(self, type_id: str) -> type[NodeType]:
        found = self.get(type_id)
        if found is None:
            raise KeyError(type_id)
        return found

    def __contains__(self, type_id: object) -> bool:
        if type_id not in self._order:
            self._load_plugins()
        return type_id in self._order  # every registered or deferred id, once

    def __iter__(self) -> Iterator[type[NodeType]]:
        self._load_plugins()
        for type_id in list(self._deferred):
            self.get(type_id)
        order = {c: i for i, c in enumerate(Category)}
        return iter(sorted(self._types.values(), key=lambda t: (order[t.category], self._order[t.type_id])))

    def __len__(self) -> int:
        self._load_plugins()
        return len(self._order)

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


def _plugin_sources() -> list[PluginSource]:
    """(label, loader) for each entry point and each module in ``$PIPECANVAS_NODE_MODULES``.

    The variable (comma-separated module names, each exporting ``NODE_TYPES``)
    lets a node author try node types without packaging them.
    """
    sources: list[PluginSource] = [
        (f"plug-in '{ep.name}' ({ep.value})", ep.load)
        for ep in entry_points(group=ENTRY_POINT_GROUP)
        if ep.value != "nodes.builtin:NODE_TYPES"
    ]
    for module in filter(None, (m.strip() for m in os.environ.get(NODE_MODULES_ENV, "").split(","))):
        sources.append((f"module '{module}' (from ${NODE_MODULES_ENV})", lambda m=module: import_module(m).NODE_TYPES))
    return sources


def default_catalog(include_plugins: bool = True) -> Catalog:
    """The built-in node types plus, unless disabled, those registered by installed packages."""
    from .builtin_index import BUILTIN_TYPES

    return Catalog(deferred=BUILTIN_TYPES, plugins=_plugin_sources if include_plugins else None)
