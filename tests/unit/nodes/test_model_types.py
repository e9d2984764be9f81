"""The model allow-list is exact: it is what the built-in nodes write, regenerated here by saving each kind."""

from __future__ import annotations

import warnings

import pytest

from model_corpus import MODEL_NODE_TYPES, builtin_models, skops_bytes, type_uses, untrusted_names
from nodes.artifact_io import read_artifact
from nodes.artifacts import ArtifactKind
from nodes.catalog import default_catalog
from nodes.model_types import MODEL_FUNCTIONS, MODEL_TYPES, VALUE_TYPES


@pytest.fixture(scope="module")
def saved() -> list[tuple[str, bytes]]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # tiny tables make some fits warn (convergence, few rows per class)
        return [(label, skops_bytes(model)) for label, model in builtin_models()]


def test_every_model_writing_node_type_is_in_the_corpus():
    writers = {t.type_id for t in default_catalog(include_plugins=False)
               if any(port.kind == ArtifactKind.MODEL for port in t.outputs)}
    assert writers == MODEL_NODE_TYPES, "add the new model-writing node to tests/support/model_corpus.py"


def test_the_allow_list_is_exactly_what_the_built_in_nodes_write(saved):
    types: dict[str, str] = {}
    functions: dict[str, str] = {}
    for label, data in saved:
        for loader, name in type_uses(data):
            (functions if loader == "FunctionNode" else types).setdefault(name, label)
    missing = {name: label for name, label in types.items() if name not in MODEL_TYPES}
    assert not missing, f"built-in models write types missing from nodes/model_types.py: {missing}"
    assert set(functions) == MODEL_FUNCTIONS, f"functions built-in models refer to: {sorted(functions)}"
    stale = MODEL_TYPES - set(types) - VALUE_TYPES
    assert not stale, f"nodes/model_types.py lists types no built-in model writes any more: {sorted(stale)}"


def test_skops_reports_nothing_outside_the_allow_list(saved):
    """skops' own audit agrees: every type it would not trust by default is on the list."""
    for label, data in saved:
        assert untrusted_names(data) <= MODEL_TYPES | MODEL_FUNCTIONS, label


def test_every_built_in_model_kind_loads_and_predicts(saved, tmp_path):
    for index, (label, data) in enumerate(saved):
        path = tmp_path / f"{index}.skops"
        path.write_bytes(data)
        model = read_artifact(ArtifactKind.MODEL, str(path))
        rows = [[0.5] * len(model.feature_columns)] if model.task != "transform" else None
        if rows is not None and not label.startswith("prepare.clean"):
            assert len(model.predict(_frame(model, rows))) == 1, label


def _frame(model, rows):
    import pandas as pd

    return pd.DataFrame(rows, columns=model.feature_columns)
