"""Every kind of model the built-in nodes write, fitted on small tables, for checks of what model files hold.

``builtin_models()`` runs the nodes themselves (each classifier and regressor
algorithm their params offer, the clean node's recipe variants, the numpy
networks ``train.mlp`` saves), so a new algorithm is covered without editing
this file. ``MODEL_NODE_TYPES`` names the node types covered here; a test
checks it against the catalog so a new model-writing node cannot be missed.
"""

from __future__ import annotations

import io
import json
import typing
import zipfile
from collections.abc import Iterator
from typing import Any

import numpy as np
import pandas as pd
import skops.io

from nodes.artifacts import Model, Table
from nodes.context import RunContext
from nodes.mlp_estimator import NumpyMLPClassifier, NumpyMLPRegressor
from nodes.prepare import Clean, CleanParams
from nodes.train import ClassifierParams, RegressorParams, TrainClassifier, TrainRegressor

__all__ = ["MODEL_NODE_TYPES", "builtin_models", "skops_bytes", "type_uses"]

MODEL_NODE_TYPES = frozenset({"train.classifier", "train.regressor", "train.mlp", "prepare.clean",
                              "train.tune", "evaluate.compare"})  # tune and compare pass on models the trainers make


def _algorithms(params: type) -> tuple[str, ...]:
    return typing.get_args(params.model_fields["algorithm"].annotation)


def _tables() -> dict[str, Table]:
    rng = np.random.default_rng(0)
    n = 60
    numbers = pd.DataFrame({"a": rng.normal(size=n), "b": rng.normal(size=n), "c": rng.integers(0, 5, n)})
    return {
        "binary": Table(numbers.assign(y=np.where(numbers.a + numbers.b > 0, "yes", "no")), "y"),
        "multiclass": Table(numbers.assign(y=rng.integers(0, 3, n)), "y"),
        "regression": Table(numbers.assign(y=numbers.a * 2 + rng.normal(size=n)), "y"),
    }


def _raw_table() -> pd.DataFrame:
    """Numbers, categories, booleans and gaps: what a clean node learns from."""
    rng = np.random.default_rng(1)
    n = 40
    frame = pd.DataFrame({
        "age": rng.integers(18, 80, n).astype(float),
        "income": rng.normal(50_000, 9_000, n),
        "city": rng.choice(["Oslo", "Lima", "Pune", "Kyiv"], n),
        "member": rng.choice([True, False], n),
        "y": rng.choice(["a", "b"], n),
    })
    frame.loc[::7, "age"] = np.nan
    frame.loc[::5, "city"] = None
    return frame


def builtin_models() -> Iterator[tuple[str, Model]]:
    """(label, model) for every model kind the built-in nodes write."""
    context = RunContext()
    tables = _tables()
    for algorithm in _algorithms(ClassifierParams):
        for name in ("binary", "multiclass"):
            params = ClassifierParams(algorithm=algorithm, n_estimators=3, n_neighbors=3)
            yield f"train.classifier {algorithm} {name}", TrainClassifier().run(
                {"train": tables[name]}, params, context)["model"]
    for algorithm in _algorithms(RegressorParams):
        params = RegressorParams(algorithm=algorithm, n_estimators=3)
        yield f"train.regressor {algorithm}", TrainRegressor().run(
            {"train": tables["regression"]}, params, context)["model"]
    raw = _raw_table()
    table = Table(raw, "y")
    for variant in (
        {}, {"one_hot": False}, {"scale": "minmax"}, {"scale": "none"}, {"impute_numeric": "zero"},
        {"impute_numeric": "mean", "impute_categorical": "missing_label"}, {"max_categories": 2},
    ):
        yield f"prepare.clean {variant}", Clean().run(
            {"train": table, "test": table}, CleanParams(**variant), context)["preprocessor"]
    for columns, label in ((["age", "income"], "numeric only"), (["city", "member"], "categories only")):
        part = Table(raw[[*columns, "y"]], "y")
        yield f"prepare.clean {label}", Clean().run({"train": part, "test": part}, CleanParams(), context)["preprocessor"]
    yield from _networks()
    yield from _other_sklearn_models(tables)


