"""The catalog knows the built-in types by id (``nodes/builtin_index.py``) and imports their modules on first use."""

from __future__ import annotations

import sys
import textwrap
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from compiler import parse_pipeline, validate_pipeline
from nodes import Catalog, Category, default_catalog
from nodes.builtin import NODE_TYPES
from nodes.builtin_index import BUILTIN_TYPES
from nodes.errors import NodeDefinitionError
from pipecanvas_test_nodes import SourceNode


def test_the_index_names_the_same_types_in_the_same_order_as_the_built_in_list() -> None:
    """The entry point (``nodes.builtin:NODE_TYPES``) and the catalog's index must not drift apart."""
    assert list(BUILTIN_TYPES.items()) == [(t.type_id, f"{t.__module__}:{t.__name__}") for t in NODE_TYPES]


def test_the_catalog_lists_every_built_in_type_in_palette_order() -> None:
    categories = list(Category)
    expected = sorted(NODE_TYPES, key=lambda t: categories.index(t.category))  # stable: the index's order within one
    catalog = default_catalog(include_plugins=False)

    assert len(catalog) == len(NODE_TYPES) and "train.tune" in catalog and "no.such" not in catalog
    assert list(catalog) == expected
    assert catalog["prepare.split"] is catalog.get("prepare.split") is next(t for t in NODE_TYPES if t.type_id == "prepare.split")
    with pytest.raises(KeyError):
        catalog["no.such"]


class _Impostor(SourceNode):
    """A plug-in's type (the runtime tests' source node) that takes a built-in's id."""

    type_id = "data.sample"
    category = Category.DATA  # a type id's family names its category


def test_a_type_that_takes_a_built_in_id_is_refused_before_the_built_in_was_ever_used() -> None:
    catalog = Catalog(deferred=BUILTIN_TYPES)

    with pytest.raises(NodeDefinitionError, match="'data.sample' is defined twice"):
        catalog.register(_Impostor)
    assert catalog.get("data.sample").title == "Sample dataset"


def test_an_index_entry_that_names_another_class_is_an_error_that_says_so() -> None:
    catalog = Catalog(deferred={"data.sample": "nodes.data:FileTable"})

    with pytest.raises(NodeDefinitionError, match="nodes.data:FileTable does not define node type 'data.sample'"):
        catalog.get("data.sample")


# ---- plug-ins: looked up when a type is not built in, or when the whole catalog is listed -------------------


def _plugin_module(folder: Path, name: str, body: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """A node author's module, found as ``$PIPECANVAS_NODE_MODULES`` names it."""
    (folder / f"{name}.py").write_text(textwrap.dedent(body), encoding="utf-8")
    monkeypatch.syspath_prepend(str(folder))
    monkeypatch.setenv("PIPECANVAS_NODE_MODULES", name)
    monkeypatch.delitem(sys.modules, name, raising=False)


_PLUGIN = """
    import time

    from nodes import Category
    from pipecanvas_test_nodes import SleepNode

    time.sleep({delay})  # a plug-in that takes a while to import, so that two threads can meet here


    class Counter(SleepNode):
        type_id = "{type_id}"
        category = Category.{category}


    NODE_TYPES = [Counter]
"""


def _plugin(delay: float = 0, type_id: str = "acme.counter", category: str = "PREPARE") -> str:
    return _PLUGIN.format(delay=delay, type_id=type_id, category=category)


_BUILT_INS_ONLY = """
apiVersion: pipecanvas/v1
kind: Pipeline
metadata: {name: only-built-ins}
spec:
  nodes:
    - {id: load, type: data.sample, params: {dataset: iris}}
    - {id: split, type: prepare.split}
  edges:
    - {from: load.table, to: split.table}
"""


def test_a_pipeline_of_built_in_types_is_checked_without_importing_any_plug_in(tmp_path, monkeypatch) -> None:
    _plugin_module(tmp_path, "acme_nodes", _plugin(), monkeypatch)
    catalog = default_catalog()

    assert validate_pipeline(parse_pipeline(_BUILT_INS_ONLY).pipeline, catalog) == []
    assert "acme_nodes" not in sys.modules

    assert catalog["acme.counter"].__module__ == "acme_nodes"  # asked for by id: found
    assert "acme.counter" in default_catalog() and len(default_catalog()) == len(BUILTIN_TYPES) + 1
    assert "acme.counter" in default_catalog().type_ids()


def test_a_pipeline_that_uses_a_plug_in_type_finds_it(tmp_path, monkeypatch) -> None:
    _plugin_module(tmp_path, "acme_nodes", _plugin(), monkeypatch)
    document = _BUILT_INS_ONLY.replace("type: prepare.split", "type: acme.counter").replace("split.table", "split.count")

    messages = [d.message for d in validate_pipeline(parse_pipeline(document).pipeline, default_catalog())]

    assert not any("unknown node type" in m for m in messages), messages
    assert any("a table cannot feed a metrics input" in m for m in messages), messages  # checked as the type it is


def test_a_broken_plug_in_is_reported_where_the_catalog_is_listed_and_breaks_nothing(tmp_path, monkeypatch) -> None:
    _plugin_module(tmp_path, "broken_nodes", "raise RuntimeError('the author forgot a dependency')\n", monkeypatch)

    assert validate_pipeline(parse_pipeline(_BUILT_INS_ONLY).pipeline, default_catalog()) == []
    assert [d.message for d in validate_pipeline(
        parse_pipeline(_BUILT_INS_ONLY.replace("prepare.split", "acme.nothing")).pipeline, default_catalog())
        if "unknown" in d.message] == ["node 'split': unknown node type 'acme.nothing'"]

    catalog = default_catalog()
    assert len(list(catalog)) == len(BUILTIN_TYPES)
    assert catalog.problems == ["module 'broken_nodes' (from $PIPECANVAS_NODE_MODULES) could not be loaded: "
                                "the author forgot a dependency"]


def test_a_plug_in_that_takes_a_built_in_id_is_reported_when_the_catalog_is_listed(tmp_path, monkeypatch) -> None:
    _plugin_module(tmp_path, "impostor_nodes", _plugin(type_id="data.sample", category="DATA"), monkeypatch)
    catalog = default_catalog()

    assert catalog["data.sample"].title == "Sample dataset"
    assert len(catalog) == len(BUILTIN_TYPES)
    assert catalog.problems == ["module 'impostor_nodes' (from $PIPECANVAS_NODE_MODULES) could not be loaded: "
                                "node type 'data.sample' is defined twice (nodes.data and impostor_nodes)"]


def test_threads_that_ask_for_a_plug_in_type_at_once_all_get_it(tmp_path, monkeypatch) -> None:
    """The studio's sessions share one catalog: a session must not see 'unknown type' while another loads."""
    _plugin_module(tmp_path, "slow_nodes", _plugin(delay=0.3), monkeypatch)
    catalog = default_catalog()
    with ThreadPoolExecutor(4) as pool:
        found = list(pool.map(lambda _: catalog.get("acme.counter"), range(4)))

    assert all(t is not None and t.__module__ == "slow_nodes" for t in found), found
    assert catalog.problems == []
