"""The node types that ship with pipecanvas, in palette order."""

from __future__ import annotations

from .compare import Compare
from .cross_validate import CrossValidate
from .data import FileTable, SampleDataset
from .data_save import SaveTable
from .deploy import EndpointDeploy
from .evaluate import EvaluateClassifier, EvaluateRegressor
from .explain import Importance
from .predict import PredictTable
from .prepare import Clean, Split
from .prepare_columns import SelectColumns
from .prepare_formula import Formula
from .prepare_join import JoinTables
from .prepare_rows import FilterRows
from .train import TrainClassifier, TrainRegressor
from .train_mlp import TrainMLP
from .tune import Tune

__all__ = ["NODE_TYPES"]

NODE_TYPES = (
    SampleDataset,
    FileTable,
    Split,
    Clean,
    SelectColumns,
    FilterRows,
    JoinTables,
    Formula,
    TrainClassifier,
    TrainRegressor,
    TrainMLP,
    Tune,
    EvaluateClassifier,
    EvaluateRegressor,
    Compare,
    CrossValidate,
    Importance,
    PredictTable,
    SaveTable,
    EndpointDeploy,
)
