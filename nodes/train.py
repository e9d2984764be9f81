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
from .algorithms import CLASSIFIERS, REGRESSORS, build_estimator, cpu_limit, for_algorithms, labelled, search_words
from .base import Category, NodeParams, NodeType, Port, Resources
from .context import RunContext
from .errors import NodeInputError
from .python_values import python_value
from .table_schema import infer_input_schema
from .training_values import training_values

if TYPE_CHECKING:  # pandas is heavy; the catalog must import fast
    import pandas as pd

__all__ = [
    "TrainClassifier", "TrainRegressor", "ClassifierParams", "RegressorParams", "features_and_target",
    "check_class_target", "check_numeric_target", "fit", "model_artifact", "native_list", "tree_rules", "training_table",
]


def _field(table: dict[str, Any], param: str, default: Any, description: str, **bounds: Any) -> Any:
    return Field(default, description=description, json_schema_extra=for_algorithms(table, param), **bounds)


class ClassifierParams(NodeParams):
    algorithm: Literal[
        "hist_gradient_boosting", "random_forest", "extra_trees", "gradient_boosting", "decision_tree",
        "logistic_regression", "naive_bayes", "svm", "knn",
    ] = Field(
        "hist_gradient_boosting",
        description="Which learning method to use. Histogram gradient boosting is fast on large tables and "
        "accepts missing numbers; a decision tree gives readable rules.",
        json_schema_extra=labelled(CLASSIFIERS),
    )
    n_estimators: int = _field(CLASSIFIERS, "n_estimators", 100, "Number of trees (or boosting rounds).", ge=1, le=5000)
    max_depth: int | None = _field(
        CLASSIFIERS, "max_depth", None, "Deepest a tree may grow; empty means no limit (3 for classic boosting).",
        ge=1, le=100,
    )
    learning_rate: float = _field(CLASSIFIERS, "learning_rate", 0.1, "Step size of each boosting round.", gt=0, le=10)
    C: float = _field(CLASSIFIERS, "C", 1.0, "Inverse regularisation strength; smaller is simpler.", gt=0, le=1e6)
    n_neighbors: int = _field(CLASSIFIERS, "n_neighbors", 5, "How many neighbours vote.", ge=1, le=1000)
    max_iter: int = _field(CLASSIFIERS, "max_iter", 1000, "Most optimisation steps.", ge=1, le=100000)
    seed: int = _field(CLASSIFIERS, "seed", 42, "Random seed, for results that repeat exactly.", ge=0, le=2**32 - 1)


class TrainClassifier(NodeType):
    type_id = "train.classifier"
    title = "Train classifier"
    description = "Learns to predict a category (such as a flower species) from the other columns."
    category = Category.TRAIN
    icon = "brain"
    keywords = ("classification", "model", "fit", *search_words(CLASSIFIERS))
    inputs = (Port("train", ArtifactKind.TABLE, description="Training rows with a target column."),)
    outputs = (Port("model", ArtifactKind.MODEL, description="The trained classifier."),)
    Params = ClassifierParams
    resources = Resources(cpu="2", memory="2Gi")
    warm_imports = ("sklearn.ensemble", "sklearn.linear_model", "sklearn.neighbors", "sklearn.svm", "sklearn.tree",
                    "sklearn.naive_bayes", "sklearn.pipeline", "sklearn.preprocessing")

    def run(self, inputs: dict[str, Any], params: ClassifierParams, context: RunContext) -> dict[str, Any]:
        table = training_table(inputs)
        x, y = features_and_target(table, CLASSIFIERS[params.algorithm].missing_ok)
        classes = check_class_target(y, table.target)
        if params.algorithm == "knn" and params.n_neighbors > len(x):
            raise NodeInputError(
                f"n_neighbors is {params.n_neighbors} but the table has only {len(x)} rows; "
                f"set n_neighbors to {len(x)} or fewer"
            )
        estimator, seconds = fit(build_estimator(CLASSIFIERS, params, context.cpus), x, y, context)
        model = model_artifact(estimator, table, "classification", params.algorithm, native_list(estimator.classes_))
        context.log(
            f"trained {params.algorithm} classifier on {len(x)} rows, {x.shape[1]} features, "
            f"{len(classes)} classes in {seconds:.2f}s using {context.cpus} CPU(s)"
        )
        _log_rules(estimator, model, context)
        return {"model": model}


class RegressorParams(NodeParams):
    algorithm: Literal[
        "hist_gradient_boosting", "random_forest", "extra_trees", "gradient_boosting", "decision_tree", "linear", "ridge",
    ] = Field(
        "hist_gradient_boosting",
        description="Which learning method to use. Histogram gradient boosting is fast on large tables and "
        "accepts missing numbers; linear and ridge are simple straight-line fits.",
        json_schema_extra=labelled(REGRESSORS),
    )
    alpha: float = _field(REGRESSORS, "alpha", 1.0, "Regularisation strength.", ge=0, le=1e6)
    n_estimators: int = _field(REGRESSORS, "n_estimators", 100, "Number of trees (or boosting rounds).", ge=1, le=5000)
    max_depth: int | None = _field(
        REGRESSORS, "max_depth", None, "Deepest a tree may grow; empty means no limit (3 for classic boosting).",
        ge=1, le=100,
    )
    learning_rate: float = _field(REGRESSORS, "learning_rate", 0.1, "Step size of each boosting round.", gt=0, le=10)
    seed: int = _field(REGRESSORS, "seed", 42, "Random seed, for results that repeat exactly.", ge=0, le=2**32 - 1)


