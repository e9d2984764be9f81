"""Compare several models on one test table, like Orange's Test & Score: which model, by how much.

``evaluate.compare`` takes any number of models on its ``models`` input (one
edge per model), scores each with the same code as the evaluate nodes, marks
the best model per metric and passes the best by the chosen metric on, so it
can feed a deploy node.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

from pydantic import Field

from .artifacts import ArtifactKind, Metrics, Model, Table
from .base import Category, NodeParams, NodeType, Port, Resources
from .context import RunContext
from .errors import NodeInputError
from .evaluate import model_and_table, score_classifier, score_regressor

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["Compare", "LOWER_IS_BETTER", "model_names"]

#: metrics where the smaller value wins; every other compared metric is better when larger
LOWER_IS_BETTER = frozenset({"rmse", "mae"})
_CLASSIFICATION_METRICS = ("accuracy", "precision", "recall", "f1", "roc_auc")
_REGRESSION_METRICS = ("rmse", "mae", "r2")
_DEFAULT_METRIC = {"classification": "accuracy", "regression": "rmse"}


class CompareParams(NodeParams):
    metric: Literal["auto", "accuracy", "precision", "recall", "f1", "roc_auc", "rmse", "mae", "r2"] = Field(
        "auto",
        description="Which score picks the best model: 'auto' is accuracy for classifiers and RMSE for regressors. "
        "RMSE and MAE count lower as better; every other score higher.",
    )
    average: Literal["macro", "weighted", "micro"] = Field(
        "macro", description="How to combine per-class precision, recall and F1 (classifiers)."
    )


class Compare(NodeType):
    type_id = "evaluate.compare"
    title = "Compare models"
    description = "Scores several models on the same test rows, marks the best per metric and passes the best one on."
    category = Category.EVALUATE
    icon = "target"
    keywords = ("score", "leaderboard", "best model", "benchmark")
    inputs = (
        Port("models", ArtifactKind.MODEL, description="The trained models to compare; connect as many as you like.",
             many=True),
        Port("test", ArtifactKind.TABLE, description="Held-out rows with the true answers."),
    )
    outputs = (
        Port("table", ArtifactKind.TABLE, description="One row per model: its scores and the metrics it is best at."),
        Port("metrics", ArtifactKind.METRICS, description="The comparison, with each model's ROC curve or residuals."),
        Port("best", ArtifactKind.MODEL, description="The best model by the chosen metric; connect it to deploy."),
    )
    Params = CompareParams
    resources = Resources(cpu="1", memory="2Gi")
    warm_imports = ("sklearn.metrics",)

    def run(self, inputs: dict[str, Any], params: CompareParams, context: RunContext) -> dict[str, Any]:
        models = inputs.get("models") or []
        if isinstance(models, Model):
            models = [models]
        if not models:
            raise NodeInputError("the 'models' input has no models; connect one or more train nodes to it")
        names = model_names(context.input_sources.get("models"), len(models))
        task = _common_task(models, names)
        metric = _DEFAULT_METRIC[task] if params.metric == "auto" else params.metric
        metric_names = _CLASSIFICATION_METRICS if task == "classification" else _REGRESSION_METRICS
        if metric not in metric_names:
            raise NodeInputError(
                f"param 'metric' is '{metric}', which does not score {task} models; choose one of {', '.join(metric_names)}"
            )
        scored = [_score(model, inputs.get("test"), task, params.average, name) for model, name in zip(models, names)]
        rows = [{"model": name, "algorithm": model.algorithm, **{m: values.get(m) for m in metric_names}}
                for model, name, values in zip(models, names, scored)]
        best = {m: _best(rows, m) for m in metric_names}
        if best[metric] is None:
            raise NodeInputError(f"no model has a '{metric}' score on these test rows; choose another metric")
        winner = names.index(best[metric])
        context.log(f"best by {metric}: '{best[metric]}' ({rows[winner][metric]:.4g}) of {len(models)} models")
        for warning in scored[0].get("warnings", []):
            context.warn(warning)
        return {
            "table": Table(_table(rows, best), None),
            "metrics": Metrics(_metrics(task, metric, rows, best, names, scored)),
            "best": models[winner],
        }


def model_names(sources: list[str] | None, count: int) -> list[str]:
    """A short, unique name per model: its step id, or ``step.port`` where one step feeds several."""
    if not sources or len(sources) != count:
        return [f"model {i + 1}" for i in range(count)]
    steps = [source.rpartition(".")[0] or source for source in sources]
    return steps if len(set(steps)) == len(steps) else list(sources)


def _common_task(models: list[Any], names: list[str]) -> str:
    for model, name in zip(models, names):
        if not isinstance(model, Model) or model.task not in _DEFAULT_METRIC:
            raise NodeInputError(f"model '{name}' is not a trained classifier or regressor; connect a train node's model")
    tasks = {m.task for m in models}
    if len(tasks) > 1:
        kinds = ", ".join(f"'{n}' ({m.task})" for m, n in zip(models, names))
        raise NodeInputError(f"the models do different tasks ({kinds}); compare classifiers or regressors, not both")
    return tasks.pop()


def _score(model: Model, test: Any, task: str, average: str, name: str) -> dict[str, Any]:
    try:
        model, table = model_and_table({"model": model, "test": test}, task)
        return score_classifier(model, table, average) if task == "classification" else score_regressor(model, table)
    except NodeInputError as exc:
        raise NodeInputError(f"model '{name}': {exc}") from None


def _best(rows: list[dict[str, Any]], metric: str) -> str | None:
    """The first model with the best value of ``metric`` (None when no model has one)."""
    scored = [row for row in rows if row.get(metric) is not None]
    if not scored:
        return None
    pick = min if metric in LOWER_IS_BETTER else max
    return pick(scored, key=lambda row: row[metric])["model"]


def _table(rows: list[dict[str, Any]], best: dict[str, str | None]) -> "pd.DataFrame":
    import pandas as pd

    frame = pd.DataFrame(rows)
    frame["best_at"] = [", ".join(m for m, name in best.items() if name == row["model"]) for row in rows]
    return frame


def _metrics(task: str, metric: str, rows: list[dict[str, Any]], best: dict[str, str | None], names: list[str],
             scored: list[dict[str, Any]]) -> dict[str, Any]:
    values: dict[str, Any] = {
        "comparison": {"task": task, "metric": metric, "rows": rows, "best": best,
                       "lower_is_better": sorted(LOWER_IS_BETTER & set(best))},
        "best_model": best[metric],
        "n_models": len(rows),
        "n_test": scored[0]["n_test"],
        "warnings": scored[0].get("warnings", []),
    }
    if task == "classification":
        # per model, its ROC curve per class (binary: the positive class only), for one overlaid chart
        values["roc_curves"] = {name: s.get("roc_curve") or {} for name, s in zip(names, scored)}
    else:
        values["residuals_by_model"] = {name: s["residuals"] for name, s in zip(names, scored)}
    return values
