"""Artifacts saved and loaded again: every kind round-trips, and untrusted model files are refused unloaded."""

from __future__ import annotations

import io
import json
import uuid
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import skops.io
from sklearn import datasets
from sklearn.compose import ColumnTransformer
from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, StandardScaler

from nodes.artifact_io import FILE_EXTENSIONS, companion_uris, read_artifact, write_artifact
from nodes.artifacts import ArtifactKind, Endpoint, Metrics, Model, Table
from nodes.errors import ArtifactReadError


class Smuggled:
    """A class from outside the trusted packages (this test module), as an attacker's file would hold."""

    def __init__(self, payload: str = "") -> None:
        self.payload = payload


class Rebuilt:
    """Saved by skops as a constructor call ``Rebuilt(payload)``: the shape a crafted file abuses."""

    def __init__(self, payload: str) -> None:
        self.payload = payload

    def __reduce__(self):
        return (type(self), (self.payload,))


@pytest.fixture(params=["local", "memory"])
def location(request, tmp_path: Path):
    """A folder URI: a local path, or fsspec's in-memory filesystem."""
    if request.param == "local":
        return str(tmp_path / "artifacts")
    return f"memory://pipecanvas-test-{uuid.uuid4().hex}"


def _skops_model_file(tmp_path: Path, estimator: object) -> str:
    path = tmp_path / "model.skops"
    meta = {"task": "classification", "feature_columns": ["a"]}
    path.write_bytes(skops.io.dumps({"estimator": estimator, "meta": meta}))
    return str(path)


def test_file_extensions_name_each_kind():
    assert set(FILE_EXTENSIONS) == set(ArtifactKind)
    assert FILE_EXTENSIONS[ArtifactKind.MODEL] == "skops"


def test_table_round_trip_keeps_target_and_dtypes(location):
    frame = pd.DataFrame(
        {
            "age": pd.array([31, 45, 27], dtype="int64"),
            "income": [52_000.5, np.nan, 38_250.0],
            "city": pd.Series(["Oslo", "Lima", None], dtype="category"),
            "member": [True, False, True],
            "churned": ["yes", "no", "no"],
        }
    )
    uri = f"{location}/train.{FILE_EXTENSIONS[ArtifactKind.TABLE]}"
    write_artifact(ArtifactKind.TABLE, Table(frame, target="churned"), uri)
    loaded = read_artifact(ArtifactKind.TABLE, uri)
    assert loaded.target == "churned"
    pd.testing.assert_frame_equal(loaded.frame, frame)


def test_table_without_target_reads_back_without_one(location):
    uri = f"{location}/rows.parquet"
    write_artifact(ArtifactKind.TABLE, Table(pd.DataFrame({"x": [1.0, 2.0]})), uri)
    assert read_artifact(ArtifactKind.TABLE, uri).target is None


def test_model_round_trip_predicts_the_same(location, iris_model):
    model = iris_model
    uri = f"{location}/model.skops"
    write_artifact(ArtifactKind.MODEL, model, uri)
    loaded = read_artifact(ArtifactKind.MODEL, uri)
    rows = datasets.load_iris(as_frame=True).data
    assert (loaded.predict(rows) == model.predict(rows)).all()
    for field in ("task", "feature_columns", "target", "classes", "algorithm", "input_schema"):
        assert getattr(loaded, field) == getattr(model, field)


def test_preprocessor_round_trip_transforms_the_same(location):
    frame = pd.DataFrame({"colour": ["red", "blue", "red", "green"], "size": [1.0, 3.0, 2.0, 5.0]})
    recipe = ColumnTransformer(
        [("cat", OneHotEncoder(handle_unknown="ignore"), ["colour"]), ("num", StandardScaler(), ["size"])]
    )
    recipe.fit(frame)
    schema = {"colour": "string", "size": "number"}
    model = Model(recipe, task="transform", feature_columns=["colour", "size"], input_schema=schema)
    uri = f"{location}/preprocessor.skops"
    write_artifact(ArtifactKind.MODEL, model, uri)
    loaded = read_artifact(ArtifactKind.MODEL, uri)
    np.testing.assert_allclose(loaded.estimator.transform(frame), recipe.transform(frame))
    assert loaded.task == "transform" and loaded.classes is None


def test_metrics_and_endpoint_round_trip(location):
    metrics = Metrics({"accuracy": 0.95, "confusion_matrix": [[5, 0], [1, 4]], "labels": ["a", "b"]})
    endpoint = Endpoint("iris", "http://127.0.0.1:8123", backend="local", pid=4321, input_schema={"x": "number"})
    write_artifact(ArtifactKind.METRICS, metrics, f"{location}/metrics.json")
    write_artifact(ArtifactKind.ENDPOINT, endpoint, f"{location}/endpoint.json")
    assert read_artifact(ArtifactKind.METRICS, f"{location}/metrics.json") == metrics
    assert read_artifact(ArtifactKind.ENDPOINT, f"{location}/endpoint.json") == endpoint


def test_writing_the_wrong_kind_is_refused(tmp_path: Path):
    with pytest.raises(TypeError, match="Table"):
        write_artifact(ArtifactKind.TABLE, Metrics({}), str(tmp_path / "t.parquet"))


@pytest.mark.parametrize("kind", list(ArtifactKind))
def test_missing_file_names_the_uri(tmp_path: Path, kind):
    uri = str(tmp_path / f"absent.{FILE_EXTENSIONS[kind]}")
    with pytest.raises(ArtifactReadError, match="absent"):
        read_artifact(kind, uri)


