"""``evaluate.cross_validate``: k-fold scores of a learner, with its cleaning refitted inside every fold.

How the cleaning recipe travels: the ``preprocessor`` a ``prepare.clean`` node
outputs *is* the recipe. This node never uses its fitted numbers; it clones it
(scikit-learn's ``clone`` keeps the steps, their settings and the column lists,
and drops what was learned) and fits that clone on each fold's training rows
only, so nothing from a fold's held-out rows leaks into its cleaning. The
learner travels the same way: a train node's ``model`` is cloned, so the folds
use exactly its algorithm and params.
"""

from __future__ import annotations

import math
import warnings
from typing import TYPE_CHECKING, Any, Literal

from pydantic import Field

from .algorithms import accepts_missing, cpu_limit
from .artifacts import ArtifactKind, Metrics, Model, Table
from .base import Category, NodeParams, NodeType, Port, Resources
from .context import RunContext
from .errors import NodeInputError

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["CrossValidate", "fold_splitter", "learner", "scorers", "LOWER_IS_BETTER"]

LOWER_IS_BETTER = frozenset({"rmse", "mae"})


class CrossValidateParams(NodeParams):
    folds: int = Field(5, ge=2, le=50, description="How many parts the rows are cut into; each is held out once.")
    repeats: int = Field(1, ge=1, le=20, description="Repeat the whole k-fold this many times, reshuffled each time.")
    stratify: bool = Field(True, description="Keep the class proportions in every fold (classifiers).")
    seed: int = Field(42, ge=0, le=2**32 - 1, description="Random seed for the shuffling, so folds repeat exactly.")


