"""Shared fixtures: the built-in catalog and builders for pipeline documents.

Documents are plain dicts shaped like the YAML file, so a test can break them in
exactly the way a user would and then read them through the real loader (which
is what gives diagnostics their line numbers). The builders are session-scoped
functions so property-based tests can use them too.

Tests import nothing from here (pytest runs with ``--import-mode=importlib``);
they ask for these fixtures by name.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import pytest

from compiler import Diagnostic, LoadedPipeline, dump_yaml, parse_pipeline, validate_pipeline
from nodes import Catalog, default_catalog

REPO_ROOT = Path(__file__).resolve().parents[1]


def _build_pipeline_doc(
    nodes: Iterable[dict[str, Any]],
    edges: Iterable[tuple[str, str]] = (),
    *,
    name: str = "demo",
    description: str | None = None,
    defaults: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A pipeline document; ``edges`` are ``("load.table", "split.table")`` pairs."""
    metadata: dict[str, Any] = {"name": name}
    if description is not None:
        metadata["description"] = description
    spec: dict[str, Any] = {}
    if defaults is not None:
        spec["defaults"] = defaults
    spec["nodes"] = [copy.deepcopy(dict(n)) for n in nodes]
    spec["edges"] = [{"from": source, "to": target} for source, target in edges]
    return {"apiVersion": "pipecanvas/v1", "kind": "Pipeline", "metadata": metadata, "spec": spec}


def _node(node_id: str, node_type: str, **fields: Any) -> dict[str, Any]:
    return {"id": node_id, "type": node_type, **fields}


def _iris_doc(**options: Any) -> dict[str, Any]:
    """sample → split → clean → classifier → evaluate, plus a deploy node fed by the classifier and the cleaner."""
    nodes = [
        _node("load", "data.sample", params={"dataset": "iris"}),
        _node("split", "prepare.split", params={"test_fraction": 0.3, "seed": 7}),
        _node("clean", "prepare.clean"),
        _node("train", "train.classifier", params={"algorithm": "random_forest", "n_estimators": 50}),
        _node("evaluate", "evaluate.classifier"),
        _node("serve", "deploy.endpoint", params={"name": "iris"}),
    ]
    edges = [
        ("load.table", "split.table"),
        ("split.train", "clean.train"),
        ("split.test", "clean.test"),
        ("clean.train", "train.train"),
        ("train.model", "evaluate.model"),
        ("clean.test", "evaluate.test"),
        ("train.model", "serve.model"),
        ("clean.preprocessor", "serve.preprocessor"),
    ]
    return _build_pipeline_doc(nodes, edges, **{"name": "iris", **options})


def _load_doc(document: dict[str, Any]) -> LoadedPipeline:
    return parse_pipeline(dump_yaml(document))


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO_ROOT


@pytest.fixture(scope="session")
def catalog() -> Catalog:
    return default_catalog()


@pytest.fixture(scope="session")
def pipeline_doc() -> Callable[..., dict[str, Any]]:
    """``pipeline_doc(nodes, edges, name=..., description=..., defaults=...)`` → document dict."""
    return _build_pipeline_doc


@pytest.fixture(scope="session")
def make_node() -> Callable[..., dict[str, Any]]:
    """``make_node("train", "train.classifier", params={...}, retries=2)`` → one node entry."""
    return _node


@pytest.fixture(scope="session")
def iris_doc() -> Callable[..., dict[str, Any]]:
    """``iris_doc()`` → a fresh, valid six-node document (safe to mutate); keyword options as for pipeline_doc."""
    return _iris_doc


@pytest.fixture(scope="session")
def load_doc() -> Callable[[dict[str, Any]], LoadedPipeline]:
    """Write a document as YAML text and read it back through the real loader."""
    return _load_doc


@pytest.fixture(scope="session")
def validate_doc(catalog: Catalog) -> Callable[[dict[str, Any]], list[Diagnostic]]:
    """Document → every diagnostic the validator finds (with line numbers from the YAML text)."""

    def run(document: dict[str, Any]) -> list[Diagnostic]:
        loaded = _load_doc(document)
        return validate_pipeline(loaded.pipeline, catalog, loaded.source_map)

    return run
