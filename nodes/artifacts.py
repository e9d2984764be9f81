"""In-memory artifacts that flow between nodes, one class per artifact kind.

A node's ``run()`` receives and returns these objects and never touches files:
reading and writing them is ``nodes.artifact_io``'s job, called by the runtime.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pandas is heavy; the catalog must import fast
    import pandas as pd

__all__ = ["ArtifactKind", "Table", "Model", "Metrics", "Endpoint", "ARTIFACT_TYPES"]


class ArtifactKind(str, Enum):
    """What a port carries. Two ports connect only when their kinds are equal."""

    TABLE = "table"
    MODEL = "model"
    METRICS = "metrics"
    ENDPOINT = "endpoint"

    def __str__(self) -> str:
        return self.value


@dataclass
class Table:
    """A data frame plus the name of the column to predict (None when it has no target).

    ``ignored`` names columns that travel with the rows but are never learned
    from: ids and exported row numbers (see ``nodes.column_roles``). A node that
    passes rows on keeps them with ``with_frame``.
    """

    frame: "pd.DataFrame"
    target: str | None = None
    ignored: list[str] = field(default_factory=list)

    @property
    def feature_columns(self) -> list[str]:
        skip = set(self.ignored)
        return [c for c in self.frame.columns if c != self.target and c not in skip]

    def with_frame(self, frame: "pd.DataFrame") -> "Table":
        """The same target and ignored columns (those still present) over other rows or columns."""
        target = self.target if self.target in frame.columns else None
        return Table(frame, target, [c for c in self.ignored if c in frame.columns])


@dataclass
class Model:
    """A fitted estimator and what a server or evaluator needs to know to use it.

    ``task`` is ``classification``, ``regression`` or ``transform`` (a fitted
    preprocessor from ``prepare.clean``). ``input_schema`` maps each input column
    to ``number``, ``integer``, ``boolean`` or ``string`` so that a form or an HTTP
    request can be checked before prediction; ``training_values`` holds each input
    column's median or categories at training (``nodes.training_values``), for a
    form's defaults and choices.
    """

    estimator: Any
    task: str
    feature_columns: list[str]
    target: str | None = None
    classes: list[Any] | None = None
    algorithm: str = ""
    input_schema: dict[str, str] = field(default_factory=dict)
    training_values: dict[str, dict[str, Any]] = field(default_factory=dict)

    def predict(self, frame: "pd.DataFrame") -> Any:
        missing = [c for c in self.feature_columns if c not in frame.columns]
        if missing:
            from .errors import NodeInputError

            raise NodeInputError(f"the model needs column(s) {', '.join(map(repr, missing))}, which the data lacks")
        return self.estimator.predict(frame[self.feature_columns])


@dataclass
class Metrics:
    """Named results: scalars (shown in tables and compared across runs) and curves or matrices."""

    values: dict[str, Any]

    def scalars(self) -> dict[str, float]:
        return {k: v for k, v in self.values.items() if isinstance(v, (int, float)) and not isinstance(v, bool)}


@dataclass
class Endpoint:
    """A running prediction server: where it listens and how to stop it."""

    name: str
    url: str
    backend: str = "local"
    pid: int | None = None
    input_schema: dict[str, str] = field(default_factory=dict)


ARTIFACT_TYPES: dict[ArtifactKind, type] = {
    ArtifactKind.TABLE: Table,
    ArtifactKind.MODEL: Model,
    ArtifactKind.METRICS: Metrics,
    ArtifactKind.ENDPOINT: Endpoint,
}
