"""Evaluate nodes: score a model on rows it has not seen.

Every value in the returned Metrics is plain JSON (str, int, float, None, lists
and dicts with string keys) so the run store, the studio and comparisons across
runs can use it without knowing about numpy.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any, Literal

from pydantic import Field, model_validator

from .algorithms import accepts_missing
from .binary_curves import calibration_bins, cumulative_gain, evenly_spaced
from .artifacts import ArtifactKind, Metrics, Model, Table
from .base import Category, NodeParams, NodeType, Port, Resources
from .context import RunContext
from .errors import NodeInputError

if TYPE_CHECKING:  # numpy and pandas are heavy; the catalog must import fast
    import numpy as np
    import pandas as pd

#: below this many test rows a score is reported with a warning: one row moves accuracy by more than 3 points
MIN_TRUSTED_TEST_ROWS = 30

__all__ = ["MIN_TRUSTED_TEST_ROWS", "DEFAULT_THRESHOLD", "EvaluateClassifier", "EvaluateRegressor", "model_and_table", "test_rows", "score_classifier", "score_regressor"]

_INPUTS = (
    Port("model", ArtifactKind.MODEL, description="The trained model to score."),
    Port("test", ArtifactKind.TABLE, description="Held-out rows with the true answers."),
)


#: the threshold a classifier's own ``predict`` uses for two classes: the param's default changes nothing
DEFAULT_THRESHOLD = 0.5


class EvaluateClassifierParams(NodeParams):
    average: Literal["macro", "weighted", "micro"] = Field(
        "macro",
        description="How to combine per-class precision, recall and F1: 'macro' (every class counts the same), "
        "'weighted' (by class size) or 'micro'.",
    )
    threshold: float = Field(
        DEFAULT_THRESHOLD, ge=0, le=1,
        description="Two classes only: a row is predicted as the second class when its probability is at least "
        "this. Lower it to catch more of that class (higher recall, more false alarms); the scores and the "
        "confusion matrix use it.",
    )
    normalize_confusion: bool = Field(
        False, description="Show the confusion matrix as the share of each actual class (rows add up to 100 %), "
        "with the counts beside the rates.",
    )
    calibration_bins: int = Field(
        10, ge=2, le=50, description="Two classes only: how many equal-width probability bins the calibration "
        "curve uses.",
    )


class EvaluateClassifier(NodeType):
    type_id = "evaluate.classifier"
    title = "Evaluate classifier"
    description = ("Scores a classifier on the test rows: accuracy, precision, recall, F1, ROC AUC and a confusion "
                   "matrix; for two classes also a decision threshold, a calibration curve and cumulative gain / lift.")
    category = Category.EVALUATE
    icon = "chart"
    keywords = ("score", "metrics", "accuracy", "precision", "recall", "f1", "roc auc", "confusion matrix", "classification")
    inputs = _INPUTS
    outputs = (Port("metrics", ArtifactKind.METRICS,
                    description="Scores, confusion matrix, ROC curve points and (two classes) calibration and gain."),)
    Params = EvaluateClassifierParams
    resources = Resources(cpu="500m", memory="1Gi")
    warm_imports = ("sklearn.metrics",)

    def run(self, inputs: dict[str, Any], params: EvaluateClassifierParams, context: RunContext) -> dict[str, Any]:
        model, table = model_and_table(inputs, "classification")
        values = score_classifier(model, table, params.average, params.threshold, params.calibration_bins)
        values["confusion_matrix"]["normalized"] = params.normalize_confusion
        context.log(
            f"accuracy {values['accuracy']:.3f}, {params.average} F1 {values['f1']:.3f} on {values['n_test']} test rows"
        )
        for warning in values["warnings"]:
            context.warn(warning)
        return {"metrics": Metrics(values)}


_CLASSIFIER_PARAMS = ("threshold", "normalize_confusion", "calibration_bins")


def _classifier_only(error: dict[str, Any]) -> dict[str, Any]:
    from pydantic_core import PydanticCustomError

    message = ("only applies to an 'Evaluate classifier' node: a regressor predicts numbers, not classes; "
               "remove it")
    return {"type": PydanticCustomError("classifier_only", message), "loc": error["loc"], "input": error["input"]}


class EvaluateRegressorParams(NodeParams):
    max_residuals: int = Field(
        1000, ge=10, le=100000, description="Most (actual, predicted) pairs kept for the residuals plot."
    )

    @model_validator(mode="wrap")
    @classmethod
    def _no_classifier_params(cls, data: Any, handler: Any) -> Any:
        """A classifier's param set on a regressor is named for what it is, not only as an unknown key."""
        from pydantic import ValidationError

        try:
            return handler(data)
        except ValidationError as exc:
            errors = [_classifier_only(e) if e["type"] == "extra_forbidden" and e["loc"][-1:] and e["loc"][-1]
                      in _CLASSIFIER_PARAMS else {k: e[k] for k in ("type", "loc", "input", "ctx") if k in e}
                      for e in exc.errors()]
            raise ValidationError.from_exception_data(exc.title, errors) from None


