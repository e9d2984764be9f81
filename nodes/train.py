"""Train nodes on scikit-learn: classifiers and regressors.

Both nodes check the training table before fitting (a target is set, features
are numbers without gaps, the target suits the task) so that an analyst gets a
message naming the column and the node to add, not a scikit-learn traceback.
"""

from __future__ import annotations

import time
import warnings
from typing import TYPE_CHECKING, Any, Literal

from pydantic import Field

from .artifacts import ArtifactKind, Model, Table
from .base import Category, NodeParams, NodeType, Port, Resources
from .context import RunContext
from .errors import NodeInputError
from .table_schema import infer_input_schema

if TYPE_CHECKING:  # pandas is heavy; the catalog must import fast
    import pandas as pd

__all__ = ["TrainClassifier", "TrainRegressor"]


class ClassifierParams(NodeParams):
    algorithm: Literal["logistic_regression", "random_forest", "gradient_boosting", "svm", "knn"] = Field(
        "random_forest",
        description="Which learning method to use: logistic regression, random forest, gradient boosting, "
        "support vector machine (svm) or k-nearest neighbours (knn).",
    )
    n_estimators: int = Field(100, ge=1, le=5000, description="Number of trees (random forest, gradient boosting).")
    max_depth: int | None = Field(
        None, ge=1, le=100, description="Deepest a tree may grow; empty means no limit (trees only)."
    )
    learning_rate: float = Field(0.1, gt=0, le=10, description="Step size of each boosting round (gradient boosting).")
    C: float = Field(1.0, gt=0, le=1e6, description="Inverse regularisation strength; smaller is simpler (logistic regression, svm).")
    n_neighbors: int = Field(5, ge=1, le=1000, description="How many neighbours vote (knn).")
    max_iter: int = Field(1000, ge=1, le=100000, description="Most optimisation steps (logistic regression, svm).")
    seed: int = Field(42, ge=0, le=2**32 - 1, description="Random seed, for results that repeat exactly.")


class TrainClassifier(NodeType):
    type_id = "train.classifier"
    title = "Train classifier"
    description = "Learns to predict a category (such as a flower species) from the other columns."
    category = Category.TRAIN
    icon = "brain"
    inputs = (Port("train", ArtifactKind.TABLE, description="Training rows with a target column."),)
    outputs = (Port("model", ArtifactKind.MODEL, description="The trained classifier."),)
    Params = ClassifierParams
    resources = Resources(cpu="1", memory="2Gi")
    warm_imports = ("sklearn.ensemble", "sklearn.linear_model", "sklearn.neighbors", "sklearn.svm",
                    "sklearn.pipeline", "sklearn.preprocessing", "skops.io")

    def run(self, inputs: dict[str, Any], params: ClassifierParams, context: RunContext) -> dict[str, Any]:
        table = _training_table(inputs)
        x, y = _features_and_target(table)
        classes = _check_class_target(y, table.target)
        if params.algorithm == "knn" and params.n_neighbors > len(x):
            raise NodeInputError(
                f"n_neighbors is {params.n_neighbors} but the table has only {len(x)} rows; "
                f"set n_neighbors to {len(x)} or fewer"
            )
        estimator, seconds = _fit(_classifier(params), x, y, context)
        model = _model(estimator, table, "classification", params.algorithm, _native_list(estimator.classes_))
        context.log(
            f"trained {params.algorithm} classifier on {len(x)} rows, {x.shape[1]} features, "
            f"{len(classes)} classes in {seconds:.2f}s"
        )
        return {"model": model}


class RegressorParams(NodeParams):
    algorithm: Literal["linear", "ridge", "random_forest", "gradient_boosting"] = Field(
        "ridge",
        description="Which learning method to use: plain linear regression, ridge (linear with regularisation), "
        "random forest or gradient boosting.",
    )
    alpha: float = Field(1.0, ge=0, le=1e6, description="Regularisation strength (ridge).")
    n_estimators: int = Field(100, ge=1, le=5000, description="Number of trees (random forest, gradient boosting).")
    max_depth: int | None = Field(
        None, ge=1, le=100, description="Deepest a tree may grow; empty means no limit (trees only)."
    )
    learning_rate: float = Field(0.1, gt=0, le=10, description="Step size of each boosting round (gradient boosting).")
    seed: int = Field(42, ge=0, le=2**32 - 1, description="Random seed, for results that repeat exactly.")


