"""``train.tune``: grid or random search, with cross-validation, over the chosen algorithm's params.

Ranges are typed in the form as comma-separated values (``50, 100, 200``;
``none`` means no limit for ``max_depth``). Every candidate, and the algorithm's
defaults as a baseline, is scored on the same folds; the best is refitted on all
the rows and passed on as a model like a train node's. With a ``preprocessor``
the folds refit a clone of it on their own training rows (no leakage, as in
``evaluate.cross_validate``); the final model is fitted on the rows that
preprocessor cleans, so it takes the same columns as a train node after it.
"""

from __future__ import annotations

import itertools
import time
import warnings
from typing import Any, Literal

from pydantic import Field, ValidationInfo, field_validator

from .algorithms import ALGORITHMS_KEY, CLASSIFIERS, LABELS_KEY, REGRESSORS, build_estimator, cpu_limit, search_words
from .artifacts import ArtifactKind, Metrics, Model, Table
from .base import Category, NodeParams, NodeType, Port, Resources
from .context import RunContext
from .cross_validate import LOWER_IS_BETTER, fold_splitter, scorers
from .errors import NodeInputError
from .python_values import python_value
from .train import (
    ClassifierParams,
    RegressorParams,
    check_class_target,
    check_numeric_target,
    features_and_target,
    model_artifact,
    native_list,
    training_table,
)

__all__ = ["Tune", "TUNABLE", "MAX_CANDIDATES"]

MAX_CANDIDATES = 200
#: the range field of each tunable param, with its default values
TUNABLE = {
    "n_estimators": "50, 100, 200",
    "max_depth": "3, 6, none",
    "learning_rate": "0.03, 0.1, 0.3",
    "C": "0.1, 1, 10",
    "n_neighbors": "3, 5, 11, 21",
    "alpha": "0.1, 1, 10",
}
_TABLES = {"classification": CLASSIFIERS, "regression": REGRESSORS}
_BASE_PARAMS = {"classification": ClassifierParams, "regression": RegressorParams}
_ALL = {**REGRESSORS, **CLASSIFIERS}


def _range(param: str, description: str) -> Any:
    readers = sorted({a.name for table in _TABLES.values() for a in table.values() if param in a.params})
    return Field(TUNABLE[param], max_length=500, description=description, json_schema_extra={ALGORITHMS_KEY: readers})


class TuneParams(NodeParams):
    task: Literal["classification", "regression"] = Field(
        "classification", description="Predict a category (classification) or a number (regression)."
    )
    algorithm: Literal[
        "hist_gradient_boosting", "random_forest", "extra_trees", "gradient_boosting", "decision_tree",
        "logistic_regression", "svm", "knn", "ridge",
    ] = Field("hist_gradient_boosting", description="The algorithm whose params are searched.",
              json_schema_extra={LABELS_KEY: {name: a.label for name, a in _ALL.items()}})
    search: Literal["grid", "random"] = Field(
        "grid", description="Try every combination (grid) or a random sample of them (random)."
    )
    n_candidates: int = Field(10, ge=1, le=MAX_CANDIDATES, description="How many combinations random search tries.")
    metric: Literal["auto", "accuracy", "f1", "roc_auc", "rmse", "mae", "r2"] = Field(
        "auto", description="The score to optimise: 'auto' is accuracy for classifiers, RMSE for regressors."
    )
    folds: int = Field(5, ge=2, le=20, description="Cross-validation folds each candidate is scored on.")
    seed: int = Field(42, ge=0, le=2**32 - 1, description="Random seed for the folds, the sample and the models.")
    n_estimators_values: str = _range("n_estimators", "Numbers of trees (or boosting rounds) to try, e.g. 50, 100, 200.")
    max_depth_values: str = _range("max_depth", "Tree depths to try; 'none' means no limit.")
    learning_rate_values: str = _range("learning_rate", "Boosting step sizes to try.")
    C_values: str = _range("C", "Inverse regularisation strengths to try.")
    n_neighbors_values: str = _range("n_neighbors", "Neighbour counts to try.")
    alpha_values: str = _range("alpha", "Ridge regularisation strengths to try.")

    @field_validator("algorithm")
    @classmethod
    def _algorithm_fits_task(cls, value: str, info: ValidationInfo) -> str:
        task = info.data.get("task", "classification")
        if value not in _TABLES[task]:
            raise ValueError(f"'{value}' is not a {task} algorithm; choose one of {', '.join(_TABLES[task])}")
        return value

    @field_validator(*(f"{p}_values" for p in TUNABLE))
    @classmethod
    def _values_parse(cls, value: str, info: ValidationInfo) -> str:
        _parse_values(info.field_name.removesuffix("_values"), value)
        return value


