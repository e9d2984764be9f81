"""Train nodes on scikit-learn's bundled datasets: models that score well, and clear errors on bad tables."""

from __future__ import annotations

import logging

import numpy as np
import pytest

from nodes.artifacts import Model, Table
from nodes.context import RunContext
from nodes.errors import NodeInputError
from nodes.evaluate import EvaluateClassifier, EvaluateRegressor
from nodes.train import TrainClassifier, TrainRegressor
from sample_tables import sample_frame, split_table  # tests/support/sample_tables.py

CLASSIFIERS = ["hist_gradient_boosting", "logistic_regression", "random_forest", "extra_trees", "gradient_boosting",
               "decision_tree", "naive_bayes", "svm", "knn"]
REGRESSORS = ["hist_gradient_boosting", "linear", "ridge", "random_forest", "extra_trees", "gradient_boosting",
              "decision_tree"]


def _train_classifier(table: Table, **params: object) -> Model:
    return TrainClassifier().run({"train": table}, TrainClassifier.Params(**params), RunContext())["model"]


def _train_regressor(table: Table, **params: object) -> Model:
    return TrainRegressor().run({"train": table}, TrainRegressor.Params(**params), RunContext())["model"]


@pytest.fixture(scope="module")
def iris() -> tuple[Table, Table]:
    return split_table(sample_frame("iris"), "species")


@pytest.fixture(scope="module")
def diabetes() -> tuple[Table, Table]:
    return split_table(sample_frame("diabetes"), "progression", stratify=False)


@pytest.mark.parametrize("algorithm", CLASSIFIERS)
def test_every_classifier_scores_well_on_iris(iris, algorithm):
    train, test = iris
    model = _train_classifier(train, algorithm=algorithm)
    metrics = EvaluateClassifier().run(
        {"model": model, "test": test}, EvaluateClassifier.Params(), RunContext()
    )["metrics"]
    assert metrics.values["accuracy"] >= 0.9
    assert model.algorithm == algorithm


def test_classifier_model_describes_what_it_needs(iris):
    train, _ = iris
    model = _train_classifier(train)
    assert model.task == "classification"
    assert model.target == "species"
    assert model.feature_columns == [c for c in train.frame.columns if c != "species"]
    assert model.input_schema == {c: "number" for c in model.feature_columns}
    assert model.classes == ["setosa", "versicolor", "virginica"]
    assert all(type(c) is str for c in model.classes)


def test_integer_classes_are_plain_python_ints():
    train, _ = split_table(sample_frame("digits"), "digit")
    model = _train_classifier(train, algorithm="logistic_regression", max_iter=2000)
    assert model.classes == list(range(10))
    assert all(type(c) is int for c in model.classes)


def test_model_predicts_from_a_raw_frame(iris):
    train, test = iris
    model = _train_classifier(train, algorithm="knn")
    predictions = model.predict(test.frame)  # the target column is present and must be ignored
    assert set(predictions) <= set(model.classes)
    assert len(predictions) == len(test.frame)


def test_same_seed_gives_the_same_forest(iris):
    train, test = iris
    first = _train_classifier(train, algorithm="random_forest", n_estimators=20, seed=3)
    again = _train_classifier(train, algorithm="random_forest", n_estimators=20, seed=3)
    proba = first.estimator.predict_proba(test.frame[first.feature_columns])
    assert np.array_equal(proba, again.estimator.predict_proba(test.frame[again.feature_columns]))


def test_training_logs_rows_features_and_classes(iris, caplog):
    train, _ = iris
    with caplog.at_level(logging.INFO, logger="pipecanvas.node"):
        TrainClassifier().run({"train": train}, TrainClassifier.Params(algorithm="knn"), RunContext())
    line = caplog.records[-1].getMessage()
    assert f"{len(train.frame)} rows" in line
    assert "4 features" in line
    assert "3 classes" in line


@pytest.mark.parametrize("algorithm", ["linear", "ridge"])
def test_linear_regressors_explain_diabetes_progression(diabetes, algorithm):
    train, test = diabetes
    model = _train_regressor(train, algorithm=algorithm)
    metrics = EvaluateRegressor().run({"model": model, "test": test}, EvaluateRegressor.Params(), RunContext())
    assert metrics["metrics"].values["r2"] > 0.3


