"""What several node tests start from: a fitted iris forest saved as the train node would save it."""

from __future__ import annotations

import pytest
from sklearn import datasets
from sklearn.ensemble import RandomForestClassifier

from nodes.artifacts import Model


@pytest.fixture(scope="session")
def iris_model() -> Model:
    """A random forest (30 trees, seed 0) on all of iris, with the columns and classes a served model needs."""
    iris = datasets.load_iris(as_frame=True)
    labels = iris.target_names[iris.target]
    forest = RandomForestClassifier(n_estimators=30, random_state=0).fit(iris.data, labels)
    return Model(
        estimator=forest,
        task="classification",
        feature_columns=list(iris.data.columns),
        target="species",
        classes=[str(c) for c in forest.classes_],
        algorithm="random_forest",
        input_schema={c: "number" for c in iris.data.columns},
    )
