"""A node plug-in whose models hold a class of its own, declared in ``model_types`` so pipecanvas loads them.

Used through ``PIPECANVAS_NODE_MODULES=model_plugin_nodes`` by
``tests/unit/nodes/test_model_check.py``.
"""

from __future__ import annotations

from typing import Any

from nodes import ArtifactKind, Category, NodeType, Port

__all__ = ["Forecaster", "TrainForecaster", "NODE_TYPES"]


class Forecaster:
    """A stand-in estimator: predicts the same number for every row."""

    def __init__(self, horizon: int) -> None:
        self.horizon = horizon

    def predict(self, rows: Any) -> list[int]:
        return [self.horizon] * len(rows)


class TrainForecaster(NodeType):
    type_id = "plugin.forecaster"
    title = "Train forecaster"
    description = "Learns nothing; a plug-in node for tests."
    category = Category.TRAIN
    outputs = (Port("model", ArtifactKind.MODEL, description="The forecaster."),)
    model_types = frozenset({"model_plugin_nodes.Forecaster"})


NODE_TYPES = [TrainForecaster]
