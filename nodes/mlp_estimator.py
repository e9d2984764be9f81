"""A trained neural network evaluated with numpy, so serving and evaluating it needs no PyTorch.

``train.mlp`` trains with torch, then copies the weights into one of these
classes. They hold only numpy arrays, lists, strings and floats, so skops can
save them (``nodes.model_types`` lists both), and they follow scikit-learn's
``predict`` / ``predict_proba`` conventions so evaluate nodes and the model
server treat them like any other estimator.

The forward pass mirrors the torch network exactly: inputs are standardised
with the training mean and scale, every hidden layer is ``relu(x @ W.T + b)``
and the last layer is linear.
"""

from __future__ import annotations

from typing import Any

__all__ = ["NumpyMLPClassifier", "NumpyMLPRegressor"]


class _NumpyMLP:
    """Shared weights and forward pass. ``weights[i]`` has torch's (out, in) layout."""

    def __init__(self, weights: list[Any], biases: list[Any], x_mean: Any, x_scale: Any) -> None:
        import numpy as np

        self.weights = [np.asarray(w, dtype=np.float32) for w in weights]
        self.biases = [np.asarray(b, dtype=np.float32) for b in biases]
        self.x_mean = np.asarray(x_mean, dtype=np.float64)
        self.x_scale = np.asarray(x_scale, dtype=np.float64)

    @property
    def n_features_in_(self) -> int:
        return int(self.x_mean.shape[0])

    def _forward(self, X: Any) -> Any:
        """Raw network outputs (logits or the standardised target) for each row of ``X``."""
        import numpy as np

        values = np.asarray(X, dtype=np.float64)
        if values.ndim != 2 or values.shape[1] != self.n_features_in_:
            raise ValueError(f"expected {self.n_features_in_} feature columns, got array of shape {values.shape}")
        hidden = (values - self.x_mean) / self.x_scale
        last = len(self.weights) - 1
        for index, (weight, bias) in enumerate(zip(self.weights, self.biases)):
            hidden = hidden @ weight.T.astype(np.float64) + bias.astype(np.float64)
            if index < last:
                hidden = np.maximum(hidden, 0.0)
        return hidden


class NumpyMLPClassifier(_NumpyMLP):
    """A network that predicts one of ``classes_`` (native Python values, sorted as at training)."""

    def __init__(self, weights: list[Any], biases: list[Any], x_mean: Any, x_scale: Any, classes: list[Any]) -> None:
        super().__init__(weights, biases, x_mean, x_scale)
        self.classes_ = list(classes)

    def predict_proba(self, X: Any) -> Any:
        """Softmax of the logits: one row per input row, one column per class in ``classes_`` order."""
        import numpy as np

        logits = self._forward(X)
        shifted = np.exp(logits - logits.max(axis=1, keepdims=True))
        return shifted / shifted.sum(axis=1, keepdims=True)

    def predict(self, X: Any) -> Any:
        import numpy as np

        return np.asarray(self.classes_)[self._forward(X).argmax(axis=1)]


class NumpyMLPRegressor(_NumpyMLP):
    """A network that predicts a number; it was trained on the target standardised by ``y_mean`` / ``y_scale``."""

    def __init__(
        self, weights: list[Any], biases: list[Any], x_mean: Any, x_scale: Any, y_mean: float, y_scale: float
    ) -> None:
        super().__init__(weights, biases, x_mean, x_scale)
        self.y_mean = float(y_mean)
        self.y_scale = float(y_scale)

    def predict(self, X: Any) -> Any:
        return self._forward(X)[:, 0] * self.y_scale + self.y_mean
