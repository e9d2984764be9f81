"""Runs side by side: the params and metrics of a few runs, what differs between them first.

Listing every param of every algorithm buries the one change that explains a
better score, so a train step's params are only those its chosen algorithm
reads (the same rule as the properties form, ``shown_params``); a run whose
algorithm ignores a param another run sets shows "not used" there. Every cell
is text (a metric to 4 significant digits), so the table is one type per
column for Arrow, whatever mix of numbers and words the params hold.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

import pandas as pd

from nodes import Catalog, NodeType
from runtime.run_store import RunStore, StepRecord

from .properties import shown_params

__all__ = ["ComparedRow", "NOT_USED", "ABSENT", "DIFFERS_COLUMN", "compare_runs", "comparison_table"]

NOT_USED = "not used"  # the run's algorithm ignores this param
ABSENT = "—"  # the run has no such step or metric
DIFFERS_COLUMN = "differs"


@dataclass(frozen=True)
class ComparedRow:
    """One param or metric of one step, as each compared run has it (text, in the runs' order)."""

    kind: str  # "param" or "metric"
    step: str
    name: str
    values: tuple[str, ...]

    @property
    def differs(self) -> bool:
        return len(set(self.values)) > 1

    @property
    def label(self) -> str:
        return f"{self.kind} {self.step}.{self.name}"


def compare_runs(store: RunStore, run_ids: list[str], catalog: Catalog) -> list[ComparedRow]:
    """Every param a compared run's algorithm reads and every metric; rows that differ first, then by name."""
    cells: dict[tuple[str, str, str], dict[str, str]] = {}
    for run_id in run_ids:
        for step in store.steps(run_id):
            used = _used_params(step, catalog)
            for name, value in step.params.items():
                cells.setdefault(("param", step.step_id, name), {})[run_id] = (
                    _text(value) if name in used else NOT_USED)
        for step_id, values in store.metrics(run_id).items():
            for name, value in values.items():
                cells.setdefault(("metric", step_id, name), {})[run_id] = f"{value:.4g}"
    rows = [
        ComparedRow(kind, step, name, tuple(found.get(run_id, ABSENT) for run_id in run_ids))
        for (kind, step, name), found in cells.items()
        if any(value != NOT_USED for value in found.values())  # a param no compared run's algorithm reads
    ]
    return sorted(rows, key=lambda row: (not row.differs, row.kind != "param", row.step, row.name))


def comparison_table(rows: list[ComparedRow], run_ids: list[str], only_differences: bool = False) -> pd.DataFrame:
    """The rows as a frame of text: one column per run, then ``differs`` (◀ where the runs disagree)."""
    shown = [row for row in rows if row.differs or not only_differences]
    frame = pd.DataFrame([row.values for row in shown], columns=run_ids, index=[row.label for row in shown],
                         dtype="string")
    frame[DIFFERS_COLUMN] = pd.array(["◀" if row.differs else "" for row in shown], dtype="string")
    return frame


def _used_params(step: StepRecord, catalog: Catalog) -> set[str]:
    """The params the step's node type reads with the params it ran with (all of them for an unknown type)."""
    node_type = catalog.get(step.type)
    if node_type is None:
        return set(step.params)
    return set(shown_params(_params_schema(node_type), step.params))


@functools.cache
def _params_schema(node_type: type[NodeType]) -> dict[str, Any]:
    """A node type's params schema, built once per type (not once per step of every run compared); read-only."""
    return node_type.Params.model_json_schema()


def _text(value: object) -> str:
    return "none" if value is None else str(value)