class CrossValidate(NodeType):
    type_id = "evaluate.cross_validate"
    title = "Cross-validate"
    description = (
        "Scores a learner on k folds (each part of the rows held out once), refitting it and its cleaning "
        "on every fold's training rows: per-fold scores and their mean ± sd."
    )
    category = Category.EVALUATE
    icon = "gauge"
    keywords = ("score", "k-fold", "folds", "validation")
    inputs = (
        Port("model", ArtifactKind.MODEL, description="A train node's model: its algorithm and params are refitted per fold."),
        Port("table", ArtifactKind.TABLE, description="The rows to cut into folds, as they were before cleaning."),
        Port("preprocessor", ArtifactKind.MODEL, required=False,
             description="A 'Clean and encode' recipe; refitted on each fold's training rows only."),
    )
    outputs = (
        Port("folds", ArtifactKind.TABLE, description="One row per fold (and repeat) with its scores."),
        Port("metrics", ArtifactKind.METRICS, description="Mean and spread of each score across the folds."),
    )
    Params = CrossValidateParams
    resources = Resources(cpu="2", memory="2Gi")
    warm_imports = ("sklearn.model_selection", "sklearn.metrics", "sklearn.pipeline")

    def run(self, inputs: dict[str, Any], params: CrossValidateParams, context: RunContext) -> dict[str, Any]:
        import pandas as pd
        from sklearn.model_selection import cross_validate

        model, table, preprocessor = inputs.get("model"), inputs.get("table"), inputs.get("preprocessor")
        estimator, x, y = learner(model, table, preprocessor, context.cpus)
        splitter, note = fold_splitter(model.task, y, params.folds, params.repeats, params.stratify, params.seed)
        names, scoring = scorers(model.task, y)
        with cpu_limit(context.cpus), warnings.catch_warnings():
            # a score undefined on one fold (e.g. ROC AUC without every class) is recorded as missing
            warnings.filterwarnings("ignore", message="Scoring failed", category=UserWarning)
            found = cross_validate(estimator, x, y, cv=splitter, scoring=scoring, error_score=float("nan"))
        rows = []
        for i in range(len(found["fit_time"])):
            row: dict[str, Any] = {"repeat": i // params.folds + 1, "fold": i % params.folds + 1}
            for name in names:
                value = float(found[f"test_{name}"][i])
                row[name] = None if math.isnan(value) else (-value if name in LOWER_IS_BETTER else value)
            row["fit_seconds"] = float(found["fit_time"][i])
            rows.append(row)
        summary = _summary(rows, names)
        cautions = [note] if note else []
        smallest = len(y) // params.folds
        if smallest < 30:
            cautions.append(f"each fold holds out only about {smallest} rows; its scores swing a lot at that size")
        for caution in cautions:
            context.warn(caution)
        headline = summary[names[0]]
        context.log(f"{names[0]} {_shown(headline['mean'])} ± {_shown(headline['sd'])} "
                    f"over {len(rows)} folds of {len(y)} rows")
        stratified = model.task == "classification" and params.stratify and note is None
        values = {f"{n}_mean": summary[n]["mean"] for n in names} | {f"{n}_sd": summary[n]["sd"] for n in names}
        values |= {"n_rows": len(y), "n_folds": len(rows), "stratified": stratified, "warnings": cautions,
                   "cross_validation": {"scores": names, "summary": summary, "rows": rows}}
        return {"folds": Table(pd.DataFrame(rows), None), "metrics": Metrics(values)}


def learner(model: Any, table: Any, preprocessor: Any, cpus: int) -> tuple[Any, "pd.DataFrame", "pd.Series"]:
    """An unfitted copy of ``model``'s estimator (behind an unfitted copy of the recipe), and the rows to fit it on."""
    from sklearn.base import clone
    from sklearn.pipeline import Pipeline

    if not isinstance(model, Model) or model.task not in ("classification", "regression"):
        raise NodeInputError("the 'model' input must be a train node's classifier or regressor")
    if not isinstance(table, Table) or table.frame.empty:
        raise NodeInputError("the 'table' input must be a table with rows")
    if preprocessor is not None and (not isinstance(preprocessor, Model) or preprocessor.task != "transform"):
        raise NodeInputError("the 'preprocessor' input must be a 'Clean and encode' node's preprocessor output")
    target = model.target
    if target not in table.frame.columns:
        raise NodeInputError(f"the table lacks the model's target column '{target}'")
    frame = table.frame[table.frame[target].notna()]
    if len(frame) < len(table.frame):
        raise NodeInputError(f"target column '{target}' has {len(table.frame) - len(frame)} missing value(s); "
                             "drop or fill those rows first")
    estimator = _with_cpus(clone(model.estimator), cpus)
    columns = preprocessor.feature_columns if preprocessor is not None else model.feature_columns
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        hint = "" if preprocessor is not None else "; connect the 'Clean and encode' preprocessor if these are cleaned names"
        raise NodeInputError(f"the table lacks column(s) {', '.join(map(repr, missing))}{hint}")
    x = frame[columns]
    if preprocessor is not None:
        estimator = Pipeline([("clean", clone(preprocessor.estimator)), ("model", estimator)])
    elif not accepts_missing(model.task, model.algorithm) and x.isna().any().any():
        raise NodeInputError("the table has missing values; connect the 'Clean and encode' preprocessor so each "
                             "fold fills them from its own training rows")
    return estimator, x, frame[target]


def _with_cpus(estimator: Any, cpus: int) -> Any:
    """The estimator (or its final step) set to use ``cpus`` cores where it takes ``n_jobs``."""
    params = estimator.get_params()
    for name in ("n_jobs", "model__n_jobs"):
        if name in params and params[name] is not None:
            estimator.set_params(**{name: cpus})
    return estimator


def fold_splitter(task: str, y: "pd.Series", folds: int, repeats: int, stratify: bool, seed: int) -> tuple[Any, str | None]:
    """The (repeated) k-fold splitter, stratified for classifiers when every class has a row per fold.

    Returns it with a note saying why it could not stratify, when it could not.
    """
    from sklearn.model_selection import KFold, RepeatedKFold, RepeatedStratifiedKFold, StratifiedKFold

    if len(y) < folds:
        raise NodeInputError(f"the table has {len(y)} rows, fewer than the {folds} folds asked for; lower 'folds'")
    note = None
    if task == "classification" and stratify:
        counts = y.value_counts()
        rare = counts[counts < folds]
        if len(rare):
            note = (f"folds are not stratified: class {rare.index[0]!r} has only {int(rare.iloc[0])} row(s), "
                    f"fewer than the {folds} folds")
        elif repeats > 1:
            return RepeatedStratifiedKFold(n_splits=folds, n_repeats=repeats, random_state=seed), None
        else:
            return StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed), None
    if repeats > 1:
        return RepeatedKFold(n_splits=folds, n_repeats=repeats, random_state=seed), note
    return KFold(n_splits=folds, shuffle=True, random_state=seed), note


def scorers(task: str, y: "pd.Series") -> tuple[list[str], dict[str, str]]:
    """Score names (first is the headline) and scikit-learn scorers; errors are negated scores, flipped back later."""
    if task == "regression":
        return ["rmse", "mae", "r2"], {"rmse": "neg_root_mean_squared_error", "mae": "neg_mean_absolute_error", "r2": "r2"}
    binary = y.nunique() == 2
    scoring = {"accuracy": "accuracy", "f1": "f1_macro", "precision": "precision_macro", "recall": "recall_macro",
               "roc_auc": "roc_auc" if binary else "roc_auc_ovr"}
    return list(scoring), scoring


def _summary(rows: list[dict[str, Any]], names: list[str]) -> dict[str, dict[str, float | None]]:
    import numpy as np

    summary = {}
    for name in names:
        values = np.array([r[name] for r in rows if r[name] is not None], dtype=float)
        summary[name] = {"mean": float(values.mean()) if len(values) else None,
                         "sd": float(values.std(ddof=1)) if len(values) > 1 else None}
    return summary


def _shown(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.4g}"