class EvaluateRegressor(NodeType):
    type_id = "evaluate.regressor"
    title = "Evaluate regressor"
    description = "Scores a regressor on the test rows: typical error (RMSE, MAE), R² and the residuals."
    category = Category.EVALUATE
    icon = "chart"
    keywords = ("score", "metrics", "rmse", "mae", "r2", "residuals", "regression")
    inputs = _INPUTS
    outputs = (Port("metrics", ArtifactKind.METRICS, description="RMSE, MAE, R² and residual points."),)
    Params = EvaluateRegressorParams
    resources = Resources(cpu="500m", memory="1Gi")
    warm_imports = ("sklearn.metrics",)

    def run(self, inputs: dict[str, Any], params: EvaluateRegressorParams, context: RunContext) -> dict[str, Any]:
        model, table = model_and_table(inputs, "regression")
        values = score_regressor(model, table, params.max_residuals)
        r2 = "n/a" if values["r2"] is None else f"{values['r2']:.3f}"
        context.log(f"RMSE {values['rmse']:.4g}, R² {r2} on {values['n_test']} test rows")
        for warning in values["warnings"]:
            context.warn(warning)
        return {"metrics": Metrics(values)}


def score_classifier(model: Model, table: Table, average: str = "macro", threshold: float = DEFAULT_THRESHOLD,
                     bins: int | None = None) -> dict[str, Any]:
    """Every classification score of ``model`` on ``table`` as plain JSON values (checked rows, no raise on NaN).

    Given ``bins``, two classes with probabilities also get ``decision``, ``calibration`` (that many bins),
    ``gain`` and ``brier_score``; without it (a comparison, which shows none of them) they are not computed.
    ``threshold`` (two classes only) decides the predictions the scores and the confusion matrix count.
    """
    x, y_true = test_rows(model, table)
    proba = _probabilities(model, x)
    y_pred = _predictions(model, x, proba, threshold)
    labels = _labels(model, y_true)
    values = _classification_scores(y_true, y_pred, labels, average)
    values["roc_auc"], values["roc_curve"] = _roc(model, proba, y_true)
    if bins is not None and proba is not None and len(model.classes or []) == 2:
        values.update(_binary_detail(model, proba[:, 1], y_true, threshold, bins))
    values["warnings"] = _small_test_warnings(len(y_true))
    return values


def _probabilities(model: Model, x: "pd.DataFrame") -> "np.ndarray | None":
    """``predict_proba`` of the test rows (columns follow ``model.classes``), or None when the model has none."""
    if not hasattr(model.estimator, "predict_proba") or len(model.classes or []) < 2:
        return None
    return model.estimator.predict_proba(x)


def _predictions(model: Model, x: "pd.DataFrame", proba: "np.ndarray | None", threshold: float) -> Any:
    """The model's own predictions, or, for a threshold other than 0.5, the second class where p ≥ threshold."""
    import numpy as np

    if threshold == DEFAULT_THRESHOLD:
        return model.predict(x)
    classes = list(model.classes or [])
    if len(classes) != 2:
        raise NodeInputError(
            f"param 'threshold' is {threshold}, but a threshold only applies to two classes and this model has "
            f"{len(classes)} ({_quoted(classes[:6])}{', …' if len(classes) > 6 else ''}); set it back to 0.5")
    if proba is None:
        raise NodeInputError(
            f"param 'threshold' is {threshold}, but this model ({model.algorithm or 'its estimator'}) gives no "
            "probabilities to compare with it; set it back to 0.5 or train an algorithm that gives probabilities")
    return np.where(proba[:, 1] >= threshold, classes[1], classes[0])


def _binary_detail(model: Model, scores: "np.ndarray", y_true: "pd.Series", threshold: float,
                   bins: int) -> dict[str, Any]:
    """Calibration bins, the cumulative gain / lift curve and the Brier score for the positive class."""
    from sklearn.metrics import brier_score_loss

    positive = model.classes[1]
    is_positive = (y_true.to_numpy() == positive).astype(float)
    return {
        "decision": {"positive": str(positive), "threshold": threshold},
        "brier_score": _number(brier_score_loss(is_positive, scores)),
        "calibration": {"positive": str(positive), "bins": calibration_bins(is_positive, scores, bins)},
        "gain": {"positive": str(positive), **cumulative_gain(is_positive, scores)},
    }