@pytest.mark.parametrize("algorithm", ["random_forest", "extra_trees", "gradient_boosting", "hist_gradient_boosting"])
def test_tree_regressors_beat_predicting_the_mean(diabetes, algorithm):
    train, test = diabetes
    model = _train_regressor(train, algorithm=algorithm, n_estimators=50, max_depth=4)
    metrics = EvaluateRegressor().run({"model": model, "test": test}, EvaluateRegressor.Params(), RunContext())
    assert metrics["metrics"].values["r2"] > 0.1


def test_regressor_model_has_no_classes(diabetes):
    train, _ = diabetes
    model = _train_regressor(train)
    assert model.task == "regression"
    assert model.classes is None
    assert model.target == "progression"
    assert model.algorithm == "hist_gradient_boosting"  # the default


def test_ridge_alpha_shrinks_the_coefficients(diabetes):
    train, _ = diabetes
    loose = _train_regressor(train, algorithm="ridge", alpha=0.01).estimator.coef_
    tight = _train_regressor(train, algorithm="ridge", alpha=100).estimator.coef_
    assert np.abs(tight).sum() < np.abs(loose).sum()


# --- errors an analyst can cause ---------------------------------------------------------------


def test_table_without_target_is_refused():
    with pytest.raises(NodeInputError, match="no target column; set one on the data node"):
        _train_classifier(Table(sample_frame("iris"), None))
    with pytest.raises(NodeInputError, match="no target column"):
        _train_regressor(Table(sample_frame("diabetes"), None))


def test_target_missing_from_the_table_names_the_columns():
    frame = sample_frame("iris")
    with pytest.raises(NodeInputError, match=r"'kind' is not in the table; columns are: sepal length \(cm\)"):
        _train_classifier(Table(frame, "kind"))


def test_table_with_only_the_target_is_refused():
    frame = sample_frame("iris")[["species"]]
    with pytest.raises(NodeInputError, match="only the target column 'species'"):
        _train_classifier(Table(frame, "species"))


def test_text_feature_asks_for_a_clean_node():
    frame = sample_frame("iris")
    frame["colour"] = np.where(frame.index % 2 == 0, "blue", "purple")
    with pytest.raises(NodeInputError, match="'colour'.*'Clean and encode'"):
        _train_classifier(Table(frame, "species"))


def test_missing_feature_values_ask_for_a_clean_node():
    frame = sample_frame("diabetes")
    frame.loc[3, "bmi"] = np.nan
    with pytest.raises(NodeInputError, match="'bmi' have missing values.*'Clean and encode'.*histogram gradient"):
        _train_regressor(Table(frame, "progression"), algorithm="ridge")


def test_histogram_boosting_learns_from_gaps_and_is_scored_with_them():
    """A third of one column missing: the default algorithm trains and evaluates without a clean node."""
    frame = sample_frame("breast_cancer")
    frame.loc[frame.index % 3 == 0, "mean radius"] = np.nan
    train, test = split_table(frame, "diagnosis")
    model = _train_classifier(train)
    metrics = EvaluateClassifier().run({"model": model, "test": test}, EvaluateClassifier.Params(), RunContext())
    assert metrics["metrics"].values["accuracy"] > 0.9


def test_missing_target_values_are_counted():
    frame = sample_frame("iris")
    frame.loc[[0, 5], "species"] = None
    with pytest.raises(NodeInputError, match="'species' has 2 missing value"):
        _train_classifier(Table(frame, "species"))


def test_single_class_target_is_refused():
    frame = sample_frame("iris")
    frame = frame[frame["species"] == "setosa"]
    with pytest.raises(NodeInputError, match="'species' has a single class \\('setosa'\\)"):
        _train_classifier(Table(frame, "species"))


def test_empty_table_is_refused():
    frame = sample_frame("iris").iloc[:0]
    with pytest.raises(NodeInputError, match="no rows"):
        _train_classifier(Table(frame, "species"))


