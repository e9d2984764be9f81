"""``prepare.formula``: a new column computed from others (Azure ML's Apply Math Operation, Orange's Formula)."""

from __future__ import annotations

from typing import Any

from pydantic import Field, field_validator

from .artifacts import ArtifactKind, Table
from .base import Category, NodeParams, NodeType, Port, Resources
from .context import RunContext
from .errors import NodeInputError
from .formula import FUNCTIONS, FormulaError, evaluate_formula, parse_formula

__all__ = ["Formula"]


class FormulaParams(NodeParams):
    column: str = Field(..., min_length=1, max_length=200, description="Name of the new column (an existing one is replaced).")
    expression: str = Field(
        ...,
        min_length=1,
        max_length=2000,
        description="e.g. log(income + 1), price / area, 'adult' if age >= 18 else 'child'. Operators + - * / // % **, "
        "comparisons, and/or/not, a if condition else b; functions " + ", ".join(FUNCTIONS) + ". Names with spaces "
        "or dots go in backticks: `Solar.R`.",
    )

    @field_validator("expression")
    @classmethod
    def _parses(cls, expression: str) -> str:
        try:
            parse_formula(expression)
        except FormulaError as exc:
            raise ValueError(str(exc)) from None
        return expression


class Formula(NodeType):
    type_id = "prepare.formula"
    title = "Formula"
    description = "Adds a column computed from other columns: arithmetic, comparisons, log/exp/abs/round/clip, if-else."
    category = Category.PREPARE
    icon = "zap"
    keywords = ("computed column", "expression", "feature engineering", "calculate")
    inputs = (Port("table", ArtifactKind.TABLE, description="The rows to compute over."),)
    outputs = (Port("table", ArtifactKind.TABLE, description="The same rows with the new column."),)
    Params = FormulaParams
    resources = Resources(cpu="500m", memory="1Gi")

    def run(self, inputs: dict[str, Any], params: FormulaParams, context: RunContext) -> dict[str, Any]:
        table: Table = inputs["table"]
        frame = table.frame.copy()
        try:
            frame[params.column] = evaluate_formula(params.expression, frame)
        except FormulaError as exc:
            raise NodeInputError(f"param 'expression': {exc}") from None
        values = frame[params.column]
        context.log(f"computed {params.column!r} for {len(frame)} rows ({int(values.isna().sum())} missing)")
        return {"table": table.with_frame(frame)}
