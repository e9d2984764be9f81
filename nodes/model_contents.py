"""Checks of a loaded model's index arrays, which scikit-learn's compiled code follows without bounds checks.

The type allow-list (``nodes.model_check``) decides what a model file may
build; it cannot say whether the numbers inside are sane. Three kinds of
object that the built-in models hold are walked by compiled code along
indices stored in the file: decision trees (``sklearn.tree._tree.Tree``),
histogram-boosting trees (``TreePredictor``) and k-d trees (``KDTree``, behind
k-nearest neighbours). A crafted file could point those indices outside their
arrays, or in a loop, so that predicting reads foreign memory or never ends.
``check_model_contents`` walks the loaded estimator and refuses such a model
before anything predicts with it: every child index must point forward and
inside its array, every feature index inside the features.
"""

from __future__ import annotations

from typing import Any

from .errors import ArtifactReadError

__all__ = ["check_model_contents"]

_MAX_OBJECTS = 2_000_000


def check_model_contents(estimator: Any, uri: str) -> None:
    """``ArtifactReadError`` naming the first tree whose indices point outside it; nothing when all are sane."""
    import numpy as np

    seen: set[int] = set()
    stack: list[tuple[Any, int | None]] = [(estimator, None)]
    while stack:
        obj, n_features = stack.pop()
        if id(obj) in seen or isinstance(obj, (str, bytes, int, float, bool, type(None))):
            continue
        seen.add(id(obj))
        if len(seen) > _MAX_OBJECTS:
            raise ArtifactReadError(f"model artifact {uri} holds more objects than any model pipecanvas writes")
        problem = _problem(obj, n_features)
        if problem:
            raise ArtifactReadError(f"model artifact {uri} is damaged or crafted: {problem}; it was not loaded")
        if isinstance(obj, dict):
            stack.extend((value, n_features) for value in obj.values())
        elif isinstance(obj, (list, tuple, set, frozenset)):
            stack.extend((value, n_features) for value in obj)
        elif isinstance(obj, np.ndarray):
            if obj.dtype == object:
                stack.extend((value, n_features) for value in obj.ravel())
        elif hasattr(obj, "__dict__"):
            inner = getattr(obj, "n_features_in_", n_features)
            inner = inner if isinstance(inner, (int, np.integer)) else n_features
            stack.extend((value, inner) for value in vars(obj).values())


def _problem(obj: Any, n_features: int | None) -> str | None:
    kind = f"{type(obj).__module__}.{type(obj).__qualname__}"
    if kind == "sklearn.tree._tree.Tree":
        return _tree_problem(obj)
    if kind == "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor":
        return _predictor_problem(obj, n_features)
    if kind == "sklearn.neighbors._kd_tree.KDTree":
        return _kd_tree_problem(obj)
    return None


def _forward_children(left: Any, right: Any, internal: Any, n: int) -> bool:
    """Each internal node's children lie after it and inside the array (so no walk leaves it or loops)."""
    import numpy as np

    index = np.arange(n)
    left, right = left.astype(np.int64), right.astype(np.int64)
    return bool(np.all((left[internal] > index[internal]) & (left[internal] < n)
                       & (right[internal] > index[internal]) & (right[internal] < n)))


def _tree_problem(tree: Any) -> str | None:
    state = tree.__getstate__()
    nodes = state["nodes"]
    n = len(nodes)
    if state["node_count"] != n or n == 0:
        return f"a decision tree says it has {state['node_count']} nodes but holds {n}"
    internal = nodes["left_child"] != -1
    if not _forward_children(nodes["left_child"], nodes["right_child"], internal, n):
        return "a decision tree's nodes point outside the tree"
    if ((nodes["right_child"] == -1) != ~internal).any():
        return "a decision tree has a node with only one child"
    features = nodes["feature"][internal]
    if ((features < 0) | (features >= tree.n_features)).any():
        return f"a decision tree splits on a feature beyond its {tree.n_features}"
    return None


def _predictor_problem(predictor: Any, n_features: int | None) -> str | None:
    nodes = predictor.nodes
    n = len(nodes)
    if n == 0:
        return "a boosting tree has no nodes"
    internal = nodes["is_leaf"] == 0
    if not _forward_children(nodes["left"], nodes["right"], internal, n):
        return "a boosting tree's nodes point outside the tree"
    features = nodes["feature_idx"][internal]
    if n_features is None or ((features < 0) | (features >= n_features)).any():
        return "a boosting tree splits on a feature the model does not have"
    categorical = internal & (nodes["is_categorical"] != 0)
    bitsets = min(len(predictor.raw_left_cat_bitsets), len(predictor.binned_left_cat_bitsets))
    if (nodes["bitset_idx"][categorical] >= bitsets).any():
        return "a boosting tree refers to a category set it does not hold"
    return None


def _kd_tree_problem(tree: Any) -> str | None:
    import numpy as np

    state = tree.__getstate__()
    data, idx_array, node_data, node_bounds, n_nodes = state[0], state[1], state[2], state[3], state[6]
    if data.ndim != 2 or idx_array.ndim != 1 or len(idx_array) != data.shape[0]:
        return "a neighbour index does not match its rows"
    n_samples = data.shape[0]
    if len(idx_array) and ((idx_array < 0) | (idx_array >= n_samples)).any():
        return "a neighbour index points at rows it does not hold"
    if len(node_data) != n_nodes or node_bounds.shape != (2, n_nodes, data.shape[1]):
        return "a neighbour index's nodes do not match its bounds"
    start, end = node_data["idx_start"], node_data["idx_end"]
    if ((start < 0) | (start > end) | (end > n_samples)).any():
        return "a neighbour index's nodes point at rows it does not hold"
    internal = np.flatnonzero(node_data["is_leaf"] == 0)
    if len(internal) and (2 * internal + 2 >= n_nodes).any():
        return "a neighbour index's nodes point outside it"
    return None