def _other_sklearn_models(tables: dict[str, Table]) -> Iterator[tuple[str, Model]]:
    """Estimators the train nodes are gaining (histogram boosting, extra trees, single trees, naive Bayes),
    built directly so their models are known to load before the nodes offer them."""
    from sklearn.ensemble import (
        ExtraTreesClassifier, ExtraTreesRegressor, HistGradientBoostingClassifier, HistGradientBoostingRegressor,
    )
    from sklearn.naive_bayes import GaussianNB
    from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor

    classifiers = (HistGradientBoostingClassifier(max_iter=3, random_state=0), ExtraTreesClassifier(n_estimators=3),
                   DecisionTreeClassifier(max_depth=3), GaussianNB())
    regressors = (HistGradientBoostingRegressor(max_iter=3, random_state=0), ExtraTreesRegressor(n_estimators=3),
                  DecisionTreeRegressor(max_depth=3))
    for name in ("binary", "multiclass"):
        x, y = tables[name].frame[["a", "b", "c"]], tables[name].frame["y"]
        for estimator in classifiers:
            fitted = estimator.fit(x, y)
            classes = [c.item() if hasattr(c, "item") else c for c in fitted.classes_]
            yield f"{type(estimator).__name__} {name}", Model(
                fitted, task="classification", feature_columns=["a", "b", "c"], target="y", classes=classes)
    x, y = tables["regression"].frame[["a", "b", "c"]], tables["regression"].frame["y"]
    for estimator in regressors:
        yield type(estimator).__name__, Model(estimator.fit(x, y), task="regression", feature_columns=["a", "b", "c"])


def _networks() -> Iterator[tuple[str, Model]]:
    """What ``train.mlp`` saves, built directly (training needs torch, which is optional)."""
    weights = [np.ones((4, 3)), np.ones((2, 4))]
    biases = [np.zeros(4), np.zeros(2)]
    common = {"feature_columns": ["a", "b", "c"], "target": "y", "algorithm": "mlp",
              "input_schema": {"a": "number", "b": "number", "c": "number"}}
    for classes in (["no", "yes"], [0, 1]):
        network = NumpyMLPClassifier(weights, biases, np.zeros(3), np.ones(3), classes)
        yield f"train.mlp classifier {classes}", Model(network, task="classification", classes=classes, **common)
    network = NumpyMLPRegressor([np.ones((4, 3)), np.ones((1, 4))], [np.zeros(4), np.zeros(1)], np.zeros(3),
                                np.ones(3), 1.5, 2.0)
    yield "train.mlp regressor", Model(network, task="regression", **common)


def skops_bytes(model: Model) -> bytes:
    """The skops file ``write_artifact`` writes for ``model``."""
    from nodes.artifact_io import write_artifact
    from nodes.artifacts import ArtifactKind

    import fsspec

    uri = f"memory://model-corpus/{id(model)}.skops"
    write_artifact(ArtifactKind.MODEL, model, uri)
    fs = fsspec.filesystem("memory")
    try:
        return fs.cat(uri)
    finally:
        fs.rm(uri.split("://", 1)[1])
        if fs.exists(uri.split("://", 1)[1] + ".meta.json"):
            fs.rm(uri.split("://", 1)[1] + ".meta.json")


def type_uses(data: bytes) -> set[tuple[str, str]]:
    """(loader, module.name) of every node in a skops file's schema, read as plain JSON."""
    schema = json.loads(zipfile.ZipFile(io.BytesIO(data)).read("schema.json"))
    uses: set[tuple[str, str]] = set()
    stack: list[Any] = [schema]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            if "__loader__" in item:
                uses.add((item["__loader__"], f"{item.get('__module__')}.{item.get('__class__')}"))
            if item.get("__loader__") == "RandomGeneratorNode":  # skops also calls the bit generator it names
                name = json.loads(item["content"]["bit_generator"]["content"]["bit_generator"]["content"])
                uses.add(("RandomGeneratorNode", f"numpy.random.{name}"))
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return uses


def untrusted_names(data: bytes) -> set[str]:
    return set(skops.io.get_untrusted_types(data=data))