def test_more_neighbours_than_rows_is_refused():
    frame = sample_frame("iris").iloc[[0, 1, 50, 51, 100, 101]]
    with pytest.raises(NodeInputError, match="n_neighbors is 10 but the table has only 6 rows"):
        _train_classifier(Table(frame, "species"), algorithm="knn", n_neighbors=10)


def test_continuous_target_points_to_the_regressor():
    frame = sample_frame("diabetes")
    frame["progression"] = frame["progression"] + 0.5
    with pytest.raises(NodeInputError, match="'progression' holds numbers with fractions.*'Train regressor'"):
        _train_classifier(Table(frame, "progression"))


def test_category_target_points_to_the_classifier():
    with pytest.raises(NodeInputError, match="column 'species' holds categories; use 'Train classifier'"):
        _train_regressor(Table(sample_frame("iris"), "species"))


def test_boolean_target_points_to_the_classifier():
    frame = sample_frame("diabetes")
    frame["progression"] = frame["progression"] > 140
    with pytest.raises(NodeInputError, match="'Train classifier'"):
        _train_regressor(Table(frame, "progression"))


# --- defaults, CPUs and readable trees ---------------------------------------------------------


def test_default_classifier_is_histogram_gradient_boosting(iris):
    train, _ = iris
    model = _train_classifier(train)
    assert model.algorithm == "hist_gradient_boosting"
    assert type(model.estimator).__name__ == "HistGradientBoostingClassifier"


@pytest.mark.parametrize("algorithm", ["random_forest", "extra_trees", "knn"])
def test_trainers_use_the_cpus_of_their_step(iris, algorithm):
    train, _ = iris
    params = TrainClassifier.Params(algorithm=algorithm, n_estimators=10)
    model = TrainClassifier().run({"train": train}, params, RunContext(cpus=2))["model"]
    inner = model.estimator.steps[-1][1] if hasattr(model.estimator, "steps") else model.estimator
    assert inner.n_jobs == 2


def test_a_forest_regressor_uses_the_cpus_of_its_step(diabetes):
    train, _ = diabetes
    params = TrainRegressor.Params(algorithm="random_forest", n_estimators=10)
    model = TrainRegressor().run({"train": train}, params, RunContext(cpus=3))["model"]
    assert model.estimator.n_jobs == 3


def test_decision_tree_rules_are_logged_as_text(iris, caplog):
    train, _ = iris
    with caplog.at_level(logging.INFO, logger="pipecanvas.node"):
        model = TrainClassifier().run(
            {"train": train}, TrainClassifier.Params(algorithm="decision_tree", max_depth=2), RunContext()
        )["model"]
    from nodes.train import tree_rules

    rules = tree_rules(model)
    assert "petal" in rules and "class: setosa" in rules
    assert any("decision tree rules" in r.getMessage() for r in caplog.records)
    assert tree_rules(_train_classifier(train, algorithm="knn")) is None


def test_each_param_names_the_algorithms_that_read_it():
    """The form shows only the chosen algorithm's params: every field but 'algorithm' says which algorithms use it."""
    schema = TrainClassifier.Params.model_json_schema()["properties"]
    assert "n_neighbors" not in [n for n, p in schema.items() if "hist_gradient_boosting" in p.get("x-pipecanvas-algorithms", [])]
    assert schema["n_neighbors"]["x-pipecanvas-algorithms"] == ["knn"]
    assert "naive_bayes" not in schema["seed"]["x-pipecanvas-algorithms"]
    assert schema["algorithm"]["x-pipecanvas-labels"]["hist_gradient_boosting"].startswith("Histogram gradient boosting")
    assert set(schema["algorithm"]["x-pipecanvas-labels"]) == set(schema["algorithm"]["enum"])


@pytest.mark.parametrize(("cpu", "cores"), [("2", 2), ("500m", 1), ("2500m", 2), ("1.5", 1), (None, 1), ("4", 4)])
def test_a_steps_cpu_quantity_becomes_whole_cores(cpu, cores):
    from nodes.base import Resources

    assert Resources(cpu=cpu).cpu_cores() == cores
