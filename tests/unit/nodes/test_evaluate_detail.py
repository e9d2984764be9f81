"""Evaluation detail on real files: the decision threshold, calibration, gain / lift, the normalised confusion
matrix, and the warning a split that could not be stratified leaves on its node."""

from __future__ import annotations

import pandas as pd
import pytest
from pydantic import ValidationError

from nodes.artifacts import Model, Table
from nodes.context import RunContext
from nodes.errors import NodeInputError
from nodes.evaluate import EvaluateClassifier, EvaluateRegressor
from nodes.prepare import Split
from nodes.train import TrainClassifier, TrainRegressor
from real_files import real_file  # tests/support/real_files.py


def _real(name: str, drop: tuple[str, ...] = ("Unnamed: 0",)) -> pd.DataFrame:
    frame = pd.read_csv(real_file(name))
    return frame.drop(columns=[c for c in drop if c in frame.columns])


def _split(frame: pd.DataFrame, target: str, context: RunContext | None = None, **params: object) -> dict:
    return Split().run({"table": Table(frame, target)}, Split.Params(**params), context or RunContext())


def _evaluate(model: Model, test: Table, **params: object) -> dict:
    node = EvaluateClassifier()
    return node.run({"model": model, "test": test}, node.Params(**params), RunContext())["metrics"].values


@pytest.fixture(scope="module")
def pima() -> tuple[Model, Table]:
    """Diabetes in Pima women (200 rows, 'Yes' about a third): a binary set where the threshold matters."""
    parts = _split(_real("Pima.tr.csv"), "type", test_fraction=0.4)
    model = TrainClassifier().run({"train": parts["train"]}, TrainClassifier.Params(algorithm="logistic_regression"),
                                  RunContext())["model"]
    return model, parts["test"]


def test_a_lower_threshold_finds_more_positives_and_raises_false_alarms(pima):
    model, test = pima
    assert model.classes == ["No", "Yes"]
    default, low = _evaluate(model, test), _evaluate(model, test, threshold=0.2)
    assert low["per_class"]["Yes"]["recall"] > default["per_class"]["Yes"]["recall"]
    assert low["per_class"]["Yes"]["precision"] < default["per_class"]["Yes"]["precision"]
    predicted_yes = lambda v: sum(row[1] for row in v["confusion_matrix"]["matrix"])  # noqa: E731
    assert predicted_yes(low) > predicted_yes(default)
    assert low["decision"] == {"positive": "Yes", "threshold": 0.2}
    assert low["roc_auc"] == default["roc_auc"]  # ranking scores do not depend on the threshold
    high = _evaluate(model, test, threshold=0.8)
    assert high["per_class"]["Yes"]["recall"] < default["per_class"]["Yes"]["recall"]


def test_the_default_threshold_agrees_with_the_model_itself(pima):
    model, test = pima
    values = _evaluate(model, test)
    x = test.frame[model.feature_columns]
    assert values["accuracy"] == pytest.approx((model.predict(x) == test.frame["type"]).mean())


def test_calibration_bins_hold_every_test_row_once(pima):
    model, test = pima
    values = _evaluate(model, test, calibration_bins=8)
    bins = values["calibration"]["bins"]
    assert len(bins) == 8 and bins[0]["low"] == 0 and bins[-1]["high"] == 1
    assert sum(b["count"] for b in bins) == values["n_test"] == len(test.frame)
    filled = [b for b in bins if b["count"]]
    assert all(b["low"] <= b["mean_predicted"] <= b["high"] for b in filled)
    positives = sum(b["fraction_positive"] * b["count"] for b in filled)
    assert positives == pytest.approx((test.frame["type"] == "Yes").sum())
    assert 0 < values["brier_score"] < 0.25  # better than always saying 50 %


def test_the_gain_curve_runs_from_nothing_to_every_positive(pima):
    model, test = pima
    gain = _evaluate(model, test)["gain"]
    rows, found = gain["fraction_of_rows"], gain["fraction_of_positives"]
    assert (rows[0], found[0]) == (0, 0) and (rows[-1], found[-1]) == (1, 1)
    assert found == sorted(found)
    assert gain["lift"][0] is None and gain["lift"][-1] == pytest.approx(1)
    tenth = next(i for i, r in enumerate(rows) if r >= 0.1)
    assert gain["lift"][tenth] > 1.5  # the model's top tenth holds far more diabetics than a random tenth


