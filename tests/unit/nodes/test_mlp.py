"""The PyTorch network trainer: it learns bundled datasets, and its saved model needs no torch to predict."""

from __future__ import annotations

import importlib.abc
import logging
import sys

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import r2_score

from nodes.artifact_io import read_artifact, write_artifact
from nodes.artifacts import ArtifactKind, Model, Table
from nodes.context import RunContext
from nodes.errors import NodeInputError
from nodes.train_mlp import TrainMLP
from sample_tables import sample_frame, split_table  # tests/support/sample_tables.py


@pytest.fixture(scope="module")
def torch():
    return pytest.importorskip("torch")


def _train(table: Table, context: RunContext | None = None, **params: object) -> Model:
    return TrainMLP().run({"train": table}, TrainMLP.Params(**params), context or RunContext())["model"]


@pytest.fixture(scope="module")
def iris(torch) -> tuple[Table, Table, Model]:
    train, test = split_table(sample_frame("iris"), "species", stratify=True)
    return train, test, _train(train)


@pytest.fixture(scope="module")
def diabetes(torch) -> tuple[Table, Table, Model]:
    train, test = split_table(sample_frame("diabetes"), "progression", stratify=False)
    return train, test, _train(train, epochs=40, hidden_units=16)


def test_iris_classifier_is_accurate_on_held_out_rows(iris):
    train, test, model = iris
    assert model.task == "classification"
    assert model.classes == ["setosa", "versicolor", "virginica"]
    accuracy = (model.predict(test.frame) == test.frame["species"].to_numpy()).mean()
    assert accuracy >= 0.9
    probabilities = model.estimator.predict_proba(test.frame[model.feature_columns])
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0)


def test_model_holds_no_torch_objects(iris):
    _, _, model = iris
    assert type(model.estimator).__module__.startswith("nodes.")
    assert all(type(w) is np.ndarray for w in model.estimator.weights + model.estimator.biases)
    assert model.algorithm == "mlp" and model.target == "species"
    assert model.input_schema == {c: "number" for c in model.feature_columns}


def test_diabetes_regressor_matches_the_torch_forward_pass(torch, diabetes):
    _, test, model = diabetes
    assert model.task == "regression" and model.classes is None
    rows = test.frame[model.feature_columns].to_numpy()
    expected = _torch_forward(torch, model.estimator, rows)[:, 0] * model.estimator.y_scale + model.estimator.y_mean
    np.testing.assert_allclose(model.predict(test.frame), expected, rtol=1e-4, atol=1e-3)
    assert r2_score(test.frame["progression"], model.predict(test.frame)) >= 0.25
    assert not hasattr(model.estimator, "predict_proba")


def _torch_forward(torch, estimator, rows: np.ndarray) -> np.ndarray:
    """The same network rebuilt as torch layers and run by torch."""
    layers = []
    for index, (weight, bias) in enumerate(zip(estimator.weights, estimator.biases)):
        linear = torch.nn.Linear(weight.shape[1], weight.shape[0])
        linear.weight.data = torch.from_numpy(weight.copy())
        linear.bias.data = torch.from_numpy(bias.copy())
        layers += [linear, torch.nn.ReLU()] if index < len(estimator.weights) - 1 else [linear]
    scaled = torch.as_tensor((rows - estimator.x_mean) / estimator.x_scale, dtype=torch.float32)
    with torch.no_grad():
        return torch.nn.Sequential(*layers)(scaled).numpy()


@pytest.mark.parametrize("dataset", ["iris", "diabetes"])
def test_model_round_trips_through_skops_and_predicts_identically(request, tmp_path, dataset):
    _, test, model = request.getfixturevalue(dataset)
    uri = str(tmp_path / "model.skops")
    write_artifact(ArtifactKind.MODEL, model, uri)
    loaded = read_artifact(ArtifactKind.MODEL, uri)
    np.testing.assert_array_equal(loaded.predict(test.frame), model.predict(test.frame))
    assert loaded.classes == model.classes and loaded.task == model.task


def test_integer_digit_target_becomes_classification_with_native_classes(torch):
    train, test = split_table(sample_frame("digits"), "digit", stratify=True)
    model = _train(train, epochs=20)
    assert model.task == "classification"
    assert model.classes == list(range(10)) and all(type(c) is int for c in model.classes)
    assert (model.predict(test.frame) == test.frame["digit"].to_numpy()).mean() >= 0.9


def test_same_seed_gives_the_same_network(torch, iris):
    train, test, model = iris
    again = _train(train)
    np.testing.assert_array_equal(again.estimator.predict_proba(test.frame[again.feature_columns]),
                                  model.estimator.predict_proba(test.frame[model.feature_columns]))


def test_logs_device_and_final_loss(torch, iris, caplog):
    train, _, _ = iris
    with caplog.at_level(logging.INFO, logger="pipecanvas.node"):
        _train(train, epochs=3)
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert f"training the neural network on {expected}" in caplog.text
    assert "final training loss" in caplog.text


def test_cpu_device_is_used_when_asked(torch, iris, caplog):
    train, _, _ = iris
    with caplog.at_level(logging.INFO, logger="pipecanvas.node"):
        _train(train, epochs=2, device="cpu")
    assert "training the neural network on cpu" in caplog.text


def test_cuda_request_without_a_gpu_is_refused(torch, iris):
    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU")
    with pytest.raises(NodeInputError, match="no GPU"):
        _train(iris[0], epochs=1, device="cuda")


def test_text_feature_asks_for_a_clean_node(torch):
    frame = pd.DataFrame({"colour": ["red", "blue"] * 10, "size": np.arange(20.0), "label": ["a", "b"] * 10})
    with pytest.raises(NodeInputError, match="'colour'.*Clean and encode"):
        _train(Table(frame, "label"), epochs=1)


def test_regression_on_a_text_target_is_refused(torch, iris):
    with pytest.raises(NodeInputError, match="'species'.*classification"):
        _train(iris[0], epochs=1, task="regression")


class _NoTorch(importlib.abc.MetaPathFinder):
    """An import hook that behaves as if torch were not installed."""

    def find_spec(self, name, path, target=None):
        if name == "torch" or name.startswith("torch."):
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None


def test_missing_torch_says_how_to_install_it(monkeypatch):
    monkeypatch.setattr(sys, "meta_path", [_NoTorch(), *sys.meta_path])
    monkeypatch.delitem(sys.modules, "torch", raising=False)
    frame = pd.DataFrame({"x": [1.0, 2.0], "y": [0, 1]})
    with pytest.raises(NodeInputError, match=r"pip install 'pipecanvas\[gpu\]'"):
        _train(Table(frame, "y"), epochs=1)
