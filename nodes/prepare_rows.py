"""``prepare.rows``: filter rows by conditions, drop rows with missing values or duplicates, sample rows.

The Azure ML designer's Clean Missing Data, Remove Duplicate Rows and
Partition and Sample, and Orange's Select Rows, as one node: the steps run in
that order (filter, drop missing, drop duplicates, sample), each logging how
many rows it removed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from .artifacts import ArtifactKind, Table
from .base import Category, NodeParams, NodeType, Port, Resources
from .context import RunContext
from .data import COLUMN_WIDGET, COLUMNS_WIDGET
from .errors import NodeInputError
from .prepare_columns import missing_columns_message

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["FilterRows", "Condition"]

Operator = Literal["==", "!=", ">", ">=", "<", "<=", "contains", "is missing", "is not missing"]


class Condition(BaseModel):
    """Keep a row when ``column operator value`` holds for it."""

    model_config = ConfigDict(extra="forbid")

    column: str = Field(..., min_length=1, json_schema_extra=COLUMN_WIDGET, description="The column to test.")
    operator: Operator = Field("==", description="How to compare the column with the value.")
    value: str | float | int | bool | None = Field(None, description="What to compare with (not needed for 'is missing').")


class RowsParams(NodeParams):
    conditions: list[Condition] = Field(
        default_factory=list, max_length=50, description="Keep only the rows that meet these conditions."
    )
    match: Literal["all", "any"] = Field("all", description="Whether a row must meet all the conditions or any one.")
    drop_missing: list[str] = Field(
        default_factory=list, json_schema_extra=COLUMNS_WIDGET,
        description="Drop rows with a missing value in any of these columns (the target, say).",
    )
    drop_duplicates: bool = Field(False, description="Drop rows that repeat an earlier row exactly.")
    sample: Literal["none", "rows", "fraction"] = Field(
        "none", description="Keep a random part of the rows: a number of rows, a fraction of them, or all (none)."
    )
    sample_rows: int = Field(1000, ge=1, description="How many rows to keep when sample is 'rows'.")
    sample_fraction: float = Field(0.1, gt=0, le=1, description="The share of rows to keep when sample is 'fraction'.")
    seed: int = Field(42, ge=0, le=2**32 - 1, description="Random seed for sampling, so the same rows come every run.")


class FilterRows(NodeType):
    type_id = "prepare.rows"
    title = "Filter rows"
    description = "Keeps the rows that meet conditions; drops rows with missing values or duplicates; samples rows."
    category = Category.PREPARE
    icon = "target"
    keywords = ("filter", "where", "dedupe", "duplicates", "sample rows", "drop missing")
    inputs = (Port("table", ArtifactKind.TABLE, description="The rows to filter."),)
    outputs = (Port("table", ArtifactKind.TABLE, description="The rows that are left."),)
    Params = RowsParams
    resources = Resources(cpu="500m", memory="1Gi")

    def run(self, inputs: dict[str, Any], params: RowsParams, context: RunContext) -> dict[str, Any]:
        table: Table = inputs["table"]
        frame = table.frame
        named = [c.column for c in params.conditions]
        for param, columns in (("conditions", named), ("drop_missing", params.drop_missing)):
            missing = [c for c in columns if c not in frame.columns]
            if missing:
                raise NodeInputError(missing_columns_message(param, missing, list(frame.columns)))
        if params.conditions:
            frame = _log_step(context, "conditions", frame, frame[_condition_mask(frame, params)])
        if params.drop_missing:
            frame = _log_step(context, "missing values", frame, frame.dropna(subset=params.drop_missing))
        if params.drop_duplicates:
            frame = _log_step(context, "duplicates", frame, frame.drop_duplicates())
        if params.sample != "none":
            frame = _log_step(context, "sampling", frame, _sample(frame, params))
        if frame.empty:
            raise NodeInputError("no rows are left after filtering; loosen the conditions")
        return {"table": table.with_frame(frame.reset_index(drop=True))}


def _log_step(context: RunContext, step: str, before: "pd.DataFrame", after: "pd.DataFrame") -> "pd.DataFrame":
    context.log(f"{step}: {len(before)} rows in, {len(after)} kept, {len(before) - len(after)} removed")
    return after


def _condition_mask(frame: "pd.DataFrame", params: RowsParams) -> "pd.Series":
    masks = [_one_condition(frame[c.column], c, i) for i, c in enumerate(params.conditions, start=1)]
    mask = masks[0]
    for other in masks[1:]:
        mask = (mask & other) if params.match == "all" else (mask | other)
    return mask


def _one_condition(series: "pd.Series", condition: Condition, number: int) -> "pd.Series":
    from pandas.api import types

    if condition.operator == "is missing":
        return series.isna()
    if condition.operator == "is not missing":
        return series.notna()
    if condition.operator == "contains":
        return series.astype(str).str.contains(str(condition.value), regex=False) & series.notna()
    value: Any = condition.value
    if value is None:
        raise NodeInputError(f"condition {number}: {condition.operator!r} needs a value to compare "
                             f"{condition.column!r} with")
    if types.is_numeric_dtype(series) and not types.is_bool_dtype(series):
        try:
            value = float(value)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            raise NodeInputError(f"condition {number}: column {condition.column!r} holds numbers, but the value "
                                 f"{condition.value!r} is not a number") from None
    elif condition.operator in (">", ">=", "<", "<="):
        value = str(value)
        series = series.astype(object).where(series.isna(), series.astype(str))
    else:
        series = series.astype(object).where(series.isna(), series.astype(str))
        value = str(value).lower() if isinstance(value, bool) else str(value)
    compare = {"==": series.eq, "!=": series.ne, ">": series.gt, ">=": series.ge, "<": series.lt, "<=": series.le}
    try:
        return compare[condition.operator](value).fillna(False).astype(bool) & series.notna()
    except TypeError:
        raise NodeInputError(f"condition {number}: the values of {condition.column!r} cannot be ordered "
                             f"against {condition.value!r}") from None


def _sample(frame: "pd.DataFrame", params: RowsParams) -> "pd.DataFrame":
    if params.sample == "rows":
        return frame.sample(n=min(params.sample_rows, len(frame)), random_state=params.seed)
    return frame.sample(frac=params.sample_fraction, random_state=params.seed)
