"""Evaluate nodes: the scores, matrices and curves an analyst reads, on scikit-learn's bundled datasets."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
from sklearn.svm import SVC

from nodes.artifacts import Model, Table
from nodes.context import RunContext
from nodes.errors import NodeInputError
from nodes.evaluate import EvaluateClassifier, EvaluateRegressor
from nodes.train import TrainClassifier, TrainRegressor
from sample_tables import sample_frame, split_table  # tests/support/sample_tables.py


def _classify(model: Model, test: Table, **params: object) -> dict:
    node = EvaluateClassifier()
    return node.run({"model": model, "test": test}, node.Params(**params), RunContext())["metrics"].values


def _regress(model: Model, test: Table, **params: object) -> dict:
    node = EvaluateRegressor()
    return node.run({"model": model, "test": test}, node.Params(**params), RunContext())["metrics"].values


def _trained(node_type: type, train: Table, **params: object) -> Model:
    return node_type().run({"train": train}, node_type.Params(**params), RunContext())["model"]


@pytest.fixture(scope="module")
def cancer() -> tuple[Model, Table]:
    train, test = split_table(sample_frame("breast_cancer"), "diagnosis")
    return _trained(TrainClassifier, train, algorithm="logistic_regression"), test


@pytest.fixture(scope="module")
def iris() -> tuple[Model, Table]:
    train, test = split_table(sample_frame("iris"), "species")
    return _trained(TrainClassifier, train, algorithm="random_forest", n_estimators=50), test


@pytest.fixture(scope="module")
def diabetes() -> tuple[Model, Table]:
    train, test = split_table(sample_frame("diabetes"), "progression", stratify=False)
    return _trained(TrainRegressor, train, algorithm="linear"), test


# --- classification -----------------------------------------------------------------------------


def test_binary_roc_scores_the_second_class(cancer):
    model, test = cancer
    values = _classify(model, test)
    assert values["roc_auc"] > 0.9
    assert list(values["roc_curve"]) == ["malignant"] == [model.classes[1]]
    curve = values["roc_curve"]["malignant"]
    assert len(curve["fpr"]) == len(curve["tpr"]) >= 3
    assert all(a <= b for a, b in zip(curve["fpr"], curve["fpr"][1:]))
    assert all(a <= b for a, b in zip(curve["tpr"], curve["tpr"][1:]))
    assert curve["fpr"][0] == 0.0 and curve["fpr"][-1] == curve["tpr"][-1] == 1.0


def test_confusion_matrix_counts_every_test_row(cancer):
    model, test = cancer
    values = _classify(model, test)
    matrix = values["confusion_matrix"]
    assert matrix["labels"] == ["benign", "malignant"]
    assert values["n_test"] == len(test.frame)
    assert sum(map(sum, matrix["matrix"])) == values["n_test"]
    actual_benign = int((test.frame["diagnosis"] == "benign").sum())
    assert sum(matrix["matrix"][0]) == actual_benign  # rows are the actual class
    correct = matrix["matrix"][0][0] + matrix["matrix"][1][1]
    assert values["accuracy"] == pytest.approx(correct / values["n_test"])


def test_per_class_scores_cover_each_class(iris):
    model, test = iris
    values = _classify(model, test)
    per_class = values["per_class"]
    assert list(per_class) == ["setosa", "versicolor", "virginica"]
    assert sum(c["support"] for c in per_class.values()) == values["n_test"]
    macro_f1 = sum(c["f1"] for c in per_class.values()) / 3
    assert values["f1"] == pytest.approx(macro_f1)


def test_average_changes_how_classes_combine(cancer):
    model, test = cancer
    micro = _classify(model, test, average="micro")
    weighted = _classify(model, test, average="weighted")
    assert micro["precision"] == pytest.approx(micro["accuracy"])  # micro precision is accuracy
    support = {k: v["support"] for k, v in weighted["per_class"].items()}
    expected = sum(weighted["per_class"][k]["recall"] * n for k, n in support.items()) / sum(support.values())
    assert weighted["recall"] == pytest.approx(expected)


def test_multiclass_has_one_curve_per_class(iris):
    model, test = iris
    values = _classify(model, test)
    assert list(values["roc_curve"]) == model.classes
    assert 0.9 < values["roc_auc"] <= 1.0


def test_classification_metrics_are_plain_json(iris, cancer):
    for model, test in (iris, cancer):
        values = _classify(model, test)
        assert json.loads(json.dumps(values, allow_nan=False)) == values


def test_roc_auc_is_empty_when_a_class_is_missing_from_the_test_rows(iris):
    model, test = iris
    without_setosa = Table(test.frame[test.frame["species"] != "setosa"], "species")
    values = _classify(model, without_setosa)
    assert values["roc_auc"] is None
    assert values["confusion_matrix"]["labels"] == model.classes
    assert values["confusion_matrix"]["matrix"][0] == [0, 0, 0]
    assert values["accuracy"] > 0.8


def test_labels_the_model_never_saw_still_count_as_errors(iris):
    model, test = iris
    frame = test.frame.copy()
    frame.iloc[:3, frame.columns.get_loc("species")] = "hybrid"
    values = _classify(model, Table(frame, "species"))
    assert values["confusion_matrix"]["labels"] == model.classes + ["hybrid"]
    assert values["per_class"]["hybrid"] == {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 3}
    assert values["roc_auc"] is None


def test_model_without_probabilities_gets_no_roc(cancer):
    _, test = cancer
    train, _ = split_table(sample_frame("breast_cancer"), "diagnosis")
    columns = train.feature_columns
    estimator = SVC(kernel="linear").fit(train.frame[columns], train.frame["diagnosis"])
    model = Model(estimator, "classification", columns, "diagnosis", classes=list(estimator.classes_))
    values = _classify(model, test)
    assert values["roc_auc"] is None and values["roc_curve"] == {}
    assert values["accuracy"] > 0.9


class _CoinFlipper:
    """A classifier that guesses: its ROC curve has a corner for nearly every row."""

    classes_ = np.array(["benign", "malignant"])

    def predict_proba(self, frame: pd.DataFrame) -> np.ndarray:
        p = np.random.default_rng(0).random(len(frame))
        return np.column_stack([1 - p, p])

    def predict(self, frame: pd.DataFrame) -> np.ndarray:
        return self.classes_[(self.predict_proba(frame)[:, 1] > 0.5).astype(int)]


def test_long_roc_curves_are_thinned_to_200_points():
    frame = sample_frame("breast_cancer")
    columns = [c for c in frame.columns if c != "diagnosis"]
    model = Model(_CoinFlipper(), "classification", columns, "diagnosis", classes=["benign", "malignant"])
    curve = _classify(model, Table(frame, "diagnosis"))["roc_curve"]["malignant"]
    assert len(curve["fpr"]) == 200
    assert curve["fpr"][0] == 0.0 and curve["fpr"][-1] == 1.0
    assert all(a <= b for a, b in zip(curve["fpr"], curve["fpr"][1:]))


# --- regression ---------------------------------------------------------------------------------


def test_regression_scores_agree_with_the_residuals(diabetes):
    model, test = diabetes
    values = _regress(model, test)
    actual, predicted = np.array(values["residuals"]["actual"]), np.array(values["residuals"]["predicted"])
    assert values["n_test"] == len(actual) == len(test.frame)
    assert actual.tolist() == test.frame["progression"].tolist()
    assert values["rmse"] == pytest.approx(math.sqrt(np.mean((actual - predicted) ** 2)))
    assert values["mae"] == pytest.approx(np.mean(np.abs(actual - predicted)))
    assert values["mae"] <= values["rmse"]
    assert values["r2"] > 0.3
    assert json.loads(json.dumps(values, allow_nan=False)) == values


def test_residuals_are_capped_to_evenly_spaced_rows(diabetes):
    model, test = diabetes
    values = _regress(model, test, max_residuals=10)
    actual = values["residuals"]["actual"]
    assert len(actual) == len(values["residuals"]["predicted"]) == 10
    truth = test.frame["progression"].tolist()
    assert actual[0] == truth[0] and actual[-1] == truth[-1]
    remaining = iter(truth)
    assert all(any(a == t for t in remaining) for a in actual)  # a subsequence: test-row order is kept
    assert values["n_test"] == len(truth)  # scores still use every row
    assert _regress(model, test, max_residuals=10)["residuals"] == values["residuals"]


# --- wiring mistakes ----------------------------------------------------------------------------


def test_regressor_into_evaluate_classifier_names_the_right_node(diabetes):
    model, test = diabetes
    with pytest.raises(NodeInputError, match="'Evaluate regressor'"):
        _classify(model, test)


def test_classifier_into_evaluate_regressor_names_the_right_node(iris):
    model, test = iris
    with pytest.raises(NodeInputError, match="'Evaluate classifier'"):
        _regress(model, test)


def test_preprocessor_is_not_a_model(iris):
    model, test = iris
    preprocessor = Model(object(), "transform", model.feature_columns)
    with pytest.raises(NodeInputError, match="'Clean and encode'"):
        _classify(preprocessor, test)


def test_test_table_with_another_target_is_refused(iris):
    model, test = iris
    with pytest.raises(NodeInputError, match="target is 'petal width \\(cm\\)' but the model predicts 'species'"):
        _classify(model, Table(test.frame, "petal width (cm)"))
    with pytest.raises(NodeInputError, match="target is not set but the model predicts 'species'"):
        _classify(model, Table(test.frame, None))


def test_missing_feature_column_is_named(iris):
    model, test = iris
    with pytest.raises(NodeInputError, match="'sepal width \\(cm\\)'"):
        _classify(model, Table(test.frame.drop(columns="sepal width (cm)"), "species"))


def test_raw_text_column_asks_for_the_clean_node(iris):
    model, test = iris
    frame = test.frame.copy()
    frame["sepal width (cm)"] = frame["sepal width (cm)"].astype(str)
    with pytest.raises(NodeInputError, match="'sepal width \\(cm\\)'.*'Clean and encode'"):
        _classify(model, Table(frame, "species"))


def test_category_target_into_evaluate_regressor_is_refused(diabetes):
    model, test = diabetes
    frame = test.frame.copy()
    frame["progression"] = np.where(frame["progression"] > 140, "high", "low")
    with pytest.raises(NodeInputError, match="'progression' holds categories"):
        _regress(model, Table(frame, "progression"))


def test_a_two_row_test_set_gets_a_warning_naming_the_number():
    from nodes.train import TrainClassifier
    from sample_tables import sample_frame

    frame = sample_frame("iris")
    train, test = Table(frame.iloc[2:], "species"), Table(frame.iloc[[0, 1]], "species")
    model = TrainClassifier().run({"train": train}, TrainClassifier.Params(algorithm="naive_bayes"), RunContext())["model"]
    values = EvaluateClassifier().run({"model": model, "test": test}, EvaluateClassifier.Params(), RunContext())["metrics"].values
    assert values["accuracy"] == 1.0
    assert values["warnings"] and "only 2 test row(s)" in values["warnings"][0] and "at least 30" in values["warnings"][0]
    big = Table(frame.iloc[:60], "species")
    assert EvaluateClassifier().run({"model": model, "test": big}, EvaluateClassifier.Params(),
                                    RunContext())["metrics"].values["warnings"] == []


@pytest.mark.parametrize(("labels", "dtype"), [(["setosa", "versicolor", "virginica"], object), ([0, 1, 2], "int64"),
                                               ([True, False], bool), ([3.0, 1.0, 2.0], float)],
                         ids=["text", "integers", "booleans", "numbers"])
def test_scores_on_label_codes_are_scikit_learns_on_the_labels_themselves(labels, dtype):
    """The scores are computed on each label's position (fast for text labels): they must be exactly what
    scikit-learn gives on the labels as they are, whatever the labels' type, in the model's order (not sorted),
    with a label the predictions never hold."""
    from sklearn.metrics import accuracy_score, confusion_matrix, precision_recall_fscore_support

    from nodes.evaluate import _classification_scores

    rng = np.random.default_rng(3)
    y_true = pd.Series(rng.choice(np.array(labels, dtype=dtype), size=300))
    y_pred = np.where(rng.random(300) < 0.7, y_true.to_numpy(), labels[0]).astype(dtype)
    got = _classification_scores(y_true, y_pred, labels, "macro")
    precision, recall, f1, _ = precision_recall_fscore_support(y_true, y_pred, labels=labels, average="macro",
                                                               zero_division=0)
    assert (got["precision"], got["recall"], got["f1"]) == pytest.approx((precision, recall, f1))
    assert got["accuracy"] == pytest.approx(accuracy_score(y_true, y_pred))
    assert got["confusion_matrix"]["labels"] == labels
    assert got["confusion_matrix"]["matrix"] == confusion_matrix(y_true, y_pred, labels=labels).tolist()
    assert sum(c["support"] for c in got["per_class"].values()) == 300
