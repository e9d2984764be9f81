"""Models whose types are all allowed but whose tree indices point outside their arrays: refused when read,
before anything predicts (scikit-learn's compiled code follows them unchecked and crashes the process)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier
from sklearn.neighbors import KNeighborsClassifier
from sklearn.tree import DecisionTreeClassifier

from nodes.artifact_io import read_artifact, write_artifact
from nodes.artifacts import ArtifactKind, Model
from nodes.errors import ArtifactReadError

X = np.random.default_rng(0).random((40, 3))
Y = (X[:, 0] > 0.5).astype(int)


def _saved(tmp_path: Path, estimator) -> str:
    uri = str(tmp_path / "model.skops")
    write_artifact(ArtifactKind.MODEL, Model(estimator, task="classification", feature_columns=["a", "b", "c"]), uri)
    return uri


def _tampered_tree(field: str, value: int):
    tree = DecisionTreeClassifier(max_depth=3, random_state=0).fit(X, Y)
    state = tree.tree_.__getstate__()
    nodes = state["nodes"].copy()
    nodes[field][0] = value
    state["nodes"] = nodes
    tree.tree_.__setstate__(state)
    return tree


def test_a_tree_pointing_outside_itself_really_crashes_a_process_that_predicts_with_it(tmp_path: Path):
    uri = _saved(tmp_path, _tampered_tree("left_child", 10**9))
    code = ("import skops.io, sys, numpy as np\n"
            "data = open(sys.argv[1], 'rb').read()\n"
            "model = skops.io.loads(data, trusted=skops.io.get_untrusted_types(data=data))\n"
            "model['estimator'].predict(np.zeros((5, 3)))\n")
    result = subprocess.run([sys.executable, "-c", code, uri], capture_output=True, timeout=120)
    assert result.returncode < 0  # killed by a signal (a segmentation fault), not an exception


@pytest.mark.parametrize(("field", "value", "message"), [
    ("left_child", 10**9, "point outside the tree"),
    ("left_child", 0, "point outside the tree"),  # a loop back to the root: predicting would never end
    ("feature", 7, "feature beyond its 3"),
])
def test_a_decision_tree_with_bad_indices_is_refused(tmp_path: Path, field, value, message):
    with pytest.raises(ArtifactReadError, match=message):
        read_artifact(ArtifactKind.MODEL, _saved(tmp_path, _tampered_tree(field, value)))


def test_a_forest_with_one_bad_tree_is_refused(tmp_path: Path):
    forest = RandomForestClassifier(n_estimators=3, random_state=0).fit(X, Y)
    forest.estimators_[2] = _tampered_tree("right_child", 10**6)
    with pytest.raises(ArtifactReadError, match="decision tree"):
        read_artifact(ArtifactKind.MODEL, _saved(tmp_path, forest))


def test_a_boosting_tree_with_bad_indices_is_refused(tmp_path: Path):
    boosting = HistGradientBoostingClassifier(max_iter=2, random_state=0).fit(X, Y)
    nodes = boosting._predictors[1][0].nodes
    nodes["right"][np.flatnonzero(nodes["is_leaf"] == 0)[0]] = 10**6
    with pytest.raises(ArtifactReadError, match="boosting tree"):
        read_artifact(ArtifactKind.MODEL, _saved(tmp_path, boosting))


def test_a_boosting_tree_splitting_on_a_missing_feature_is_refused(tmp_path: Path):
    boosting = HistGradientBoostingClassifier(max_iter=2, random_state=0).fit(X, Y)
    nodes = boosting._predictors[0][0].nodes
    nodes["feature_idx"][np.flatnonzero(nodes["is_leaf"] == 0)[0]] = 9
    with pytest.raises(ArtifactReadError, match="feature the model does not have"):
        read_artifact(ArtifactKind.MODEL, _saved(tmp_path, boosting))


def test_a_neighbour_index_pointing_at_rows_it_lacks_is_refused(tmp_path: Path):
    knn = KNeighborsClassifier(n_neighbors=3).fit(X, Y)
    state = list(knn._tree.__getstate__())
    state[1] = state[1].copy()
    state[1][0] = 10**6
    knn._tree.__setstate__(tuple(state))
    with pytest.raises(ArtifactReadError, match="neighbour index"):
        read_artifact(ArtifactKind.MODEL, _saved(tmp_path, knn))


def test_sane_trees_and_indexes_load_and_predict(tmp_path: Path):
    for estimator in (DecisionTreeClassifier(max_depth=3).fit(X, Y), KNeighborsClassifier(3).fit(X, Y),
                      HistGradientBoostingClassifier(max_iter=3).fit(X, Y)):
        loaded = read_artifact(ArtifactKind.MODEL, _saved(tmp_path, estimator)).estimator
        assert (loaded.predict(X) == estimator.predict(X)).all()
