"""A neural-network trainer on PyTorch, for GPUs (falls back to the CPU).

torch is an optional extra (``pip install pipecanvas[gpu]``): the node is always
in the catalog so pipelines using it validate and compile anywhere; running it
without torch fails with a message saying how to install it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

from pydantic import Field

from .artifacts import ArtifactKind, Model, Table
from .base import DEFAULT_GPU_IMAGE, Category, NodeParams, NodeType, PackageNeed, Port, Resources
from .context import RunContext
from .errors import NodeInputError
from .mlp_estimator import NumpyMLPClassifier, NumpyMLPRegressor
from .python_values import python_value
from .table_schema import infer_input_schema
from .training_values import training_values

if TYPE_CHECKING:  # heavy; imported inside the functions that need them
    import numpy as np
    import pandas as pd

__all__ = ["TORCH_INSTALL", "TrainMLP"]

#: the command that adds PyTorch (the ``gpu`` extra in pyproject.toml)
TORCH_INSTALL = "pip install 'pipecanvas[gpu]'"


class MLPParams(NodeParams):
    task: Literal["auto", "classification", "regression"] = Field(
        "auto", description="Predict a category or a number; 'auto' decides from the target column."
    )
    hidden_units: int = Field(64, ge=1, le=8192, description="Neurons in each hidden layer.")
    hidden_layers: int = Field(2, ge=1, le=16, description="Number of hidden layers.")
    epochs: int = Field(100, ge=1, le=100000, description="Passes over the training rows.")
    learning_rate: float = Field(0.001, gt=0, le=1, description="Optimiser step size (Adam).")
    batch_size: int = Field(64, ge=1, le=1_000_000, description="Rows per optimisation step.")
    device: Literal["auto", "cuda", "cpu"] = Field(
        "auto", description="Where to train: 'auto' uses a GPU when one is present, otherwise the CPU."
    )
    seed: int = Field(42, ge=0, le=2**32 - 1, description="Random seed, for results that repeat.")


class TrainMLP(NodeType):
    type_id = "train.mlp"
    title = "Train neural network (GPU)"
    description = "Trains a small neural network, on a GPU when one is available, to predict a category or a number."
    category = Category.TRAIN
    icon = "cpu"
    keywords = ("deep learning", "neural net", "mlp", "pytorch", "torch", "gpu", "classification", "regression")
    inputs = (Port("train", ArtifactKind.TABLE, description="Training rows with a target column; numbers only (clean first)."),)
    outputs = (Port("model", ArtifactKind.MODEL, description="The trained network."),)
    Params = MLPParams
    resources = Resources(cpu="2", memory="4Gi", gpu=1)
    image = DEFAULT_GPU_IMAGE
    needs = (PackageNeed("torch", "PyTorch", TORCH_INSTALL),)

    def run(self, inputs: dict[str, Any], params: MLPParams, context: RunContext) -> dict[str, Any]:
        torch = _import_torch()
        table: Table = inputs["train"]
        features, target = _training_data(table)
        task = _resolve_task(params.task, target)
        device = _resolve_device(torch, params.device)
        context.log(f"training the neural network on {device}")
        estimator, loss = _train(torch, features.to_numpy(dtype="float64"), target, task, params, device)
        context.log(f"final training loss after {params.epochs} epochs: {loss:.4f}")
        classes = list(estimator.classes_) if task == "classification" else None
        model = Model(
            estimator=estimator,
            task=task,
            feature_columns=list(features.columns),
            target=table.target,
            classes=classes,
            algorithm="mlp",
            input_schema=infer_input_schema(table.frame, features.columns),
            training_values=training_values(table.frame, features.columns),
        )
        return {"model": model}


_MAX_CLASSES_FOR_AUTO = 20


def _import_torch() -> Any:
    try:
        import torch
    except ImportError as exc:
        raise NodeInputError(f"the 'Train neural network' node needs PyTorch: {TORCH_INSTALL}") from exc
    return torch


def _training_data(table: Table) -> tuple["pd.DataFrame", "pd.Series"]:
    """Numeric feature frame and target series, or a NodeInputError saying what to fix."""
    from pandas.api import types

    if table.target is None or table.target not in table.frame.columns:
        raise NodeInputError("the training table has no target column; choose one on the data node")
    features = table.frame[table.feature_columns]
    target = table.frame[table.target]
    if features.shape[1] == 0 or len(features) == 0:
        raise NodeInputError("the training table has no feature columns or no rows to learn from")
    text = [str(c) for c in features.columns if not types.is_numeric_dtype(features[c])]
    if text:
        names = ", ".join(map(repr, text))
        raise NodeInputError(f"column(s) {names} are not numbers; add a 'Clean and encode' node before training")
    features = features.astype("float64")
    gaps = [str(c) for c in features.columns if features[c].isna().any()]
    if gaps:
        names = ", ".join(map(repr, gaps))
        raise NodeInputError(f"column(s) {names} have missing values; add a 'Clean and encode' node first")
    if target.isna().any():
        raise NodeInputError(f"target column {table.target!r} has missing values; remove those rows first")
    return features, target


def _resolve_task(requested: str, target: "pd.Series") -> str:
    """'auto' means classification for categories and small sets of whole numbers, regression for the rest."""
    from pandas.api import types

    numeric = types.is_numeric_dtype(target) and not types.is_bool_dtype(target)
    if requested == "regression" and not numeric:
        raise NodeInputError(f"target column {target.name!r} holds categories, not numbers; use task 'classification'")
    if requested != "auto":
        return requested
    if not numeric:
        return "classification"
    if types.is_integer_dtype(target) and target.nunique() <= _MAX_CLASSES_FOR_AUTO:
        return "classification"
    return "regression"


def _resolve_device(torch: Any, requested: str) -> str:
    if requested == "cuda" and not torch.cuda.is_available():
        raise NodeInputError("device 'cuda' was requested but no GPU is available here; use device 'auto' or 'cpu'")
    if requested == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    return requested


def _train(
    torch: Any, x: "np.ndarray", target: "pd.Series", task: str, params: MLPParams, device: str
) -> tuple[Any, float]:
    """Fit the network on standardised inputs; return its numpy copy and the last epoch's mean loss."""
    import numpy as np

    x_mean, x_scale = x.mean(axis=0), _safe_scale(x.std(axis=0))
    if task == "classification":
        classes, codes = _encode_classes(target)
        y = torch.as_tensor(codes, dtype=torch.long)
        n_out, loss_fn = len(classes), torch.nn.CrossEntropyLoss()
    else:
        values = target.to_numpy(dtype="float64")
        y_mean, y_scale = float(values.mean()), float(_safe_scale(np.array([values.std()]))[0])
        y = torch.as_tensor((values - y_mean) / y_scale, dtype=torch.float32).unsqueeze(1)
        n_out, loss_fn = 1, torch.nn.MSELoss()
    torch.manual_seed(params.seed)
    network = _build_network(torch, x.shape[1], n_out, params).to(device)
    inputs = torch.as_tensor((x - x_mean) / x_scale, dtype=torch.float32)
    loss = _fit(torch, network, inputs.to(device), y.to(device), loss_fn, params)
    weights, biases = _numpy_layers(network)
    if task == "classification":
        return NumpyMLPClassifier(weights, biases, x_mean, x_scale, classes), loss
    return NumpyMLPRegressor(weights, biases, x_mean, x_scale, y_mean, y_scale), loss


