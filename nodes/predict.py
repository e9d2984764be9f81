"""Batch scoring: a trained model (and, optionally, its cleaning recipe) applied to a table of new rows.

The output keeps every input column, in order, and adds ``prediction`` plus,
for classifiers that give probabilities, one ``probability_<class>`` column per
class, so a ``data.save`` node can deliver a scored file.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pydantic import Field

from .algorithms import accepts_missing
from .artifacts import ArtifactKind, Model, Table
from .base import Category, NodeParams, NodeType, Port, Resources
from .context import RunContext
from .errors import NodeInputError

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["PredictTable"]


class PredictParams(NodeParams):
    prediction_column: str = Field(
        "prediction", min_length=1, max_length=200, description="Name of the column that holds each row's prediction."
    )
    probabilities: bool = Field(
        True, description="Add one 'probability_<class>' column per class (classifiers that give probabilities)."
    )


class PredictTable(NodeType):
    type_id = "predict.table"
    title = "Predict table"
    description = "Scores every row of a table with a trained model and adds the prediction (and class probabilities)."
    category = Category.EVALUATE
    icon = "table"
    keywords = ("score", "scoring", "inference", "batch prediction", "apply model")
    inputs = (
        Port("model", ArtifactKind.MODEL, description="The trained classifier or regressor."),
        Port("table", ArtifactKind.TABLE, description="The rows to score, raw if a preprocessor is connected."),
        Port("preprocessor", ArtifactKind.MODEL, required=False,
             description="The 'Clean and encode' recipe the model was trained after; applied to the rows first."),
    )
    outputs = (Port("table", ArtifactKind.TABLE, description="The input rows with prediction columns added."),)
    Params = PredictParams
    resources = Resources(cpu="1", memory="2Gi")
    warm_imports = ("sklearn.pipeline",)

    def run(self, inputs: dict[str, Any], params: PredictParams, context: RunContext) -> dict[str, Any]:
        model, table, preprocessor = inputs.get("model"), inputs.get("table"), inputs.get("preprocessor")
        _check_inputs(model, table, preprocessor)
        features = _features(model, table.frame, preprocessor)
        scored = table.frame.reset_index(drop=True).copy()
        names = _new_columns(model, params)
        clash = [n for n in names if n in scored.columns]
        if clash:
            raise NodeInputError(
                f"the table already has column(s) {', '.join(map(repr, clash))}; set 'prediction_column' to another name"
            )
        scored[params.prediction_column] = _plain(model.predict(features))
        if params.probabilities and len(names) > 1:
            proba = model.estimator.predict_proba(features[model.feature_columns])
            for i, name in enumerate(names[1:]):
                scored[name] = proba[:, i]
        context.log(f"scored {len(scored)} rows with the {model.algorithm or model.task} model")
        return {"table": Table(scored, table.target)}


def _check_inputs(model: Any, table: Any, preprocessor: Any) -> None:
    if not isinstance(model, Model) or model.task not in ("classification", "regression"):
        raise NodeInputError("the 'model' input must be a trained classifier or regressor; connect a train node's model")
    if not isinstance(table, Table):
        raise NodeInputError("the 'table' input must be a table of rows to score")
    if table.frame.empty:
        raise NodeInputError("the table to score has no rows")
    if preprocessor is not None and (not isinstance(preprocessor, Model) or preprocessor.task != "transform"):
        raise NodeInputError("the 'preprocessor' input must be a 'Clean and encode' node's preprocessor output")


def _features(model: Model, frame: "pd.DataFrame", preprocessor: Model | None) -> "pd.DataFrame":
    """The model's feature columns, after the preprocessor when there is one; checked for what the model needs."""
    from pandas.api import types

    if preprocessor is not None:
        missing = [c for c in preprocessor.feature_columns if c not in frame.columns]
        if missing:
            raise NodeInputError(f"the preprocessor needs column(s) {_quoted(missing)}, which the table lacks")
        frame = preprocessor.estimator.transform(frame[preprocessor.feature_columns]).reset_index(drop=True)
    missing = [c for c in model.feature_columns if c not in frame.columns]
    if missing:
        hint = "" if preprocessor is not None else "; connect the 'Clean and encode' preprocessor the model was trained after"
        raise NodeInputError(f"the model needs column(s) {_quoted(missing)}, which the table lacks{hint}")
    x = frame[model.feature_columns]
    text = [c for c in x.columns if not (types.is_numeric_dtype(x[c]) or types.is_bool_dtype(x[c]))]
    if text:
        raise NodeInputError(f"column(s) {_quoted(text)} hold text; connect the model's 'Clean and encode' preprocessor")
    if not accepts_missing(model.task, model.algorithm):
        gaps = [c for c in x.columns if x[c].isna().any()]
        if gaps:
            raise NodeInputError(f"column(s) {_quoted(gaps)} have missing values; connect the model's preprocessor")
    return x


def _new_columns(model: Model, params: PredictParams) -> list[str]:
    """The prediction column, then (classifiers with probabilities) one column per class in ``model.classes`` order."""
    names = [params.prediction_column]
    if params.probabilities and model.task == "classification" and model.classes and hasattr(model.estimator, "predict_proba"):
        names += [f"probability_{c}" for c in model.classes]
    return names


def _plain(values: Any) -> Any:
    import numpy as np

    values = np.asarray(values)
    return values.astype(object) if values.dtype.kind in "OUS" else values


def _quoted(names: list[Any]) -> str:
    return ", ".join(f"'{n}'" for n in names)
