"""Prepare nodes: split rows and clean columns before training."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any, Literal

from pydantic import Field

from .artifacts import ArtifactKind, Model, Table
from .base import Category, NodeParams, NodeType, Port, Resources
from .context import RunContext
from .errors import NodeInputError
from .table_schema import infer_input_schema
from .training_values import training_values

if TYPE_CHECKING:  # pandas and scikit-learn are heavy; the catalog must import fast
    import pandas as pd

__all__ = ["Split", "Clean", "to_category_strings"]

# A numeric target with at most this many distinct values is treated as class labels when splitting.
_MAX_NUMERIC_CLASSES = 20


class SplitParams(NodeParams):
    test_fraction: float = Field(0.25, gt=0, lt=1, description="Share of rows held out for testing, e.g. 0.25.")
    stratify: bool = Field(
        True, description="Keep the class proportions the same in both parts (classification targets only)."
    )
    seed: int = Field(42, ge=0, le=2**32 - 1, description="Random seed, so the same rows land in the same part every run.")


class Split(NodeType):
    type_id = "prepare.split"
    title = "Train/test split"
    description = "Splits the rows into a training part and a test part kept aside for evaluation."
    category = Category.PREPARE
    icon = "scissors"
    keywords = ("holdout", "test set", "partition")
    inputs = (Port("table", ArtifactKind.TABLE, description="Rows to split."),)
    outputs = (
        Port("train", ArtifactKind.TABLE, description="Rows to train on."),
        Port("test", ArtifactKind.TABLE, description="Rows held out for evaluation."),
    )
    Params = SplitParams
    resources = Resources(cpu="500m", memory="1Gi")
    warm_imports = ("sklearn.model_selection",)

    def run(self, inputs: dict[str, Any], params: SplitParams, context: RunContext) -> dict[str, Any]:
        from sklearn.model_selection import train_test_split

        table: Table = inputs["table"]
        n_test = _test_row_count(len(table.frame), params.test_fraction)
        labels = _stratify_labels(table, params, len(table.frame) - n_test, n_test, context) if params.stratify else None
        train, test = train_test_split(table.frame, test_size=n_test, random_state=params.seed, stratify=labels)
        context.log(f"split {len(table.frame)} rows into {len(train)} for training and {len(test)} for testing")
        return {
            "train": table.with_frame(train.reset_index(drop=True)),
            "test": table.with_frame(test.reset_index(drop=True)),
        }


def _test_row_count(n_rows: int, test_fraction: float) -> int:
    """How many rows the test part gets (rounded up, as scikit-learn does); both parts must be non-empty."""
    if n_rows < 2:
        raise NodeInputError(f"the table has {n_rows} row(s); at least 2 are needed to split it into train and test")
    n_test = math.ceil(test_fraction * n_rows)
    if n_test >= n_rows:
        raise NodeInputError(
            f"a test_fraction of {test_fraction} leaves no training rows out of {n_rows}; lower test_fraction or add rows"
        )
    return n_test


def _stratify_labels(
    table: Table, params: SplitParams, n_train: int, n_test: int, context: RunContext
) -> "pd.Series | None":
    """The target to stratify by, or None when stratifying is impossible (a warning on the node says why)."""
    if table.target is None or table.target not in table.frame.columns:
        context.log("the table has no target column, so rows are split without stratifying")
        return None
    labels = table.frame[table.target]
    found = _why_not_stratify(labels, n_train, n_test)
    if found is None:
        return labels
    reason, meaningless = found
    if meaningless:  # a measured target: stratifying is meaningless, not failed
        context.log(f"target {table.target!r} {reason}, so rows are split without stratifying")
        return None
    context.warn(f"the split could not be stratified: target {table.target!r} {reason}, so the test rows may "
                 "not hold each class in its share of the table; set stratify off to split at random on purpose")
    return None


def _why_not_stratify(labels: "pd.Series", n_train: int, n_test: int) -> tuple[str, bool] | None:
    """A short reason stratifying by ``labels`` would fail or make no sense, and whether it makes no sense (a
    measured target, not classes) rather than fails; None when it is fine."""
    from pandas.api import types

    if labels.isna().any():
        return "has missing values", False
    numeric = types.is_numeric_dtype(labels) and not types.is_bool_dtype(labels)
    counts = labels.value_counts()
    if numeric and len(counts) > _MAX_NUMERIC_CLASSES:
        return f"looks numeric ({len(counts)} distinct values)", True
    rare = counts[counts < 2]
    if len(rare):
        return f"has classes with a single row ({', '.join(map(repr, rare.index.tolist()[:5]))})", False
    if len(counts) > min(n_train, n_test):
        return f"has {len(counts)} classes, more than the rows in one of the parts", False
    return None


class CleanParams(NodeParams):
    impute_numeric: Literal["mean", "median", "most_frequent", "zero"] = Field(
        "median", description="How to fill missing numbers: with the column's mean, median, most frequent value, or 0."
    )
    impute_categorical: Literal["most_frequent", "missing_label"] = Field(
        "most_frequent",
        description="How to fill missing categories: with the most frequent one, or a separate 'missing' category.",
    )
    one_hot: bool = Field(True, description="Turn each text/category column into 0/1 columns, one per category.")
    max_categories: int = Field(
        20, ge=2, le=1000, description="Keep at most this many categories per column; rarer ones are grouped."
    )
    scale: Literal["standard", "minmax", "none"] = Field(
        "standard", description="Rescale numbers: to mean 0 and spread 1 ('standard'), to 0..1 ('minmax'), or not at all."
    )


class Clean(NodeType):
    type_id = "prepare.clean"
    title = "Clean and encode"
    description = (
        "Fills missing values, encodes categories and scales numbers, learning from the training rows only "
        "and applying the same recipe to the test rows."
    )
    category = Category.PREPARE
    icon = "sparkles"
    keywords = ("impute", "missing values", "one-hot", "encode", "scale", "normalize", "standardize", "preprocess")
    inputs = (
        Port("train", ArtifactKind.TABLE, description="Training rows; the cleaning recipe is learned from these."),
        Port("test", ArtifactKind.TABLE, description="Test rows; cleaned with the recipe learned from the training rows."),
    )
    outputs = (
        Port("train", ArtifactKind.TABLE, description="Cleaned training rows."),
        Port("test", ArtifactKind.TABLE, description="Cleaned test rows."),
        Port(
            "preprocessor",
            ArtifactKind.MODEL,
            description="The learned recipe; connect it to a deploy node so the endpoint accepts raw rows.",
        ),
    )
    Params = CleanParams
    resources = Resources(cpu="1", memory="2Gi")
    warm_imports = ("sklearn.compose", "sklearn.impute", "sklearn.pipeline", "sklearn.preprocessing")

    def run(self, inputs: dict[str, Any], params: CleanParams, context: RunContext) -> dict[str, Any]:
        train: Table = inputs["train"]
        test: Table = inputs["test"]
        features = _usable_features(train, context)
        _check_test_columns(train.frame, test.frame, features)
        transformer, cleaned_train = _fit_transformer(train.frame[features], params, context)
        model = Model(
            estimator=transformer,
            task="transform",
            feature_columns=features,
            target=train.target,
            algorithm="clean",
            input_schema=infer_input_schema(train.frame, features),
            training_values=training_values(train.frame, features),
        )
        _log_unseen_categories(train.frame, test.frame, features, context)
        return {
            "train": _with_target(cleaned_train, train.frame, train.target),
            "test": _with_target(transformer.transform(test.frame[features]), test.frame, train.target),
            "preprocessor": model,
        }


def to_category_strings(frame: Any) -> "pd.DataFrame":
    """Text/category/boolean columns as plain strings, with NaN wherever a value is missing.

    scikit-learn's imputer and encoders choke on ``None``, ``pd.NA``, booleans and
    mixed types, which is what a JSON request or a nullable pandas column holds.
    The fitted preprocessor refers to this function by name, so it is public and
    must keep its name and module.
    """
    import pandas as pd

    frame = pd.DataFrame(frame)
    return pd.DataFrame({name: _column_strings(frame[name]) for name in frame.columns}, index=frame.index,
                        columns=frame.columns)


def _column_strings(column: "pd.Series") -> "pd.Series":
    """One column for ``to_category_strings``. A column whose present values are all strings already (what
    a CSV's text columns are) is only given NaN for its gaps: ``str()`` on each of a million values is
    most of the cleaning step's time otherwise."""
    import numpy as np
    from pandas.api.types import infer_dtype

    missing = column.isna()
    if infer_dtype(column, skipna=True) in ("string", "empty"):
        return column.astype(object).where(~missing, np.nan)
    return column.astype(object).map(str).where(~missing, np.nan).astype(object)  # where() may infer a dtype


def _usable_features(train: Table, context: RunContext) -> list[str]:
    """The training table's feature columns, less any that hold no value at all (logged)."""
    features = train.feature_columns
    empty = [c for c in features if train.frame[c].isna().all()]
    if empty:
        context.log(f"dropped column(s) with no values in the training rows: {', '.join(map(repr, empty))}")
    usable = [c for c in features if c not in empty]
    if not usable:
        raise NodeInputError("the training table has no feature columns with values to clean")
    return usable


def _check_test_columns(train: "pd.DataFrame", test: "pd.DataFrame", features: list[str]) -> None:
    """The test rows need every feature column, holding numbers where the training rows do."""
    missing = [c for c in features if c not in test.columns]
    if missing:
        raise NodeInputError(
            f"the test table lacks column(s) {', '.join(map(repr, missing))} that the training table has"
        )
    mismatched = [c for c in features if _is_numeric(train[c]) and not _is_numeric(test[c]) and test[c].notna().any()]
    if mismatched:
        raise NodeInputError(
            f"column(s) {', '.join(map(repr, mismatched))} hold numbers in the training table but text in the test table"
        )


def _is_numeric(column: "pd.Series") -> bool:
    """Numbers get imputed and scaled; booleans, like text, are treated as categories."""
    from pandas.api import types

    return types.is_numeric_dtype(column) and not types.is_bool_dtype(column)


def _fit_transformer(features: "pd.DataFrame", params: CleanParams, context: RunContext) -> tuple[Any, "pd.DataFrame"]:
    """A ColumnTransformer fitted on the training features only, emitting a frame with readable column names,
    and those features cleaned by it (``fit_transform``: fitting cleans them already, so they are not cleaned a
    second time, which was a fifth of the step at 1M rows).

    Output columns keep the raw names (``tenure``, ``contract_two-year``); if two
    would clash, the ``num__``/``cat__`` prefixes are kept so that every name is unique.
    """
    from sklearn.compose import ColumnTransformer

    numeric = [c for c in features.columns if _is_numeric(features[c])]
    categorical = [c for c in features.columns if c not in numeric]
    parts = []
    if numeric:
        parts.append(("num", _numeric_steps(params), numeric))
    if categorical:
        parts.append(("cat", _categorical_steps(params), categorical))
    transformer = ColumnTransformer(parts, remainder="drop", verbose_feature_names_out=False)
    transformer.set_output(transform="pandas")
    try:
        cleaned = transformer.fit_transform(features)
    except ValueError as exc:
        if "not unique" not in str(exc):
            raise
        context.log("some cleaned column names would clash, so they keep a 'num__' or 'cat__' prefix")
        cleaned = transformer.set_params(verbose_feature_names_out=True).fit_transform(features)
    context.log(f"cleaning {len(numeric)} numeric and {len(categorical)} categorical column(s)")
    return transformer, cleaned


def _numeric_steps(params: CleanParams) -> Any:
    """Fill missing numbers, then rescale them as chosen."""
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import MinMaxScaler, StandardScaler

    if params.impute_numeric == "zero":
        imputer = SimpleImputer(strategy="constant", fill_value=0)
    else:
        imputer = SimpleImputer(strategy=params.impute_numeric)
    steps: list[tuple[str, Any]] = [("impute", imputer)]
    if params.scale == "standard":
        steps.append(("scale", StandardScaler()))
    elif params.scale == "minmax":
        steps.append(("scale", MinMaxScaler()))
    return Pipeline(steps)


def _categorical_steps(params: CleanParams) -> Any:
    """Normalise to strings, fill missing categories, then encode as 0/1 columns or as integer codes.

    Categories the training rows never showed become all zeros (one-hot, or the
    grouped rare column when there is one) or -1 (codes) instead of failing.
    """
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, OrdinalEncoder

    if params.impute_categorical == "missing_label":
        imputer = SimpleImputer(strategy="constant", fill_value="missing")
    else:
        imputer = SimpleImputer(strategy="most_frequent")
    if params.one_hot:
        encoder: Any = OneHotEncoder(
            handle_unknown="infrequent_if_exist", max_categories=params.max_categories, sparse_output=False
        )
    else:
        encoder = OrdinalEncoder(
            handle_unknown="use_encoded_value", unknown_value=-1, max_categories=params.max_categories
        )
    as_text = FunctionTransformer(to_category_strings, feature_names_out="one-to-one")
    return Pipeline([("as_text", as_text), ("impute", imputer), ("encode", encoder)])


def _with_target(cleaned: "pd.DataFrame", frame: "pd.DataFrame", target: str | None) -> Table:
    """The transformed features (index reset) with ``frame``'s target column re-attached unchanged, when present."""
    cleaned = cleaned.reset_index(drop=True)
    if target is None or target not in frame.columns:
        return Table(cleaned, None)
    if target in cleaned.columns:
        raise NodeInputError(f"a cleaned feature column is named like the target {target!r}; rename that column")
    cleaned[target] = frame[target].reset_index(drop=True)
    return Table(cleaned, target)


def _log_unseen_categories(train: "pd.DataFrame", test: "pd.DataFrame", features: list[str], context: RunContext) -> None:
    """Say which test categories the training rows never showed: they are encoded as 'unknown', not learned from."""
    import pandas as pd

    for column in (c for c in features if not _is_numeric(train[c])):
        # pd.unique first: a set of a million strings built one by one was most of a second at 1M rows
        seen = set(pd.unique(_column_strings(train[column]).dropna()))
        unseen = sorted(set(pd.unique(_column_strings(test[column]).dropna())) - seen)
        if unseen:
            shown = ", ".join(map(repr, unseen[:5])) + (" ..." if len(unseen) > 5 else "")
            context.log(f"column {column!r}: test value(s) {shown} never appear in the training rows; encoded as unknown")