def _encode_classes(target: "pd.Series") -> tuple[list[Any], "np.ndarray"]:
    """Sorted class labels as native Python values, and each row's index into them."""
    import numpy as np

    if target.nunique() < 2:
        raise NodeInputError(f"target column {target.name!r} has a single value; a classifier needs at least two")
    labels, codes = np.unique(target.to_numpy(), return_inverse=True)
    return python_value(list(labels)), codes


def _safe_scale(std: "np.ndarray") -> "np.ndarray":
    """Standard deviations with zeros (constant columns) replaced by 1, so scaling never divides by zero."""
    import numpy as np

    return np.where(std > 0, std, 1.0)


def _build_network(torch: Any, n_in: int, n_out: int, params: MLPParams) -> Any:
    layers: list[Any] = []
    width = n_in
    for _ in range(params.hidden_layers):
        layers += [torch.nn.Linear(width, params.hidden_units), torch.nn.ReLU()]
        width = params.hidden_units
    layers.append(torch.nn.Linear(width, n_out))
    return torch.nn.Sequential(*layers)


def _fit(torch: Any, network: Any, x: Any, y: Any, loss_fn: Any, params: MLPParams) -> float:
    """Adam over shuffled minibatches (the shuffle is seeded); returns the last epoch's mean loss."""
    optimiser = torch.optim.Adam(network.parameters(), lr=params.learning_rate)
    generator = torch.Generator().manual_seed(params.seed)
    n_rows = x.shape[0]
    epoch_loss = float("nan")
    network.train()
    for _ in range(params.epochs):
        order = torch.randperm(n_rows, generator=generator).to(x.device)
        total = torch.zeros((), device=x.device)
        for start in range(0, n_rows, params.batch_size):
            batch = order[start : start + params.batch_size]
            optimiser.zero_grad()
            loss = loss_fn(network(x[batch]), y[batch])
            loss.backward()
            optimiser.step()
            total += loss.detach() * batch.shape[0]
        epoch_loss = float(total.item()) / n_rows
    network.eval()
    return epoch_loss


def _numpy_layers(network: Any) -> tuple[list[Any], list[Any]]:
    """Each Linear layer's weight (out, in) and bias, copied to numpy on the CPU."""
    linear = [m for m in network if hasattr(m, "weight")]
    weights = [m.weight.detach().cpu().numpy().copy() for m in linear]
    biases = [m.bias.detach().cpu().numpy().copy() for m in linear]
    return weights, biases