class TrainRegressor(NodeType):
    type_id = "train.regressor"
    title = "Train regressor"
    description = "Learns to predict a number (such as a price) from the other columns."
    category = Category.TRAIN
    icon = "trending-up"
    inputs = (Port("train", ArtifactKind.TABLE, description="Training rows with a numeric target column."),)
    outputs = (Port("model", ArtifactKind.MODEL, description="The trained regressor."),)
    Params = RegressorParams
    resources = Resources(cpu="1", memory="2Gi")
    warm_imports = ("sklearn.ensemble", "sklearn.linear_model", "skops.io")

    def run(self, inputs: dict[str, Any], params: RegressorParams, context: RunContext) -> dict[str, Any]:
        table = _training_table(inputs)
        x, y = _features_and_target(table)
        _check_numeric_target(y, table.target)
        if len(x) < 2:
            raise NodeInputError(f"the table has {len(x)} row(s); a regressor needs at least 2 to learn from")
        estimator, seconds = _fit(_regressor(params), x, y, context)
        model = _model(estimator, table, "regression", params.algorithm)
        context.log(
            f"trained {params.algorithm} regressor on {len(x)} rows, {x.shape[1]} features "
            f"in {seconds:.2f}s"
        )
        return {"model": model}


def _classifier(params: ClassifierParams) -> Any:
    """The chosen classifier; scale-sensitive ones (linear, svm, knn) get a StandardScaler in front."""
    from sklearn.ensemble import GradientBoostingClassifier, RandomForestClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.neighbors import KNeighborsClassifier
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import StandardScaler
    from sklearn.svm import SVC

    algorithm, seed = params.algorithm, params.seed
    if algorithm == "random_forest":
        return RandomForestClassifier(
            n_estimators=params.n_estimators, max_depth=params.max_depth, random_state=seed, n_jobs=1
        )
    if algorithm == "gradient_boosting":
        return GradientBoostingClassifier(
            n_estimators=params.n_estimators,
            learning_rate=params.learning_rate,
            max_depth=params.max_depth or 3,
            random_state=seed,
        )
    if algorithm == "logistic_regression":
        model = LogisticRegression(C=params.C, max_iter=params.max_iter, random_state=seed)
    elif algorithm == "svm":
        model = SVC(C=params.C, probability=True, max_iter=params.max_iter, random_state=seed)
    else:
        model = KNeighborsClassifier(n_neighbors=params.n_neighbors)
    return Pipeline([("scale", StandardScaler()), ("model", model)])


def _regressor(params: RegressorParams) -> Any:
    """The chosen regressor. Linear models are scale-invariant in their predictions, so no scaler."""
    from sklearn.ensemble import GradientBoostingRegressor, RandomForestRegressor
    from sklearn.linear_model import LinearRegression, Ridge

    if params.algorithm == "linear":
        return LinearRegression()
    if params.algorithm == "ridge":
        return Ridge(alpha=params.alpha, random_state=params.seed)
    if params.algorithm == "random_forest":
        return RandomForestRegressor(
            n_estimators=params.n_estimators, max_depth=params.max_depth, random_state=params.seed, n_jobs=1
        )
    return GradientBoostingRegressor(
        n_estimators=params.n_estimators,
        learning_rate=params.learning_rate,
        max_depth=params.max_depth or 3,
        random_state=params.seed,
    )