def _small_test_warnings(n_test: int) -> list[str]:
    if n_test >= MIN_TRUSTED_TEST_ROWS:
        return []
    return [f"only {n_test} test row(s): one row more or less right moves accuracy by {100 / n_test:.0f} points, "
            f"so these scores are not to be trusted; hold out at least {MIN_TRUSTED_TEST_ROWS} rows"]


def score_regressor(model: Model, table: Table, max_residuals: int = 1000) -> dict[str, Any]:
    """RMSE, MAE, R² and up to ``max_residuals`` (actual, predicted) pairs of ``model`` on ``table``."""
    import numpy as np
    from pandas.api import types
    from sklearn.metrics import mean_absolute_error, mean_squared_error, r2_score

    x, y_true = test_rows(model, table)
    if types.is_bool_dtype(y_true) or not types.is_numeric_dtype(y_true):
        raise NodeInputError(f"test column '{table.target}' holds categories, but the model predicts numbers")
    actual = y_true.to_numpy(dtype=float)
    predicted = np.asarray(model.predict(x), dtype=float)
    return {
        "rmse": _number(math.sqrt(mean_squared_error(actual, predicted))),
        "mae": _number(mean_absolute_error(actual, predicted)),
        "r2": _number(r2_score(actual, predicted)) if len(actual) > 1 else None,
        "n_test": len(actual),
        "residuals": _residuals(actual, predicted, max_residuals),
        "warnings": _small_test_warnings(len(actual)),
    }


_OTHER_NODE = {"classification": "Evaluate classifier", "regression": "Evaluate regressor"}


def model_and_table(inputs: dict[str, Any], task: str) -> tuple[Model, Table]:
    """The two inputs, checked to be a ``task`` model and a test table that has the model's target."""
    model, table = inputs.get("model"), inputs.get("test")
    if not isinstance(model, Model):
        raise NodeInputError("the 'model' input must be a trained model; connect a train node to it")
    if model.task == "transform":
        raise NodeInputError(
            "the 'model' input is the preprocessor of a 'Clean and encode' node; connect a train node's model instead"
        )
    if model.task != task:
        other = _OTHER_NODE.get(model.task)
        hint = f"use an '{other}' node" if other else "connect a classifier or regressor"
        raise NodeInputError(f"the model does {model.task}, not {task}; {hint} to score it")
    if not isinstance(table, Table):
        raise NodeInputError("the 'test' input must be a table; connect a split or clean node's test output to it")
    if table.target != model.target:
        raise NodeInputError(
            f"the test table's target is {_name(table.target)} but the model predicts {_name(model.target)}; "
            "connect the test rows that belong to the model's training rows"
        )
    return model, table


def test_rows(model: Model, table: Table) -> tuple["pd.DataFrame", "pd.Series"]:
    """Feature frame and true answers, after checking the rows can be scored."""
    from pandas.api import types

    frame = table.frame
    if table.target not in frame.columns:
        raise NodeInputError(f"target column '{table.target}' is not in the test table")
    if frame.empty:
        raise NodeInputError("the test table has no rows")
    missing = [c for c in model.feature_columns if c not in frame.columns]
    if missing:
        raise NodeInputError(f"the model needs column(s) {_quoted(missing)}, which the test table lacks")
    x = frame[model.feature_columns]
    text = [c for c in x.columns if not (types.is_numeric_dtype(x[c]) or types.is_bool_dtype(x[c]))]
    if text:
        raise NodeInputError(
            f"test column(s) {_quoted(text)} hold text or categories; "
            "pass the test rows through the same 'Clean and encode' node as the training rows"
        )
    gaps = [] if accepts_missing(model.task, model.algorithm) else [c for c in x.columns if x[c].isna().any()]
    gaps += [table.target] if frame[table.target].isna().any() else []
    if gaps:
        raise NodeInputError(f"test column(s) {_quoted(gaps)} have missing values; clean the test rows first")
    return x, frame[table.target]


def _labels(model: Model, y_true: "pd.Series") -> list[Any]:
    """The model's classes, then any test labels the model never saw (sorted), so every row is counted."""
    known = list(model.classes or [])
    unseen = sorted(set(y_true.unique().tolist()) - set(known), key=str)
    return known + unseen