class Tune(NodeType):
    type_id = "train.tune"
    title = "Tune hyperparameters"
    description = "Searches the chosen algorithm's params with cross-validation and trains the best combination."
    category = Category.TRAIN
    icon = "gauge"
    keywords = ("grid search", "hyperparameter search", "optimise", "optimize", *search_words(CLASSIFIERS, REGRESSORS))
    inputs = (
        Port("train", ArtifactKind.TABLE, description="Training rows with a target column (raw if a preprocessor is connected)."),
        Port("preprocessor", ArtifactKind.MODEL, required=False,
             description="A 'Clean and encode' recipe: refitted inside every fold, then used for the final model."),
    )
    outputs = (
        Port("model", ArtifactKind.MODEL, description="The best combination, trained on all the rows."),
        Port("trials", ArtifactKind.TABLE, description="Every combination tried, its mean and spread of the score, and rank."),
        Port("metrics", ArtifactKind.METRICS, description="Best score, the defaults' score and every trial, for the chart."),
    )
    Params = TuneParams
    resources = Resources(cpu="2", memory="2Gi")
    warm_imports = ("sklearn.model_selection", "sklearn.ensemble", "sklearn.pipeline")

    def run(self, inputs: dict[str, Any], params: TuneParams, context: RunContext) -> dict[str, Any]:
        import pandas as pd

        table, preprocessor = training_table(inputs), inputs.get("preprocessor")
        if preprocessor is not None and (not isinstance(preprocessor, Model) or preprocessor.task != "transform"):
            raise NodeInputError("the 'preprocessor' input must be a 'Clean and encode' node's preprocessor output")
        x, y = _rows(table, preprocessor, params)
        names, scoring = scorers(params.task, y)
        metric = ("accuracy" if params.task == "classification" else "rmse") if params.metric == "auto" else params.metric
        if metric not in scoring:
            raise NodeInputError(f"param 'metric' is '{metric}', which does not score {params.task}; choose one of {', '.join(names)}")
        splitter, note = fold_splitter(params.task, y, params.folds, 1, True, params.seed)
        if note:
            context.warn(note)
        trials = []
        for candidate, is_default in _candidates(params):
            mean, sd, seconds = _score(candidate, params, preprocessor, x, y, splitter, scoring[metric], metric, context)
            trials.append({**{k: v for k, v in candidate.items()}, f"{metric}_mean": mean, f"{metric}_sd": sd,
                           "fit_seconds": seconds, "is_default": is_default})
        scored = [t for t in trials if t[f"{metric}_mean"] is not None]
        if not scored:
            raise NodeInputError(f"no combination could be scored by {metric} on these rows")
        lower = metric in LOWER_IS_BETTER
        ranked = sorted(scored, key=lambda t: t[f"{metric}_mean"], reverse=not lower)
        for rank, trial in enumerate(ranked, 1):
            trial["rank"] = rank
        best = ranked[0]
        model = _refit(best, params, table, preprocessor, context)
        default = next((t for t in trials if t["is_default"]), None)
        tuned = [p for p in _tuned_params(params)]
        context.log(f"best {metric} {best[f'{metric}_mean']:.4g} with "
                    + ", ".join(f"{p}={best[p]}" for p in tuned) + f" of {len(trials)} combinations"
                    + (f" (defaults: {default[f'{metric}_mean']:.4g})" if default and default[f"{metric}_mean"] is not None else ""))
        frame = pd.DataFrame(sorted(trials, key=lambda t: t.get("rank", len(trials) + 1)))
        values = {
            f"best_{metric}": best[f"{metric}_mean"],
            f"default_{metric}": default[f"{metric}_mean"] if default else None,
            "n_trials": len(trials),
            "warnings": [note] if note else [],
            "tuning": {"metric": metric, "lower_is_better": lower, "params": tuned,
                       "best": {p: best[p] for p in tuned}, "trials": frame.to_dict(orient="records")},
        }
        return {"model": model, "trials": Table(frame.astype({p: object for p in tuned}), None),
                "metrics": Metrics(python_value(values, nan_as_none=True))}


def _parse_values(param: str, text: str) -> list[Any]:
    """The values a range field lists, checked against the train node's bounds for that param."""
    base = ClassifierParams if param in ClassifierParams.model_fields else RegressorParams
    values: list[Any] = []
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        if part.lower() in ("none", "null", "") and param == "max_depth":
            values.append(None)
            continue
        try:
            number = float(part)
        except ValueError:
            raise ValueError(f"'{part}' is not a number (write values separated by commas, e.g. {TUNABLE[param]})") from None
        value = int(number) if base.model_fields[param].annotation in (int, int | None) and number.is_integer() else number
        try:
            base.model_validate({param: value})
        except Exception as exc:
            raise ValueError(f"{param} {part} is out of range: {exc.errors()[0]['msg'].lower()}") from None
        values.append(value)
    if not values:
        raise ValueError("list at least one value")
    return list(dict.fromkeys(values))


