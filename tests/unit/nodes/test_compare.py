"""evaluate.compare on real data: it ranks models the way their own evaluate scores do and passes the best on."""

from __future__ import annotations

import numpy as np
import pytest

from nodes.artifacts import Model, Table
from nodes.compare import Compare
from nodes.context import RunContext
from nodes.errors import NodeInputError
from nodes.evaluate import EvaluateClassifier
from nodes.train import TrainClassifier, TrainRegressor
from sample_tables import sample_frame, split_table  # tests/support/sample_tables.py


def _classifier(table: Table, **params: object) -> Model:
    return TrainClassifier().run({"train": table}, TrainClassifier.Params(**params), RunContext())["model"]


def _compare(models: list[Model], test: Table, sources: list[str] | None = None, **params: object) -> dict:
    context = RunContext(input_sources={"models": sources} if sources else {})
    return Compare().run({"models": models, "test": test}, Compare.Params(**params), context)


@pytest.fixture(scope="module")
def iris() -> tuple[Table, Table]:
    return split_table(sample_frame("iris"), "species")


def test_compare_on_iris_picks_the_better_of_two_models(iris):
    train, test = iris
    good = _classifier(train, algorithm="logistic_regression")
    stump = _classifier(train, algorithm="decision_tree", max_depth=1)  # one split cannot tell three species apart
    out = _compare([stump, good], test, ["stump.model", "logistic.model"])
    assert out["best"] is good
    rows = {row["model"]: row for row in out["metrics"].values["comparison"]["rows"]}
    own = EvaluateClassifier().run({"model": good, "test": test}, EvaluateClassifier.Params(), RunContext())
    assert rows["logistic"]["accuracy"] == own["metrics"].values["accuracy"]
    assert rows["stump"]["accuracy"] < 0.7 < rows["logistic"]["accuracy"]
    table = out["table"].frame.set_index("model")
    assert "accuracy" in table.loc["logistic", "best_at"]
    assert "accuracy" not in table.loc["stump", "best_at"]
    assert set(out["metrics"].values["roc_curves"]) == {"stump", "logistic"}


def test_the_metric_param_chooses_the_best_model(iris):
    train, test = iris
    models = [_classifier(train, algorithm="naive_bayes"), _classifier(train, algorithm="knn", n_neighbors=40)]
    out = _compare(models, test, metric="roc_auc")
    values = out["metrics"].values
    by_auc = max(values["comparison"]["rows"], key=lambda r: r["roc_auc"])["model"]
    assert values["best_model"] == by_auc
    assert out["best"] is models[[r["model"] for r in values["comparison"]["rows"]].index(by_auc)]


def test_regressors_are_ranked_by_lowest_rmse():
    train, test = split_table(sample_frame("diabetes"), "progression", stratify=False)
    params = [{"algorithm": "ridge"}, {"algorithm": "decision_tree", "max_depth": 1}]
    models = [TrainRegressor().run({"train": train}, TrainRegressor.Params(**p), RunContext())["model"] for p in params]
    out = _compare(models, test, ["ridge.model", "stump.model"])
    rows = {r["model"]: r for r in out["metrics"].values["comparison"]["rows"]}
    assert rows["ridge"]["rmse"] < rows["stump"]["rmse"]
    assert out["best"] is models[0]
    assert set(out["metrics"].values["residuals_by_model"]) == {"ridge", "stump"}


def test_one_step_feeding_twice_is_named_by_port():
    from nodes.compare import model_names

    assert model_names(["a.model", "b.model"], 2) == ["a", "b"]
    assert model_names(["a.x", "a.y"], 2) == ["a.x", "a.y"]
    assert model_names(None, 2) == ["model 1", "model 2"]


def test_mixing_classifiers_and_regressors_is_refused(iris):
    train, test = iris
    regressor = TrainRegressor().run(
        {"train": Table(train.frame.assign(species=np.arange(len(train.frame)) % 3), "species")},
        TrainRegressor.Params(algorithm="linear"), RunContext(),
    )["model"]
    with pytest.raises(NodeInputError, match="different tasks.*'model 1' \\(classification\\), 'model 2' \\(regression\\)"):
        _compare([_classifier(train), regressor], test)


def test_a_metric_of_the_other_task_is_refused(iris):
    train, test = iris
    with pytest.raises(NodeInputError, match="param 'metric' is 'rmse', which does not score classification"):
        _compare([_classifier(train)], test, metric="rmse")


def test_a_model_the_test_rows_do_not_fit_is_named(iris):
    train, test = iris
    narrow = _classifier(Table(train.frame.drop(columns=["petal width (cm)"]), "species"))
    with pytest.raises(NodeInputError, match="model 'model 1': the model needs column"):
        _compare([narrow], Table(test.frame.drop(columns=["sepal width (cm)"]), "species"))