class TrainRegressor(NodeType):
    type_id = "train.regressor"
    title = "Train regressor"
    description = "Learns to predict a number (such as a price) from the other columns."
    category = Category.TRAIN
    icon = "trending-up"
    keywords = ("regression", "model", "fit", *search_words(REGRESSORS))
    inputs = (Port("train", ArtifactKind.TABLE, description="Training rows with a numeric target column."),)
    outputs = (Port("model", ArtifactKind.MODEL, description="The trained regressor."),)
    Params = RegressorParams
    resources = Resources(cpu="2", memory="2Gi")
    warm_imports = ("sklearn.ensemble", "sklearn.linear_model", "sklearn.tree")

    def run(self, inputs: dict[str, Any], params: RegressorParams, context: RunContext) -> dict[str, Any]:
        table = training_table(inputs)
        x, y = features_and_target(table, REGRESSORS[params.algorithm].missing_ok)
        check_numeric_target(y, table.target)
        if len(x) < 2:
            raise NodeInputError(f"the table has {len(x)} row(s); a regressor needs at least 2 to learn from")
        estimator, seconds = fit(build_estimator(REGRESSORS, params, context.cpus), x, y, context)
        model = model_artifact(estimator, table, "regression", params.algorithm)
        context.log(
            f"trained {params.algorithm} regressor on {len(x)} rows, {x.shape[1]} features "
            f"in {seconds:.2f}s using {context.cpus} CPU(s)"
        )
        _log_rules(estimator, model, context)
        return {"model": model}


def tree_rules(model: Model, max_depth: int = 8) -> str | None:
    """A decision tree's rules as indented text (None for other models), for the log and the studio."""
    from sklearn.tree import BaseDecisionTree, export_text

    if not isinstance(model.estimator, BaseDecisionTree):
        return None
    return export_text(model.estimator, feature_names=[str(c) for c in model.feature_columns], max_depth=max_depth)


def _log_rules(estimator: Any, model: Model, context: RunContext) -> None:
    rules = tree_rules(model)
    if rules:
        context.log("decision tree rules:\n" + rules)


def training_table(inputs: dict[str, Any]) -> Table:
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


def features_and_target(table: Table, missing_ok: bool = False) -> tuple["pd.DataFrame", "pd.Series"]:
    """Feature frame and target series, after checking the features are gap-free numbers."""
    from pandas.api import types

    x = table.frame[table.feature_columns]
    text = [c for c in x.columns if not (types.is_numeric_dtype(x[c]) or types.is_bool_dtype(x[c]))]
    if text:
        raise NodeInputError(
            f"feature column(s) {_quoted(text)} hold text or categories; "
            "add a 'Clean and encode' node before training to turn them into numbers"
        )
    gaps = [] if missing_ok else [c for c in x.columns if x[c].isna().any()]
    if gaps:
        raise NodeInputError(
            f"feature column(s) {_quoted(gaps)} have missing values; "
            "add a 'Clean and encode' node before training to fill them, "
            "or choose histogram gradient boosting, which learns from gaps"
        )
    y = table.frame[table.target]
    missing = int(y.isna().sum())
    if missing:
        raise NodeInputError(
            f"target column '{table.target}' has {missing} missing value(s); drop or fill those rows first"
        )
    return x, y


def check_class_target(y: "pd.Series", target: str) -> list[Any]:
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


def check_numeric_target(y: "pd.Series", target: str) -> None:
    from pandas.api import types

    if types.is_bool_dtype(y) or not types.is_numeric_dtype(y):
        raise NodeInputError(f"column '{target}' holds categories; use 'Train classifier'")


def _fit_leaves_to_rows(estimator: Any, rows: int) -> None:
    """Histogram boosting's leaves hold at least 20 rows by default, which on a small table (an R export of
    32 cars) leaves one leaf and a constant prediction; allow smaller leaves there (about a tenth of the rows)."""
    model = estimator.steps[-1][1] if hasattr(estimator, "steps") else estimator
    if type(model).__name__.startswith("HistGradientBoosting") and rows < 200:
        model.set_params(min_samples_leaf=max(1, min(20, rows // 10)))


def fit(estimator: Any, x: "pd.DataFrame", y: "pd.Series", context: RunContext) -> tuple[Any, float]:
    """Fit ``estimator`` and return it with the seconds taken; a non-converged fit is logged, not hidden."""
    from sklearn.exceptions import ConvergenceWarning

    _fit_leaves_to_rows(estimator, len(x))
    started = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        # scikit-learn 1.9 deprecates SVC(probability=True); it still works until 1.11.
        warnings.filterwarnings("ignore", message=".*`probability` parameter was deprecated", category=FutureWarning)
        with cpu_limit(context.cpus):
            estimator.fit(x, y)
    seconds = time.perf_counter() - started
    for warning in caught:
        if issubclass(warning.category, ConvergenceWarning):
            context.log("the optimiser stopped before converging; raise max_iter or scale the features")
        else:
            warnings.warn_explicit(warning.message, warning.category, warning.filename, warning.lineno)
    return estimator, seconds


def model_artifact(estimator: Any, table: Table, task: str, algorithm: str, classes: list[Any] | None = None) -> Model:
    """The Model artifact; ``classes`` follows the estimator's ``predict_proba`` column order."""
    return Model(
        estimator=estimator,
        task=task,
        feature_columns=list(table.feature_columns),
        target=table.target,
        classes=classes,
        algorithm=algorithm,
        input_schema=infer_input_schema(table.frame, table.feature_columns),
        training_values=training_values(table.frame, table.feature_columns),
    )


def native_list(values: Any) -> list[Any]:
    """Plain Python values (``str``, ``int``, ``float``, ``bool``) from a numpy array or list."""
    return python_value(list(values))


def _quoted(names: list[Any]) -> str:
    return ", ".join(f"'{n}'" for n in names)
