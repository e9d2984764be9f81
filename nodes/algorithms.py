"""The learning algorithms train, tune and cross-validation nodes offer, and how each is built.

One table per task names each algorithm's human label, the params it reads,
whether it accepts missing values, and a builder from params to an unfitted
scikit-learn estimator. The params models mark each field with the algorithms
it belongs to (``x-pipecanvas-algorithms`` in the JSON schema) so the studio
form shows only the chosen algorithm's fields, and label the choices
(``x-pipecanvas-labels``).

Every builder takes ``cpus``: the cores the step's resources give it. Estimators
with ``n_jobs`` get it directly; the others (histogram gradient boosting uses
OpenMP threads) are held to it by ``cpu_limit`` around the fit.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

__all__ = [
    "Algorithm",
    "search_words",
    "CLASSIFIERS",
    "REGRESSORS",
    "ALGORITHMS_KEY",
    "LABELS_KEY",
    "for_algorithms",
    "labelled",
    "build_estimator",
    "accepts_missing",
    "cpu_limit",
]

ALGORITHMS_KEY = "x-pipecanvas-algorithms"
LABELS_KEY = "x-pipecanvas-labels"


@dataclass(frozen=True)
class Algorithm:
    name: str
    label: str
    params: tuple[str, ...]
    build: Callable[[Any, int], Any]
    missing_ok: bool = False


def _scaled(model: Any) -> Any:
    """Scale-sensitive models (linear, svm, knn) get a StandardScaler in front."""
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import StandardScaler

    return Pipeline([("scale", StandardScaler()), ("model", model)])


def _hist_gb_classifier(p: Any, cpus: int) -> Any:
    from sklearn.ensemble import HistGradientBoostingClassifier

    return HistGradientBoostingClassifier(
        max_iter=p.n_estimators, learning_rate=p.learning_rate, max_depth=p.max_depth, random_state=p.seed
    )


def _forest_classifier(p: Any, cpus: int) -> Any:
    from sklearn.ensemble import RandomForestClassifier

    return RandomForestClassifier(n_estimators=p.n_estimators, max_depth=p.max_depth, random_state=p.seed, n_jobs=cpus)


def _extra_trees_classifier(p: Any, cpus: int) -> Any:
    from sklearn.ensemble import ExtraTreesClassifier

    return ExtraTreesClassifier(n_estimators=p.n_estimators, max_depth=p.max_depth, random_state=p.seed, n_jobs=cpus)


def _gb_classifier(p: Any, cpus: int) -> Any:
    from sklearn.ensemble import GradientBoostingClassifier

    return GradientBoostingClassifier(
        n_estimators=p.n_estimators, learning_rate=p.learning_rate, max_depth=p.max_depth or 3, random_state=p.seed
    )


def _tree_classifier(p: Any, cpus: int) -> Any:
    from sklearn.tree import DecisionTreeClassifier

    return DecisionTreeClassifier(max_depth=p.max_depth, random_state=p.seed)


def _logistic(p: Any, cpus: int) -> Any:
    from sklearn.linear_model import LogisticRegression

    return _scaled(LogisticRegression(C=p.C, max_iter=p.max_iter, random_state=p.seed))


def _naive_bayes(p: Any, cpus: int) -> Any:
    from sklearn.naive_bayes import GaussianNB

    return GaussianNB()


def _svm(p: Any, cpus: int) -> Any:
    from sklearn.svm import SVC

    return _scaled(SVC(C=p.C, probability=True, max_iter=p.max_iter, random_state=p.seed))


def _knn(p: Any, cpus: int) -> Any:
    from sklearn.neighbors import KNeighborsClassifier

    return _scaled(KNeighborsClassifier(n_neighbors=p.n_neighbors, n_jobs=cpus))


def _hist_gb_regressor(p: Any, cpus: int) -> Any:
    from sklearn.ensemble import HistGradientBoostingRegressor

    return HistGradientBoostingRegressor(
        max_iter=p.n_estimators, learning_rate=p.learning_rate, max_depth=p.max_depth, random_state=p.seed
    )


def _forest_regressor(p: Any, cpus: int) -> Any:
    from sklearn.ensemble import RandomForestRegressor

    return RandomForestRegressor(n_estimators=p.n_estimators, max_depth=p.max_depth, random_state=p.seed, n_jobs=cpus)


def _extra_trees_regressor(p: Any, cpus: int) -> Any:
    from sklearn.ensemble import ExtraTreesRegressor

    return ExtraTreesRegressor(n_estimators=p.n_estimators, max_depth=p.max_depth, random_state=p.seed, n_jobs=cpus)


def _gb_regressor(p: Any, cpus: int) -> Any:
    from sklearn.ensemble import GradientBoostingRegressor

    return GradientBoostingRegressor(
        n_estimators=p.n_estimators, learning_rate=p.learning_rate, max_depth=p.max_depth or 3, random_state=p.seed
    )


def _tree_regressor(p: Any, cpus: int) -> Any:
    from sklearn.tree import DecisionTreeRegressor

    return DecisionTreeRegressor(max_depth=p.max_depth, random_state=p.seed)


def _linear(p: Any, cpus: int) -> Any:
    from sklearn.linear_model import LinearRegression

    return LinearRegression(n_jobs=cpus)


def _ridge(p: Any, cpus: int) -> Any:
    from sklearn.linear_model import Ridge

    return Ridge(alpha=p.alpha, random_state=p.seed)


_BOOST = ("n_estimators", "learning_rate", "max_depth", "seed")
_FOREST = ("n_estimators", "max_depth", "seed")

CLASSIFIERS: dict[str, Algorithm] = {a.name: a for a in (
    Algorithm("hist_gradient_boosting", "Histogram gradient boosting (fast, handles gaps)", _BOOST, _hist_gb_classifier,
              missing_ok=True),
    Algorithm("random_forest", "Random forest", _FOREST, _forest_classifier),
    Algorithm("extra_trees", "Extra trees", _FOREST, _extra_trees_classifier),
    Algorithm("gradient_boosting", "Gradient boosting (classic)", _BOOST, _gb_classifier),
    Algorithm("decision_tree", "Decision tree (readable rules)", ("max_depth", "seed"), _tree_classifier),
    Algorithm("logistic_regression", "Logistic regression", ("C", "max_iter", "seed"), _logistic),
    Algorithm("naive_bayes", "Naive Bayes (Gaussian)", (), _naive_bayes),
    Algorithm("svm", "Support vector machine", ("C", "max_iter", "seed"), _svm),
    Algorithm("knn", "k-nearest neighbours", ("n_neighbors",), _knn),
)}

REGRESSORS: dict[str, Algorithm] = {a.name: a for a in (
    Algorithm("hist_gradient_boosting", "Histogram gradient boosting (fast, handles gaps)", _BOOST, _hist_gb_regressor,
              missing_ok=True),
    Algorithm("random_forest", "Random forest", _FOREST, _forest_regressor),
    Algorithm("extra_trees", "Extra trees", _FOREST, _extra_trees_regressor),
    Algorithm("gradient_boosting", "Gradient boosting (classic)", _BOOST, _gb_regressor),
    Algorithm("decision_tree", "Decision tree (readable rules)", ("max_depth", "seed"), _tree_regressor),
    Algorithm("linear", "Linear regression", (), _linear),
    Algorithm("ridge", "Ridge (linear, regularised)", ("alpha", "seed"), _ridge),
)}


#: other names analysts search for, by algorithm: the palette finds the train nodes by them
_ALSO_KNOWN_AS = {
    "hist_gradient_boosting": ("xgboost", "lightgbm", "gbm", "boosted trees"),
    "gradient_boosting": ("xgboost", "gbm", "boosted trees"),
    "random_forest": ("ensemble",),
    "extra_trees": ("ensemble",),
    "svm": ("svc", "svr"),
    "knn": ("nearest neighbors",),
}


def search_words(*tables: dict[str, Algorithm]) -> tuple[str, ...]:
    """Words that find a node offering the ``tables``' algorithms: their names, labels and other names, each
    once (the palette's search ignores case, so ``random forest`` and ``Random forest`` are one word; the first
    spelling is kept)."""
    words: dict[str, str] = {}
    for table in tables:
        for a in table.values():
            for word in (a.name.replace("_", " "), a.label, *_ALSO_KNOWN_AS.get(a.name, ())):
                words.setdefault(word.casefold(), word)
    return tuple(words.values())


def for_algorithms(table: dict[str, Algorithm], param: str) -> dict[str, Any]:
    """``json_schema_extra`` for a param field: the algorithms (of ``table``) that read it."""
    return {ALGORITHMS_KEY: [a.name for a in table.values() if param in a.params]}


def labelled(table: dict[str, Algorithm]) -> dict[str, Any]:
    """``json_schema_extra`` for the ``algorithm`` field: a human label per choice."""
    return {LABELS_KEY: {a.name: a.label for a in table.values()}}


def build_estimator(table: dict[str, Algorithm], params: Any, cpus: int = 1) -> Any:
    """An unfitted estimator for ``params.algorithm`` using at most ``cpus`` cores."""
    return table[params.algorithm].build(params, max(1, cpus))


def accepts_missing(task: str, algorithm: str) -> bool:
    """Whether a model of this task and algorithm takes missing values (NaN) in its features as they are."""
    table = CLASSIFIERS if task == "classification" else REGRESSORS if task == "regression" else {}
    found = table.get(algorithm)
    return bool(found and found.missing_ok)


@contextmanager
def cpu_limit(cpus: int) -> Iterator[None]:
    """Hold OpenMP and BLAS thread pools to ``cpus`` threads (a step must not use more cores than it asked for)."""
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=max(1, cpus)):
        yield