@pytest.mark.parametrize("kind", list(ArtifactKind))
def test_corrupt_file_names_the_uri(tmp_path: Path, kind):
    path = tmp_path / f"broken.{FILE_EXTENSIONS[kind]}"
    path.write_bytes(b"\x00not what it claims to be")
    with pytest.raises(ArtifactReadError, match="broken"):
        read_artifact(kind, str(path))


def test_model_with_a_foreign_class_is_refused(tmp_path: Path):
    uri = _skops_model_file(tmp_path, Smuggled("x"))
    with pytest.raises(ArtifactReadError, match="Smuggled"):
        read_artifact(ArtifactKind.MODEL, uri)


def test_model_referencing_a_foreign_function_is_refused(tmp_path: Path):
    uri = _skops_model_file(tmp_path, FunctionTransformer(func=_test_helper_function))
    with pytest.raises(ArtifactReadError, match="_test_helper_function"):
        read_artifact(ArtifactKind.MODEL, uri)


def test_model_referencing_a_builtin_function_is_refused(tmp_path: Path):
    uri = _skops_model_file(tmp_path, FunctionTransformer(func=eval))
    with pytest.raises(ArtifactReadError, match="builtins.eval"):
        read_artifact(ArtifactKind.MODEL, uri)


def test_the_clean_nodes_function_reference_is_accepted(tmp_path: Path):
    """The one function a built-in model refers to loads; any other is refused (see test_model_check.py)."""
    from nodes.prepare import to_category_strings

    uri = _skops_model_file(tmp_path, FunctionTransformer(func=to_category_strings))
    assert read_artifact(ArtifactKind.MODEL, uri).estimator.func is to_category_strings


def test_model_details_are_written_beside_the_model(location, iris_model):
    """What the studio shows comes from this JSON file, so showing a model never loads it."""
    import fsspec

    from nodes.model_meta import read_model_meta

    uri = f"{location}/model.skops"
    write_artifact(ArtifactKind.MODEL, iris_model, uri)
    assert companion_uris(ArtifactKind.MODEL, uri) == [uri + ".meta.json"]
    assert companion_uris(ArtifactKind.TABLE, uri) == []
    with fsspec.open(uri + ".meta.json", "rb") as file:
        assert json.loads(file.read())["feature_columns"] == iris_model.feature_columns
    summary = read_model_meta(uri)
    assert summary.task == "classification" and summary.algorithm == "random_forest"
    assert summary.classes == iris_model.classes and summary.target == "species"
    assert summary.input_schema == iris_model.input_schema
    assert summary.estimator == "RandomForestClassifier" and summary.params["n_estimators"] == 30


def test_crafted_file_calling_a_trusted_module_function_is_refused_without_running_it(tmp_path: Path):
    """A file that asks skops to call ``builtins.exec(...)`` as a constructor: refused, and nothing runs."""
    marker = tmp_path / "pwned"
    data = skops.io.dumps({"estimator": Rebuilt(f"open({str(marker)!r}, 'w').close()"), "meta": {}})
    crafted = _rename_type(data, "Rebuilt", module="builtins", name="exec")
    path = tmp_path / "crafted.skops"
    path.write_bytes(crafted)
    with pytest.raises(ArtifactReadError, match="builtins.exec"):
        read_artifact(ArtifactKind.MODEL, str(path))
    assert not marker.exists()


def test_crafted_file_calling_a_numpy_function_as_a_constructor_is_refused(tmp_path: Path):
    """numpy is trusted for its classes; its functions may be referenced but never called while loading."""
    data = skops.io.dumps({"estimator": Rebuilt(str(tmp_path / "written.npy")), "meta": {}})
    path = tmp_path / "crafted.skops"
    path.write_bytes(_rename_type(data, "Rebuilt", module="numpy", name="save"))
    with pytest.raises(ArtifactReadError, match="numpy.save"):
        read_artifact(ArtifactKind.MODEL, str(path))


def _test_helper_function(x):
    return x


def _rename_type(data: bytes, old_class: str, module: str, name: str) -> bytes:
    """The skops file with every schema node of ``old_class`` pointing at ``module.name`` instead."""
    source = zipfile.ZipFile(io.BytesIO(data))
    schema = json.loads(source.read("schema.json"))

    def rewrite(item):
        if isinstance(item, dict):
            if item.get("__class__") == old_class:
                item["__module__"], item["__class__"] = module, name
            for value in item.values():
                rewrite(value)
        elif isinstance(item, list):
            for value in item:
                rewrite(value)

    rewrite(schema)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as target:
        for entry in source.namelist():
            content = json.dumps(schema).encode() if entry == "schema.json" else source.read(entry)
            target.writestr(entry, content)
    return out.getvalue()


def test_a_model_whose_classes_are_numpy_values_loads_back(tmp_path: Path):
    """``list(forest.classes_)`` holds ``numpy.str_``: the file must still hold only types a model may contain."""
    from sklearn.ensemble import RandomForestClassifier

    iris = datasets.load_iris(as_frame=True)
    forest = RandomForestClassifier(n_estimators=3, random_state=0).fit(iris.data, iris.target_names[iris.target])
    model = Model(forest, "classification", list(iris.data.columns), "species", classes=list(forest.classes_),
                  input_schema={column: "number" for column in iris.data.columns})
    uri = str(tmp_path / "iris.skops")
    write_artifact(ArtifactKind.MODEL, model, uri)
    loaded = read_artifact(ArtifactKind.MODEL, uri)
    assert loaded.classes == ["setosa", "versicolor", "virginica"]
    assert all(type(label) is str for label in loaded.classes)