def _classification_scores(y_true: Any, y_pred: Any, labels: list[Any], average: str) -> dict[str, Any]:
    """Headline scores, the confusion matrix (rows actual, columns predicted) and per-class scores."""
    from sklearn.metrics import accuracy_score, confusion_matrix, precision_recall_fscore_support

    shown = labels
    y_true, y_pred, labels = _as_codes(y_true, y_pred, labels)
    precision, recall, f1, _ = precision_recall_fscore_support(
        y_true, y_pred, labels=labels, average=average, zero_division=0
    )
    each = precision_recall_fscore_support(y_true, y_pred, labels=labels, average=None, zero_division=0)
    matrix = confusion_matrix(y_true, y_pred, labels=labels)
    totals = matrix.sum(axis=1)
    rates = [[_number(n / total) for n in row] if total else [None] * len(row) for row, total in zip(matrix, totals)]
    return {
        "accuracy": _number(accuracy_score(y_true, y_pred)),
        "precision": _number(precision),
        "recall": _number(recall),
        "f1": _number(f1),
        "n_test": len(y_true),
        "confusion_matrix": {"labels": shown, "matrix": [[int(n) for n in row] for row in matrix], "rates": rates},
        "per_class": {
            str(label): {
                "precision": _number(each[0][i]),
                "recall": _number(each[1][i]),
                "f1": _number(each[2][i]),
                "support": int(each[3][i]),
            }
            for i, label in enumerate(shown)
        },
    }


def _as_codes(y_true: Any, y_pred: Any, labels: list[Any]) -> tuple[Any, Any, list[Any]]:
    """The labels as their positions in ``labels``, when every value is one of them.

    scikit-learn's metrics check and sort the labels again in each call, which for text labels is a
    Python loop over every row: 2.6 s of the evaluation at 250k test rows, against milliseconds for
    integers. The scores are the same, label for label. A value outside ``labels`` (none is expected:
    ``labels`` holds the model's classes and every test label) leaves the values as they are.
    """
    import numpy as np
    import pandas as pd

    try:
        codes = [pd.Categorical(np.asarray(values, dtype=object), categories=labels).codes for values in (y_true, y_pred)]
    except (TypeError, ValueError):  # labels pandas cannot hold as categories (e.g. repeated once made text)
        return y_true, y_pred, labels
    if any((c < 0).any() for c in codes):
        return y_true, y_pred, labels
    return codes[0], codes[1], list(range(len(labels)))


def _roc(model: Model, proba: "np.ndarray | None", y_true: "pd.Series") -> tuple[float | None, dict[str, Any]]:
    """ROC AUC and curves from ``predict_proba``: binary scores ``classes[1]``, multiclass is one-vs-rest macro.

    ``predict_proba`` columns follow ``model.classes`` (train nodes copy the estimator's ``classes_``).

    AUC is None when the model gives no probabilities or the test rows lack a
    class (or hold one the model never saw): it is undefined there, not zero.
    """
    from sklearn.metrics import roc_auc_score

    classes = list(model.classes or [])
    if proba is None:
        return None, {}
    truth = y_true.to_numpy()
    present = set(y_true.unique().tolist())
    if len(classes) == 2:
        positive = classes[1]
        curves = {str(positive): _curve(truth == positive, proba[:, 1])} if len(present) == 2 else {}
    else:
        curves = {str(c): _curve(truth == c, proba[:, i]) for i, c in enumerate(classes) if c in present}
    if present != set(classes):
        return None, curves
    if len(classes) == 2:
        auc = roc_auc_score(truth == classes[1], proba[:, 1])
    else:
        auc = roc_auc_score(truth, proba, multi_class="ovr", average="macro", labels=classes)
    return _number(auc), curves


def _curve(is_positive: Any, scores: Any, max_points: int = 200) -> dict[str, list[float]]:
    """One ROC curve, thinned to at most ``max_points`` evenly spaced points (ends kept, order kept)."""
    from sklearn.metrics import roc_curve

    if is_positive.all() or not is_positive.any():
        return {"fpr": [], "tpr": []}
    fpr, tpr, _ = roc_curve(is_positive, scores)
    keep = evenly_spaced(len(fpr), max_points)
    return {"fpr": [float(v) for v in fpr[keep]], "tpr": [float(v) for v in tpr[keep]]}


def _residuals(actual: "np.ndarray", predicted: "np.ndarray", limit: int) -> dict[str, list[float]]:
    """Up to ``limit`` (actual, predicted) pairs, evenly spaced through the test rows so reruns agree."""
    keep = evenly_spaced(len(actual), limit)
    return {"actual": [float(v) for v in actual[keep]], "predicted": [float(v) for v in predicted[keep]]}


def _number(value: Any) -> float | None:
    """A plain float, or None where a score is undefined (NaN would not be valid JSON)."""
    value = float(value)
    return None if math.isnan(value) else value


def _name(column: str | None) -> str:
    return "not set" if column is None else f"'{column}'"


def _quoted(names: list[Any]) -> str:
    return ", ".join(f"'{n}'" for n in names)