def test_a_normalised_confusion_matrix_keeps_counts_and_rows_add_up_to_one(pima):
    model, test = pima
    matrix = _evaluate(model, test, normalize_confusion=True)["confusion_matrix"]
    assert matrix["normalized"] is True
    assert sum(map(sum, matrix["matrix"])) == len(test.frame)
    for counts, rates in zip(matrix["matrix"], matrix["rates"]):
        assert sum(rates) == pytest.approx(1)
        assert rates[0] == pytest.approx(counts[0] / sum(counts))


def test_a_threshold_on_three_classes_is_refused_by_name():
    penguins = _real("penguins.csv").dropna().drop(columns=["island", "sex"])
    parts = _split(penguins, "species")
    model = TrainClassifier().run({"train": parts["train"]}, TrainClassifier.Params(algorithm="naive_bayes"),
                                  RunContext())["model"]
    with pytest.raises(NodeInputError, match=r"param 'threshold' is 0\.3.*two classes.*has 3"):
        _evaluate(model, parts["test"], threshold=0.3)
    assert "calibration" not in _evaluate(model, parts["test"])  # two classes only


@pytest.mark.parametrize("value", [-0.1, 1.5])
def test_a_threshold_outside_zero_to_one_is_a_param_error(value):
    with pytest.raises(ValidationError, match="threshold"):
        EvaluateClassifier.Params(threshold=value)


def test_a_threshold_on_a_regressor_says_it_is_for_classifiers():
    with pytest.raises(ValidationError, match="only applies to an .Evaluate classifier. node"):
        EvaluateRegressor.Params(threshold=0.3)


def test_a_class_with_one_row_leaves_a_warning_on_the_split():
    frame = _real("penguins.csv").dropna()
    lonely = pd.concat([frame[frame.species != "Chinstrap"], frame[frame.species == "Chinstrap"].head(1)])
    context = RunContext()
    parts = _split(lonely, "species", context)
    assert len(context.warnings) == 1
    assert "could not be stratified" in context.warnings[0] and "'Chinstrap'" in context.warnings[0]
    assert len(parts["train"].frame) + len(parts["test"].frame) == len(lonely)

    fine = RunContext()
    _split(frame, "species", fine)
    assert fine.warnings == []


def test_a_measured_target_splits_at_random_without_a_warning():
    context = RunContext()
    _split(_real("mtcars.csv"), "mpg", context)
    assert context.warnings == []


def test_a_regressor_on_a_real_file_gets_no_classifier_detail():
    frame = _real("mtcars.csv")
    parts = _split(frame, "mpg", stratify=False)
    model = TrainRegressor().run({"train": parts["train"]}, TrainRegressor.Params(algorithm="linear"), RunContext())["model"]
    values = EvaluateRegressor().run({"model": model, "test": parts["test"]}, EvaluateRegressor.Params(),
                                     RunContext())["metrics"].values
    assert "calibration" not in values and "gain" not in values


def test_threshold_errors_are_located_on_the_param_when_the_pipeline_is_checked():
    import yaml

    from compiler import parse_pipeline, validate_pipeline
    from nodes import default_catalog

    nodes = [{"id": "load", "type": "data.sample"}, {"id": "split", "type": "prepare.split"},
             {"id": "train", "type": "train.classifier"},
             {"id": "score", "type": "evaluate.classifier", "params": {"threshold": 1.5}},
             {"id": "fit", "type": "train.regressor"},
             {"id": "errors", "type": "evaluate.regressor", "params": {"threshold": 0.3}}]
    edges = [("load.table", "split.table"), ("split.train", "train.train"), ("train.model", "score.model"),
             ("split.test", "score.test"), ("split.train", "fit.train"), ("fit.model", "errors.model"),
             ("split.test", "errors.test")]
    document = {"apiVersion": "pipecanvas/v1", "kind": "Pipeline", "metadata": {"name": "t"},
                "spec": {"nodes": nodes, "edges": [{"from": a, "to": b} for a, b in edges]}}
    loaded = parse_pipeline(yaml.safe_dump(document, sort_keys=False))
    found = {(d.node, d.param): d.message for d in validate_pipeline(loaded.pipeline, default_catalog(), loaded.source_map)
             if d.severity == "error"}
    assert found[("score", "threshold")] == "node 'score': param 'threshold' must be ≤ 1 (got 1.5)"
    assert "param 'threshold' only applies to an 'Evaluate classifier' node" in found[("errors", "threshold")]
