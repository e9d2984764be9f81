"""A neural-network trainer on PyTorch, for GPUs (falls back to the CPU).

torch is an optional extra (``pip install pipecanvas[gpu]``): the node is always
in the catalog so pipelines using it validate and compile anywhere; running it
without torch fails with a message saying how to install it.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from .artifacts import ArtifactKind
from .base import DEFAULT_GPU_IMAGE, Category, NodeParams, NodeType, Port, Resources
from .context import RunContext

__all__ = ["TrainMLP"]


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
    seed: int = Field(42, ge=0, description="Random seed, for results that repeat.")


class TrainMLP(NodeType):
    type_id = "train.mlp"
    title = "Train neural network (GPU)"
    description = "Trains a small neural network, on a GPU when one is available, to predict a category or a number."
    category = Category.TRAIN
    icon = "cpu"
    inputs = (Port("train", ArtifactKind.TABLE, description="Training rows with a target column; numbers only (clean first)."),)
    outputs = (Port("model", ArtifactKind.MODEL, description="The trained network."),)
    Params = MLPParams
    resources = Resources(cpu="2", memory="4Gi", gpu=1)
    image = DEFAULT_GPU_IMAGE

    def run(self, inputs: dict[str, Any], params: MLPParams, context: RunContext) -> dict[str, Any]:
        raise NotImplementedError