def _training_table(inputs: dict[str, Any]) -> Table:
    """The ``train`` input, checked to be a table with a target column that exists and at least one feature."""
    table = inputs.get("train")
    if not isinstance(table, Table):
        raise NodeInputError("the 'train' input must be a table; connect a data or split node to it")
    if table.target is None:
        raise NodeInputError("table has no target column; set one on the data node")
    if table.target not in table.frame.columns:
        columns = ", ".join(map(str, table.frame.columns))
        raise NodeInputError(f"target column '{table.target}' is not in the table; columns are: {columns}")
    if not table.feature_columns:
        raise NodeInputError(f"the table has only the target column '{table.target}'; there is nothing to learn from")
    if table.frame.empty:
        raise NodeInputError("the training table has no rows")
    return table


def _features_and_target(table: Table) -> tuple["pd.DataFrame", "pd.Series"]:
    """Feature frame and target series, after checking the features are gap-free numbers."""
    from pandas.api import types

    x = table.frame[table.feature_columns]
    text = [c for c in x.columns if not (types.is_numeric_dtype(x[c]) or types.is_bool_dtype(x[c]))]
    if text:
        raise NodeInputError(
            f"feature column(s) {_quoted(text)} hold text or categories; "
            "add a 'Clean and encode' node before training to turn them into numbers"
        )
    gaps = [c for c in x.columns if x[c].isna().any()]
    if gaps:
        raise NodeInputError(
            f"feature column(s) {_quoted(gaps)} have missing values; "
            "add a 'Clean and encode' node before training to fill them"
        )
    y = table.frame[table.target]
    missing = int(y.isna().sum())
    if missing:
        raise NodeInputError(
            f"target column '{table.target}' has {missing} missing value(s); drop or fill those rows first"
        )
    return x, y


def _check_class_target(y: "pd.Series", target: str) -> list[Any]:
    """The target's classes, after checking it looks like categories and has at least two."""
    from pandas.api import types

    if types.is_float_dtype(y) and not (y == y.round()).all():
        raise NodeInputError(
            f"column '{target}' holds numbers with fractions, not categories; use 'Train regressor' to predict it"
        )
    classes = sorted(y.unique().tolist(), key=str)
    if len(classes) < 2:
        raise NodeInputError(
            f"target column '{target}' has a single class ({classes[0]!r}); a classifier needs at least two"
        )
    return classes


def _check_numeric_target(y: "pd.Series", target: str) -> None:
    from pandas.api import types

    if types.is_bool_dtype(y) or not types.is_numeric_dtype(y):
        raise NodeInputError(f"column '{target}' holds categories; use 'Train classifier'")


def _fit(estimator: Any, x: "pd.DataFrame", y: "pd.Series", context: RunContext) -> tuple[Any, float]:
    """Fit ``estimator`` and return it with the seconds taken; a non-converged fit is logged, not hidden."""
    from sklearn.exceptions import ConvergenceWarning

    started = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        # scikit-learn 1.9 deprecates SVC(probability=True); it still works until 1.11.
        warnings.filterwarnings("ignore", message=".*`probability` parameter was deprecated", category=FutureWarning)
        estimator.fit(x, y)
    seconds = time.perf_counter() - started
    for warning in caught:
        if issubclass(warning.category, ConvergenceWarning):
            context.log("the optimiser stopped before converging; raise max_iter or scale the features")
        else:
            warnings.warn_explicit(warning.message, warning.category, warning.filename, warning.lineno)
    return estimator, seconds


def _model(estimator: Any, table: Table, task: str, algorithm: str, classes: list[Any] | None = None) -> Model:
    """The Model artifact; ``classes`` follows the estimator's ``predict_proba`` column order."""
    return Model(
        estimator=estimator,
        task=task,
        feature_columns=list(table.feature_columns),
        target=table.target,
        classes=classes,
        algorithm=algorithm,
        input_schema=infer_input_schema(table.frame, table.feature_columns),
    )


def _native_list(values: Any) -> list[Any]:
    """Plain Python values (``str``, ``int``, ``float``, ``bool``) from a numpy array or list."""
    return [v.item() if hasattr(v, "item") else v for v in list(values)]


def _quoted(names: list[Any]) -> str:
    return ", ".join(f"'{n}'" for n in names)
