"""The catalog knows the built-in types by id (``nodes/builtin_index.py``) and imports their modules on first use."""

from __future__ import annotations

import pytest

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