def _tuned_params(params: TuneParams) -> list[str]:
    return [p for p in _TABLES[params.task][params.algorithm].params if p in TUNABLE]


def _candidates(params: TuneParams) -> list[tuple[dict[str, Any], bool]]:
    """Each combination to try (grid: all; random: a seeded sample), then the defaults if not among them."""
    import random

    tuned = _tuned_params(params)
    grid = [dict(zip(tuned, combo)) for combo in
            itertools.product(*(_parse_values(p, getattr(params, f"{p}_values")) for p in tuned))]
    if params.search == "random":
        grid = random.Random(params.seed).sample(grid, min(params.n_candidates, len(grid)))
    elif len(grid) > MAX_CANDIDATES:
        raise NodeInputError(f"the grid has {len(grid)} combinations, more than {MAX_CANDIDATES}; list fewer values "
                             "or use random search")
    defaults = _BASE_PARAMS[params.task]().model_dump()
    baseline = {p: defaults[p] for p in tuned}
    marked = [(c, c == baseline) for c in grid]
    if baseline not in grid:
        marked.append((baseline, True))
    return marked


def _estimator(candidate: dict[str, Any], params: TuneParams, cpus: int) -> Any:
    base = _BASE_PARAMS[params.task](algorithm=params.algorithm, seed=params.seed, **candidate)
    return build_estimator(_TABLES[params.task], base, cpus)


def _rows(table: Table, preprocessor: Model | None, params: TuneParams) -> tuple[Any, Any]:
    algorithm = _TABLES[params.task][params.algorithm]
    if preprocessor is None:
        x, y = features_and_target(table, algorithm.missing_ok)
    else:
        missing = [c for c in preprocessor.feature_columns if c not in table.frame.columns]
        if missing:
            raise NodeInputError(f"the preprocessor needs column(s) {', '.join(map(repr, missing))}, which the table lacks")
        x, y = table.frame[preprocessor.feature_columns], table.frame[table.target]
        if y.isna().any():
            raise NodeInputError(f"target column '{table.target}' has {int(y.isna().sum())} missing value(s)")
    if params.task == "classification":
        check_class_target(y, table.target)
    else:
        check_numeric_target(y, table.target)
    return x, y


def _score(candidate: dict[str, Any], params: TuneParams, preprocessor: Model | None, x: Any, y: Any, splitter: Any,
           scorer: str, metric: str, context: RunContext) -> tuple[float | None, float | None, float]:
    import numpy as np
    from sklearn.base import clone
    from sklearn.model_selection import cross_val_score
    from sklearn.pipeline import Pipeline

    estimator = _estimator(candidate, params, context.cpus)
    if preprocessor is not None:
        estimator = Pipeline([("clean", clone(preprocessor.estimator)), ("model", estimator)])
    started = time.perf_counter()
    with cpu_limit(context.cpus), warnings.catch_warnings():
        # a score undefined on one fold (e.g. ROC AUC without every class) is recorded as missing
        warnings.filterwarnings("ignore", message="Scoring failed", category=UserWarning)
        scores = cross_val_score(estimator, x, y, cv=splitter, scoring=scorer, error_score=float("nan"))
    scores = scores[~np.isnan(scores)]
    if metric in LOWER_IS_BETTER:
        scores = -scores
    if not len(scores):
        return None, None, time.perf_counter() - started
    return float(scores.mean()), float(scores.std(ddof=1)) if len(scores) > 1 else None, time.perf_counter() - started


def _refit(best: dict[str, Any], params: TuneParams, table: Table, preprocessor: Model | None, context: RunContext) -> Model:
    from .train import fit

    candidate = {p: best[p] for p in _tuned_params(params)}
    if preprocessor is not None:
        cleaned = preprocessor.estimator.transform(table.frame[preprocessor.feature_columns]).reset_index(drop=True)
        cleaned[table.target] = table.frame[table.target].reset_index(drop=True)
        table = Table(cleaned, table.target)
    x, y = features_and_target(table, _TABLES[params.task][params.algorithm].missing_ok)
    estimator, _ = fit(_estimator(candidate, params, context.cpus), x, y, context)
    classes = native_list(estimator.classes_) if params.task == "classification" else None
    return model_artifact(estimator, table, params.task, params.algorithm, classes)
