"""Cross-validation, tuning and importance on real data: numbers that agree with scikit-learn done by hand,
cleaning refitted per fold, tuning that beats the defaults where it should, importance that finds the signal."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import make_classification

from nodes.artifacts import Table
from nodes.context import RunContext
from nodes.cross_validate import CrossValidate
from nodes.errors import NodeInputError
from nodes.evaluate import EvaluateClassifier
from nodes.explain import Importance
from nodes.prepare import Clean
from nodes.train import TrainClassifier, TrainRegressor
from nodes.tune import Tune
from sample_tables import sample_frame, split_table  # tests/support/sample_tables.py


def _train(table, **params):
    return TrainClassifier().run({"train": table}, TrainClassifier.Params(**params), RunContext())["model"]


def _cv(model, table, preprocessor=None, **params):
    inputs = {"model": model, "table": table} | ({"preprocessor": preprocessor} if preprocessor else {})
    return CrossValidate().run(inputs, CrossValidate.Params(**params), RunContext())


def test_cross_validation_matches_scikit_learn_by_hand_on_iris():
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold, cross_val_score
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    table = Table(sample_frame("iris"), "species")
    model = _train(table, algorithm="logistic_regression")
    out = _cv(model, table, folds=5, seed=3)
    x, y = table.frame[table.feature_columns], table.frame["species"]
    by_hand = cross_val_score(make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000, random_state=42)), x, y,
                              cv=StratifiedKFold(5, shuffle=True, random_state=3))
    values = out["metrics"].values
    assert values["accuracy_mean"] == pytest.approx(by_hand.mean())
    assert values["accuracy_sd"] == pytest.approx(by_hand.std(ddof=1))
    assert values["stratified"] is True
    folds = out["folds"].frame
    assert list(folds["fold"]) == [1, 2, 3, 4, 5] and folds["accuracy"].tolist() == pytest.approx(by_hand.tolist())


def test_repeats_multiply_the_folds_and_the_seed_repeats_them():
    table = Table(sample_frame("wine"), "cultivar")
    model = _train(table, algorithm="naive_bayes")
    first = _cv(model, table, folds=3, repeats=2, seed=1)["folds"].frame
    assert len(first) == 6 and set(first["repeat"]) == {1, 2}
    pd.testing.assert_frame_equal(first.drop(columns="fit_seconds"),
                                  _cv(model, table, folds=3, repeats=2, seed=1)["folds"].frame.drop(columns="fit_seconds"))


def test_cleaning_is_refitted_inside_each_fold():
    """A column whose gaps the recipe fills: each fold's imputer learns only that fold's training rows."""
    frame = sample_frame("breast_cancer")
    frame.loc[frame.index % 4 == 0, "mean radius"] = np.nan
    frame["colour"] = np.where(frame.index % 2 == 0, "red", "blue")
    train, test = split_table(frame, "diagnosis")
    cleaned = Clean().run({"train": train, "test": test}, Clean.Params(), RunContext())
    model = _train(cleaned["train"], algorithm="logistic_regression")
    out = _cv(model, train, cleaned["preprocessor"], folds=4)
    assert out["metrics"].values["accuracy_mean"] > 0.9
    with pytest.raises(NodeInputError, match="connect the 'Clean and encode' preprocessor"):
        _cv(model, train)


def test_a_class_too_rare_to_stratify_is_said():
    frame = sample_frame("iris").iloc[list(range(0, 100)) + [100, 101]]  # two virginica rows
    table = Table(frame, "species")
    out = _cv(_train(table, algorithm="naive_bayes"), table, folds=5)
    assert out["metrics"].values["stratified"] is False
    assert any("class 'virginica' has only 2 row(s), fewer than the 5 folds" in w for w in out["metrics"].values["warnings"])


def test_regressors_are_cross_validated_with_error_scores():
    table = Table(sample_frame("diabetes"), "progression")
    model = TrainRegressor().run({"train": table}, TrainRegressor.Params(algorithm="ridge"), RunContext())["model"]
    values = _cv(model, table, folds=4)["metrics"].values
    assert 40 < values["rmse_mean"] < 80 and values["r2_mean"] > 0.3  # errors back as positive numbers


# ---- tuning -------------------------------------------------------------------------------------


def _noisy() -> Table:
    x, y = make_classification(n_samples=800, n_features=10, n_informative=4, flip_y=0.25, random_state=0)
    frame = pd.DataFrame(x, columns=[f"x{i}" for i in range(10)]).assign(label=np.where(y == 1, "yes", "no"))
    return Table(frame, "label")


def test_tuning_a_tree_on_noisy_rows_beats_the_unlimited_default():
    train, test = split_table(_noisy().frame, "label")
    params = Tune.Params(algorithm="decision_tree", max_depth_values="2, 3, 4, 6, none", folds=4)
    out = Tune().run({"train": train}, params, RunContext(cpus=2))
    trials = out["trials"].frame
    assert len(trials) == 5 and trials["is_default"].sum() == 1
    assert trials.iloc[0]["rank"] == 1 and trials.iloc[0]["max_depth"] is not None
    score = lambda m: EvaluateClassifier().run({"model": m, "test": test}, EvaluateClassifier.Params(),  # noqa: E731
                                               RunContext())["metrics"].values["accuracy"]
    default = _train(train, algorithm="decision_tree")
    assert score(out["model"]) > score(default) + 0.03
    values = out["metrics"].values
    assert values["best_accuracy"] > values["default_accuracy"]


def test_random_search_tries_the_asked_number_plus_the_defaults():
    table = Table(sample_frame("iris"), "species")
    params = Tune.Params(algorithm="knn", search="random", n_candidates=2, n_neighbors_values="1, 3, 7, 9, 15", folds=3)
    trials = Tune().run({"train": table}, params, RunContext())["trials"].frame
    assert len(trials) == 3 and trials["is_default"].sum() == 1 and 5 in set(trials["n_neighbors"])


def test_range_fields_are_checked_when_the_file_is_read():
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match="'lots' is not a number"):
        Tune.Params(n_estimators_values="50, lots")
    with pytest.raises(ValidationError, match="n_neighbors 0 is out of range"):
        Tune.Params(algorithm="knn", n_neighbors_values="0, 5")
    with pytest.raises(ValidationError, match="'ridge' is not a classification algorithm"):
        Tune.Params(algorithm="ridge")
    assert Tune.Params(task="regression", algorithm="ridge").alpha_values == "0.1, 1, 10"


# ---- importance ---------------------------------------------------------------------------------


def test_importance_ranks_the_informative_columns_first():
    frame = sample_frame("iris")
    rng = np.random.default_rng(0)
    frame["noise"] = rng.normal(size=len(frame))
    train, test = split_table(frame, "species")
    model = _train(train, algorithm="random_forest", n_estimators=50)
    out = Importance().run({"model": model, "test": test}, Importance.Params(), RunContext())["importance"].frame
    assert out.iloc[0]["feature"].startswith("petal")
    assert out.set_index("feature").loc["noise", "importance_mean"] < 0.02
    assert {"impurity_importance", "importance_sd"} <= set(out.columns)
    boosted = _train(train)  # histogram boosting has no impurity importance
    assert "impurity_importance" not in Importance().run(
        {"model": boosted, "test": test}, Importance.Params(), RunContext())["importance"].frame.columns


def test_tuning_a_tree_on_a_real_file_beats_its_unlimited_default():
    """Pima diabetes (200 real rows): an unlimited tree memorises the training folds; a shallow one generalises."""
    from real_files import real_file  # tests/support/real_files.py

    frame = pd.read_csv(real_file("Pima.tr.csv")).drop(columns=["Unnamed: 0"])
    params = Tune.Params(algorithm="decision_tree", max_depth_values="2, 3, 4, none", folds=5)
    values = Tune().run({"train": Table(frame, "type")}, params, RunContext(cpus=2))["metrics"].values
    assert values["best_accuracy"] > values["default_accuracy"] + 0.03
    assert values["tuning"]["best"]["max_depth"] is not None
