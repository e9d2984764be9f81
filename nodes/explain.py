"""``explain.importance``: which columns a model leans on, measured on rows it has not seen.

Permutation importance shuffles one column at a time in the test rows and
records how much the score drops (bigger drop, more important); it works for
any model. Tree ensembles also report their impurity importance (how much each
column's splits purified the training rows), shown beside it for comparison.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field

from .algorithms import cpu_limit
from .artifacts import ArtifactKind, Table
from .base import Category, NodeParams, NodeType, Port, Resources
from .context import RunContext
from .errors import NodeInputError
from .evaluate import model_and_table, test_rows

__all__ = ["Importance"]


class ImportanceParams(NodeParams):
    n_repeats: int = Field(5, ge=1, le=100, description="How many times each column is shuffled; more is steadier.")
    seed: int = Field(42, ge=0, le=2**32 - 1, description="Random seed for the shuffles.")
    max_rows: int = Field(
        10000, ge=10, le=10_000_000, description="Most test rows used (an evenly spaced sample beyond that), for speed."
    )


class Importance(NodeType):
    type_id = "explain.importance"
    title = "Feature importance"
    description = "Ranks the columns by how much the model's test score drops when each is shuffled."
    category = Category.EVALUATE
    icon = "chart"
    keywords = ("explain", "permutation importance", "shap", "interpretability")
    inputs = (
        Port("model", ArtifactKind.MODEL, description="The trained classifier or regressor."),
        Port("test", ArtifactKind.TABLE, description="Held-out rows with the true answers."),
    )
    outputs = (Port("importance", ArtifactKind.TABLE,
                    description="One row per column: permutation importance (mean, sd) and impurity importance."),)
    Params = ImportanceParams
    resources = Resources(cpu="2", memory="2Gi")
    warm_imports = ("sklearn.inspection",)

    def run(self, inputs: dict[str, Any], params: ImportanceParams, context: RunContext) -> dict[str, Any]:
        import numpy as np
        import pandas as pd
        from sklearn.inspection import permutation_importance

        model = inputs.get("model")
        task = getattr(model, "task", None)
        if task not in ("classification", "regression"):
            raise NodeInputError("the 'model' input must be a train node's classifier or regressor")
        model, table = model_and_table(inputs, task)
        x, y = test_rows(model, table)
        if len(x) > params.max_rows:
            keep = np.unique(np.linspace(0, len(x) - 1, params.max_rows).round().astype(int))
            x, y = x.iloc[keep], y.iloc[keep]
        if len(x) < 2:
            raise NodeInputError(f"the test table has {len(x)} row(s); importance needs at least 2")
        scoring = "accuracy" if task == "classification" else "r2"
        with cpu_limit(context.cpus):
            found = permutation_importance(model.estimator, x, y, scoring=scoring, n_repeats=params.n_repeats,
                                           random_state=params.seed, n_jobs=1)
        frame = pd.DataFrame({
            "feature": [str(c) for c in x.columns],
            "importance_mean": found.importances_mean,
            "importance_sd": found.importances_std,
        })
        impurity = _impurity(model.estimator, len(x.columns))
        if impurity is not None:
            frame["impurity_importance"] = impurity
        frame = frame.sort_values("importance_mean", ascending=False, kind="stable").reset_index(drop=True)
        top = ", ".join(f"{r.feature} ({r.importance_mean:.3g})" for r in frame.head(3).itertuples())
        context.log(f"drop in {scoring} when shuffled, on {len(x)} test rows: {top}")
        return {"importance": Table(frame, None)}


def _impurity(estimator: Any, n_features: int) -> Any:
    """``feature_importances_`` of a tree model (or a pipeline ending in one), else None."""
    final = estimator.steps[-1][1] if hasattr(estimator, "steps") else estimator
    values = getattr(final, "feature_importances_", None)
    return values if values is not None and len(values) == n_features else None
